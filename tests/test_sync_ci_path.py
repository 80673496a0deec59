"""`modeldash diff` / `sync` on the CI path (issue 11): a diff without the contact points'
secrets compares what it can and says what it could not; a sync names the missing ones; a URL
that answers with an SSO login page (directly, or after a 302) is exit 4 with one line."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from grafana_standin import GrafanaStandin
from login_page_server import LoginPageServer

TOKEN = "standin-admin-token-0123456789"
# what the example fleet's contact points reference (examples/fleet.yaml)
EXAMPLE_VARS = ("RISK_BRIDGE_TOKEN", "SLACK_ML_ALERTS_WEBHOOK_URL", "SLACK_ML_ONCALL_WEBHOOK_URL")
SECRETS = {name: f"https://hooks.example/{name.lower()}/S3CR3T-0x{i}f00d" for i, name in enumerate(EXAMPLE_VARS)}


def run(url, *args, env_extra=None):
    """The real CLI in-process (a subprocess per call costs seconds on a loaded machine)."""
    from modeldash.scripts.cli import main

    env = {name: None for name in EXAMPLE_VARS}
    env.update({"GRAFANA_USER": None, "GRAFANA_URL": url, "GRAFANA_TOKEN": TOKEN, **(env_extra or {})})
    r = CliRunner().invoke(main, [*args, "--retries", "1"], env=env)
    out, err = r.stdout, r.stderr
    for secret in (TOKEN, *SECRETS.values()):
        assert secret not in out + err
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exc_info
    return r.exit_code, out, err


@pytest.fixture
def g():
    with GrafanaStandin() as server:
        yield server
        assert server.errors == []


def test_diff_without_secrets_compares_the_rest_and_says_what_it_skipped(g, example_data, write_spec):
    code, out, err = run(g.url, "diff")
    assert code == 0, err
    assert "create     dashboard      md-model-fraud-detector" in out
    assert "note: contact point ml-slack: secure settings url not compared ($SLACK_ML_ALERTS_WEBHOOK_URL not set)" in out
    assert "note: contact point risk-oncall: secure settings authorization_credentials not compared ($RISK_BRIDGE_TOKEN not set)" in out
    assert g.writes == []
    # once synced (with the secrets), a diff without them is clean: nothing else differs
    code, out, err = run(g.url, "sync", env_extra=SECRETS)
    assert code == 0, err
    code, out, err = run(g.url, "diff", "--exit-code")
    assert code == 0, out + err
    assert out.count("note: contact point") == 3
    # and a change to a setting it can compare, in the same contact point, is still seen
    example_data["alerting"]["receivers"][0]["slack"]["channel"] = "#ml-alerts-new"
    code, out, _ = run(g.url, "diff", str(write_spec(example_data)), "--exit-code", "--output", "json")
    assert code == 1 and '"notes": [' in out and "#ml-alerts-new" in out


def test_sync_names_every_missing_secret_before_any_request(g):
    code, out, err = run(g.url, "sync", env_extra={"SLACK_ML_ONCALL_WEBHOOK_URL": ""})  # empty = unset (CI)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: sync needs 3 environment variable(s) for contact-point secrets")
    for name in EXAMPLE_VARS:
        assert name in lines[0]
    assert "SLACK_ML_ONCALL_WEBHOOK_URL (contact point ml-oncall)" in lines[0]
    assert g.total == 0


@pytest.mark.parametrize("mode,command", [("html", "diff"), ("redirect", "diff"), ("redirect", "sync")])
def test_an_sso_login_page_is_exit_4_with_one_line(mode, command):
    with LoginPageServer(mode) as page:
        code, out, err = run(page.url, command, env_extra=SECRETS)
    lines = err.strip().splitlines()
    assert code == 4 and len(lines) == 1 and "Traceback" not in err, err
    assert f"{page.url} answered 200 with an HTML page" in lines[0]
    assert "not Grafana's API (an SSO login page or proxy?)" in lines[0]
    if mode == "redirect":
        assert f"after a 302 redirect to {page.url}/login" in lines[0]
    assert [m for m, _ in page.requests if m != "GET"] == []  # nothing was written to the login page


@pytest.mark.parametrize("fault,path", [("html", "/api/search"), ("login", "/api/v1/provisioning/contact-points")])
def test_a_login_page_behind_a_healthy_health_endpoint(g, fault, path):
    g.add_fault(fault, path=path, times=100)
    code, out, err = run(g.url, "diff", env_extra=SECRETS)
    lines = err.strip().splitlines()
    assert code == 4 and len(lines) == 1 and "Traceback" not in err, err
    assert "with an HTML page" in lines[0] and "not Grafana's API" in lines[0]
    assert g.writes == []
