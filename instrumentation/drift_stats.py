"""Drift statistics on numpy arrays: PSI, Kolmogorov-Smirnov, Jensen-Shannon distance.

Everything is vectorised. The baseline is kept as sorted grid points (quantile bin edges, an
ECDF); each production column is sorted once, and then both PSI's bin counts and the KS
statistic take one binary search per grid point, not per row.
"""
from __future__ import annotations

import numpy as np

# Share given to an empty bin so PSI stays finite (the usual choice; 1e-4 = one in ten thousand).
EPSILON = 1e-4


def quantile_edges(values: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior bin edges at the baseline's quantiles (deduplicated, so discrete data works).

    Bins are ``(-inf, e0), [e0, e1), ..., [e_last, +inf)``: always one more bin than edges.
    """
    if bins < 2:
        raise ValueError("at least two bins are needed")
    probs = np.arange(1, bins) / bins
    return np.unique(np.quantile(values, probs, method="linear"))


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many values fall in each bin of ``edges`` (see ``quantile_edges``)."""
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=len(edges) + 1)


def psi(expected: np.ndarray, actual: np.ndarray, eps: float = EPSILON) -> float:
    """Population stability index of two share vectors over the same bins.

    ``sum((a - e) * ln(a / e))``; an empty bin's share is replaced by ``eps``.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError("both share vectors must have the same bins")
    e = np.where(e > 0, e, eps)
    a = np.where(a > 0, a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def ecdf_grid(values: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, bool]:
    """The baseline's empirical CDF as ``(x, F(x))`` at sorted grid points.

    Exact (every distinct value) when there are at most ``max_points`` distinct values;
    otherwise ``max_points`` quantiles, with ``F`` still exact at each of them, so a KS
    statistic computed from the grid is within ``1 / max_points`` of the exact one.
    """
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if n == 0:
        raise ValueError("no values")
    uniq = np.unique(v)
    exact = len(uniq) <= max_points
    if exact:
        x = uniq
    else:
        idx = np.ceil(np.arange(1, max_points + 1) / max_points * n).astype(np.int64) - 1
        x = np.unique(v[idx])
    cdf = np.searchsorted(v, x, side="right") / n
    return x, cdf, exact


def sorted_bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``bin_counts`` of already sorted values: one binary search per edge, not per value."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], cuts, [len(sorted_values)])))


def ks_statistic_sorted(grid_x: np.ndarray, grid_cdf: np.ndarray, sorted_values: np.ndarray) -> float:
    """Two-sample KS statistic ``sup |F_base - F_prod|`` from the baseline grid and sorted production.

    ``F_base`` is a step function constant on ``[x_k, x_k+1)``; there ``F_prod`` is monotone,
    so the supremum on each interval is at its two ends: ``F_prod(x_k)`` (counting values equal
    to ``x_k``) and ``F_prod(x_k+1 -)``; left of ``x_0``, ``F_base`` is 0. Exact when the grid
    holds every baseline value. Costs two binary searches per grid point.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no values")
    x = np.asarray(grid_x, dtype=float)
    at = np.searchsorted(sorted_values, x, side="right")  # values <= x_k
    before = np.searchsorted(sorted_values, x, side="left")  # values < x_k
    return ks_from_counts(grid_cdf, at, before, n)


def ks_from_counts(grid_cdf: np.ndarray, at: np.ndarray, before: np.ndarray, n: int) -> float:
    """``ks_statistic_sorted`` from counts: ``at[k]`` values ``<= x_k``, ``before[k]`` values ``< x_k``, of ``n``.

    The streamed and pushed-down engines count these instead of sorting the window.
    """
    if n == 0:
        raise ValueError("no values")
    fb = np.asarray(grid_cdf, dtype=float)
    at = np.asarray(at) / n  # F_prod(x_k)
    before = np.asarray(before) / n  # F_prod(x_k -)
    upto_next = np.append(before[1:], 1.0)  # F_prod(x_k+1 -), 1 after the last grid point
    return float(max(before[0], np.max(np.abs(fb - at)), np.max(np.abs(fb - upto_next))))


def ks_statistic(grid_x: np.ndarray, grid_cdf: np.ndarray, values: np.ndarray) -> float:
    """``ks_statistic_sorted`` of unsorted production values."""
    return ks_statistic_sorted(grid_x, grid_cdf, np.sort(np.asarray(values, dtype=float)))


def ks_2samp_statistic(baseline: np.ndarray, production: np.ndarray) -> float:
    """The exact two-sample KS statistic (same value as ``scipy.stats.ks_2samp``)."""
    x, cdf, _ = ecdf_grid(baseline, max_points=len(baseline) + 1)
    return ks_statistic(x, cdf, production)


def js_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so between 0 and 1) of two share vectors."""
    from scipy.spatial.distance import jensenshannon  # imported here: scipy.spatial takes ~1 s to load

    return float(jensenshannon(np.asarray(expected, dtype=float), np.asarray(actual, dtype=float), base=2))
