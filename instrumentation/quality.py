"""Model quality against delayed ground truth: accuracy, per-class and macro precision/recall/F1,
or RMSE and MAE.

Plain numpy on a confusion matrix rather than scikit-learn: the formulas are a few lines, and
the jobs' image stays free of scikit-learn, joblib and threadpoolctl. Undefined ratios (0/0) are
left out rather than reported as 0: a class never predicted has no precision, and a bogus 0 would
fire the precision alert. The macro average is the mean over the classes where the value is defined.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modeldash.datasources.metrics import MACRO, OTHER_CLASS
from modeldash.instrumentation.errors import DataProblem


@dataclass
class QualityReport:
    model: str
    task: str
    rows: int
    values: dict  # accuracy, precision/recall/f1 {class: v} incl. macro; or rmse, mae

    def as_dict(self) -> dict:
        return {"model": self.model, "task": self.task, "rows": self.rows, "metrics": self.values}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> np.ndarray:
    """``cm[i, j]`` = rows whose truth is ``labels[i]`` and prediction ``labels[j]``."""
    index = {c: i for i, c in enumerate(labels)}
    other = index[OTHER_CLASS]
    t = np.fromiter((index.get(v, other) for v in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((index.get(v, other) for v in y_pred), dtype=np.int64, count=len(y_pred))
    k = len(labels)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def classification_quality(model: str, classes, y_true, y_pred) -> QualityReport:
    """Accuracy and per-class precision, recall and F1 for the spec's classes, plus their macro mean.

    Values outside the class list are one class ``other`` (as in the instrumentation): a
    prediction of an unknown class is wrong, but ``other`` gets no series of its own.
    """
    y_true = [str(v) for v in y_true]
    y_pred = [str(v) for v in y_pred]
    if len(y_true) != len(y_pred):
        raise ValueError("truth and predictions differ in length")
    if not y_true:
        raise DataProblem("no prediction in the window has a ground-truth label; nothing to score")
    classes = [str(c) for c in classes]
    labels = classes + [OTHER_CLASS]
    cm = confusion_matrix(np.array(y_true, dtype=object), np.array(y_pred, dtype=object), labels)
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    actual = cm.sum(axis=1).astype(float)
    # accuracy on the raw values: two different unknown classes are not a match via "other"
    values: dict = {"accuracy": float(np.mean([t == p for t, p in zip(y_true, y_pred)]))}
    for name, num, den in (
        ("precision", tp, predicted),
        ("recall", tp, actual),
        ("f1", 2 * tp, predicted + actual),
    ):
        per = {}
        for i, c in enumerate(classes):
            if den[i] > 0:
                per[c] = float(num[i] / den[i])
        if per:
            per[MACRO] = float(np.mean(list(per.values())))
        values[name] = per
    return QualityReport(model, "classification", len(y_true), values)


def regression_quality(model: str, y_true, y_pred) -> QualityReport:
    """RMSE and MAE over the rows where both truth and prediction are present."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape:
        raise ValueError("truth and predictions differ in length")
    if len(t) == 0:
        raise DataProblem("no prediction in the window has a ground-truth label; nothing to score")
    bad = np.isnan(t) | np.isnan(p)
    if bad.all():
        raise DataProblem("every joined row has a missing label or prediction (NaN/null); nothing to score")
    t, p = t[~bad], p[~bad]
    err = p - t
    return QualityReport(model, "regression", int(len(t)),
                         {"rmse": float(np.sqrt(np.mean(err * err))), "mae": float(np.mean(np.abs(err)))})
