"""Names and labels of the model's own series: one definition for both sides.

The instrumentation and the drift/quality jobs emit these series, and the panels and
alerts query them; both import this module, so the two cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricDef:
    name: str  # the name as queried (counters keep their _total)
    kind: str  # counter | histogram | gauge
    help: str
    labels: tuple[str, ...]

    @property
    def base_name(self) -> str:
        """The name given to prometheus-client (which appends ``_total`` to counters itself)."""
        return self.name[: -len("_total")] if self.kind == "counter" and self.name.endswith("_total") else self.name

    def selector(self, **matchers: str) -> str:
        """``name{k="v", ...}`` with only the labels this metric has."""
        unknown = set(matchers) - set(self.labels)
        if unknown:
            raise ValueError(f"{self.name} has no label(s) {sorted(unknown)}")
        inner = ", ".join(f'{k}="{v}"' for k, v in matchers.items())
        return f"{self.name}{{{inner}}}"

    def bucket(self, **matchers: str) -> str:
        """The ``_bucket`` series of a histogram, selected like ``selector``."""
        if self.kind != "histogram":
            raise ValueError(f"{self.name} is not a histogram")
        return self.name + "_bucket" + self.selector(**matchers)[len(self.name):]


MODEL_LABEL = "model"
CLASS_LABEL = "predicted_class"  # not `class`: counter.labels(class=...) is a Python SyntaxError
OTHER_CLASS = "other"  # predictions outside the spec's class list, so cardinality stays bounded

PREDICTIONS = MetricDef(
    "model_predictions_total", "counter", "Predictions served, by predicted class.", (MODEL_LABEL, CLASS_LABEL)
)
CONFIDENCE = MetricDef(
    "model_prediction_confidence", "histogram", "Confidence (top-class probability) of each prediction.", (MODEL_LABEL,)
)
PREDICTION_VALUE = MetricDef(
    "model_prediction_value", "histogram", "Predicted value of a regression model.", (MODEL_LABEL,)
)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)

DRIFT_SCORE = MetricDef(
    "model_drift_score", "gauge", "Drift of a feature (or the prediction) against the baseline.", (MODEL_LABEL, "feature", "method")
)
PREDICTION_FEATURE = "__prediction__"  # the drift_score feature value for prediction drift

ACCURACY = MetricDef("model_accuracy", "gauge", "Accuracy against delayed ground truth.", (MODEL_LABEL,))
PRECISION = MetricDef("model_precision", "gauge", "Precision against ground truth, per class and macro.", (MODEL_LABEL, "target_class"))
RECALL = MetricDef("model_recall", "gauge", "Recall against ground truth, per class and macro.", (MODEL_LABEL, "target_class"))
F1 = MetricDef("model_f1", "gauge", "F1 against ground truth, per class and macro.", (MODEL_LABEL, "target_class"))
RMSE = MetricDef("model_rmse", "gauge", "Root mean squared error against ground truth.", (MODEL_LABEL,))
MAE = MetricDef("model_mae", "gauge", "Mean absolute error against ground truth.", (MODEL_LABEL,))
MACRO = "macro"  # target_class value of the macro average

JOB_LAST_SUCCESS = MetricDef(
    "model_monitoring_job_last_success_timestamp_seconds",
    "gauge",
    "Unix time of the last successful run of a monitoring job.",
    (MODEL_LABEL, "job"),
)

