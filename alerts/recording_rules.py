"""Recording rules: the heavy per-model serving expressions, normalised to seconds and ratios.

Every backend has its own metric names and latency unit; the recorded series do not. Each
carries the labels ``model`` and ``namespace``, so dashboards (and anything else) can ask
``model:request_latency_seconds:p95_5m{model="x"}`` without knowing the backend. The names
follow the ``level:metric:operations`` convention.
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.alerts.cluster_scope import scoped_rules
from modeldash.datasources import fleet_signals
from modeldash.datasources.backends import Target

WINDOW = "5m"
RECORDED_REQUEST_RATE = "model:requests:rate5m"
RECORDED_LATENCY_P50 = "model:request_latency_seconds:p50_5m"
RECORDED_LATENCY_P95 = "model:request_latency_seconds:p95_5m"
RECORDED_LATENCY_P99 = "model:request_latency_seconds:p99_5m"
RECORDED_ERROR_RATIO = "model:request_errors_5xx:ratio_rate5m"
RECORDED_LATENCY = {0.5: RECORDED_LATENCY_P50, 0.95: RECORDED_LATENCY_P95, 0.99: RECORDED_LATENCY_P99}
RECORDED_NAMES = (RECORDED_REQUEST_RATE, RECORDED_LATENCY_P50, RECORDED_LATENCY_P95, RECORDED_LATENCY_P99,
                  RECORDED_ERROR_RATIO)


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: dict

    def as_prometheus(self) -> dict:
        return {"record": self.record, "expr": self.expr, "labels": dict(self.labels)}


def recorded(name: str, model: str) -> str:
    """A selector for one model's recorded series, e.g. for a dashboard panel."""
    return f'{name}{{model="{model}"}}'


def target_of(model) -> Target:
    return Target(namespace=model.namespace, isvc=model.isvc, model=model.name)


def model_recording_rules(spec, model) -> list[RecordingRule]:
    """Rate, p50/p95/p99 in seconds and the 5xx ratio of one model (the ratio only when a
    backend of the model reports status codes)."""
    backend = spec.backend_for(model)
    t = target_of(model)
    labels = {"model": model.name, "namespace": model.namespace}
    rules = [RecordingRule(RECORDED_REQUEST_RATE, backend.request_rate(t, WINDOW), labels)]
    for q, name in RECORDED_LATENCY.items():
        expr = backend.latency_quantile(q, t, WINDOW)
        if backend.seconds_per_unit != 1.0:
            expr = f"{expr} * {backend.seconds_per_unit:g}"
        rules.append(RecordingRule(name, expr, labels))
    errors = spec.error_backend_for(model)
    if errors is not None:
        rules.append(RecordingRule(RECORDED_ERROR_RATIO, errors.error_ratio(t, WINDOW, "5xx"), labels))
    return rules


def recording_rules(spec) -> list[RecordingRule]:
    """Serving series per model, then each model's identity and thresholds (``fleet_signals``)."""
    serving = [r for m in spec.models for r in model_recording_rules(spec, m)]
    return scoped_rules(spec, serving) + [RecordingRule(*r) for r in fleet_signals.fleet_rules(spec)]
