"""The simulator's exposition and the rules shortening, without Prometheus (fast)."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modeldash.spec.fleet import bundled_example, load_spec
from rules_for_tests import shorten_expr, shorten_rules
from modeldash.simulator import Simulator
from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.serving import base_labels, status_values


@pytest.fixture(scope="module")
def sim():
    return Simulator(load_spec(bundled_example()))


def samples(sim, path):
    out = []
    for fam in text_string_to_metric_families(sim.render(path).decode()):
        out.extend(fam.samples)
    return out


def test_accumulator_integrates_rates_and_stays_monotonic():
    now = [0.0]
    acc = Accumulator(clock=lambda: now[0], head_start=0)
    assert acc.read("k", 2.0) == 0
    now[0] = 10
    assert acc.read("k", 2.0) == 20  # 2/s for 10 s
    now[0] = 15
    assert acc.read("k", 0.0) == 20  # rate dropped: the value stays
    with pytest.raises(ValueError):
        acc.read("k", -1)


def test_pod_phase_has_five_series_and_drift_pod_succeeded_owned_by_job(sim):
    s = samples(sim, "/metrics/kube-state-metrics")
    layout = sim.topology.models[0]
    pod = layout.pods[0].name
    phases = {x.labels["phase"]: x.value for x in s if x.name == "kube_pod_status_phase" and x.labels["pod"] == pod}
    assert phases == {"Pending": 0, "Running": 1, "Succeeded": 0, "Failed": 0, "Unknown": 0}
    drift = {x.labels["phase"]: x.value for x in s if x.name == "kube_pod_status_phase" and x.labels["pod"] == layout.drift_pod}
    assert drift["Succeeded"] == 1 and sum(drift.values()) == 1
    owner = [x.labels for x in s if x.name == "kube_pod_owner" and x.labels["pod"] == layout.drift_pod]
    assert owner[0]["owner_kind"] == "Job" and owner[0]["owner_name"] == layout.drift_job
    assert not [x for x in s if x.name.startswith("kube_hpa_")]  # removed in KSM 2.0
    assert {x.labels["resource"] for x in s if x.name == "kube_pod_container_resource_limits"} == {"cpu", "memory"}
    assert not [x for x in s if x.name == "kube_pod_container_status_waiting_reason"]  # only while waiting


def test_crash_loop_emits_waiting_reason_for_the_target_only(sim):
    target = sim.spec.models[1].name
    sim.set_scenario("crash-loop", target)
    try:
        s = samples(sim, "/metrics/kube-state-metrics")
    finally:
        sim.set_scenario("healthy")
    waiting = [x.labels for x in s if x.name == "kube_pod_container_status_waiting_reason"]
    assert [(w["namespace"], w["reason"]) for w in waiting] == [(sim.spec.models[1].namespace, "CrashLoopBackOff")]


def test_serving_series_satisfy_each_backends_own_selector(sim):
    """Label values come from the backend's matchers: every backend's query selects the series."""
    s = samples(sim, "/metrics/serving")
    for layout in sim.topology.models:
        backends = [sim.spec.backend_for(layout.model), sim.spec.error_backend_for(layout.model)]
        for b in [b for b in backends if b is not None]:
            want = base_labels(b, layout)
            hist = [x for x in s if x.name == f"{b.histogram_metric}_bucket" and all(x.labels.get(k) == v for k, v in want.items())]
            assert hist, (b.name, layout.model.name)
            counts = [x for x in s if x.name == b.count_metric and all(x.labels.get(k) == v for k, v in want.items())]
            assert counts, (b.name, b.count_metric)
            if b.has_status_codes:
                assert status_values(b)["5xx"] in {x.labels[b.status_label] for x in counts}


def test_latency_buckets_are_in_the_backends_unit(sim):
    s = samples(sim, "/metrics/serving")
    for b in {sim.spec.backend_for(m).name: sim.spec.backend_for(m) for m in sim.spec.models}.values():
        les = {float(x.labels["le"]) for x in s if x.name == f"{b.histogram_metric}_bucket"}
        assert b.latency_threshold(0.5) in les  # 500 on a millisecond histogram, 0.5 on seconds


def test_node_exporter_cpu_modes_sum_to_one_core_per_cpu(sim):
    s1 = {(x.labels["cpu"], x.labels["mode"]): x.value for x in samples(sim, "/metrics/node-exporter/node-1")
          if x.name == "node_cpu_seconds_total"}
    assert {m for _, m in s1} >= {"idle", "iowait", "steal", "user", "system"}
    assert len({c for c, _ in s1}) == 4


def test_shorten_scales_windows_offsets_and_for_with_floors():
    assert shorten_expr("rate(x[5m]) > 0 and y offset 1h", 1 / 60) == "rate(x[5s]) > 0 and y offset 1m"
    assert shorten_expr("max_over_time(x[1h:1m])", 1 / 60) == "max_over_time(x[1m:1s])"
    assert shorten_expr("increase(x[2m])", 1 / 120) == "increase(x[4s])"  # never below four scrapes
    rules = {"groups": [{"name": "g", "interval": "1m", "rules": [{"alert": "A", "expr": "x[10m]", "for": "15m"}]}]}
    short = shorten_rules(rules, 1 / 60)
    assert short["groups"][0]["rules"][0] == {"alert": "A", "expr": "x[10s]", "for": "15s"}
    assert short["groups"][0]["interval"] == "1s"
    assert rules["groups"][0]["rules"][0]["for"] == "15m"  # the input is not changed
