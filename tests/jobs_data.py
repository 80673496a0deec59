"""Synthetic inference data for the jobs' tests, shaped like the example fleet's models."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def fraud_table(n: int, *, seed: int = 0, shift: float = 0.0, start: datetime = T0, span_s: int = 3600,
                countries=("DE", "FR", "US"), id_prefix: str = "r") -> pa.Table:
    """fraud-detector rows: amount, merchant_risk, account_age_days, country, prediction, confidence."""
    rng = np.random.default_rng(seed)
    ts = [start + timedelta(seconds=i * span_s / n) for i in range(n)]
    pred = rng.choice(["legit", "fraud"], n, p=[0.8, 0.2])
    return pa.table({
        "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "request_id": [f"{id_prefix}{i}" for i in range(n)],
        "amount": rng.lognormal(3 + shift, 1, n),
        "merchant_risk": rng.uniform(0, 1, n) ** (1 + shift),
        "account_age_days": rng.integers(0, 3000, n).astype(float),
        "country": rng.choice(list(countries), n),
        "prediction": pred,
    })


def price_table(n: int, *, seed: int = 0, shift: float = 0.0, start: datetime = T0, span_s: int = 3600) -> pa.Table:
    rng = np.random.default_rng(seed)
    ts = [start + timedelta(seconds=i * span_s / n) for i in range(n)]
    sqft = rng.normal(1500 * (1 + shift), 400, n)
    return pa.table({
        "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "request_id": [f"p{i}" for i in range(n)],
        "sqft": sqft,
        "bedrooms": rng.integers(1, 6, n).astype(float),
        "city": rng.choice(["berlin", "paris", "rome"], n),
        "prediction": sqft * 200 + rng.normal(0, 5000, n),
    })


def to_sql(table: pa.Table, url: str, name: str) -> None:
    """Write ``table`` as a SQL table (timestamps as a timezone-aware TIMESTAMP column)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    cols = []
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            t = sa.DateTime(timezone=True)
        elif pa.types.is_floating(field.type):
            t = sa.Float()
        elif pa.types.is_integer(field.type):
            t = sa.BigInteger()
        else:
            t = sa.Text()
        cols.append(sa.Column(field.name, t))
    meta = sa.MetaData()
    tab = sa.Table(name, meta, *cols)
    with engine.begin() as conn:
        tab.drop(conn, checkfirst=True)
        tab.create(conn)
        rows = table.to_pylist()
        for row in rows:
            for k, v in row.items():
                if isinstance(v, float) and v != v:
                    row[k] = None
        conn.execute(tab.insert(), rows)
    engine.dispose()


def fraud_baseline(root, name: str):
    """``modeldash baseline`` of fraud-detector from ``root/train.parquet``: the baseline file's path."""
    from click.testing import CliRunner

    from modeldash.scripts.cli import main

    out = root / name
    result = CliRunner().invoke(main, ["baseline", "--model", "fraud-detector", "--input", str(root / "train.parquet"),
                                       "--prediction-column", "prediction", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def fraud_two_hours(root, train_rows: int, rows_per_hour: int, shift: float) -> pa.Table:
    """Training data in ``root/train.parquet`` and two hours of production, the second one
    drifted by ``shift`` with an unseen country: what the drift tests and engine tests read."""
    import pyarrow.parquet as pq

    pq.write_table(fraud_table(train_rows, seed=1), root / "train.parquet")
    first = fraud_table(rows_per_hour, seed=2, start=T0, id_prefix="a")
    second = fraud_table(rows_per_hour, seed=3, shift=shift, start=T0 + timedelta(hours=1), id_prefix="b",
                         countries=("DE", "FR", "US", "XX"))
    return pa.concat_tables([first, second])

