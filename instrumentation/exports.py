"""The jobs' results as Prometheus series, in a fresh ``CollectorRegistry`` per run.

One registry holds everything one run pushes (scores and the last-success timestamp), so a
push replaces the whole group at once. Names and labels come from ``datasources.metrics``.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from modeldash.datasources import metrics as m

DRIFT_JOB = "drift"
QUALITY_JOB = "quality"


def _gauge(defn: m.MetricDef, registry: CollectorRegistry) -> Gauge:
    return Gauge(defn.name, defn.help, defn.labels, registry=registry)


def _last_success(registry: CollectorRegistry, model: str, job: str, now: float) -> None:
    _gauge(m.JOB_LAST_SUCCESS, registry).labels(**{m.MODEL_LABEL: model, "job": job}).set(now)


def drift_registry(report, now: float) -> CollectorRegistry:
    """``model_drift_score{model, feature, method}`` for every score, plus the last success."""
    registry = CollectorRegistry()
    gauge = _gauge(m.DRIFT_SCORE, registry)
    for f in report.features:
        for method, value in sorted(f.scores.items()):
            gauge.labels(**{m.MODEL_LABEL: report.model, "feature": f.feature, "method": method}).set(value)
    _last_success(registry, report.model, DRIFT_JOB, now)
    return registry


def quality_registry(report, now: float) -> CollectorRegistry:
    """Accuracy and per-class/macro precision, recall, F1 (or RMSE and MAE), plus the last success."""
    registry = CollectorRegistry()
    v = report.values
    if report.task == "classification":
        _gauge(m.ACCURACY, registry).labels(**{m.MODEL_LABEL: report.model}).set(v["accuracy"])
        for defn, key in ((m.PRECISION, "precision"), (m.RECALL, "recall"), (m.F1, "f1")):
            gauge = _gauge(defn, registry)
            for cls, value in sorted(v[key].items()):
                gauge.labels(**{m.MODEL_LABEL: report.model, "target_class": cls}).set(value)
    else:
        _gauge(m.RMSE, registry).labels(**{m.MODEL_LABEL: report.model}).set(v["rmse"])
        _gauge(m.MAE, registry).labels(**{m.MODEL_LABEL: report.model}).set(v["mae"])
    _last_success(registry, report.model, QUALITY_JOB, now)
    return registry
