"""End to end against the real Prometheus: every panel has data, every alert fires in its scenario.

One Prometheus and one simulator for the module; scenarios are switched in the simulator at
run time. Rule durations are shortened by ``shorten_rules`` (promtool covers the real ones).
"""
from __future__ import annotations

import copy
import re
import urllib.request
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modeldash.alerts.build import prometheus_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.spec.fleet import bundled_example, load_spec_data
from modeldash.scripts.cli import main
from modeldash.scripts.live_lint import (
    DEFAULT_MACROS, count_queries, iter_panels, lint_live, substitute_macros, substitute_variables,
)
from modeldash.scripts.prometheus_client_http import _get, query
from modeldash.scripts.prometheus_harness import PrometheusServer
from rules_for_tests import shorten_rules
from modeldash.simulator import SCENARIOS, Simulator

FACTOR = 1 / 120  # 5m -> 2.5s (windows never below 4s, i.e. four scrapes)

# scenario -> (alerts that must fire, alert-name prefixes that may fire alongside)
EXPECTED = {
    "cpu-saturation": ({"HighNodeCPUUsage"}, ("HighNodeCPU",)),
    "crash-loop": ({"PodCrashLooping", "FrequentPodRestarts"}, ()),
    "replica-mismatch": ({"DeploymentReplicasMismatch"}, ()),
    "hpa-maxed": ({"HPAMaxedOut"}, ()),
    "latency-spike": ({"ModelLatencyP95High", "ModelLatencyP95Critical"}, ("ModelLatency",)),
    "error-burst": ({"ModelErrorRateHigh"}, ("ModelErrorRate",)),
    "traffic-stop": ({"ModelTrafficStopped"}, ()),
    "class-shift": ({"PredictionDistributionShift"}, ()),
    "drift": ({"ModelDriftHigh"}, ("ModelDrift",)),
}
# Aim the per-model faults at models on different serving backends.
TARGET = {"latency-spike": "fraud-detector", "error-burst": "price-regressor", "traffic-stop": "churn-classifier",
          "class-shift": "churn-classifier", "drift": "price-regressor"}


@pytest.fixture(scope="module")
def spec_data():
    # Burn-rate alerts remember a fault for days of their windows (hours here): one fault would
    # leave a ticket open through the next scenarios. test_e2e_slo.py drives them on their own.
    data = yaml.safe_load(bundled_example().read_text())
    data["defaults"].pop("slo")
    return data


@pytest.fixture(scope="module")
def spec(spec_data):
    return load_spec_data(spec_data, "example-without-slo")


@pytest.fixture(scope="module")
def rules(spec):
    return shorten_rules(prometheus_rules(spec), factor=FACTOR)


@pytest.fixture(scope="module")
def live(spec, rules):
    sim = Simulator(spec).start()
    prom = PrometheusServer(sim.scrape_configs(), rules)
    try:
        prom.start()
        _wait(lambda: _up_targets(prom.url) == len(sim.endpoints), 20, "all simulator targets up")
        yield sim, prom
    finally:
        prom.stop()
        sim.stop()


def _wait(cond, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _up_targets(url: str) -> int:
    return sum(float(r["value"][1]) == 1 for r in query(url, "up")["result"])


def _alerts(url: str) -> list[dict]:
    """Firing and pending alerts (pending: the expression is already true)."""
    return _get(url, "/api/v1/alerts")["data"]["alerts"]


def _alert_names(rules: dict) -> set[str]:
    return {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}


def _dashboards(spec) -> list[dict]:
    return [d.json for d in build_dashboards(spec)]


def _quiet(url: str) -> bool:
    return not _alerts(url)


def test_healthy_every_panel_has_data_and_no_alert(live, spec):
    sim, prom = live
    sim.set_scenario("healthy")
    boards = _dashboards(spec)
    assert count_queries(boards) >= 50
    problems = []

    def clean():
        nonlocal problems
        problems = lint_live(boards, prom.url)
        return not problems

    try:
        _wait(clean, 20, "every panel to return data", interval=1)
    except AssertionError:
        pytest.fail("panels without data in the healthy scenario:\n" + "\n".join(map(str, problems)))
    # At start-up an alert may be pending for the evaluations before the recording group first
    # wrote the series it reads (``... or vector(0)``); once settled: nothing firing, nothing even
    # pending, across several evaluations.
    _wait(lambda: not _alerts(prom.url), 20, "start-up pending alerts to clear", interval=1)
    for _ in range(6):
        active = _alerts(prom.url)
        assert not active, [(a["labels"]["alertname"], a["state"], a["labels"]) for a in active]
        time.sleep(1)


def _fleet_panel(spec, title: str) -> dict:
    fleet = next(b for b in _dashboards(spec) if b["uid"] == "md-fleet")
    return next(p for p in fleet["panels"] if p["title"] == title)


def _run(url: str, expr: str) -> list[dict]:
    expr = substitute_variables(substitute_macros(expr, DEFAULT_MACROS), {v: ".*" for v in ("team", "namespace",
                                                                                                  "backend")})
    return query(url, expr)["result"]


def test_fleet_table_has_one_row_per_model_within_thresholds(live, spec):
    sim, prom = live
    sim.set_scenario("healthy")
    table = _fleet_panel(spec, "Model status")
    names = table["transformations"][1]["options"]["renameByName"]
    models = sorted(m.name for m in spec.models)
    with_truth = sorted(m.name for m in spec.models if m.ground_truth)
    _wait(lambda: all(_run(prom.url, t["expr"]) for t in table["targets"]), 20, "data in every column")
    for t in table["targets"]:
        column = names.get(f"Value #{t['refId']}", "info")
        rows = _run(prom.url, t["expr"])
        assert sorted(r["metric"]["model"] for r in rows) == (with_truth if "Quality" in column or "RMSE" in column
                                                              else models), column
        if "/ threshold" in column:  # healthy: every model below its own warning level
            assert all(float(r["value"][1]) < 1 for r in rows), (column, rows)


def _check_fault_in_views(spec, url: str, scenario: str, target: str) -> None:
    """During a fault: the fleet view ranks the model worst, its dashboard marks the alert."""
    gauge = {"latency-spike": "Top 10: p95 latency vs threshold", "drift": "Top 10: drift vs threshold",
             "error-burst": "Top 10: 5xx ratio vs threshold"}.get(scenario)
    if gauge:
        rows = _run(url, _fleet_panel(spec, gauge)["targets"][0]["expr"])
        worst = max(rows, key=lambda r: float(r["value"][1]))
        assert worst["metric"]["model"] == target and float(worst["value"][1]) > 1, rows
    board = next(b for b in _dashboards(spec) if b["uid"] == f"md-model-{target}")
    for ann in board["annotations"]["list"]:
        result = _get(url, "/api/v1/query_range", {"query": ann["expr"], "start": time.time() - 120,
                                                   "end": time.time(), "step": 5})["data"]["result"]
        if ann["name"] == "Alerts":
            assert {r["metric"]["alertname"] for r in result} >= EXPECTED[scenario][0], result


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_fault_fires_expected_alerts_only(live, spec, rules, scenario):
    sim, prom = live
    defined = _alert_names(rules)
    must, allowed_prefixes = EXPECTED[scenario]
    missing = must - defined
    assert not missing, f"rules define no {sorted(missing)}"
    target = TARGET.get(scenario, spec.models[0].name)
    layout = sim.topology.by_name(target)
    sim.set_scenario("healthy")
    _wait(lambda: _quiet(prom.url), 30, "no alerts before the scenario")
    sim.set_scenario(scenario, target)
    try:
        def fired():
            names = {a["labels"]["alertname"] for a in _alerts(prom.url) if a["state"] == "firing"}
            return must <= names

        _wait(fired, 45, f"{sorted(must)} to fire")
        if scenario in TARGET:
            _check_fault_in_views(spec, prom.url, scenario, target)
        for a in _alerts(prom.url):
            name, labels = a["labels"]["alertname"], a["labels"]
            assert name in must or name.startswith(allowed_prefixes), f"unrelated alert {name} {a['state']}: {labels}"
            if "model" in labels:
                assert labels["model"] == target, labels
            elif "namespace" in labels:
                assert labels["namespace"] == layout.namespace, labels
    finally:
        sim.set_scenario("healthy")
    _wait(lambda: _quiet(prom.url), 30, f"alerts of {scenario} to resolve")


def test_every_scenario_has_a_test():
    assert set(EXPECTED) == set(SCENARIOS) - {"healthy", "slow-burn"}  # slow-burn: test_e2e_slo.py


def test_live_lint_flags_panel_whose_metric_does_not_exist(live, spec):
    sim, prom = live
    sim.set_scenario("healthy")
    board = copy.deepcopy(_dashboards(spec)[-1])
    _wait(lambda: not lint_live([board], prom.url), 20, "the unmodified dashboard to lint clean")
    panel = next(p for p in iter_panels(board["panels"]) if p.get("targets"))
    panel["targets"] = [{"refId": "A", "expr": "sum(rate(model_predictions_totl{model=\"x\"}[$__rate_interval]))"}]
    problems = lint_live([board], prom.url)
    assert [(p.dashboard, p.panel.split(" [")[0], p.reason) for p in problems] == [
        (board["title"], panel["title"], "returns no series")
    ]
    assert "[1m]" in problems[0].query  # the macro was substituted
    panel["targets"] = [{"refId": "A", "expr": "sum(rate(up[$__rate_interval])"}]  # unbalanced
    (bad,) = lint_live([board], prom.url)
    assert bad.reason.startswith("query fails:")


def test_lint_command_with_prometheus(live, spec, spec_data, tmp_path):
    sim, prom = live
    sim.set_scenario("healthy")
    _wait(lambda: not lint_live(_dashboards(spec), prom.url), 20, "data for every panel")
    runner = CliRunner()
    down = runner.invoke(main, ["lint", "--prometheus", "http://127.0.0.1:9"])
    assert down.exit_code == 2 and "--prometheus http://127.0.0.1:9" in down.output
    assert "Traceback" not in down.output
    out = tmp_path / "out"
    spec_path = tmp_path / "fleet.yaml"
    spec_path.write_text(yaml.safe_dump(spec_data))
    assert runner.invoke(main, ["render", str(spec_path), "-o", str(out)]).exit_code == 0
    ok = runner.invoke(main, ["lint", str(out), "--prometheus", prom.url])
    assert ok.exit_code == 0, ok.output
    assert "return data" in ok.output
    # one broken panel in the rendered folder: exit 1, the panel and its query named
    path = sorted((out / "dashboards").rglob("*.json"))[0]
    board = json.loads(path.read_text())
    panel = next(p for p in iter_panels(board["panels"]) if p.get("targets"))
    panel["targets"][0]["expr"] = "kube_hpa_status_current_replicas"  # removed in KSM 2.0
    path.write_text(json.dumps(board))
    bad = runner.invoke(main, ["lint", str(out), "--prometheus", prom.url])
    assert bad.exit_code == 1, bad.output
    assert panel["title"] in bad.output and "kube_hpa_status_current_replicas" in bad.output


def test_demo_starts_and_stops_on_sigint(tmp_path):
    from modeldash.scripts.prometheus_harness import free_port

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sim_port, prom_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "modeldash", "demo", "-o", str(tmp_path / "demo"),
                             "--simulator-listen", f"127.0.0.1:{sim_port}", "--prometheus-listen", f"127.0.0.1:{prom_port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        lines = []
        deadline = time.monotonic() + 40
        pid = url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("prometheus"):
                url, pid = line.split()[1], int(line.split("pid")[1].split()[0])
            if "Ctrl-C stops" in line:
                break
        assert pid, "".join(lines) + proc.stderr.read() if proc.poll() is not None else "".join(lines)
        assert query(url, "vector(1)")["result"]
        assert url == f"http://127.0.0.1:{prom_port}"
        # every address the demo prints answers (GET; the scenario URL is shown as a POST)
        urls = {u.rstrip("',") for ln in lines for u in re.findall(r"http://[^\s)]+", ln)}
        assert f"http://127.0.0.1:{sim_port}/" in urls and len(urls) >= 5, urls
        for u in sorted(urls):
            with urllib.request.urlopen(u, timeout=10) as resp:
                assert resp.status == 200, u
        assert (tmp_path / "demo" / "grafana-demo" / "provisioning" / "datasources" / "modeldash-demo.yaml").exists()
        assert list((tmp_path / "demo" / "dashboards").rglob("*.json"))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert not Path(f"/proc/{pid}").exists(), "Prometheus still running after the demo stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
