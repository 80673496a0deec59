"""Removing things from the spec: deleteRules for exactly the vanished rules, objects to remove,
kept for ``keep_deletions_for`` renders or until they come back; and `modeldash render` end to end."""
from __future__ import annotations

import json
import subprocess

import yaml

from k8s_helpers import alerting_doc, dashboards, remove_model, spec_data
from modeldash.k8s.deletions import plan_deletions
from modeldash.spec.fleet import load_spec_data
from modeldash.scripts.lint_k8s import lint_manifests
from modeldash.scripts.lint_output import read_tree
from modeldash.scripts.output_k8s import render_k8s


def _render(data, previous):
    fleet = load_spec_data(data, "fleet.yaml")
    return fleet, render_k8s(fleet, dashboards(fleet), alerting_doc(fleet), [], previous)


def _delete_rules(files) -> list[str]:
    (cm_rel,) = [r for r in files if r.startswith("k8s/alerting/") and "deletions" in r]
    (text,) = yaml.safe_load(files[cm_rel])["data"].values()
    in_cm = [d["uid"] for d in yaml.safe_load(text)["deleteRules"]]
    in_file = [d["uid"] for d in yaml.safe_load(files["provisioning/alerting/modeldash.yaml"])["deleteRules"]]
    assert in_cm == in_file
    return in_cm


def test_removing_a_model_yields_delete_rules_for_exactly_its_rules():
    data = spec_data()
    fleet, first = _render(data, None)
    assert _delete_rules(first.files) == []
    removed = remove_model(data, 1)["name"]
    its_rules = sorted(
        r["uid"] for g in alerting_doc(fleet)["groups"] for r in g["rules"] if r["labels"]["model"] == removed
    )
    assert its_rules
    _fleet, second = _render(data, first.state)
    assert _delete_rules(second.files) == its_rules
    assert f"k8s/dashboards/md-model-{removed}.yaml" not in second.files
    gone = [o for o in plan_objects(second) if removed in o]
    assert f"ConfigMap/monitoring/modeldash-dash-md-model-{removed}" in gone
    assert f"PodMonitor/monitoring/modeldash-model-{removed}" in gone
    assert f"ConfigMap/monitoring/modeldash-alerts-{removed}" in gone
    assert "k8s/deletions.txt" in second.files
    assert f"kubectl delete --ignore-not-found -n monitoring configmap/modeldash-dash-md-model-{removed}" in second.files["k8s/deletions.txt"]
    assert any(f"modeldash-dash-md-model-{removed}" in line for line in second.summary)


def plan_objects(result) -> list[str]:
    return result.state["pending_object_deletions"].keys()


def test_deletions_persist_for_keep_renders_then_expire():
    data = spec_data(keep_deletions_for=3)
    _f, first = _render(data, None)
    remove_model(data, 0)
    state, seen = first.state, []
    for _ in range(5):
        _f, result = _render(data, state)
        seen.append(len(_delete_rules(result.files)))
        state = result.state
    assert seen == [3, 3, 3, 0, 0]


def test_a_rule_that_comes_back_leaves_the_deletion_list():
    data = spec_data()
    _f, first = _render(data, None)
    model = remove_model(data, 0)
    _f, second = _render(data, first.state)
    assert len(_delete_rules(second.files)) == 3
    data["models"].insert(0, model)
    _f, third = _render(data, second.state)
    assert _delete_rules(third.files) == []
    assert third.state["pending_object_deletions"] == {}


def test_plan_ignores_a_mangled_previous_manifest():
    plan = plan_deletions({"rule_uids": "oops", "pending_rule_deletions": {"a": "x", "b": 2}}, {"c"}, set(), 5)
    assert plan.rule_uids == ["b"] and plan.state["pending_rule_deletions"] == {"b": 1}


# --------------------------------------------------------------------------- the CLI


def test_render_example_fleet_writes_a_valid_k8s_tree(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("render", "-o", out)
    assert result.exit_code == 0, result.output
    assert "largest ConfigMap" in result.output
    files = read_tree(out)
    assert lint_manifests(files) == []
    # what render built in memory lints the same as what it wrote
    from modeldash.spec.fleet import bundled_example, load_spec
    from modeldash.scripts.render import build_files

    built, ctx = build_files(load_spec(bundled_example()), tmp_path / "unused")
    assert any(rel.startswith("k8s/") for rel in ctx.parsed)
    assert lint_manifests(built, ctx.parsed) == []
    manifest = json.loads(files[".modeldash-manifest.json"])
    assert manifest["k8s"]["objects"]
    # the whole k8s/ tree, other families' manifests included, builds with kustomize
    built = subprocess.run(["kubectl", "kustomize", str(out / "k8s")], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    listed = yaml.safe_load(files["k8s/kustomization.yaml"])["resources"]
    assert len([d for d in yaml.safe_load_all(built.stdout) if d]) == len(listed)


def test_a_huge_dashboard_stops_render_with_exit_2_and_writes_nothing(cli, tmp_path, write_spec):
    data = spec_data()
    n = 3000  # a classifier with thousands of classes: the class-share panel grows with each one
    data["models"][0]["classes"] = {f"class_{i:05d}": 1 / n for i in range(n)}
    data["alerting"] = {"enabled": False}  # per-class alerts and their promtool cases are not the point here
    out = tmp_path / "out"
    result = cli("render", write_spec(data), "-o", out)
    assert result.exit_code == 2, result.output
    assert "ConfigMap modeldash-dash-md-model-fraud-detector is " in result.output
    assert "over the 262,144-byte limit of client-side `kubectl apply`" in result.output
    assert "kubernetes.server_side_apply: true" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    data["kubernetes"] = {"server_side_apply": True}
    result = cli("render", write_spec(data), "-o", out)
    assert result.exit_code == 0, result.output
    assert lint_manifests(read_tree(out)) == []


def test_render_twice_after_removing_a_model_lists_its_objects_to_delete(cli, tmp_path, write_spec):
    data = spec_data()
    out = tmp_path / "out"
    assert cli("render", write_spec(data), "-o", out).exit_code == 0
    assert not (out / "k8s/deletions.txt").exists()
    removed = remove_model(data, 2)["name"]
    result = cli("render", write_spec(data), "-o", out)
    assert result.exit_code == 0, result.output
    listed = (out / "k8s/deletions.txt").read_text()
    assert f"configmap/modeldash-dash-md-model-{removed}" in listed
    assert f"podmonitor/modeldash-model-{removed}" in listed
    assert f"modeldash-dash-md-model-{removed}" in result.output
    kept = [m["name"] for m in data["models"]]
    assert not any(name in listed for name in kept)


def _groups(out) -> list[dict]:
    """Every rule group of the provisioning tree: one file per group beside modeldash.yaml."""
    paths = sorted((out / "provisioning/alerting").glob("*.yaml"))
    return [g for p in paths for g in (yaml.safe_load(p.read_text()).get("groups") or [])]


def test_render_twice_after_removing_a_model_yields_delete_rules_for_exactly_its_rules(cli, tmp_path, write_spec):
    data = spec_data()
    out = tmp_path / "out"
    assert cli("render", write_spec(data), "-o", out).exit_code == 0
    alerting = out / "provisioning/alerting/modeldash.yaml"
    assert alerting.exists(), "needs modeldash.alerts.build (issue 3) on this branch"
    first = {"groups": _groups(out)}
    gone = remove_model(data, 2)
    assert gone["namespace"] not in {m["namespace"] for m in data["models"]}
    # its rules: the model's own, and the platform rules of the namespace only it used
    its_rules = sorted(
        r["uid"] for g in first["groups"] for r in g["rules"]
        if r["labels"].get("model") == gone["name"]
        or ("model" not in r["labels"] and r["labels"].get("namespace") == gone["namespace"])
    )
    assert its_rules, "the alerts module labels each per-model rule with its model"
    result = cli("render", write_spec(data), "-o", out)
    assert result.exit_code == 0, result.output
    second = {**yaml.safe_load(alerting.read_text()), "groups": _groups(out)}
    assert sorted(d["uid"] for d in second["deleteRules"]) == its_rules
    remaining = {r["uid"] for g in second["groups"] for r in g["rules"]}
    first_uids = {r["uid"] for g in first["groups"] for r in g["rules"]}
    assert first_uids - remaining == set(its_rules)
    assert f"deleteRules for {len(its_rules)} vanished alert rule(s)" in result.output
