"""Model quality against delayed ground truth: accuracy, per-class and macro precision/recall/F1,
or RMSE and MAE.

Plain numpy on a confusion matrix rather than scikit-learn: the formulas are a few lines, and
the jobs' image stays free of scikit-learn, joblib and threadpoolctl. Undefined ratios (0/0) are
left out rather than reported as 0: a class never predicted has no precision, and a bogus 0 would
fire the precision alert. The macro average is the mean over the classes where the value is defined.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from modeldash.datasources.metrics import MACRO, OTHER_CLASS
from modeldash.instrumentation.accumulators import pair_counts
from modeldash.instrumentation.errors import DataProblem


@dataclass
class QualityReport:
    model: str
    task: str
    rows: int
    values: dict  # accuracy, precision/recall/f1 {class: v} incl. macro; or rmse, mae

    def as_dict(self) -> dict:
        return {"model": self.model, "task": self.task, "rows": self.rows, "metrics": self.values}


def confusion_matrix(pairs: Mapping[tuple[str, str], int], labels: list[str]) -> np.ndarray:
    """``cm[i, j]`` = rows whose truth is ``labels[i]`` and prediction ``labels[j]``, from pair counts."""
    index = {c: i for i, c in enumerate(labels)}
    other = index[OTHER_CLASS]
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for (t, p), n in pairs.items():
        cm[index.get(t, other), index.get(p, other)] += int(n)
    return cm


def classification_quality(model: str, classes, y_true, y_pred) -> QualityReport:
    """``classification_from_pairs`` of two equal-length sequences of labels and predictions."""
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError("truth and predictions differ in length")
    return classification_from_pairs(model, classes, pair_counts(y_true, y_pred))


def classification_from_pairs(model: str, classes, pairs: Mapping[tuple[str, str], int]) -> QualityReport:
    """Accuracy and per-class precision, recall and F1 for the spec's classes, plus their macro mean.

    ``pairs`` = rows per (truth, prediction) as text: all any engine has to count. Values outside
    the class list are one class ``other`` (as in the instrumentation): a prediction of an unknown
    class is wrong, but ``other`` gets no series of its own.
    """
    total = int(sum(pairs.values()))
    if not total:
        raise DataProblem("no prediction in the window has a ground-truth label; nothing to score")
    classes = [str(c) for c in classes]
    labels = classes + [OTHER_CLASS]
    cm = confusion_matrix(pairs, labels)
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    actual = cm.sum(axis=1).astype(float)
    # accuracy on the raw values: two different unknown classes are not a match via "other"
    correct = sum(int(n) for (t, p), n in pairs.items() if t == p)
    values: dict = {"accuracy": float(correct / total)}
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
    return QualityReport(model, "classification", total, values)


def regression_quality(model: str, y_true, y_pred) -> QualityReport:
    """RMSE and MAE over the rows where both truth and prediction are present."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape:
        raise ValueError("truth and predictions differ in length")
    if len(t) == 0:
        raise DataProblem("no prediction in the window has a ground-truth label; nothing to score")
    bad = np.isnan(t) | np.isnan(p)
    t, p = t[~bad], p[~bad]
    err = p - t
    return regression_from_sums(model, int(len(t)), float(np.sum(err * err)), float(np.sum(np.abs(err))))


def regression_from_sums(model: str, n: int, sum_sq: float, sum_abs: float) -> QualityReport:
    """RMSE and MAE from the count of scored rows and the sums of squared and absolute errors."""
    if n == 0:
        raise DataProblem("every joined row has a missing label or prediction (NaN/null); nothing to score")
    return QualityReport(model, "regression", int(n), {"rmse": float(np.sqrt(sum_sq / n)), "mae": float(sum_abs / n)})
