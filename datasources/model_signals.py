"""Model-behaviour signals from the model's own series (``metrics.py``): class shares, confidence,
predicted values, drift, quality and job freshness; one definition for panels and alerts."""
from __future__ import annotations

from modeldash.datasources import metrics as M


def predictions_rate(model: str, window: str, predicted_class: str | None = None, by: str = "") -> str:
    """Predictions per second, of one class or all; ``by`` e.g. the class label."""
    extra = {M.CLASS_LABEL: predicted_class} if predicted_class is not None else {}
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({M.PREDICTIONS.selector(model=model, **extra)}[{window}]))"


def class_shares(model: str, window: str) -> str:
    """Share of each predicted class (one series per class)."""
    return (f"{predictions_rate(model, window, by=M.CLASS_LABEL)} / ignoring ({M.CLASS_LABEL}) group_left () "
            f"{predictions_rate(model, window)}")


def class_share(model: str, predicted_class: str, window: str) -> str:
    """Share of one class; 0, not empty, when the class was never predicted in the window."""
    return f"({predictions_rate(model, window, predicted_class)} or vector(0)) / {predictions_rate(model, window)}"


def histogram_quantile(metric: M.MetricDef, q: float, model: str, window: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({metric.bucket(model=model)}[{window}])))"


def drift_score(model: str, method: str, feature: str | None = None) -> str:
    """Drift per feature (the panel's lines) or of one feature (an alert)."""
    extra = {"feature": feature} if feature is not None else {}
    by = "model, feature" if feature is not None else "feature"
    return f"max by ({by}) ({M.DRIFT_SCORE.selector(model=model, method=method, **extra)})"


def quality(metric: M.MetricDef, model: str, **extra: str) -> str:
    """One ground-truth metric of a model (``target_class="macro"`` for the macro averages)."""
    return f"max by (model) ({metric.selector(model=model, **extra)})"


def job_staleness(model: str, job: str) -> str:
    """Seconds since the job last succeeded; counts from 0 (never) when it never reported."""
    sel = M.JOB_LAST_SUCCESS.selector(model=model, job=job)
    return f"time() - (max by (model, job) ({sel}) or 0 * absent({sel}))"
