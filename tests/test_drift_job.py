"""`modeldash baseline` and `modeldash drift-job` end to end: real PostgreSQL, Pushgateway, Prometheus."""
from __future__ import annotations

import json
import re
import socket
from datetime import timedelta

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from jobs_data import T0, fraud_baseline, fraud_table, fraud_two_hours, price_table, to_sql
from jobs_servers import free_port, postgres_url, prometheus, pushgateway  # noqa: F401 (fixtures)
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import metrics as m
from modeldash.scripts.lint import substitute

END = (T0 + timedelta(hours=2)).isoformat()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Training data, its baseline, and two hours of production (the second hour drifted)."""
    root = tmp_path_factory.mktemp("drift")
    prod = fraud_two_hours(root, 4000, 1500, shift=0.6)
    pcsv.write_csv(prod, root / "prod.csv")
    pq.write_table(prod, root / "prod.parquet")
    return root, prod


@pytest.fixture(scope="module")
def baseline(data):
    return fraud_baseline(data[0], "fraud.baseline.json")


def run_drift(cli, *args, **kwargs):
    return cli("drift-job", "--model", "fraud-detector", "--end", END, "--window", "1h", *args, **kwargs)


def test_baseline_is_deterministic_json(cli, data, baseline, tmp_path):
    root, _ = data
    again = tmp_path / "again.json"
    result = cli("baseline", "--model", "fraud-detector", "--input", root / "train.parquet",
                 "--prediction-column", "prediction", "-o", again)
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == baseline.read_bytes()
    prof = json.loads(baseline.read_text())
    assert set(prof["features"]) == {"amount", "merchant_risk", "account_age_days", "country"}
    assert prof["features"]["country"]["shares"].keys() == {"DE", "FR", "US"}
    assert len(prof["features"]["amount"]["bins"]["shares"]) == 10
    assert prof["prediction"]["kind"] == "categorical"


def panel_expr(spec, model_name: str, metric: str) -> str:
    board = next(b for b in build_dashboards(spec) if b.kind == "model" and b.model == model_name)
    for p in board.json["panels"]:
        if p["type"] != "timeseries":  # the chart, not the status row's stat
            continue
        for t in p.get("targets", []):
            if metric in t.get("expr", ""):
                return substitute(t["expr"])
    raise AssertionError(f"no panel queries {metric}")


def test_end_to_end_postgres_pushgateway_prometheus(cli, data, baseline, postgres_url, pushgateway, prometheus,
                                                    example_spec, example_data, write_spec, tmp_path):
    _, prod = data
    to_sql(prod, postgres_url, "fraud_inputs")
    report = tmp_path / "report.json"
    env = {"MODELDASH_DB_URL": postgres_url}
    result = run_drift(cli, "--baseline", baseline, "--input", "table:fraud_inputs", "--prediction-column", "prediction",
                       "--pushgateway", pushgateway.url, "--report", report, env=env)
    assert result.exit_code == 0, result.output
    assert postgres_url not in result.output
    rep = json.loads(report.read_text())
    assert rep["rows"] == 1500  # only the second hour: the window [END - 1h, END)
    assert "country" in rep["drifted"] and rep["features"]["country"]["unseen_rows"] > 0
    assert set(rep["features"]) == {"amount", "merchant_risk", "account_age_days", "country", m.PREDICTION_FEATURE}

    # the model panel's own query, answered by a real Prometheus scraping the Pushgateway
    expr = panel_expr(example_spec, "fraud-detector", m.DRIFT_SCORE.name)
    assert expr == 'max by (feature) (model_drift_score{model="fraud-detector", method="psi"})'
    want = {f: v["scores"]["psi"] for f, v in rep["features"].items()}
    got = prometheus.wait_for(expr, lambda r: {s["metric"]["feature"]: float(s["value"][1]) for s in r} == want)
    assert len(got) == 5
    ks = prometheus.query(f'{m.DRIFT_SCORE.name}{{model="fraud-detector", method="ks", feature="amount"}}')
    assert float(ks[0]["value"][1]) == rep["features"]["amount"]["scores"]["ks"]
    assert ks[0]["metric"]["job"] == "drift"  # honor_labels kept the pushed grouping key
    last = prometheus.wait_for(f'{m.JOB_LAST_SUCCESS.name}{{model="fraud-detector", job="drift"}}', lambda r: len(r) == 1)
    assert float(last[0]["value"][1]) > T0.timestamp()

    # a second run (one feature fewer, other data) replaces the group: nothing accumulates
    example_data["models"][0]["features"] = ["amount", "merchant_risk", "account_age_days"]
    spec2 = write_spec(example_data)
    result = cli("drift-job", spec2, "--model", "fraud-detector", "--end", (T0 + timedelta(hours=1)).isoformat(),
                 "--window", "1h", "--baseline", baseline, "--input", "table:fraud_inputs",
                 "--pushgateway", pushgateway.url, "--report", report, env=env)
    assert result.exit_code == 0, result.output
    rep2 = json.loads(report.read_text())
    pushed = pushgateway.series("drift", "fraud-detector", m.DRIFT_SCORE.name)
    assert {dict(k)["feature"] for k in pushed} == {"amount", "merchant_risk", "account_age_days"}
    assert len(pushed) == 6  # 3 features x (psi, ks), no leftovers of the first run
    want2 = {f: v["scores"]["psi"] for f, v in rep2["features"].items()}
    prometheus.wait_for(expr, lambda r: {s["metric"]["feature"]: float(s["value"][1]) for s in r} == want2)


def test_sqlite_query_and_parquet_sources_agree(cli, data, baseline, tmp_path):
    root, prod = data
    db = tmp_path / "inputs.db"
    to_sql(prod, f"sqlite:///{db}", "inputs")
    reports = {}
    for name, args in {
        "csv": ["--input", root / "prod.csv"],
        "parquet": ["--input", root / "prod.parquet"],
        "sqlite-table": ["--sqlite", db, "--input", "table:inputs"],
        "sqlite-query": ["--sqlite", db, "--input", "query:SELECT * FROM inputs WHERE amount > 0"],
    }.items():
        out = tmp_path / f"{name}.json"
        result = run_drift(cli, "--baseline", baseline, *args, "--dry-run", "--report", out)
        assert result.exit_code == 0, (name, result.output)
        reports[name] = json.loads(out.read_text())
    first = reports.pop("csv")
    for name, rep in reports.items():
        assert rep["rows"] == first["rows"] == 1500, name
        for f, v in first["features"].items():
            for method, score in v["scores"].items():
                assert rep["features"][f]["scores"][method] == pytest.approx(score, rel=1e-9), (name, f, method)


def test_textfile_output_is_written_atomically(cli, data, baseline, tmp_path):
    root, _ = data
    result = run_drift(cli, "--baseline", baseline, "--input", root / "prod.parquet", "--textfile-dir", tmp_path)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["modeldash_drift_fraud_detector.prom"]
    text = (tmp_path / files[0]).read_text()
    assert re.search(r'model_drift_score\{feature="amount",method="psi",model="fraud-detector"\} \S+', text)
    assert f'{m.JOB_LAST_SUCCESS.name}{{job="drift",model="fraud-detector"}}' in text


def test_unseen_categories_are_reported_and_count_as_drift(cli, data, baseline, tmp_path):
    root, _ = data
    out = tmp_path / "r.json"
    result = run_drift(cli, "--baseline", baseline, "--input", root / "prod.csv", "--dry-run", "--report", out)
    assert result.exit_code == 0
    assert re.search(r"note: country: \d+ rows in categories the baseline never saw", result.output)
    rep = json.loads(out.read_text())["features"]["country"]
    assert list(rep["unseen_categories"]) == ["XX"] and rep["unseen_rows"] == rep["unseen_categories"]["XX"]
    assert rep["drifted"]


# --------------------------------------------------------------------------- bad data: exit 2, nothing pushed


def _write(table: pa.Table, path) -> str:
    pcsv.write_csv(table, path)
    return str(path)


def bad_cases(root, prod, baseline_path):
    nan_amount = prod.set_column(prod.schema.get_field_index("amount"), "amount",
                                 pa.array([None] * prod.num_rows, pa.float64()))
    prof = json.loads(baseline_path.read_text())
    prof["features"]["merchant_risk"]["max"] = prof["features"]["merchant_risk"]["min"]
    (root / "constant.json").write_text(json.dumps(prof))
    bad_ts = prod.set_column(0, "timestamp", pa.array(["yesterday"] * prod.num_rows))
    return {
        "missing column": (["--input", _write(prod.drop_columns(["country"]), root / "nocountry.csv")],
                           r"missing column\(s\) country"),
        "empty window": (["--input", str(root / "prod.parquet"), "--end", "2020-01-01T00:00:00Z"],
                         r"empty window: no rows with timestamp in \[2019-12-31T23:00:00\+00:00"),
        "all-NaN feature": (["--input", _write(nan_amount, root / "nan.csv")],
                            r"column 'amount': every value in the window is missing"),
        "constant baseline column": (["--input", str(root / "prod.parquet"), "--baseline", str(root / "constant.json")],
                                     r"feature 'merchant_risk' is constant in the baseline"),
        "bad timestamp": (["--input", _write(bad_ts, root / "badts.csv")], r"'yesterday' is not a timestamp"),
        "no such file": (["--input", str(root / "nope.parquet")], r"nope.parquet: file not found"),
        "no database": (["--input", "table:x"], r"no database: set \$MODELDASH_DB_URL"),
        "unknown model": (["--model", "nope"], r"--model 'nope': no such model"),
    }


@pytest.mark.parametrize("case", ["missing column", "empty window", "all-NaN feature", "constant baseline column",
                                  "bad timestamp", "no such file", "no database", "unknown model"])
def test_bad_data_exits_2_and_pushes_nothing(case, cli, data, baseline, pushgateway, monkeypatch):
    monkeypatch.delenv("MODELDASH_DB_URL", raising=False)
    root, prod = data
    args, message = bad_cases(root, prod, baseline)[case]
    pushgateway.delete("drift", "fraud-detector")
    if "--baseline" not in args:
        args = ["--baseline", str(baseline), *args]
    result = run_drift(cli, *args, "--pushgateway", pushgateway.url)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert re.search(message, lines[0]), lines[0]
    assert pushgateway.group("drift", "fraud-detector") is None


def test_constant_training_column_refused_by_baseline(cli, data, tmp_path):
    root, _ = data
    train = fraud_table(500, seed=5)
    train = train.set_column(train.schema.get_field_index("merchant_risk"), "merchant_risk", pa.array([0.5] * 500))
    out = tmp_path / "b.json"
    result = cli("baseline", "--model", "fraud-detector", "--input", _write(train, tmp_path / "t.csv"), "-o", out)
    assert result.exit_code == 2
    assert "column 'merchant_risk': constant in the training data (every value is 0.5)" in result.output
    assert not out.exists()


def test_pushgateway_down_retries_then_fails_loudly(cli, data, baseline, tmp_path):
    root, _ = data
    port = free_port()  # nothing listens here
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    out = tmp_path / "r.json"
    result = run_drift(cli, "--baseline", baseline, "--input", root / "prod.parquet",
                       "--pushgateway", f"http://127.0.0.1:{port}", "--push-attempts", "3", "--push-backoff", "0.01",
                       "--report", out)
    assert result.exit_code == 5, result.output
    assert len(re.findall(r"retry \d/2", result.output)) == 2
    assert "could not push to the Pushgateway at http://127.0.0.1" in result.output and "after 3 attempts" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_price_regressor_prediction_drift_from_the_profile(cli, tmp_path):
    pq.write_table(price_table(2000, seed=1), tmp_path / "train.parquet")
    pq.write_table(price_table(1000, seed=2, shift=0.5), tmp_path / "prod.parquet")
    base = tmp_path / "b.json"
    assert cli("baseline", "--model", "price-regressor", "--input", tmp_path / "train.parquet",
               "--prediction-column", "prediction", "-o", base).exit_code == 0
    out = tmp_path / "r.json"
    result = cli("drift-job", "--model", "price-regressor", "--baseline", base, "--input", tmp_path / "prod.parquet",
                 "--all-rows", "--prediction-column", "prediction", "--dry-run", "--report", out)
    assert result.exit_code == 0, result.output
    rep = json.loads(out.read_text())
    assert rep["window"] is None and rep["rows"] == 1000
    assert set(rep["features"][m.PREDICTION_FEATURE]["scores"]) == {"psi", "ks"}
    assert {"sqft", m.PREDICTION_FEATURE} <= set(rep["drifted"])
    assert rep["features"]["city"]["threshold"] == 0.2
