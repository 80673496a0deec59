"""A workload simulator: the series real exporters emit, for every model of a fleet spec.

It lets a real Prometheus scrape node-exporter, kube-state-metrics, cAdvisor, the serving
backends and the model's own metrics without a cluster, so the generated dashboards and
alerts can be proven against live data. Scenarios switch it from healthy to one fault.
"""
from modeldash.simulator.scenarios import SCENARIOS, Scenario
from modeldash.simulator.server import Simulator

__all__ = ["SCENARIOS", "Scenario", "Simulator"]
