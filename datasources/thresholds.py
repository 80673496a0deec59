"""Each model's resolved alert thresholds, in the recorded series' units (seconds, ratios, scores).

The alert catalogue resolves a model's levels from its spec (model over fleet defaults, a
feature's drift threshold over the model's); the status panels, the threshold lines on the
charts and the generated threshold series read them here, so a coloured cell and the alert
that fires agree (tests/test_thresholds_agree.py compares them with the alert definitions).
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.datasources import metrics as m

HIGHER_IS_BAD, LOWER_IS_BAD = ">", "<"


@dataclass(frozen=True)
class Level:
    """One threshold of one signal of one model."""

    signal: str  # latency_p95 | error_ratio | drift | quality
    level: str  # warning | critical
    value: float
    op: str  # the alert's comparison: ">" (higher is bad) or "<" (a floor)
    key: str = ""  # the feature (drift) or quality metric (accuracy, rmse...) the level is for


# quality metric key -> (series, extra matchers, comparison, spec field)
QUALITY = {
    "accuracy": (m.ACCURACY, {}, LOWER_IS_BAD, "accuracy_min"),
    "recall": (m.RECALL, {"target_class": m.MACRO}, LOWER_IS_BAD, "recall_min"),
    "precision": (m.PRECISION, {"target_class": m.MACRO}, LOWER_IS_BAD, "precision_min"),
    "f1": (m.F1, {"target_class": m.MACRO}, LOWER_IS_BAD, "f1_min"),
    "rmse": (m.RMSE, {}, HIGHER_IS_BAD, "rmse_max"),
    "mae": (m.MAE, {}, HIGHER_IS_BAD, "mae_max"),
}
CLASSIFICATION_KEYS = ("accuracy", "recall", "precision", "f1")
REGRESSION_KEYS = ("rmse", "mae")


def quality_series_name(key: str) -> str:
    """The legend of a quality metric on the quality chart (its threshold override matches it)."""
    return key if key in ("accuracy",) else key.upper() if key in REGRESSION_KEYS else f"{key} (macro)"


def latency_p95(model) -> list[Level]:
    t = model.thresholds.latency_p95
    return [Level("latency_p95", lv, v, HIGHER_IS_BAD) for lv, v in (("warning", t.warning), ("critical", t.critical))
            if v is not None]


def error_ratio(model) -> list[Level]:
    t = model.thresholds.error_ratio
    return [Level("error_ratio", lv, v, HIGHER_IS_BAD) for lv, v in (("warning", t.warning), ("critical", t.critical))
            if v is not None]


def drift(model) -> list[Level]:
    return [Level("drift", "warning", model.drift_threshold(f), HIGHER_IS_BAD, f.name) for f in model.features]


def quality(model) -> list[Level]:
    """Ground-truth floors and ceilings; none for a model without delayed labels."""
    if not model.ground_truth:
        return []
    keys = CLASSIFICATION_KEYS if model.task == "classification" else REGRESSION_KEYS
    out = []
    for key in keys:
        _metric, _extra, op, field = QUALITY[key]
        value = getattr(model.thresholds.quality, field)
        if value is not None:
            out.append(Level("quality", "warning", value, op, key))
    return out


def headline_quality_key(model) -> str | None:
    """The one quality metric a status cell shows: accuracy for a classifier, RMSE for a regressor."""
    if not model.ground_truth:
        return None
    return "accuracy" if model.task == "classification" else "rmse"


def model_levels(model) -> list[Level]:
    return latency_p95(model) + error_ratio(model) + drift(model) + quality(model)
