"""Reading the jobs' input tables: CSV and Parquet files, or a SQL table/query via SQLAlchemy.

A source is named by one string: ``data.csv``, ``data.parquet``, ``table:NAME`` or
``query:SELECT ...``. The database of SQL sources comes from an environment variable
(default ``MODELDASH_DB_URL``, so a password never sits on a command line) or ``--sqlite FILE``.
Only the needed columns are read; rows are kept in ``[start, end)`` of a timestamp column.
Every problem is a ``BadInput`` one-liner naming the source and the column.
"""
from __future__ import annotations

import csv
import gzip
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modeldash.scripts.cli_common import DB_URL_ENV, BadInput
from modeldash.scripts.job_checks import unique_columns
UTC_US = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Source:
    kind: str  # csv | parquet | table | query
    target: str

    @property
    def label(self) -> str:
        if self.kind == "table":
            return f"table {self.target}"
        if self.kind == "query":
            return "SQL query"
        return self.target


def parse_source(text: str) -> Source:
    """``table:NAME``, ``query:SQL``, or a ``.csv``/``.csv.gz``/``.parquet``/``.pq`` file."""
    if text.startswith("table:"):
        name = text[len("table:"):].strip()
        if not name:
            raise BadInput("source 'table:' names no table")
        return Source("table", name)
    if text.startswith("query:"):
        sql = text[len("query:"):].strip()
        if not sql:
            raise BadInput("source 'query:' has no SQL")
        return Source("query", sql)
    low = text.lower()
    if low.endswith((".csv", ".csv.gz")):
        return Source("csv", text)
    if low.endswith((".parquet", ".pq")):
        return Source("parquet", text)
    raise BadInput(f"{text}: unknown input kind (use a .csv or .parquet file, table:NAME or query:SQL)")


# --------------------------------------------------------------------------- raw reading


def _missing(source: Source, have: list[str], want: list[str]) -> None:
    # files: any repeated header is refused; a query may repeat columns the job does not read
    unique_columns(list(have), source.label, None if source.kind in ("csv", "parquet") else want)
    missing = [c for c in want if c not in have]
    if missing:
        shown = ", ".join(have[:12]) + (" ..." if len(have) > 12 else "")
        raise BadInput(f"{source.label}: missing column(s) {', '.join(missing)} (has: {shown or 'no columns'})")


BATCH_ROWS = 131072  # rows per batch when streaming files: the window is applied batch by batch


def _read_csv(source: Source, columns: list[str], types: dict) -> Iterator[pa.Table]:
    """Stream the file in blocks; ``types`` fixes the feature columns' types (blocks must agree)."""
    import pyarrow.csv as pcsv

    path = Path(source.target)
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
    except FileNotFoundError:
        raise BadInput(f"{source.target}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"{source.target}: cannot read: {exc.__class__.__name__}") from None
    _missing(source, header, columns)
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=16 << 20),
            convert_options=pcsv.ConvertOptions(include_columns=columns, strings_can_be_null=True,
                                                column_types={c: t for c, t in types.items() if c in columns}),
        )
        for batch in reader:
            yield pa.Table.from_batches([batch])
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(f"{source.target}: not valid CSV: {str(exc).splitlines()[0]}") from None


def _read_parquet(source: Source, columns: list[str]) -> Iterator[pa.Table]:
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(source.target)
    except FileNotFoundError:
        raise BadInput(f"{source.target}: file not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(f"{source.target}: not a Parquet file: {str(exc).splitlines()[0]}") from None
    _missing(source, f.schema_arrow.names, columns)
    for batch in f.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        yield pa.Table.from_batches([batch])


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported without echoing it
        return "<database URL>"


def _scrub(text: str, url: str) -> str:
    """An error message with the URL's password (if any) removed."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first.replace(password, "***") if password else first


def reflect_table(conn, name: str, label: str):
    """The table, reflected; where the dialect cannot reflect (duckdb-engine on SQLAlchemy 2.1), its
    columns from a one-row sample (``sa.table``: the name is quoted, never spliced in)."""
    import sqlalchemy as sa

    try:
        return sa.Table(name, sa.MetaData(), autoload_with=conn)
    except sa.exc.NoSuchTableError:
        raise BadInput(f"{label}: no such table") from None
    except sa.exc.DBAPIError:
        if conn.in_transaction():
            conn.rollback()
    schema, _, table = name.rpartition(".")
    probe = conn.execute(sa.select(sa.literal_column("*")).select_from(sa.table(table, schema=schema or None)).limit(1))
    keys = list(probe.keys())
    first = probe.first()
    py = {bool: sa.Boolean, int: sa.BigInteger, float: sa.Float, str: sa.String}
    cols = []
    for i, k in enumerate(keys):
        v = first[i] if first is not None else None
        t = (sa.DateTime(timezone=v.tzinfo is not None) if isinstance(v, datetime)
             else py.get(type(v), sa.types.NullType)())
        cols.append(sa.Column(k, t))
    return sa.Table(table, sa.MetaData(), *cols, schema=schema or None)


@contextmanager
def connect(db_url: str | None, label: str):
    """A connection to the jobs' database; every failure is a one-line BadInput without the password."""
    import sqlalchemy as sa

    if not db_url:
        raise BadInput(f"{label}: no database: set ${DB_URL_ENV} (or --db-url-env NAME) or pass --sqlite FILE")
    where = _safe_url(db_url)
    try:
        engine = sa.create_engine(db_url)
    except Exception as exc:  # noqa: BLE001 - bad URL or driver not installed
        raise BadInput(f"database {where}: {exc.__class__.__name__}: {_scrub(exc, db_url)}") from None
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        raise BadInput(f"{label} in {where}: {orig.__class__.__name__}: {_scrub(orig, db_url)}") from None
    finally:
        engine.dispose()


def _read_sql(source: Source, columns: list[str], db_url: str, ts: str | None, start, end) -> pa.Table:
    import sqlalchemy as sa

    where = _safe_url(db_url)
    with connect(db_url, source.label) as conn:
        if source.kind == "table":
            table = reflect_table(conn, source.target, f"{source.label} in {where}")
            _missing(source, [c.name for c in table.columns], columns)
            stmt = sa.select(*[table.c[c] for c in columns])
            # Push the window into SQL when the column is a real timestamp type.
            if ts and start is not None and isinstance(table.c[ts].type, sa.DateTime):
                col = table.c[ts]
                naive = not getattr(col.type, "timezone", False)
                lo, hi = (d.replace(tzinfo=None) if naive else d for d in (start, end))
                stmt = stmt.where(col >= lo, col < hi)
            result = conn.execute(stmt)
        else:
            result = conn.execute(sa.text(source.target))
            have = list(result.keys())
            _missing(source, have, columns)
        keys = list(result.keys())
        rows = result.fetchall()
    data = {}
    for i, name in enumerate(keys):
        if name in columns and name not in data:
            values = [r[i] for r in rows]
            try:
                data[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                data[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.table({c: data[c] for c in columns})


# --------------------------------------------------------------------------- window


def _parse_iso(value: str) -> datetime:
    d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def as_utc(col: pa.ChunkedArray, name: str, label: str) -> pa.ChunkedArray:
    """A timestamp column as ``timestamp[us, UTC]``: naive times are UTC, numbers are epoch seconds."""
    t = col.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            col = pc.assume_timezone(col.cast(pa.timestamp("us")), "UTC")
        return col.cast(UTC_US)
    if pa.types.is_date(t):
        return pc.assume_timezone(col.cast(pa.timestamp("us")), "UTC").cast(UTC_US)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        micros = pc.multiply(col.cast(pa.float64()), 1e6)
        return pc.round(micros).cast(pa.int64()).cast(UTC_US)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        for target in (UTC_US, pa.timestamp("us")):
            try:
                out = col.cast(target)
                return out if target.tz else pc.assume_timezone(out, "UTC").cast(UTC_US)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        values = []
        for v in col.to_pylist():
            try:
                values.append(None if v is None else _parse_iso(v))
            except ValueError:
                raise BadInput(f"{label}: column {name!r}: {v!r} is not a timestamp (use ISO 8601)") from None
        return pa.chunked_array([pa.array(values, type=UTC_US)])
    raise BadInput(f"{label}: column {name!r} is {t}, not a timestamp")


def _window_mask(table: pa.Table, column: str, start: datetime, end: datetime, label: str) -> np.ndarray:
    """Booleans: which rows have ``start <= column < end`` (null timestamps never do)."""
    ts = as_utc(table.column(column), column, label)
    keep = pc.and_(pc.greater_equal(ts, pa.scalar(start, UTC_US)), pc.less(ts, pa.scalar(end, UTC_US)))
    return pc.fill_null(keep, False).to_numpy(zero_copy_only=False)


def _in_window(table: pa.Table, column: str, start: datetime, end: datetime, label: str) -> pa.Table:
    return table.filter(pa.array(_window_mask(table, column, start, end, label)))


def read_table(source: Source, columns: list[str], *, timestamp_column: str | None = None,
               start: datetime | None = None, end: datetime | None = None, db_url: str | None = None,
               types: dict | None = None) -> pa.Table:
    """The ``columns`` of ``source``, restricted to ``start <= timestamp < end`` when a window is given.

    Files are read in batches and each batch is cut to the window at once, so memory holds the
    window, not the whole file. ``types`` ({column: arrow type}) pins column types of CSV files.
    """
    want = list(dict.fromkeys(columns + ([timestamp_column] if timestamp_column else [])))
    windowed = bool(timestamp_column and start is not None)
    if source.kind in ("csv", "parquet"):
        parts = _read_csv(source, want, types or {}) if source.kind == "csv" else _read_parquet(source, want)
        total, kept = 0, []
        for part in parts:
            total += part.num_rows
            kept.append(_in_window(part, timestamp_column, start, end, source.label) if windowed else part)
        if total == 0:
            raise BadInput(f"{source.label}: has no rows")
        try:
            table = pa.concat_tables(kept, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise BadInput(f"{source.label}: column types differ between parts of the file: {exc}") from None
    else:
        if not db_url:
            raise BadInput(f"{source.label}: no database: set ${DB_URL_ENV} (or --db-url-env NAME) or pass --sqlite FILE")
        table = _read_sql(source, want, db_url, timestamp_column, start, end)
        if table.num_rows == 0:
            raise BadInput(f"{source.label}: has no rows")
        if windowed:
            table = _in_window(table, timestamp_column, start, end, source.label)
    if windowed and table.num_rows == 0:
        raise BadInput(
            f"{source.label}: empty window: no rows with {timestamp_column} in "
            f"[{start.isoformat()}, {end.isoformat()})"
        )
    return table


# --------------------------------------------------------------------------- columns for the maths


def numeric_column(table: pa.Table, name: str, label: str) -> np.ndarray:
    """A float64 array: nulls, NaN and +-inf all NaN (missing, see ``job_checks``); a non-numeric column is bad input."""
    return numeric_column_counted(table, name, label)[0]


def numeric_column_counted(table: pa.Table, name: str, label: str) -> tuple[np.ndarray, int]:
    """``numeric_column`` and how many of its values were +-inf (now NaN)."""
    col = table.column(name)
    t = col.type
    if pa.types.is_null(t):
        return np.full(table.num_rows, np.nan), 0
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t)):
        try:
            col = col.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise BadInput(f"{label}: column {name!r} is {t}, not numeric (declare it categorical in the spec?)") from None
    values = col.cast(pa.float64()).to_numpy()
    infinite = np.isinf(values)
    n_inf = int(np.count_nonzero(infinite))
    return (np.where(infinite, np.nan, values) if n_inf else values), n_inf


def category_counts(table: pa.Table, name: str) -> tuple[dict[str, int], int]:
    """``({category: rows}, null rows)`` of a categorical column (any type, compared as text)."""
    col = table.column(name)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    counts: dict[str, int] = {}
    missing = 0
    for item in pc.value_counts(col).to_pylist():
        if item["values"] is None:
            missing += item["counts"]
        else:
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return counts, missing


def text_values(table: pa.Table, name: str) -> list:
    """A column as Python strings (None for null), for class labels."""
    col = table.column(name)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    return col.to_pylist()
