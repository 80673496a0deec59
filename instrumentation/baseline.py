"""The baseline profile: what the drift job compares production with, built from training data.

Per numeric feature: summary statistics, quantile bin edges with the share of rows in each
bin (for PSI), and the ECDF at sorted grid points (for KS). Per categorical feature: the share
of each category. The profile is a plain dict, saved as deterministic JSON.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from modeldash.datasources.metrics import PREDICTION_FEATURE
from modeldash.instrumentation import drift_stats
from modeldash.instrumentation.errors import DataProblem

FORMAT = "modeldash-baseline/1"


def numeric_profile(name: str, values: np.ndarray, bins: int = 10, ecdf_points: int = 2000) -> dict:
    """Profile of one numeric column (NaN counts as missing)."""
    values = np.asarray(values, dtype=float)
    finite = values[~np.isnan(values)]
    missing = int(len(values) - len(finite))
    if len(finite) == 0:
        raise DataProblem(f"column {name!r}: every value is missing (all NaN/null); no baseline can be built")
    if not np.all(np.isfinite(finite)):
        raise DataProblem(f"column {name!r}: contains infinite values")
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        raise DataProblem(
            f"column {name!r}: constant in the training data (every value is {lo:g}); it has no "
            "distribution to drift from: drop it from the model's features or declare it categorical"
        )
    edges = drift_stats.quantile_edges(finite, bins)
    counts = drift_stats.bin_counts(finite, edges)
    x, cdf, exact = drift_stats.ecdf_grid(finite, ecdf_points)
    q = np.quantile(finite, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    return {
        "kind": "numeric",
        "count": int(len(finite)),
        "missing": missing,
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": lo,
        "max": hi,
        "quantiles": {k: float(v) for k, v in zip(("p01", "p05", "p25", "p50", "p75", "p95", "p99"), q)},
        "bins": {"edges": [float(e) for e in edges], "shares": [float(c) / len(finite) for c in counts]},
        "ecdf": {"x": [float(v) for v in x], "cdf": [float(v) for v in cdf], "exact": bool(exact)},
    }


def categorical_profile(name: str, counts: Mapping[str, int], missing: int = 0) -> dict:
    """Profile of one categorical column from its category counts (nulls given as ``missing``)."""
    total = int(sum(counts.values()))
    if total == 0:
        raise DataProblem(f"column {name!r}: every value is missing (null); no baseline can be built")
    if len(counts) == 1:
        only = next(iter(counts))
        raise DataProblem(
            f"column {name!r}: constant in the training data (every value is {only!r}); it has no "
            "distribution to drift from: drop it from the model's features"
        )
    return {
        "kind": "categorical",
        "count": total,
        "missing": int(missing),
        "distinct": len(counts),
        "shares": {str(k): int(v) / total for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))},
    }


def build_profile(model_spec, columns: Mapping[str, object], *, rows: int, prediction: object | None = None,
                  bins: int = 10, ecdf_points: int = 2000) -> dict:
    """Profile of every spec feature of ``model_spec``.

    ``columns[name]`` is a float array for a numeric feature and ``(counts, missing)`` for a
    categorical one. ``prediction`` (same forms; counts for a classifier) adds the output's
    profile under ``__prediction__`` for prediction drift.
    """
    features = {}
    for f in model_spec.features:
        col = columns[f.name]
        features[f.name] = (
            numeric_profile(f.name, col, bins, ecdf_points) if f.kind == "numeric" else categorical_profile(f.name, *col)
        )
    out = {"format": FORMAT, "model": model_spec.name, "task": model_spec.task, "rows": int(rows),
           "bins": bins, "features": features}
    if prediction is not None:
        out["prediction"] = (
            categorical_profile(PREDICTION_FEATURE, *prediction) if model_spec.task == "classification"
            else numeric_profile(PREDICTION_FEATURE, prediction, bins, ecdf_points)
        )
    return out


def check_profile(profile: dict, model_spec, source: str) -> None:
    """Refuse a profile that is not for this model or lacks a feature the spec monitors."""
    if not isinstance(profile, dict) or profile.get("format") != FORMAT:
        raise DataProblem(f"{source}: not a modeldash baseline profile (format {FORMAT!r} expected)")
    if profile.get("model") != model_spec.name:
        raise DataProblem(f"{source}: baseline is for model {profile.get('model')!r}, not {model_spec.name!r}")
    feats = profile.get("features") or {}
    for f in model_spec.features:
        p = feats.get(f.name)
        if p is None:
            raise DataProblem(f"{source}: baseline has no feature {f.name!r} (rebuild it with `modeldash baseline`)")
        if p.get("kind") != f.kind:
            raise DataProblem(f"{source}: feature {f.name!r} is {p.get('kind')} in the baseline but {f.kind} in the spec")
        if f.kind == "numeric" and (p["min"] == p["max"] or not p["bins"]["edges"]):
            raise DataProblem(f"{source}: feature {f.name!r} is constant in the baseline; no drift can be measured")
        if f.kind == "categorical" and len(p.get("shares") or {}) < 2:
            raise DataProblem(f"{source}: feature {f.name!r} is constant in the baseline; no drift can be measured")
