"""Model-behaviour layer: class shares against baseline, confidence, outputs, drift, quality.

Series names come from ``datasources.metrics``, the same definitions the instrumentation
and the drift/quality jobs emit.
"""
from __future__ import annotations

from modeldash.spec.fleet import FleetSpec, ModelSpec
from modeldash.datasources import metrics as m
from modeldash.datasources import model_signals as signals
from modeldash.panels.common import PERCENT_UNIT, RATE, SHORT, Query, floor_levels, levels, timeseries


def class_share(spec: FleetSpec, model: ModelSpec):
    """Share of each predicted class, with each class's training baseline drawn beside it."""
    if model.task != "classification":
        return None
    queries = [Query(signals.class_shares(model.name, RATE), f"{{{{{m.CLASS_LABEL}}}}}")]
    queries += [Query(f"vector({share:g})", f"{name} baseline") for name, share in sorted(model.classes.items())]
    tol = model.thresholds.class_share
    return timeseries(
        "Predicted class share vs baseline",
        "Share of predictions per class over the rate interval, with each class's baseline share from "
        f"training. A class outside its baseline +/- {tol.tolerance:.0%} for {tol.for_ / 60:g} minutes fires "
        "PredictionDistributionShift: the input population or the model changed; compare with the drift panel.",
        queries,
        PERCENT_UNIT,
        min_value=0,
        max_value=1,
    )


def confidence(spec: FleetSpec, model: ModelSpec):
    if model.task != "classification":
        return None
    q = lambda p: signals.histogram_quantile(m.CONFIDENCE, p, model.name, RATE)  # noqa: E731
    return timeseries(
        "Prediction confidence",
        "Median and 10th-percentile confidence (top-class probability) of predictions. A falling low tail "
        "means more inputs the model is unsure about: often the first sign of drift.",
        [Query(q(0.5), "median"), Query(q(0.1), "p10")],
        PERCENT_UNIT,
        min_value=0,
        max_value=1,
    )


def prediction_value(spec: FleetSpec, model: ModelSpec):
    if model.task != "regression":
        return None
    q = lambda p: signals.histogram_quantile(m.PREDICTION_VALUE, p, model.name, RATE)  # noqa: E731
    return timeseries(
        "Predicted value distribution",
        "10th, 50th and 90th percentile of the predicted value. A shifted or narrowed band means the output "
        "distribution moved (prediction drift) even if inputs look normal.",
        [Query(q(0.1), "p10"), Query(q(0.5), "p50"), Query(q(0.9), "p90")],
        SHORT,
    )


def drift(spec: FleetSpec, model: ModelSpec):
    d = model.thresholds.drift
    expr = signals.drift_score(model.name, d.method)
    overrides = [f"{f.name} {f.threshold:g}" for f in model.features if f.threshold is not None]
    extra = f" (per-feature thresholds: {', '.join(overrides)})" if overrides else ""
    return timeseries(
        f"Feature drift ({d.method.upper()})",
        f"Drift score of each monitored feature against the training baseline, written by the drift job. "
        f"The line is the threshold {d.threshold:g}{extra}; above it for {d.for_ / 60:g} minutes fires "
        "ModelDriftHigh: check the upstream data pipeline, then decide with the data scientists whether to retrain.",
        [Query(expr, "{{feature}}")],
        SHORT,
        levels(d.threshold),
        min_value=0,
    )


def quality(spec: FleetSpec, model: ModelSpec):
    """Ground-truth metrics; only for models that declare delayed labels."""
    if not model.ground_truth:
        return None
    q = model.thresholds.quality
    if model.task == "classification":
        queries = [Query(signals.quality(m.ACCURACY, model.name), "accuracy")] + [
            Query(signals.quality(metric, model.name, target_class=m.MACRO), f"{metric.name.removeprefix('model_')} (macro)")
            for metric in (m.PRECISION, m.RECALL, m.F1)
        ]
        floor = q.accuracy_min if q.accuracy_min is not None else q.recall_min
        return timeseries(
            "Quality against ground truth",
            "Accuracy and macro precision, recall and F1 from the quality job, once labels arrive. Below the "
            "floor fires ModelQualityDegraded: concept drift; the relationship between inputs and outcome "
            "changed, so retraining on recent labels is the usual fix.",
            queries,
            PERCENT_UNIT,
            floor_levels(floor),
            min_value=0,
            max_value=1,
        )
    queries = [Query(signals.quality(m.RMSE, model.name), "RMSE"), Query(signals.quality(m.MAE, model.name), "MAE")]
    return timeseries(
        "Error against ground truth",
        "RMSE and MAE of predictions against delayed labels, from the quality job. Above the line fires "
        "ModelQualityDegraded: the model's error grew; check for concept drift and retrain.",
        queries,
        SHORT,
        levels(q.rmse_max if q.rmse_max is not None else q.mae_max),
        min_value=0,
    )
