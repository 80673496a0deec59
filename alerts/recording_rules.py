"""Recording rules: each model's serving signals, normalised to seconds and ratios.

What is recorded, and from which expression, is defined in ``datasources/recorded.py``; this
module turns it into rules. The per-model serving alerts and the fleet overview read the
recorded series, so Prometheus computes each ``histogram_quantile`` and error ratio once per
evaluation instead of once per reader.
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.alerts.cluster_scope import scoped_rules
from modeldash.datasources import fleet_signals, recorded
from modeldash.datasources.backends import target_of

RECORDED_REQUEST_RATE = recorded.REQUEST_RATE
RECORDED_LATENCY_P95 = recorded.LATENCY_P95
RECORDED_ERROR_RATIO = recorded.ERROR_RATIO
RECORDED_NAMES = recorded.NAMES


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: dict

    def as_prometheus(self) -> dict:
        return {"record": self.record, "expr": self.expr, "labels": dict(self.labels)}


def model_recording_rules(spec, model) -> list[RecordingRule]:
    """Rate, p95 in seconds and the 5xx ratio of one model (the ratio only when a backend of the
    model reports status codes)."""
    t = target_of(model)
    exprs = recorded.expressions(spec.backend_for(model), spec.error_backend_for(model), t)
    return [RecordingRule(name, expr, recorded.labels(t)) for name, expr in exprs.items()]


def recording_rules(spec) -> list[RecordingRule]:
    """Serving series per model, then each model's identity and thresholds (``fleet_signals``)."""
    serving = [r for m in spec.models for r in model_recording_rules(spec, m)]
    return scoped_rules(spec, serving) + [RecordingRule(*r) for r in fleet_signals.fleet_rules(spec)]
