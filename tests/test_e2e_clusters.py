"""Two clusters on one real Prometheus: every panel has data per cluster, no alert mixes clusters.

Two simulators play clusters ``east`` and ``west`` (each target carries the cluster label, as
kube-prometheus-stack's external label gives it behind Thanos or Mimir); the fleet spec sets
``prometheus.multi_cluster``. Rule durations are shortened as in test_e2e_prometheus.
"""
from __future__ import annotations

import time

import pytest
import yaml

from modeldash.alerts.build import prometheus_rules
from modeldash.alerts.slo_rules import ALERT as BURN_ALERT
from modeldash.dashboards.build import build_dashboards
from modeldash.scripts.live_lint import DEFAULT_MACROS, iter_panels, substitute_macros, substitute_variables
from modeldash.scripts.prometheus_client_http import _get, query
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator
from modeldash.simulator.server import merge_scrape_configs
from modeldash.spec.fleet import bundled_example, load_spec_data
from rules_for_tests import shorten_rules

CLUSTERS = ("east", "west")
FACTOR = 1 / 120


@pytest.fixture(scope="module")
def spec():
    data = yaml.safe_load(bundled_example().read_text())
    data["labels"].pop("cluster")
    data["prometheus"] = {"multi_cluster": True}
    return load_spec_data(data, "<two clusters>")


@pytest.fixture(scope="module")
def live(spec):
    sims = {c: Simulator(spec, cluster=c).start() for c in CLUSTERS}
    prom = PrometheusServer(merge_scrape_configs(*(s.scrape_configs() for s in sims.values())),
                            shorten_rules(prometheus_rules(spec), factor=FACTOR))
    try:
        prom.start()
        yield sims, prom
    finally:
        prom.stop()
        for s in sims.values():
            s.stop()


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last is True or (last and not isinstance(last, list)):
            return last
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")


def _targets(spec):
    for board in (d.json for d in build_dashboards(spec)):
        names = [v["name"] for v in board["templating"]["list"]]
        assert "cluster" in names, board["uid"]
        for panel in iter_panels(board["panels"]):
            for t in panel.get("targets", []):
                yield board["uid"], panel["title"], t["expr"], names


def _problems(spec, url: str, cluster: str) -> list:
    out = []
    for uid, title, expr, names in _targets(spec):
        values = {n: ".*" for n in names} | {"cluster": cluster}
        q = substitute_variables(substitute_macros(expr, DEFAULT_MACROS), values)
        result = query(url, q)["result"]
        seen = {r["metric"].get("cluster") for r in result}
        if not result:
            out.append((uid, title, "no data"))
        elif not seen <= {cluster, None}:
            out.append((uid, title, f"mixes clusters {sorted(map(str, seen))}"))
        elif cluster not in seen and "vector(" not in expr:  # only a constant fallback may lack the label
            out.append((uid, title, "no series of the cluster"))
    return out


def test_every_panel_has_data_per_cluster(live, spec):
    sims, prom = live
    for cluster in CLUSTERS:
        problems = []

        def clean():
            nonlocal problems
            problems = _problems(spec, prom.url, cluster)
            return not problems

        try:
            _wait(clean, 30, f"data for every panel in cluster {cluster}")
        except AssertionError:
            pytest.fail(f"cluster {cluster}: " + "\n".join(map(str, problems[:20])))


@pytest.mark.parametrize("scenario,model,alert", [
    ("latency-spike", "fraud-detector", "ModelLatencyP95High"),
    ("traffic-stop", "churn-classifier", "ModelTrafficStopped"),  # its series vanish in west only
])
def test_a_fault_in_one_cluster_alerts_in_that_cluster_only(live, spec, scenario, model, alert):
    sims, prom = live

    def active():
        return _get(prom.url, "/api/v1/alerts")["data"]["alerts"]

    # Burn-rate tickets of the previous scenario outlast this wait (their windows, even shortened,
    # run to minutes); they are still checked below: labelled with west's cluster only.
    _wait(lambda: not [a for a in active() if a["labels"]["alertname"] != BURN_ALERT], 60,
          "no alerts (but a burn-rate one) before the fault")
    sims["west"].set_scenario(scenario, model)
    try:
        _wait(lambda: any(a["labels"]["alertname"] == alert and a["state"] == "firing" for a in active()), 60,
              f"{alert} to fire in west")
        alerts = active()
        assert alerts and all(a["labels"].get("cluster") == "west" for a in alerts), \
            [(a["labels"]["alertname"], a["labels"].get("cluster")) for a in alerts]
        assert all("in cluster west" in a["annotations"]["summary"] for a in alerts)
        assert all(a["labels"].get("model") in (None, model) for a in alerts if a["labels"]["alertname"] != BURN_ALERT)
    finally:
        sims["west"].set_scenario("healthy")
