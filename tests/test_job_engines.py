"""The jobs' engines agree: streamed files and pushed-down SQL (PostgreSQL, SQLite, DuckDB) give the
in-memory scores on the same data, with NULLs, values outside the baseline's range, values on the
ECDF grid, unseen categories; an empty window still exits 2 and pushes nothing."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from jobs_data import T0, fraud_baseline, fraud_two_hours, to_sql
from jobs_servers import postgres_url, pushgateway  # noqa: F401 (fixtures)
from modeldash.instrumentation.sql_pushdown import FeatureBins, Window, drift_query, duckdb_drift_query

END = (T0 + timedelta(hours=2)).isoformat()
BACKENDS = ["postgresql", "sqlite", "duckdb"]


def _awkward(table: pa.Table) -> pa.Table:
    """NULLs, values far outside the baseline's range, integers on the ECDF grid, NULL/unseen categories."""
    n = table.num_rows
    rng = np.random.default_rng(9)
    amount = table.column("amount").to_numpy().copy()
    amount[::17] = 1e9  # beyond the last edge
    amount[5::19] = -50.0  # below the first edge
    amount[7::31] = np.inf  # counted as missing by every engine
    amount_arr = pa.array(amount, mask=(np.arange(n) % 13 == 0))  # NULLs
    country = table.column("country").to_pylist()
    for i in range(0, n, 11):
        country[i] = None
    for i in range(3, n, 23):
        country[i] = "ZZ"
    age = rng.integers(0, 3000, n).astype(float)  # integers: many equal to a grid point
    t = table.set_column(table.schema.get_field_index("amount"), "amount", amount_arr)
    t = t.set_column(t.schema.get_field_index("country"), "country", pa.array(country, pa.string()))
    return t.set_column(t.schema.get_field_index("account_age_days"), "account_age_days", pa.array(age))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    prod = _awkward(fraud_two_hours(root, 3000, 800, shift=0.5))
    pq.write_table(prod, root / "prod.parquet", row_group_size=300)
    pcsv.write_csv(prod, root / "prod.csv")
    return root, prod


@pytest.fixture(scope="module")
def baseline(data):
    return fraud_baseline(data[0], "b.json")


@pytest.fixture(scope="module")
def db_urls(data, postgres_url, tmp_path_factory):
    """The production table in each database: {backend: URL}."""
    _, prod = data
    root = tmp_path_factory.mktemp("dbs")
    urls = {"postgresql": postgres_url, "sqlite": f"sqlite:///{root / 'in.db'}", "duckdb": f"duckdb:///{root / 'in.duckdb'}"}
    for url in urls.values():
        _to_db(prod, url, "inputs")
    return urls


def _to_db(table: pa.Table, url: str, name: str) -> None:
    """``to_sql``; DuckDB takes the Arrow table natively (row-by-row inserts there are slow)."""
    if not url.startswith("duckdb:"):
        return to_sql(table, url, name)
    import duckdb

    con = duckdb.connect(url.removeprefix("duckdb:///"))
    con.register("md_arrow", table)
    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM md_arrow')  # test fixture: fixed names
    con.close()


def drift(cli, baseline, tmp_path, *args, env=None):
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    result = cli("drift-job", "--model", "fraud-detector", "--end", END, "--window", "1h", "--baseline", baseline,
                 "--prediction-column", "prediction", "--dry-run", "--report", out, *args, env=env or {})
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def assert_same_scores(got: dict, want: dict, grid_points: dict) -> None:
    assert got["rows"] == want["rows"]
    assert set(got["features"]) == set(want["features"])
    for name, w in want["features"].items():
        g = got["features"][name]
        assert (g["rows"], g["missing"]) == (w["rows"], w["missing"]), name
        assert g.get("unseen_categories") == w.get("unseen_categories"), name
        for method, score in w["scores"].items():
            # KS is computed from the same counts at the same grid points: equal well within 1/len(grid)
            tol = 1e-9 if method != "ks" else min(1e-12, 1 / grid_points[name])
            assert abs(g["scores"][method] - score) <= tol, (name, method, g["scores"][method], score)


@pytest.fixture(scope="module")
def grid_points(baseline):
    prof = json.loads(baseline.read_text())
    out = {k: len(v["ecdf"]["x"]) for k, v in prof["features"].items() if v["kind"] == "numeric"}
    return out


def test_stream_equals_memory_on_files(cli, data, baseline, grid_points, tmp_path):
    root, _ = data
    want = drift(cli, baseline, tmp_path, "--input", root / "prod.parquet", "--engine", "memory")
    assert want["engine"] == {"name": "memory", "rows": 800}
    assert want["features"]["amount"]["missing"] > 0 and want["features"]["country"]["unseen_rows"] > 0
    for path in ("prod.parquet", "prod.csv"):
        got = drift(cli, baseline, tmp_path, "--input", root / path)  # auto = stream for files
        assert got["engine"]["name"] == "stream" and got["engine"]["rows"] == 800
        assert_same_scores(got, want, grid_points)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sql_pushdown_equals_memory(backend, cli, db_urls, baseline, grid_points, tmp_path):
    env = {"MODELDASH_DB_URL": db_urls[backend]}
    want = drift(cli, baseline, tmp_path, "--input", "table:inputs", "--engine", "memory", env=env)
    got = drift(cli, baseline, tmp_path, "--input", "table:inputs", env=env)  # auto = sql for tables
    assert got["engine"]["name"] == "sql" and got["engine"]["dialect"] == backend
    assert got["engine"]["result_rows"] < 6000  # counts only: a few thousand groups, whatever the row count
    assert_same_scores(got, want, grid_points)
    # a query: source is wrapped as a subquery, the window goes in its WHERE clause
    q = drift(cli, baseline, tmp_path, "--input", "query:SELECT * FROM inputs WHERE merchant_risk >= 0",
              "--engine", "sql", "--timestamp-column", "timestamp", env=env) if backend != "sqlite" else None
    if q is not None:
        assert q["engine"]["name"] == "sql"
        assert_same_scores(q, want, grid_points)


def test_sqlite_text_timestamps_in_a_query_fall_back_or_refuse(cli, db_urls, baseline, tmp_path):
    """SQLite returns a query's DATETIME column as text: auto reads in memory, --engine sql refuses (exit 2)."""
    env = {"MODELDASH_DB_URL": db_urls["sqlite"]}
    rep = drift(cli, baseline, tmp_path, "--input", "query:SELECT * FROM inputs", env=env)
    assert rep["engine"]["name"] == "memory" and rep["rows"] == 800
    result = cli("drift-job", "--model", "fraud-detector", "--end", END, "--window", "1h", "--baseline", baseline,
                 "--input", "query:SELECT * FROM inputs", "--engine", "sql", "--dry-run", env=env)
    assert result.exit_code == 2 and "cannot be pushed down: column 'timestamp'" in result.output


@pytest.mark.parametrize("backend", BACKENDS + ["parquet"])
def test_empty_window_exits_2_and_pushes_nothing(backend, cli, data, db_urls, baseline, pushgateway):
    root, _ = data
    args = ["--input", str(root / "prod.parquet")] if backend == "parquet" else ["--input", "table:inputs"]
    env = {} if backend == "parquet" else {"MODELDASH_DB_URL": db_urls[backend]}
    pushgateway.delete("drift", "fraud-detector")
    result = cli("drift-job", "--model", "fraud-detector", "--end", "2020-01-01T00:00:00Z", "--window", "1h",
                 "--baseline", baseline, *args, "--pushgateway", pushgateway.url, env=env)
    assert result.exit_code == 2, result.output
    assert "empty window: no rows with timestamp in [2019-12-31T23:00:00+00:00" in result.output
    assert pushgateway.group("drift", "fraud-detector") is None


def test_hostile_identifier_is_quoted_not_executed(cli, db_urls, baseline, tmp_path):
    env = {"MODELDASH_DB_URL": db_urls["sqlite"]}
    evil = 'timestamp" IS NOT NULL; DROP TABLE inputs; --'
    result = cli("drift-job", "--model", "fraud-detector", "--end", END, "--baseline", baseline,
                 "--input", "table:inputs", "--timestamp-column", evil, "--dry-run", env=env)
    assert result.exit_code == 2 and "missing column(s)" in result.output
    engine = sa.create_engine(db_urls["sqlite"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM inputs")).scalar() == 1600
    engine.dispose()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "duckdb"])
def test_generated_sql_binds_every_value(dialect):
    """No edge, grid point, window bound or category reaches the SQL text: all are bound parameters."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = sa.table("t", sa.column("x"), sa.column("c"), sa.column("ts"))
    edges, grid = (1234.5678, 2345.6789), (1111.25, 1234.5678, 3333.75)
    window = Window("ts", "datetime_tz", T0, T0 + timedelta(hours=1))
    features = [FeatureBins("x", "numeric", edges, grid), FeatureBins("c", "categorical")]
    stmt = duckdb_drift_query(table, features, window) if dialect == "duckdb" else \
        drift_query(table, features, window, dialect)
    dia = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}.get(dialect) or \
        sa.create_engine("duckdb:///:memory:").dialect
    compiled = stmt.compile(dialect=dia)
    text = str(compiled)
    for v in (*edges, *grid):
        assert repr(v) not in text and str(v) not in text
    assert "2026" not in text
    values = list(compiled.params.values())
    assert T0 in values and any(v == list(grid) or v == json.dumps(list(grid)) for v in values)


# --------------------------------------------------------------------------- quality


def _quality_tables(n=900, seed=5):
    rng = np.random.default_rng(seed)
    ts = [T0 + timedelta(seconds=i * 7200 / n) for i in range(n)]
    truth = rng.choice(["legit", "fraud", "weird"], n, p=[0.7, 0.25, 0.05])  # "weird": outside the class list
    pred = np.where(rng.random(n) < 0.15, rng.choice(["legit", "fraud", "other-x"], n), truth).astype(object)
    pred[::37] = None  # a NULL prediction
    preds = pa.table({"timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")), "request_id": [f"q{i}" for i in range(n)],
                      "prediction": pa.array(list(pred), pa.string()),
                      "value": rng.normal(100, 10, n)})
    keep = np.arange(n)[rng.random(n) < 0.75]
    labels = pa.table({"request_id": [f"q{i}" for i in keep], "label": truth[keep],
                       "true_value": pa.array(rng.normal(100, 10, len(keep)), mask=(keep % 29 == 0))})
    return preds, labels


@pytest.fixture(scope="module")
def quality_data(db_urls, tmp_path_factory):
    preds, labels = _quality_tables()
    root = tmp_path_factory.mktemp("quality")
    for url in db_urls.values():
        _to_db(preds, url, "preds")
        _to_db(labels, url, "labels")
    pq.write_table(preds, root / "p.parquet")
    pq.write_table(labels, root / "l.parquet")
    pcsv.write_csv(preds, root / "p.csv")
    pcsv.write_csv(labels, root / "l.csv")
    return root


def quality(cli, tmp_path, model, *args, env=None):
    out = tmp_path / f"q{len(list(tmp_path.iterdir()))}.json"
    extra = ["--prediction-column", "value", "--label-column", "true_value"] if model == "price-regressor" else []
    result = cli("quality-job", "--model", model, "--end", END, "--window", "1h", "--delay", "0s", "--dry-run",
                 "--timestamp-column", "timestamp", "--id-column", "request_id",
                 "--report", out, *extra, *args, env=env or {})
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


@pytest.mark.parametrize("backend", BACKENDS + ["parquet", "csv"])
def test_quality_engines_equal_memory(backend, cli, db_urls, quality_data, tmp_path):
    root = quality_data
    if backend in ("parquet", "csv"):
        args, env, engine = ["--predictions", root / f"p.{backend}", "--labels", root / f"l.{backend}"], {}, "stream"
    else:
        args, env, engine = ["--predictions", "table:preds", "--labels", "table:labels"], \
            {"MODELDASH_DB_URL": db_urls[backend]}, "sql"
    for model in ("fraud-detector", "price-regressor"):
        want = quality(cli, tmp_path, model, *args, "--engine", "memory", env=env)
        got = quality(cli, tmp_path, model, *args, env=env)
        assert got["engine"]["name"] == engine
        assert (got["predictions"], got["labelled"], got["rows"]) == (want["predictions"], want["labelled"], want["rows"])
        if model == "fraud-detector":
            assert got["metrics"] == want["metrics"]  # integer counts, same arithmetic: exactly equal
        else:  # sums of float errors in another order: equal to rounding
            for k, v in want["metrics"].items():
                assert got["metrics"][k] == pytest.approx(v, rel=1e-12), k


def test_quality_sql_duplicate_ids_and_empty_window_exit_2(cli, db_urls, quality_data):
    env = {"MODELDASH_DB_URL": db_urls["postgresql"]}
    engine = sa.create_engine(db_urls["postgresql"])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS labels2"))
        conn.execute(sa.text("CREATE TABLE labels2 AS SELECT * FROM labels UNION ALL (SELECT * FROM labels LIMIT 5)"))
    engine.dispose()
    base = ["quality-job", "--model", "fraud-detector", "--predictions", "table:preds", "--window", "1h", "--delay", "0s",
            "--engine", "sql", "--dry-run"]
    dup = cli(*base, "--labels", "table:labels2", "--all-rows", env=env)
    assert dup.exit_code == 2 and "column 'request_id' has duplicate ids; each label needs one row" in dup.output
    empty = cli(*base, "--labels", "table:labels", "--end", "2020-01-01T00:00:00Z", env=env)
    assert empty.exit_code == 2 and "empty window" in empty.output
