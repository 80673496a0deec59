"""The few counts the drift and quality scores need, accumulated batch by batch in bounded memory.

PSI needs rows per baseline bin; KS needs, at each ECDF grid point ``x_k`` of the baseline, how
many production values are ``<= x_k`` and ``< x_k``; categorical PSI and JS need rows per
category; quality needs rows per (label, prediction) pair or sums of errors. Every engine
(in memory, streamed over file batches, pushed down to SQL) reduces the window to these counts
and hands them to the same scoring code, so the engines give the same scores.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class NumericCounts:
    """One numeric column of a window, reduced to what PSI and KS read."""

    n: int  # non-missing values
    missing: int  # NULL / NaN
    bins: np.ndarray  # values per baseline bin, len(edges) + 1
    at: np.ndarray  # values <= x_k at each ECDF grid point
    before: np.ndarray  # values < x_k


def counts_of_sorted(sorted_values: np.ndarray, missing: int, edges: np.ndarray, grid_x: np.ndarray) -> NumericCounts:
    """The counts of already sorted, NaN-free values: a few binary searches per grid point."""
    v = sorted_values
    cuts = np.searchsorted(v, edges, side="left")
    bins = np.diff(np.concatenate(([0], cuts, [len(v)])))
    return NumericCounts(int(len(v)), int(missing), bins.astype(np.int64),
                         np.searchsorted(v, grid_x, side="right").astype(np.int64),
                         np.searchsorted(v, grid_x, side="left").astype(np.int64))


def counts_from_codes(edges_len: int, grid_len: int, rows) -> NumericCounts:
    """Counts from ``(bin, code, rows)`` groups, as a pushed-down query returns them.

    ``bin`` = edges ``<= v``; ``code`` = ``2 j + (v == x_{j-1})`` with ``j`` = grid points ``<= v``;
    a group with a NULL ``bin`` or ``code`` holds the missing values.
    """
    bins = np.zeros(edges_len + 1, dtype=np.int64)
    hist = np.zeros(grid_len + 1, dtype=np.int64)
    eq = np.zeros(grid_len, dtype=np.int64)
    missing = 0
    for b, code, count in rows:
        if b is None or code is None:
            missing += int(count)
            continue
        j, equal = divmod(int(code), 2)
        bins[int(b)] += int(count)
        hist[j] += int(count)
        if equal and j > 0:
            eq[j - 1] += int(count)
    return _from_hist(bins, hist, eq, missing)


def counts_from_histograms(n: int, missing: int, edges, grid, le_edges: dict, eq_edges: dict, le_grid: dict,
                           eq_grid: dict) -> NumericCounts:
    """Counts from per-point histograms (DuckDB's ``histogram(v, points)`` and ``histogram_exact``).

    ``le_*[p]`` = values in ``(previous point, p]``, ``eq_*[p]`` = values ``== p``.
    """
    def below(points, le, eq):
        at = np.cumsum([int(le.get(p, 0)) for p in points]).astype(np.int64)
        return at, at - np.array([int(eq.get(p, 0)) for p in points], dtype=np.int64)

    _, lt_edges = below(edges, le_edges, eq_edges)
    bins = np.diff(np.concatenate(([0], lt_edges, [n]))).astype(np.int64)
    at, before = below(grid, le_grid, eq_grid)
    return NumericCounts(int(n), int(missing), bins, at, before)


def _from_hist(bins: np.ndarray, hist: np.ndarray, eq: np.ndarray, missing: int) -> NumericCounts:
    # values < x_k are those with at most k grid points <= v: a running sum of the histogram
    before = np.cumsum(hist)[:-1]
    return NumericCounts(int(hist.sum()), int(missing), bins, before + eq, before)


class NumericAccumulator:
    """Running ``NumericCounts`` of one column against the baseline's bin edges and ECDF grid.

    Each batch is sorted (numpy's sort is ~10x faster than binary-searching unsorted values into
    the grid) and then costs a few binary searches per grid point; the counts of batches add up.
    """

    def __init__(self, edges, grid_x):
        self.edges = np.asarray(edges, dtype=float)
        self.grid = np.asarray(grid_x, dtype=float)
        self.n = 0
        self.missing = 0
        self.bins = np.zeros(len(self.edges) + 1, dtype=np.int64)
        self.at = np.zeros(len(self.grid), dtype=np.int64)
        self.before = np.zeros(len(self.grid), dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        """Count one batch (float64, NaN for missing). numpy releases the GIL: call from threads."""
        v = np.sort(np.asarray(values, dtype=float))  # NaN sorts to the end
        missing = int(np.count_nonzero(np.isnan(v[-1:]))) and int(np.count_nonzero(np.isnan(v)))  # scan only if any
        c = counts_of_sorted(v[: len(v) - missing], missing, self.edges, self.grid)
        self.n += c.n
        self.missing += c.missing
        self.bins += c.bins
        self.at += c.at
        self.before += c.before

    def counts(self) -> NumericCounts:
        return NumericCounts(self.n, self.missing, self.bins.copy(), self.at.copy(), self.before.copy())


@dataclass
class CategoryAccumulator:
    """Rows per category (compared as text) and null rows."""

    counts: Counter = field(default_factory=Counter)
    missing: int = 0

    def add(self, counts, missing: int = 0) -> None:
        for k, v in counts.items():
            if k is None:
                self.missing += int(v)
            else:
                self.counts[str(k)] += int(v)
        self.missing += int(missing)

    def result(self) -> tuple[dict[str, int], int]:
        return dict(self.counts), self.missing


def pair_counts(y_true, y_pred) -> dict[tuple[str, str], int]:
    """Rows per (truth, prediction) pair of two equal-length sequences, as text."""
    return dict(Counter(zip((str(v) for v in y_true), (str(v) for v in y_pred))))
