"""The generated rules and alert tests against the real promtool and amtool (Debian packages)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from modeldash.alerts import build as A
from modeldash.spec.fleet import load_spec_data

PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")


def _require(binary, name):
    """Never skipped: `make test` installs Debian's prometheus / prometheus-alertmanager when missing."""
    def mark(fn):
        def wrapper(*args, **kwargs):
            assert binary, f"{name} is not installed (run `make test`, which installs it)"
            return fn(*args, **kwargs)
        import functools
        return functools.wraps(fn)(wrapper)
    return mark


needs_promtool = _require(PROMTOOL, "promtool")
needs_amtool = _require(AMTOOL, "amtool")


@pytest.fixture(scope="module")
def test_rules_run(rendered):
    """``modeldash test-rules`` over the example fleet's output, run once for the module."""
    from click.testing import CliRunner

    from modeldash.scripts.cli import main

    return CliRunner().invoke(main, ["test-rules", str(rendered)])


@needs_promtool
def test_promtool_check_rules_passes(rendered):
    proc = subprocess.run([PROMTOOL, "check", "rules", str(rendered / "prometheus" / "rules.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@needs_promtool
def test_generated_promtool_tests_all_pass_and_report_per_alert(rendered, test_rules_run, example_spec):
    assert test_rules_run.exit_code == 0, test_rules_run.output
    tests = A.promtool_tests(example_spec)
    total = A.count_cases(tests)
    defs = A.alert_definitions(example_spec)
    shapes = A.rule_shapes(example_spec, defs)
    covered = A.shape_summary(shapes)
    assert (f"{len(tests)} alerts, {total} test cases covering {covered['rules']} rules "
            f"({covered['shapes']} shapes), 0 failed") in test_rules_run.output
    for name, doc in tests.items():
        assert f"pass  {name}" in test_rules_run.output
        assert f"{len(doc['tests'])} cases" in test_rules_run.output
    # every rule of the same shape as a tested one (its namespace's twin) is covered by that test
    represented = {id(m): s.representative for s in shapes for m in s.members}
    assert all(represented[id(d)].scenario is not None for d in defs if d.name != "ModelMonitoringJobStale")
    # every tested Prometheus alert has: fires after for, quiet below, quiet for a short breach, quiet healthy
    tested_shapes = {(d.name, d.labels.get("job"), d.threshold) for d in defs if d.scenario is not None}
    for d in defs:
        if represented[id(d)] is not d and d.scenario is not None:
            continue  # another member of its shape carries the cases
        if d.scenario is None:
            # staleness rules differ between models only in the model label: one model per shape is tested
            assert d.name == "ModelMonitoringJobStale" and (d.name, d.labels["job"], d.threshold) in tested_shapes
            continue
        if d.name == "ModelErrorBudgetBurn":  # page and ticket share cases, carried by the page definition
            page = d.title.replace("-ticket)", "-page)")
            names = {t["name"] for t in tests[d.name]["tests"] if f"[{page}" in t["name"] or f"; {page}" in t["name"]}
            for story in ("a fast burn", "a slow burn", "blip", "within budget"):
                assert any(story in n for n in names), (d.title, story)
            continue
        case_names = {t["name"] for t in tests[d.name]["tests"] if f"[{d.title}" in t["name"] or f"; {d.title}" in t["name"]}
        assert any("fires" in n for n in case_names), d.title
        assert any("below" in n or "above the floor" in n for n in case_names), d.title
        assert any("shorter" in n for n in case_names), d.title
        assert any("healthy" in n or "steady" in n or "every run" in n for n in case_names), d.title


def test_required_scenarios_are_generated(example_spec):
    tests = A.promtool_tests(example_spec)
    pod = [t for t in tests["PodNotRunning"]["tests"] if "Succeeded pod of a finished Job" in t["name"]]
    assert pod and all(c["exp_alerts"] == [] for t in pod for c in t["alert_rule_test"])
    assert any('phase="Succeeded"' in s["series"] and s["values"].startswith("1") for s in pod[0]["input_series"])
    # ModelLatencyP95High quiet at 450 ms on the knative-legacy (millisecond) backend: the alert
    # reads the recorded p95 in seconds, the test feeds the raw millisecond buckets
    fraud = next(d for d in A.alert_definitions(example_spec)
                 if d.name == "ModelLatencyP95High" and d.model == "fraud-detector")
    assert example_spec.backend_for(next(m for m in example_spec.models if m.name == "fraud-detector")).latency_unit == "ms"
    assert fraud.threshold == 0.5
    assert fraud.scenario.near == pytest.approx(0.45)
    quiet = next(t for t in tests["ModelLatencyP95High"]["tests"]
                 if t["name"].startswith("quiet just below the threshold") and fraud.title in t["name"])
    assert all(c["exp_alerts"] == [] for c in quiet["alert_rule_test"])
    assert any("revision_request_latencies_bucket" in s["series"] for s in quiet["input_series"])
    # the traffic alert is proven to fire when the series vanish
    vanish = next(t for t in tests["ModelTrafficStopped"]["tests"] if "series vanish" in t["name"])
    assert any(" _x" in s["values"] for s in vanish["input_series"])
    assert any(c["exp_alerts"] for c in vanish["alert_rule_test"])


@needs_promtool
def test_a_broken_threshold_makes_promtool_fail(example_data, tmp_path):
    """Tests generated for CPU > 85 % must fail against rules whose threshold drifted to 99 %."""
    good = load_spec_data(example_data, "good")
    example_data["infrastructure"] = {"node_cpu": {"warning": 0.99}}
    broken = load_spec_data(example_data, "broken")
    (tmp_path / "tests" / "rules").mkdir(parents=True)
    rules = tmp_path / "tests" / "rules" / "HighNodeCPUUsage.yaml"  # what the test file loads
    rules.write_text(yaml.safe_dump(A.promtool_test_rules(broken)["HighNodeCPUUsage"]))
    doc = A.promtool_tests(good)["HighNodeCPUUsage"]
    (tmp_path / "tests" / "HighNodeCPUUsage.yaml").write_text(yaml.safe_dump(doc))
    proc = subprocess.run([PROMTOOL, "test", "rules", "HighNodeCPUUsage.yaml"], cwd=tmp_path / "tests",
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr
    # and the same tests pass against the right rules
    rules.write_text(yaml.safe_dump(A.promtool_test_rules(good)["HighNodeCPUUsage"]))
    proc = subprocess.run([PROMTOOL, "test", "rules", "HighNodeCPUUsage.yaml"], cwd=tmp_path / "tests",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_serving_alert_tests_need_the_recording_rules(example_spec, tmp_path):
    """The serving alerts read model:* series: their tests load the recording rules they read
    (in their own rules file) and order them first; without the recording group they fail."""
    tests, test_rules = A.promtool_suite(example_spec)
    rules, doc = test_rules["ModelErrorRateHigh"], tests["ModelErrorRateHigh"]
    assert doc["group_eval_order"][0] == "recording"
    assert sorted(doc["group_eval_order"]) == sorted(g["name"] for g in rules["groups"])
    (tmp_path / "tests" / "rules").mkdir(parents=True)
    (tmp_path / "tests" / "ModelErrorRateHigh.yaml").write_text(yaml.safe_dump(doc))

    def run(groups):
        (tmp_path / "tests" / "rules" / "ModelErrorRateHigh.yaml").write_text(yaml.safe_dump({"groups": groups}))
        return subprocess.run([PROMTOOL, "test", "rules", "ModelErrorRateHigh.yaml"], cwd=tmp_path / "tests",
                              capture_output=True, text=True)

    ok = run(rules["groups"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    alerts_only = [g for g in rules["groups"] if g["name"] != "recording"]
    doc["group_eval_order"] = [g["name"] for g in alerts_only]
    (tmp_path / "tests" / "ModelErrorRateHigh.yaml").write_text(yaml.safe_dump(doc))
    broken = run(alerts_only)
    assert broken.returncode != 0 and "FAILED" in broken.stdout + broken.stderr


@needs_promtool
def test_test_rules_reports_failures_with_exit_1(rendered, tmp_path, cli):
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    doc = yaml.safe_load((out / "prometheus" / "tests" / "NodeNotReady.yaml").read_text())
    doc["tests"][0]["alert_rule_test"][-1]["exp_alerts"] = []  # expect silence where the alert fires
    (out / "prometheus" / "tests" / "NodeNotReady.yaml").write_text(yaml.safe_dump(doc))
    for other in (out / "prometheus" / "tests").glob("*.yaml"):
        if other.name != "NodeNotReady.yaml":
            other.unlink()
    result = cli("test-rules", out)
    assert result.exit_code == 1, result.output
    assert "FAIL  NodeNotReady" in result.output and "1 of 4 cases failed" in result.output


def test_test_rules_without_promtool_is_a_clear_error(rendered, cli):
    result = cli("test-rules", rendered, "--promtool", "/nonexistent/promtool")
    assert result.exit_code == 2
    assert "promtool not found" in result.output and "Traceback" not in result.output


@needs_amtool
def test_alertmanager_config_passes_amtool(rendered, tmp_path):
    path = rendered / "alertmanager" / "alertmanager.yaml"
    proc = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    conf = yaml.safe_load(path.read_text())
    receivers = {r["name"]: r for r in conf["receivers"]}
    assert receivers["ml-oncall"]["slack_configs"][0]["api_url_file"].startswith("/etc/alertmanager/secrets/")
    assert receivers["ml-oncall"]["email_configs"][0]["auth_password_file"].startswith("/etc/alertmanager/secrets/")
    # amtool does reject a broken config (so the check above can fail)
    conf["route"]["routes"][0]["receiver"] = "nobody"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(conf))
    assert subprocess.run([AMTOOL, "check-config", str(broken)], capture_output=True).returncode != 0
