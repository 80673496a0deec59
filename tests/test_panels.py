"""Panel factories: expression per backend, unit, and thresholds taken from the spec."""
from __future__ import annotations

import pytest

from modeldash.dashboards.normalise import normalise_dashboard, to_plain
from modeldash.spec.fleet import load_spec_data
from modeldash.panels import infra, model as model_panels, platform, serving
from modeldash.panels.platform import Scope

DS = {"type": "prometheus", "uid": "${datasource}"}


def spec_with(backend, **model):
    base = {"name": "m1", "namespace": "ns1", "task": "classification", "classes": {"yes": 0.8, "no": 0.2},
            "features": ["age", {"name": "city", "kind": "categorical", "threshold": 0.2}], "backend": backend}
    base.update(model)
    return load_spec_data({"models": [base], "infrastructure": {"node_cpu": {"warning": 0.7}}})


def plain(panel):
    return to_plain(panel)


def steps(panel):
    return [s.value for s in panel.thresholds][1:]


def exprs(panel):
    return [t.expr for t in panel.targets]


@pytest.mark.parametrize("backend,metric,to_seconds", [
    ("knative-legacy", "revision_request_latencies_bucket", " * 0.001"),
    ("knative", "kn_serving_invocation_duration_seconds_bucket", ""),
    ("kserve", "request_predict_seconds_bucket", ""),
    ("istio", "istio_request_duration_milliseconds_bucket", " * 0.001"),
])
def test_latency_panel_per_backend_is_in_seconds(backend, metric, to_seconds):
    # One unit for every backend, like the alerts and the fleet overview: a millisecond
    # histogram is converted in the query, and the thresholds are the spec's seconds.
    spec = spec_with(backend)
    p = serving.latency(spec, spec.models[0])
    assert p.unit == "s"
    assert steps(p) == [0.5, 1.0]
    assert all(metric in e for e in exprs(p))
    assert all(e.endswith(")))" + to_seconds) for e in exprs(p))
    assert [e.split(",")[0] for e in exprs(p)] == ["histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"]


def test_latency_thresholds_follow_model_override():
    spec = spec_with("knative-legacy", thresholds={"latency_p95": {"warning": "200ms", "critical": "800ms"}})
    assert steps(serving.latency(spec, spec.models[0])) == [0.2, 0.8]


@pytest.mark.parametrize("backend,has_errors", [("knative-legacy", True), ("knative", True), ("istio", True), ("kserve", False)])
def test_error_panels_need_status_codes(backend, has_errors):
    spec = spec_with(backend)
    p = serving.error_ratio(spec, spec.models[0])
    assert (p is not None) == has_errors
    if p:
        assert p.unit == "percentunit" and steps(p) == [0.01, 0.05]
        rates = serving.status_rates(spec, spec.models[0])
        assert len(rates.targets) == 2 and {t.legendFormat for t in rates.targets} == {"4xx", "5xx"}


def test_kserve_errors_come_from_declared_error_backend():
    spec = spec_with("kserve", error_backend="istio")
    p = serving.error_ratio(spec, spec.models[0])
    assert "istio_requests_total" in p.targets[0].expr


def test_queue_depth_only_where_backend_has_it():
    assert serving.queue_depth(spec_with("knative"), spec_with("knative").models[0]) is not None
    spec = spec_with("knative-legacy")
    assert serving.queue_depth(spec, spec.models[0]) is None


def test_request_rate_unit_and_metric():
    spec = spec_with("knative-legacy")
    p = serving.request_rate(spec, spec.models[0])
    assert p.unit == "reqps" and "revision_request_count" in p.targets[0].expr


def test_class_share_has_baselines_and_bounded_labels():
    spec = spec_with("kserve")
    p = model_panels.class_share(spec, spec.models[0])
    e = exprs(p)
    assert "model_predictions_total" in e[0] and "predicted_class" in e[0] and "group_left" in e[0]
    assert sorted(e[1:]) == ["vector(0.2)", "vector(0.8)"]
    assert p.unit == "percentunit"


def test_drift_threshold_line_from_spec():
    spec = spec_with("kserve", thresholds={"drift": {"threshold": 0.25}})
    p = model_panels.drift(spec, spec.models[0])
    assert steps(p) == [0.25]
    assert 'model_drift_score{model="m1", method="psi"}' in p.targets[0].expr
    assert "city 0.2" in p.description


def test_task_specific_panels():
    cls = spec_with("kserve")
    reg = spec_with("kserve", task="regression", classes={})
    assert model_panels.confidence(cls, cls.models[0]) is not None
    assert model_panels.prediction_value(cls, cls.models[0]) is None
    assert model_panels.confidence(reg, reg.models[0]) is None
    assert model_panels.prediction_value(reg, reg.models[0]) is not None
    assert model_panels.quality(cls, cls.models[0]) is None  # no ground truth declared


def test_quality_floor_from_spec():
    spec = spec_with("kserve", ground_truth=True, thresholds={"quality": {"accuracy_min": 0.93}})
    p = model_panels.quality(spec, spec.models[0])
    # each quality line has its own level: the accuracy floor is drawn on the accuracy series
    (line,) = [o for o in p.overrides if o["matcher"]["options"]["names"] == ["accuracy"]]
    assert [s["value"] for s in line["properties"][0]["value"]["steps"]] == [None, 0.93]
    assert any('target_class="macro"' in e for e in exprs(p))


def test_node_cpu_threshold_and_query():
    spec = spec_with("kserve")
    p = infra.node_cpu(spec)
    assert steps(p) == [0.7]
    assert 'mode=~"idle|iowait|steal"' in p.targets[0].expr and p.unit == "percentunit"


@pytest.mark.parametrize("factory,needle", [
    (infra.node_memory, "node_memory_MemAvailable_bytes"),
    (infra.node_disk, 'fstype!~"tmpfs|overlay|squashfs", fstype!="", mountpoint!=""'),
    (infra.node_network, 'device!="lo"'),
    (infra.node_ready, 'condition="Ready"'),
])
def test_infra_panels(factory, needle):
    spec = spec_with("kserve")
    assert any(needle in e for e in exprs(factory(spec)))


def test_platform_panels_use_current_ksm_names():
    spec = spec_with("kserve")
    scope = Scope(namespace="ns1", workload="m1-predictor.*")
    hpa = " ".join(exprs(platform.hpa(spec, scope)))
    assert "kube_horizontalpodautoscaler_spec_max_replicas" in hpa and "kube_hpa_" not in hpa
    cpu = exprs(platform.container_cpu(spec, scope))[0]
    assert 'kube_pod_container_resource_limits{' in cpu and 'resource="cpu"' in cpu
    assert "sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total" in cpu
    mem = exprs(platform.container_memory(spec, scope))[0]
    assert "container_memory_working_set_bytes" in mem and "container_memory_usage_bytes" not in mem
    assert steps(platform.container_memory(spec, scope)) == [0.9]
    not_running = exprs(platform.pods_not_running(spec, scope))[0]
    assert 'phase=~"Pending|Unknown|Failed"' in not_running and 'unless on (namespace, pod)' in not_running
    assert 'owner_kind="Job"' in not_running
    assert 'namespace=~"ns1", pod=~"m1-predictor.*"' in cpu


def test_every_panel_has_title_description_unit():
    spec = spec_with("knative")
    m = spec.models[0]
    panels = [serving.request_rate(spec, m), serving.latency(spec, m), model_panels.drift(spec, m), infra.node_cpu(spec)]
    for p in panels:
        assert p.title and len(p.description) > 60 and p.unit


def test_normalise_removes_legacy_shape():
    spec = spec_with("knative")
    import grafanalib.core as g
    board = g.Dashboard(title="t", uid="t", panels=[serving.latency(spec, spec.models[0])])
    out = normalise_dashboard(board, DS)
    assert out["schemaVersion"] >= 39
    for legacy in ("rows", "style", "sharedCrosshair", "hideControls", "id"):
        assert legacy not in out
    panel = out["panels"][0]
    assert "span" not in panel and panel["datasource"] == DS
    assert panel["fieldConfig"]["defaults"]["thresholds"]["steps"][0] == {"color": "green", "value": None}
    for t in panel["targets"]:
        assert set(t) <= {"expr", "legendFormat", "refId", "datasource"}
