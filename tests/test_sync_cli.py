"""`modeldash diff` / `modeldash sync` as a user runs them (a subprocess), against the
stand-in: exit codes, one-line errors, JSON output, and no secret in any output."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import sync_fixtures as fx
from grafana_standin import GrafanaStandin
from modeldash.scripts.grafana_http import setup_logging
from modeldash.scripts.grafana_http import GrafanaHTTP, Settings
from modeldash.scripts.sync_engine import run_sync
from modeldash.scripts.sync_report import report_json, report_table

TOKEN = "standin-admin-token-0123456789"
VIEWER = "standin-viewer-token-0123456789"
PASSWORD = "standin-password-0123"


def _example_secret_env() -> dict[str, str]:
    """A secret value for every environment variable the example fleet's contact points name."""
    import re

    from modeldash.sync.desired_state import available_desired_state
    from modeldash.spec.fleet import bundled_example, load_spec

    objects, _ = available_desired_state(load_spec(bundled_example()))
    text = json.dumps([d.body for d in objects if d.kind == "contact_point"])
    names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
    return {name: f"https://secret.example/{name.lower()}/0x5EC12E7" for name in sorted(names)}


EXAMPLE_SECRETS = _example_secret_env()


@pytest.fixture
def g():
    with GrafanaStandin() as server:
        yield server
        assert server.errors == []


def run(g, *args, token=TOKEN, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    env.update({"GRAFANA_URL": g.url, **fx.SECRETS, **EXAMPLE_SECRETS, **(extra_env or {})})
    if token:
        env["GRAFANA_TOKEN"] = token
    p = subprocess.run([sys.executable, "-m", "modeldash", *args], env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def assert_no_secrets(*texts, extra=()):
    secrets = [TOKEN, VIEWER, PASSWORD, *fx.SECRETS.values(), *EXAMPLE_SECRETS.values(), *extra]
    for text in texts:
        for s in secrets:
            assert s not in text


def test_sync_resync_diff_and_one_model_changed(g, example_data, write_spec):
    spec = write_spec(example_data)
    code, out, err = run(g, "sync", str(spec))
    assert code == 0, err
    assert "created" in out and "md-model-fraud-detector" in out
    n = len(g.state.dashboards)
    assert n >= 4
    g.reset_counts()
    code, out, _ = run(g, "sync", str(spec))
    assert code == 0 and g.writes == []
    code, _, _ = run(g, "diff", str(spec), "--exit-code")
    assert code == 0

    example_data["models"][0].setdefault("thresholds", {})["latency_p95"] = {"warning": "300ms", "critical": "2s"}
    changed = write_spec(example_data)
    code, out, _ = run(g, "diff", str(changed), "--exit-code")
    assert code == 1 and "md-model-fraud-detector" in out and "0.3" in out  # the p95 line, in seconds
    g.reset_counts()
    code, out, _ = run(g, "sync", str(changed), "--output", "json")
    assert code == 0
    report = json.loads(out)
    assert report["summary"]["updated"] >= 1 and report["summary"]["failed"] == 0
    assert report["summary"]["requests"] == g.total
    updated = {o["key"] for o in report["objects"] if o.get("result") == "updated"}
    assert "md-model-fraud-detector" in updated
    assert all("fraud-detector" in key for key in updated)
    assert ("POST", "/api/dashboards/db") in g.writes


def test_conflict_exit_3_then_force(g, example_data, write_spec):
    import niquests

    spec = write_spec(example_data)
    assert run(g, "sync", str(spec))[0] == 0
    auth = {"Authorization": f"Bearer {TOKEN}"}
    live = niquests.get(f"{g.url}/api/dashboards/uid/md-model-churn-classifier", headers=auth, timeout=5).json()
    live["dashboard"]["title"] = "Churn (hand-tuned)"
    r = niquests.post(f"{g.url}/api/dashboards/db", headers=auth, timeout=5,
                      json={"dashboard": live["dashboard"], "folderUid": live["meta"]["folderUid"], "overwrite": False})
    assert r.status_code == 200
    code, out, err = run(g, "sync", str(spec))
    assert code == 3
    assert "conflict" in out and "Churn (hand-tuned)" in out and "--force" in err
    assert g.state.dashboards["md-model-churn-classifier"]["dashboard"]["title"] == "Churn (hand-tuned)"
    code, out, _ = run(g, "sync", str(spec), "--force")
    assert code == 0 and "updated" in out
    assert g.state.dashboards["md-model-churn-classifier"]["dashboard"]["title"] != "Churn (hand-tuned)"


def test_connection_errors_are_one_line_with_exit_4(g):
    code, out, err = run(g, "diff", "--grafana-url", "http://127.0.0.1:9", "--retries", "0")
    assert code == 4 and err.strip().splitlines()[-1].startswith("error: cannot reach Grafana at http://127.0.0.1:9")
    code, out, err = run(g, "diff", token="wrong-token-value-42")
    assert code == 4 and "rejected the credentials (401)" in err and "Traceback" not in err
    assert "wrong-token-value-42" not in out + err
    code, out, err = run(g, "sync", token=VIEWER)
    assert code == 4 and "lacks permission (403)" in err
    assert_no_secrets(out, err)


def test_bad_input_exit_2(g, tmp_path):
    assert run(g, "sync", "--concurrency", "0")[0] == 2
    code, _, err = run(g, "sync", "--token", "abc-secret-on-cli")
    assert code == 2 and "GRAFANA_TOKEN or --token-file" in err and "abc-secret-on-cli" not in err
    code, _, err = run(g, "sync", token=None)
    assert code == 2 and "no Grafana credentials" in err
    code, _, err = run(g, "sync", "--token-file", str(tmp_path / "missing"), token=None)
    assert code == 2 and "missing" in err and "Traceback" not in err
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    code, out, err = run(g, "diff", "--token-file", str(token_file), token=None)
    assert code == 0, err
    assert_no_secrets(out, err)


def test_no_secret_in_any_cli_output_including_debug_logs(g, example_data, write_spec):
    spec = write_spec(example_data)
    outputs = []
    for args, token, env in [
        (("sync", "--debug"), TOKEN, {"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": PASSWORD}),
        (("diff", "--debug", "--output", "json"), TOKEN, {}),
        (("sync", "--debug"), None, {"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": PASSWORD}),
        (("sync", "--debug"), None, {"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": PASSWORD + "-wrong"}),
        (("diff", "--debug"), VIEWER, {}),
    ]:
        code, out, err = run(g, *args, str(spec), token=token, extra_env=env)
        outputs += [out, err]
    assert "DEBUG" in "".join(outputs)  # the debug logs really were on
    assert EXAMPLE_SECRETS, "the example fleet's contact points reference secrets from the environment"
    assert_no_secrets(*outputs, extra=[PASSWORD + "-wrong"])


def test_no_secret_in_engine_output_logs_or_errors(g, capsys):
    """Contact points carry webhook URLs and passwords (from the environment): none may leak,
    not in diffs, tables, JSON, debug logs, nor in a Grafana error that quotes the request."""
    settings = Settings(url=g.url, token=TOKEN, backoff=0.01, backoff_max=0.02, retries=1)
    handler = setup_logging(settings.redactor, debug=True)
    try:
        _, desired = fx.desired(2)
        http = GrafanaHTTP(settings)
        diff = run_sync(http, desired, "test-fleet", apply_changes=False, env=fx.SECRETS)
        g.add_fault("echo400", method="POST", path="/api/v1/provisioning/contact-points", times=1)
        g.add_fault("500", method="PUT", path="/api/v1/provisioning/policies", times=5)
        result = run_sync(GrafanaHTTP(settings), desired, "test-fleet", apply_changes=True, env=fx.SECRETS)
        failures = {a.kind: a.error for a in result.failures}
        assert "contact_point" in failures and "policy" in failures
        assert "***" in failures["contact_point"]  # the quoted body was there, its secrets were not
        texts = [report_table(r, "test-fleet", g.url, True) for r in (diff, result)]
        texts += [json.dumps(report_json(r, "test-fleet", g.url, [])) for r in (diff, result)]
        texts += [a.diff for a in diff.actions]
    finally:
        import logging

        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    captured = capsys.readouterr()
    assert "DEBUG" in captured.err
    assert_no_secrets(captured.out, captured.err, *texts)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_tls_verified_by_default_with_ca_cert_or_explicit_skip(self_signed, example_data, write_spec):
    spec = write_spec(example_data)
    with GrafanaStandin(tls=self_signed) as tls:
        code, out, err = run(tls, "diff", str(spec))
        assert code == 4 and "TLS verification" in err and "--ca-cert" in err
        code, out, err = run(tls, "diff", str(spec), "--ca-cert", self_signed[0])
        assert code == 0, err
        code, out, err = run(tls, "diff", str(spec), "--insecure-skip-verify")
        assert code == 0, err
        code, _, err = run(tls, "diff", str(spec), "--insecure-skip-verify", "--ca-cert", self_signed[0])
        assert code == 2


def test_progress_bar_only_on_a_terminal(g, example_data, write_spec):
    import pty

    spec = write_spec(example_data)
    code, out, err = run(g, "sync", str(spec))
    assert code == 0 and "syncing" not in err  # not a terminal: no progress bar
    example_data["models"][1].setdefault("thresholds", {})["latency_p95"] = {"warning": "400ms", "critical": "3s"}
    changed = write_spec(example_data, "changed.yaml")
    main_fd, child_fd = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    env.update({"GRAFANA_URL": g.url, "GRAFANA_TOKEN": TOKEN, **EXAMPLE_SECRETS})
    p = subprocess.run([sys.executable, "-m", "modeldash", "sync", str(changed)], env=env, stdout=subprocess.PIPE,
                       stderr=child_fd, timeout=120)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main_fd)
    assert p.returncode == 0
    assert "syncing" in b"".join(chunks).decode(errors="replace")
