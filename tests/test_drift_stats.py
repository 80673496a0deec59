"""PSI, KS and JS against hand-computed cases and scipy; the baseline profile and drift report."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from modeldash.datasources.metrics import PREDICTION_FEATURE
from modeldash.instrumentation import drift_stats as ds
from modeldash.instrumentation.baseline import build_profile, categorical_profile, check_profile, numeric_profile
from modeldash.instrumentation.drift import categorical_drift, drift_report, numeric_drift
from modeldash.instrumentation.errors import DataProblem


def test_psi_hand_computed():
    # (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert ds.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, rel=1e-12)
    assert ds.psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_psi_empty_bins_use_epsilon():
    # the empty baseline bin counts as 1e-4: 0.1 new rows there weigh (0.1 - 1e-4) ln(0.1 / 1e-4)
    got = ds.psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1])
    want = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert got == pytest.approx(want, rel=1e-12)
    assert math.isfinite(ds.psi([1.0, 0.0], [0.0, 1.0]))


def test_ks_hand_computed():
    # F_base(2) = 0.5 while no production value is <= 2
    assert ds.ks_2samp_statistic(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == pytest.approx(0.5)
    # at 1.5: F_base = 1/3, F_prod = 1
    assert ds.ks_2samp_statistic(np.array([1.0, 2, 3]), np.array([1.5])) == pytest.approx(2 / 3)
    # identical samples: 0; disjoint: 1
    assert ds.ks_2samp_statistic(np.array([1.0, 2, 3]), np.array([3.0, 1, 2])) == 0.0
    assert ds.ks_2samp_statistic(np.array([1.0, 2]), np.array([5.0, 6])) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_ks_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    kinds = [
        (rng.normal(0, 1, 2000), rng.normal(0.1 * seed, 1 + 0.1 * seed, 1500)),
        (rng.integers(0, 6, 800).astype(float), rng.integers(1, 8, 1200).astype(float)),  # heavy ties
        (rng.exponential(1, 30), rng.exponential(1.5, 7)),
    ]
    for base, prod in kinds:
        assert ds.ks_2samp_statistic(base, prod) == pytest.approx(ks_2samp(base, prod).statistic, abs=1e-12)


def test_ks_from_a_quantile_grid_is_within_its_resolution():
    rng = np.random.default_rng(7)
    base, prod = rng.normal(0, 1, 50_000), rng.normal(0.05, 1.2, 80_000)
    x, cdf, exact = ds.ecdf_grid(base, 500)
    assert not exact and len(x) <= 500
    assert abs(ds.ks_statistic(x, cdf, prod) - ks_2samp(base, prod).statistic) <= 1 / 500
    x, cdf, exact = ds.ecdf_grid(np.round(base, 1), 500)  # few distinct values: exact
    assert exact
    assert ds.ks_statistic(x, cdf, prod) == pytest.approx(ks_2samp(np.round(base, 1), prod).statistic, abs=1e-12)


def test_js_distance():
    assert ds.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert ds.js_distance([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-7)
    # hand: M = (0.25, 0.75); JS = 0.5 KL(P||M) + 0.5 KL(Q||M), distance = sqrt(JS), base 2
    p, q, m = np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([0.25, 0.75])
    kl = lambda a, b: sum(x * math.log2(x / y) for x, y in zip(a, b) if x > 0)  # noqa: E731
    assert ds.js_distance(p, q) == pytest.approx(math.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m)))


def test_quantile_bins_handle_discrete_values():
    values = np.array([1.0] * 50 + [2.0] * 30 + [3.0] * 20)
    edges = ds.quantile_edges(values, 10)
    assert list(edges) == sorted(set(edges))
    counts = ds.bin_counts(values, edges)
    assert counts.sum() == 100 and len(counts) == len(edges) + 1
    assert ds.psi(counts / 100, counts / 100) == 0.0


def test_numeric_profile_and_drift_round_trip():
    rng = np.random.default_rng(0)
    base = rng.normal(10, 2, 5000)
    prof = numeric_profile("x", np.concatenate([base, [np.nan] * 10]))
    assert prof["missing"] == 10 and prof["count"] == 5000
    assert sum(prof["bins"]["shares"]) == pytest.approx(1.0)
    assert prof["min"] < prof["quantiles"]["p50"] < prof["max"]
    assert not prof["ecdf"]["exact"]  # 5000 distinct values > 2000 grid points
    same = numeric_drift("x", prof, base, 0.3, "psi")
    assert same.scores["psi"] == pytest.approx(0.0, abs=1e-12)
    assert same.scores["ks"] <= 1 / 2000  # the grid's resolution
    moved_values = rng.normal(13, 2, 3000)
    moved = numeric_drift("x", prof, moved_values, 0.3, "psi")
    assert moved.drifted and moved.scores["psi"] > 0.3
    assert abs(moved.scores["ks"] - ks_2samp(base, moved_values).statistic) <= 1 / 2000


def test_numeric_drift_ks_equals_scipy_through_the_profile():
    rng = np.random.default_rng(3)
    base = np.round(rng.normal(0, 1, 3000), 2)  # < 2000 distinct values: exact ECDF
    prod = rng.normal(0.3, 1, 4000)
    prof = numeric_profile("x", base)
    assert prof["ecdf"]["exact"]
    got = numeric_drift("x", prof, prod, 0.3, "ks")
    assert got.scores["ks"] == pytest.approx(ks_2samp(base, prod).statistic, abs=1e-12)
    assert got.method == "ks" and got.score == got.scores["ks"]


def test_constant_and_empty_columns_are_refused():
    with pytest.raises(DataProblem, match="'x'.*constant"):
        numeric_profile("x", np.full(100, 3.0))
    with pytest.raises(DataProblem, match="'x'.*every value is missing"):
        numeric_profile("x", np.full(100, np.nan))
    with pytest.raises(DataProblem, match="'c'.*constant"):
        categorical_profile("c", {"a": 10})
    prof = numeric_profile("x", np.arange(100.0))
    with pytest.raises(DataProblem, match="'x'.*every value in the window is missing"):
        numeric_drift("x", prof, np.full(10, np.nan), 0.3, "psi")


def test_unseen_categories_pool_into_one_bin_and_count_as_drift():
    base = {"DE": 0.5, "FR": 0.5}
    res = categorical_drift("country", base, {"DE": 40, "FR": 40, "XX": 15, "YY": 5}, 3, 0.3, "psi")
    assert res.unseen == {"XX": 15, "YY": 5} and res.unseen_rows == 20 and res.missing == 3
    want = ds.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2])
    assert res.scores["psi"] == pytest.approx(want)
    assert res.scores["js"] == pytest.approx(ds.js_distance([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))
    assert res.drifted
    clean = categorical_drift("country", base, {"DE": 50, "FR": 50}, 0, 0.3, "psi")
    assert clean.scores["psi"] == pytest.approx(0.0) and not clean.unseen


def test_drift_report_uses_spec_thresholds_and_prediction(example_spec):
    model = next(m for m in example_spec.models if m.name == "price-regressor")
    rng = np.random.default_rng(1)
    cols = {"sqft": rng.normal(1500, 300, 2000), "bedrooms": rng.integers(1, 6, 2000).astype(float),
            "city": ({"berlin": 700, "paris": 700, "rome": 600}, 0)}
    prof = build_profile(model, cols, rows=2000, prediction=rng.normal(3e5, 5e4, 2000))
    check_profile(prof, model, "b.json")
    prod = {"sqft": rng.normal(1500, 300, 1000), "bedrooms": rng.integers(1, 6, 1000).astype(float),
            "city": ({"berlin": 100, "paris": 100, "rome": 800}, 0)}
    rep = drift_report(model, prof, prod, rng.normal(3e5, 5e4, 1000))
    by = {f.feature: f for f in rep.features}
    assert set(by) == {"sqft", "bedrooms", "city", PREDICTION_FEATURE}
    assert by["city"].threshold == 0.2 and by["sqft"].threshold == 0.3  # per-feature override from the spec
    assert by["city"].drifted and not by["sqft"].drifted
    assert set(by["sqft"].scores) == {"psi", "ks"} and set(by["city"].scores) == {"psi", "js"}
    assert rep.as_dict()["drifted"] == ["city"]


def test_check_profile_refuses_wrong_model_and_constant_baseline(example_spec):
    model = next(m for m in example_spec.models if m.name == "price-regressor")
    with pytest.raises(DataProblem, match="not a modeldash baseline"):
        check_profile({"x": 1}, model, "b.json")
    with pytest.raises(DataProblem, match="baseline is for model 'other'"):
        check_profile({"format": "modeldash-baseline/1", "model": "other"}, model, "b.json")
    rng = np.random.default_rng(1)
    cols = {"sqft": rng.normal(1500, 300, 200), "bedrooms": rng.integers(1, 6, 200).astype(float),
            "city": ({"berlin": 1, "paris": 2}, 0)}
    prof = build_profile(model, cols, rows=200)
    prof["features"]["bedrooms"]["max"] = prof["features"]["bedrooms"]["min"]  # a hand-edited constant column
    with pytest.raises(DataProblem, match="'bedrooms' is constant in the baseline"):
        check_profile(prof, model, "b.json")
