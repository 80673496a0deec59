"""The shipped GitHub workflow: the diff runs without contact-point secrets, the sync gets exactly
the ones the example fleet's contact points reference (issue 11)."""
from __future__ import annotations

import yaml

from conftest import REPO
from modeldash.scripts.sync_secrets import referenced
from modeldash.spec.fleet import bundled_example, load_spec
from modeldash.sync.desired_state import available_desired_state

WORKFLOW = REPO / ".github" / "workflows" / "modeldash.yml"


def _example_references() -> set[str]:
    objects, _ = available_desired_state(load_spec(bundled_example()))
    names = set()
    for d in objects:
        if d.kind == "contact_point":
            for refs in referenced(d.body["settings"]).values():
                names |= set(refs)
    return names


def test_diff_gets_no_contact_point_secret_and_sync_gets_exactly_the_referenced_ones():
    wf = yaml.safe_load(WORKFLOW.read_text())
    wanted = _example_references()
    assert wanted == {"SLACK_ML_ALERTS_WEBHOOK_URL", "SLACK_ML_ONCALL_WEBHOOK_URL", "RISK_BRIDGE_TOKEN"}
    check = wf["jobs"]["check"]
    diff_env = set(check.get("env") or {})
    for step in check["steps"]:
        diff_env |= set(step.get("env") or {})
    assert diff_env == {"GRAFANA_URL", "GRAFANA_TOKEN"}
    sync_env = wf["jobs"]["sync"]["env"]
    assert set(sync_env) - {"GRAFANA_URL", "GRAFANA_TOKEN"} == wanted
    for name in wanted:
        assert sync_env[name] == "${{ secrets.%s }}" % name
