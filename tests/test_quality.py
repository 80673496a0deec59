"""Quality from delayed ground truth: hand-computed metrics, and the job end to end."""
from __future__ import annotations

import json
import math
import re
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from jobs_data import T0, to_sql
from jobs_servers import postgres_url, prometheus, pushgateway  # noqa: F401 (fixtures)
from modeldash.datasources import metrics as m
from modeldash.instrumentation.errors import DataProblem
from modeldash.instrumentation.quality import classification_quality, regression_quality


def test_classification_hand_computed():
    truth = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "a", "zzz"]  # zzz is outside the class list: counted as "other"
    r = classification_quality("m", ["a", "b", "c"], truth, pred)
    v = r.values
    assert v["accuracy"] == pytest.approx(3 / 6)
    # two different unknown classes are not a correct prediction, although both count as "other"
    assert classification_quality("m", ["a", "b"], ["x", "a"], ["y", "a"]).values["accuracy"] == 0.5
    # a: tp 2, predicted 3, actual 3 -> p 2/3, r 2/3; b: tp 1, predicted 2, actual 2 -> 1/2, 1/2
    # c: tp 0, predicted 0 (precision undefined, left out), actual 1 -> recall 0, f1 0
    assert v["precision"] == pytest.approx({"a": 2 / 3, "b": 0.5, "macro": (2 / 3 + 0.5) / 2})
    assert v["recall"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 0.0, "macro": (2 / 3 + 0.5 + 0) / 3})
    assert v["f1"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 0.0, "macro": (2 / 3 + 0.5) / 3})


def test_regression_hand_computed():
    r = regression_quality("m", [1.0, 2.0, 3.0, np.nan], [2.0, 2.0, 5.0, 1.0])
    assert r.rows == 3
    assert r.values["mae"] == pytest.approx(1.0)
    assert r.values["rmse"] == pytest.approx(math.sqrt(5 / 3))


def test_nothing_to_score_is_a_data_problem():
    with pytest.raises(DataProblem, match="nothing to score"):
        classification_quality("m", ["a", "b"], [], [])
    with pytest.raises(DataProblem, match="missing label or prediction"):
        regression_quality("m", [np.nan], [1.0])


def _fraud_quality_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    ts = [T0 + timedelta(seconds=i * 7200 / n) for i in range(n)]
    truth = rng.choice(["legit", "fraud"], n, p=[0.8, 0.2])
    flip = rng.random(n) < 0.1
    pred = np.where(flip, np.where(truth == "legit", "fraud", "legit"), truth)
    preds = pa.table({"timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")), "request_id": [f"q{i}" for i in range(n)],
                      "prediction": pred})
    labelled = np.arange(n)[rng.random(n) < 0.7]  # 70 % of the labels have arrived
    labels = pa.table({"request_id": [f"q{i}" for i in labelled], "label": truth[labelled]})
    return preds, labels


def _expected(preds: pa.Table, labels: pa.Table, start, end):
    p = {r["request_id"]: r["prediction"] for r in preds.to_pylist() if start <= r["timestamp"] < end}
    pairs = [(r["label"], p[r["request_id"]]) for r in labels.to_pylist() if r["request_id"] in p]
    return classification_quality("fraud-detector", ["legit", "fraud"], [a for a, _ in pairs], [b for _, b in pairs])


def test_quality_job_end_to_end(cli, postgres_url, pushgateway, prometheus, tmp_path, example_spec):
    preds, labels = _fraud_quality_data()
    to_sql(preds, postgres_url, "fraud_predictions")
    pcsv.write_csv(labels, tmp_path / "labels.csv")
    end = T0 + timedelta(hours=2)
    report = tmp_path / "q.json"
    result = cli("quality-job", "--model", "fraud-detector", "--predictions", "table:fraud_predictions",
                 "--labels", tmp_path / "labels.csv", "--end", end.isoformat(), "--window", "1h", "--delay", "0s",
                 "--pushgateway", pushgateway.url, "--report", report, env={"MODELDASH_DB_URL": postgres_url})
    assert result.exit_code == 0, result.output
    want = _expected(preds, labels, end - timedelta(hours=1), end).values
    rep = json.loads(report.read_text())
    assert rep["metrics"] == want  # same data, same arithmetic: exactly equal
    assert rep["predictions"] == 300 and 150 < rep["labelled"] < 300

    # the quality panel's series, through a real Prometheus
    got = prometheus.wait_for(f'{m.ACCURACY.name}{{model="fraud-detector"}}', lambda r: len(r) == 1)
    assert float(got[0]["value"][1]) == want["accuracy"]
    for defn, key in ((m.PRECISION, "precision"), (m.RECALL, "recall"), (m.F1, "f1")):
        res = prometheus.wait_for(defn.selector(model="fraud-detector"), lambda r: len(r) == 3)
        assert {s["metric"]["target_class"]: float(s["value"][1]) for s in res} == want[key]
    macro = prometheus.query(m.F1.selector(model="fraud-detector", target_class=m.MACRO))
    assert float(macro[0]["value"][1]) == want["f1"]["macro"]
    prometheus.wait_for(f'{m.JOB_LAST_SUCCESS.name}{{model="fraud-detector", job="quality"}}', lambda r: len(r) == 1)

    # second run on the other hour replaces the values
    result = cli("quality-job", "--model", "fraud-detector", "--predictions", "table:fraud_predictions",
                 "--labels", tmp_path / "labels.csv", "--end", (T0 + timedelta(hours=1)).isoformat(), "--window", "1h",
                 "--delay", "0s", "--pushgateway", pushgateway.url, env={"MODELDASH_DB_URL": postgres_url})
    assert result.exit_code == 0, result.output
    want2 = _expected(preds, labels, T0, T0 + timedelta(hours=1)).values
    pushed = pushgateway.series("quality", "fraud-detector", m.ACCURACY.name)
    assert list(pushed.values()) == [want2["accuracy"]]
    prometheus.wait_for(f'{m.ACCURACY.name}{{model="fraud-detector"}}',
                        lambda r: len(r) == 1 and float(r[0]["value"][1]) == want2["accuracy"])


def test_regression_quality_job_pushes_rmse_and_mae(cli, pushgateway, tmp_path):
    rng = np.random.default_rng(4)
    n = 200
    truth = rng.normal(3e5, 5e4, n)
    pred = truth + rng.normal(0, 1e4, n)
    pq.write_table(pa.table({"request_id": np.arange(n), "prediction": pred,
                             "timestamp": pa.array([T0] * n, pa.timestamp("us", tz="UTC"))}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"request_id": np.arange(n), "label": truth}), tmp_path / "l.parquet")
    result = cli("quality-job", "--model", "price-regressor", "--predictions", tmp_path / "p.parquet",
                 "--labels", tmp_path / "l.parquet", "--all-rows", "--pushgateway", pushgateway.url)
    assert result.exit_code == 0, result.output
    rmse = pushgateway.series("quality", "price-regressor", m.RMSE.name)
    mae = pushgateway.series("quality", "price-regressor", m.MAE.name)
    assert list(rmse.values()) == [pytest.approx(float(np.sqrt(np.mean((pred - truth) ** 2))))]
    assert list(mae.values()) == [pytest.approx(float(np.mean(np.abs(pred - truth))))]
    assert pushgateway.series("quality", "price-regressor", m.JOB_LAST_SUCCESS.name)


@pytest.mark.parametrize("case", ["no labels yet", "missing label column", "duplicate label ids", "empty window"])
def test_quality_bad_data_exits_2_and_pushes_nothing(case, cli, pushgateway, tmp_path):
    preds, labels = _fraud_quality_data(100)
    pq.write_table(preds, tmp_path / "p.parquet")
    if case == "no labels yet":
        labels = pa.table({"request_id": ["zzz"], "label": ["legit"]})
        msg = r"has a label in .* yet \(joined on 'request_id'\)"
    elif case == "missing label column":
        labels = labels.rename_columns(["request_id", "truth"])
        msg = r"missing column\(s\) label"
    elif case == "duplicate label ids":
        labels = pa.concat_tables([labels, labels.slice(0, 1)])
        msg = r"column 'request_id' has duplicate ids"
    else:
        msg = r"empty window"
    pq.write_table(labels, tmp_path / "l.parquet")
    end = "2000-01-01T00:00:00Z" if case == "empty window" else (T0 + timedelta(hours=2)).isoformat()
    pushgateway.delete("quality", "fraud-detector")
    result = cli("quality-job", "--model", "fraud-detector", "--predictions", tmp_path / "p.parquet",
                 "--labels", tmp_path / "l.parquet", "--end", end, "--window", "2h", "--delay", "0", "--pushgateway", pushgateway.url)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.search(msg, lines[0]), result.output
    assert pushgateway.group("quality", "fraud-detector") is None


def test_spec_delay_shifts_the_window(cli, tmp_path):
    """The example fleet's jobs.quality.delay (1h) moves the window's end back: labels arrive late."""
    preds, labels = _fraud_quality_data(100)
    pq.write_table(preds, tmp_path / "p.parquet")
    pq.write_table(labels, tmp_path / "l.parquet")
    out = tmp_path / "r.json"
    result = cli("quality-job", "--model", "fraud-detector", "--predictions", tmp_path / "p.parquet",
                 "--labels", tmp_path / "l.parquet", "--end", (T0 + timedelta(hours=2)).isoformat(), "--window", "1h",
                 "--dry-run", "--report", out)
    assert result.exit_code == 0, result.output
    window = json.loads(out.read_text())["window"]
    assert window == {"column": "timestamp", "start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()}
