"""Drift of a production window against the baseline profile: one score per feature and method.

Numeric features get ``psi`` and ``ks``; categorical ones ``psi`` and ``js`` (Jensen-Shannon
distance). Categories the baseline never saw are pooled into one extra bin whose baseline
share is ``EPSILON``: they raise PSI and JS (new categories are drift) and are listed in the
report. The model's outputs are compared the same way under feature ``__prediction__``.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from modeldash.datasources.metrics import PREDICTION_FEATURE
from modeldash.instrumentation import drift_stats
from modeldash.instrumentation.accumulators import NumericCounts, counts_of_sorted
from modeldash.instrumentation.errors import DataProblem

UNSEEN_REPORTED = 20  # unseen categories listed by name in the report (the most frequent)


@dataclass
class FeatureDrift:
    feature: str
    kind: str
    rows: int
    missing: int
    scores: dict[str, float]
    threshold: float
    method: str
    unseen: dict[str, int] = field(default_factory=dict)  # the most frequent unseen categories
    unseen_rows: int = 0

    @property
    def score(self) -> float:
        """The score compared with the threshold: the spec's method, else PSI."""
        return self.scores.get(self.method, self.scores["psi"])

    @property
    def drifted(self) -> bool:
        return self.score > self.threshold

    def as_dict(self) -> dict:
        out = {
            "kind": self.kind, "rows": self.rows, "missing": self.missing,
            "scores": dict(sorted(self.scores.items())), "threshold": self.threshold,
            "method": self.method if self.method in self.scores else "psi",
            "drifted": self.drifted,
        }
        if self.unseen:
            out["unseen_categories"] = dict(sorted(self.unseen.items()))
            out["unseen_rows"] = self.unseen_rows
        return out


def numeric_drift(name: str, profile: dict, values, threshold: float, method: str) -> FeatureDrift:
    """Scores of one numeric column: a float array (NaN missing) or its ``NumericCounts``."""
    if isinstance(values, NumericCounts):
        counts = values
    else:
        values = np.sort(np.asarray(values, dtype=float))  # once; NaN sorts to the end
        missing = int(np.count_nonzero(np.isnan(values)))
        counts = counts_of_sorted(values[: len(values) - missing], missing,
                                  np.asarray(profile["bins"]["edges"], dtype=float), np.asarray(profile["ecdf"]["x"], dtype=float))
    if counts.n == 0:
        raise DataProblem(f"column {name!r}: every value in the window is missing (all NaN/null); no score")
    scores = {
        "psi": drift_stats.psi(profile["bins"]["shares"], counts.bins / counts.n),
        "ks": drift_stats.ks_from_counts(np.asarray(profile["ecdf"]["cdf"]), counts.at, counts.before, counts.n),
    }
    return FeatureDrift(name, "numeric", counts.n, counts.missing, scores, threshold, method)


def categorical_drift(name: str, baseline_shares: Mapping[str, float], counts: Mapping[str, int], missing: int,
                      threshold: float, method: str) -> FeatureDrift:
    total = int(sum(counts.values()))
    if total == 0:
        raise DataProblem(f"column {name!r}: every value in the window is missing (null); no score")
    cats = sorted(baseline_shares)
    expected = np.array([baseline_shares[c] for c in cats] + [0.0])
    actual = np.array([counts.get(c, 0) for c in cats] + [0], dtype=float)
    unseen = {str(k): int(v) for k, v in counts.items() if k not in baseline_shares}
    actual_unseen = sum(unseen.values())
    actual[-1] = actual_unseen
    actual /= total
    if not unseen:  # no unseen bin needed: compare the baseline's categories only
        expected, actual = expected[:-1], actual[:-1]
    scores = {"psi": drift_stats.psi(expected, actual), "js": drift_stats.js_distance(expected, actual)}
    top = dict(sorted(unseen.items(), key=lambda kv: (-kv[1], kv[0]))[:UNSEEN_REPORTED])
    return FeatureDrift(name, "categorical", total, int(missing), scores, threshold, method, top, int(actual_unseen))


@dataclass
class DriftReport:
    model: str
    features: list[FeatureDrift]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "features": {f.feature: f.as_dict() for f in self.features},
            "drifted": sorted(f.feature for f in self.features if f.drifted),
            "notes": list(self.notes),
        }


def drift_report(model_spec, profile: dict, columns: Mapping[str, object], prediction: object | None = None) -> DriftReport:
    """Scores of every spec feature (and the prediction, when given) against ``profile``.

    ``columns[name]`` is a float array (or its ``NumericCounts``) for a numeric feature and
    ``(counts, missing)`` for a categorical one; ``prediction`` likewise (counts for a classifier).
    """
    method = model_spec.thresholds.drift.method

    def one(f):
        p = profile["features"][f.name]
        threshold = model_spec.drift_threshold(f)
        if f.kind == "numeric":
            return numeric_drift(f.name, p, columns[f.name], threshold, method)
        return categorical_drift(f.name, p["shares"], *columns[f.name], threshold, method)

    # numpy's sort and binary search release the GIL: features are scored on all cores
    with ThreadPoolExecutor(max_workers=min(len(model_spec.features), os.cpu_count() or 1) or 1) as pool:
        results = list(pool.map(one, model_spec.features))
    notes = []
    if prediction is not None:
        threshold = model_spec.thresholds.drift.threshold
        base = profile.get("prediction")
        if model_spec.task == "classification":
            shares = base["shares"] if base else dict(model_spec.classes)
            if not base:
                notes.append("prediction drift against the spec's class shares (the baseline has no prediction)")
            results.append(categorical_drift(PREDICTION_FEATURE, shares, *prediction, threshold, method))
        elif base:
            results.append(numeric_drift(PREDICTION_FEATURE, base, prediction, threshold, method))
        else:
            notes.append("no prediction drift: the baseline has no prediction profile (build it with --prediction-column)")
    for r in results:
        if r.unseen:
            notes.append(
                f"{r.feature}: {r.unseen_rows} rows in categories the baseline never saw "
                "(pooled into one bin; they count as drift)"
            )
    return DriftReport(model_spec.name, results, notes)
