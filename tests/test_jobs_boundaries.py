"""The jobs at their boundaries (issue 11): infinite values, duplicate headers, a model without
ground truth, unwritable outputs, and a Pushgateway URL that answers like a login page.
Against the real Debian Pushgateway; each case is one line and its documented exit code."""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from prometheus_client import CollectorRegistry, Gauge

from jobs_data import price_table
from jobs_servers import pushgateway  # noqa: F401 (fixture)
from login_page_server import LoginPageServer
from modeldash.datasources import metrics as m
from modeldash.scripts.errors import BadInput
from modeldash.scripts.job_checks import finite_registry


def one_line(result, code: int, needle: str) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def regression(tmp_path):
    """price-regressor predictions and labels; prediction 3 is +inf."""
    rng = np.random.default_rng(7)
    n = 120
    truth = rng.normal(3e5, 5e4, n)
    pred = truth + rng.normal(0, 1e4, n)
    pred[3] = np.inf
    pq.write_table(pa.table({"request_id": np.arange(n), "prediction": pred}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"request_id": np.arange(n), "label": truth}), tmp_path / "l.parquet")
    return tmp_path, truth, pred


def quality(cli, root, *args, preds="p.parquet"):
    return cli("quality-job", "--model", "price-regressor", "--predictions", root / preds, "--labels",
               root / "l.parquet", "--all-rows", *args)


def test_one_infinite_prediction_is_left_out_and_push_and_report_agree(cli, regression, pushgateway):
    root, truth, pred = regression
    pushgateway.delete("quality", "price-regressor")
    result = quality(cli, root, "--pushgateway", pushgateway.url, "--report", root / "r.json")
    assert result.exit_code == 0, result.output
    assert "1 infinite value(s) left out" in result.output
    ok = np.isfinite(pred)
    want = float(np.sqrt(np.mean((pred[ok] - truth[ok]) ** 2)))
    pushed = list(pushgateway.series("quality", "price-regressor", m.RMSE.name).values())
    report = json.loads((root / "r.json").read_text())
    assert pushed == [pytest.approx(want)] and math.isfinite(pushed[0])
    assert report["metrics"]["rmse"] == pytest.approx(pushed[0])
    assert report["excluded_rows"] == 1 and report["metrics"] and report["rows"] == len(pred) - 1


def test_all_infinite_predictions_are_not_scored(cli, regression, pushgateway):
    root, truth, _ = regression
    pq.write_table(pa.table({"request_id": np.arange(len(truth)), "prediction": np.full(len(truth), -np.inf)}),
                   root / "inf.parquet")
    pushgateway.delete("quality", "price-regressor")
    one_line(quality(cli, root, "--pushgateway", pushgateway.url, preds="inf.parquet"), 2,
             "column 'prediction' has no finite value (120 infinite); not scored")
    assert pushgateway.group("quality", "price-regressor") is None


def test_drift_job_all_infinite_feature_refused_some_infinite_counted_as_missing(cli, tmp_path):
    train = price_table(400, seed=1)
    pq.write_table(train, tmp_path / "train.parquet")
    assert cli("baseline", "--model", "price-regressor", "--input", tmp_path / "train.parquet",
               "-o", tmp_path / "b.json").exit_code == 0
    prod = price_table(300, seed=2)
    sqft = prod.column("sqft").to_numpy().copy()
    sqft[:4], sqft[4] = np.inf, -np.inf
    pq.write_table(prod.set_column(prod.schema.get_field_index("sqft"), "sqft", pa.array(sqft)), tmp_path / "some.parquet")
    pq.write_table(prod.set_column(prod.schema.get_field_index("sqft"), "sqft", pa.array(np.full(300, np.inf))),
                   tmp_path / "all.parquet")
    args = ("drift-job", "--model", "price-regressor", "--baseline", tmp_path / "b.json", "--all-rows", "--dry-run")
    result = cli(*args, "--input", tmp_path / "some.parquet", "--report", tmp_path / "d.json")
    assert result.exit_code == 0, result.output
    sq = json.loads((tmp_path / "d.json").read_text())["features"]["sqft"]
    assert sq["missing"] == 5 and sq["rows"] == 295 and all(math.isfinite(v) for v in sq["scores"].values())
    one_line(cli(*args, "--input", tmp_path / "all.parquet"), 2, "column 'sqft' has no finite value (300 infinite)")


def test_a_non_finite_sample_is_never_pushed():
    registry = CollectorRegistry()
    Gauge("model_rmse", "x", ["model"], registry=registry).labels(model="m").set(float("inf"))
    with pytest.raises(BadInput, match=r'model_rmse\{model="m"\} would be inf'):
        finite_registry(registry, "quality job of m")
    ok = CollectorRegistry()
    Gauge("model_rmse", "x", ["model"], registry=ok).labels(model="m").set(1.5)
    finite_registry(ok, "quality job of m")


def test_duplicate_csv_header_refused(cli, tmp_path):
    (tmp_path / "p.csv").write_text("request_id,prediction,prediction\n1,2.0,3.0\n")
    (tmp_path / "l.csv").write_text("request_id,label\n1,2.0\n")
    one_line(cli("quality-job", "--model", "price-regressor", "--predictions", tmp_path / "p.csv", "--labels",
                 tmp_path / "l.csv", "--all-rows", "--dry-run"), 2, "duplicate column name(s) 'prediction' in the header")
    (tmp_path / "t.csv").write_text("sqft,bedrooms,city,sqft\n1,2,a,3\n")
    one_line(cli("baseline", "--model", "price-regressor", "--input", tmp_path / "t.csv", "-o", tmp_path / "b.json"),
             2, "duplicate column name(s) 'sqft'")


def test_quality_job_refuses_a_model_without_ground_truth(cli):
    one_line(cli("quality-job", "--model", "churn-classifier", "--all-rows", "--dry-run"), 2,
             "models[1].ground_truth: model 'churn-classifier' has no ground truth")


@pytest.mark.parametrize("where", ["under a file", "a directory", "unwritable folder"])
def test_unwritable_outputs_refused_before_any_work(cli, regression, pushgateway, where):
    root, _, _ = regression
    (root / "file").write_text("x")
    target = {"under a file": root / "file" / "r.json", "a directory": root, "unwritable folder": "/sys/r.json"}[where]
    pushgateway.delete("quality", "price-regressor")
    one_line(quality(cli, root, "--pushgateway", pushgateway.url, "--report", target), 2, f"--report {target}")
    assert pushgateway.group("quality", "price-regressor") is None
    one_line(cli("baseline", "--model", "price-regressor", "--input", root / "p.parquet", "-o", target), 2,
             f"-o {target}")


@pytest.mark.parametrize("mode", ["html", "redirect"])
def test_a_login_page_is_not_a_pushgateway(cli, regression, mode):
    root, truth, _ = regression
    pq.write_table(pa.table({"request_id": np.arange(len(truth)), "prediction": truth + 1}), root / "ok.parquet")
    with LoginPageServer(mode) as page:
        result = quality(cli, root, "--pushgateway", page.url, "--push-backoff", "0", "--report", root / "r.json",
                         preds="ok.parquet")
    line = one_line(result, 5, f"the Pushgateway URL {page.url} answered")
    assert ("200 with an HTML page" if mode == "html" else "302 redirecting to /login") in line
    assert "not a Pushgateway" in line or "(a login page?)" in line
    assert [m for m, _ in page.requests] == ["PUT"]  # no retries: a login page does not change its mind
    assert not (root / "r.json").exists()


def test_every_reader_of_numeric_columns_gets_infinities_as_missing():
    """``numeric_column`` (what every engine's batches go through) never returns +-inf."""
    from modeldash.scripts.job_inputs import numeric_column, numeric_column_counted

    table = pa.table({"x": [1.0, float("inf"), None, float("-inf"), float("nan")], "s": ["1", "inf", None, "-inf", "2"]})
    values, n_inf = numeric_column_counted(table, "x", "t")
    assert n_inf == 2 and np.isnan(values).tolist() == [False, True, True, True, True]
    assert np.isfinite(numeric_column(table, "s", "t")).tolist() == [True, False, False, False, True]
