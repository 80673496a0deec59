"""Burn-rate alerts end to end: the real Prometheus scrapes the simulator and evaluates the SLO rules.

The spec scales the alert windows to seconds (the window set is configurable for exactly this);
factors stay the SRE Workbook's. A slow burn (the simulator's ``slow-burn`` scenario: between
the ticket and page factors) must open the ticket and never page; a fast burn (``error-burst``,
20 % errors = 200x the budget) must page. The dashboards' objective panels must have data.
"""
from __future__ import annotations

import time

import pytest
import yaml

from modeldash.alerts.build import prometheus_rules
from modeldash.alerts.slo_rules import ALERT
from modeldash.dashboards.build import build_dashboards
from modeldash.scripts.live_lint import iter_panels, lint_live
from modeldash.scripts.prometheus_client_http import _get, query
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator
from modeldash.spec.fleet import bundled_example, load_spec_data

TARGET = "fraud-detector"  # knative-legacy: status codes of its own
SCALED = {
    "window": "28d",
    "availability": 0.999,
    "latency": None,
    "alerts": {
        "page": [{"factor": 14.4, "long": "12s", "short": "4s"}, {"factor": 6, "long": "24s", "short": "6s"}],
        "ticket": [{"factor": 3, "long": "30s", "short": "8s"}, {"factor": 1, "long": "40s", "short": "10s"}],
    },
}


@pytest.fixture(scope="module")
def spec():
    data = yaml.safe_load(bundled_example().read_text())
    data["defaults"]["slo"] = SCALED
    data["models"] = [m for m in data["models"] if m["name"] == TARGET]
    data["jobs"].pop("models", None)
    return load_spec_data(data, "slo-e2e")


@pytest.fixture(scope="module")
def live(spec):
    rules = prometheus_rules(spec)
    keep = []
    for g in rules["groups"]:
        g = {**g, "interval": "1s", "rules": [r for r in g["rules"] if "record" in r or r["alert"] == ALERT]}
        if g["rules"]:
            keep.append(g)
    sim = Simulator(spec).start()
    prom = PrometheusServer(sim.scrape_configs(), {"groups": keep})
    try:
        prom.start()
        _wait(lambda: sum(float(r["value"][1]) == 1 for r in query(prom.url, "up")["result"]) == len(sim.endpoints),
              20, "simulator targets up")
        yield sim, prom
    finally:
        prom.stop()
        sim.stop()


def _wait(cond, timeout: float, what: str, interval: float = 0.5, forbid=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if forbid is not None:
            bad = forbid()
            assert not bad, f"while waiting for {what}: {bad}"
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _burn_alerts(url: str, kind: str, states=("firing",)) -> list[dict]:
    return [a["labels"] for a in _get(url, "/api/v1/alerts")["data"]["alerts"]
            if a["labels"]["alertname"] == ALERT and a["labels"]["slo_alert"] == kind and a["state"] in states]


def test_slow_burn_tickets_without_paging_then_fast_burn_pages(live, spec):
    sim, prom = live
    sim.set_scenario("healthy")
    _wait(lambda: query(prom.url, f'model_slo:burn_rate:ratio{{slo_window="40s"}}')["result"], 20,
          "burn rates recorded")
    time.sleep(3)
    assert not _burn_alerts(prom.url, "page", ("firing", "pending"))
    assert not _burn_alerts(prom.url, "ticket", ("firing", "pending"))
    page_active = lambda: _burn_alerts(prom.url, "page", ("firing", "pending"))  # noqa: E731

    sim.set_scenario("slow-burn", TARGET)
    (ticket,) = _wait(lambda: _burn_alerts(prom.url, "ticket"), 40, "the slow burn's ticket", forbid=page_active)
    assert ticket["severity"] == "warning" and ticket["model"] == TARGET and ticket["slo"] == "availability"
    for _ in range(4):  # several evaluations later: still a ticket, still no page
        assert not page_active()
        time.sleep(1)
    burn = float(query(prom.url, f'model_slo:burn_rate:ratio{{slo_window="4s"}}')["result"][0]["value"][1])
    assert 3 < burn < 6, burn  # between the ticket and the page factors, as the scenario promises

    sim.set_scenario("error-burst", TARGET)
    (page,) = _wait(lambda: _burn_alerts(prom.url, "page"), 20, "the fast burn's page")
    assert page["severity"] == "critical" and page["model"] == TARGET
    sim.set_scenario("healthy")


def test_objective_panels_read_recorded_series_with_data(live, spec):
    sim, prom = live
    board = next(b.json for b in build_dashboards(spec) if b.uid == f"md-model-{TARGET}")
    slo_panels = [p for p in iter_panels(board["panels"]) if p["type"] != "row" and "budget" in p["title"].lower()
                  or p["type"] != "row" and "burn rate" in p["title"].lower()]
    assert len(slo_panels) == 3
    for p in slo_panels:
        assert all("model_slo:" in t["expr"] for t in p["targets"])
    board = {**board, "panels": slo_panels}
    _wait(lambda: not lint_live([board], prom.url), 20, "data on every objective panel")
