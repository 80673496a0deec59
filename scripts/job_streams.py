"""The jobs' bounded-memory engines: files streamed batch by batch, SQL sources counted by the database.

``stream``: CSV and Parquet files are read in record batches (Parquet through ``pyarrow.dataset``,
so the time window prunes row groups), each batch is cut to the window and reduced to counts
(``instrumentation.accumulators``), then dropped. ``sql``: one aggregate query per job
(``instrumentation.sql_pushdown``) with the window in its WHERE clause; only counts come back.
Both hand the counts to the same scoring code as the in-memory engine.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pyarrow as pa

from modeldash.instrumentation.accumulators import CategoryAccumulator, NumericAccumulator, counts_from_codes, \
    counts_from_histograms
from modeldash.instrumentation.sql_pushdown import FeatureBins, Window, confusion_query, drift_query, \
    duckdb_drift_query, error_sums_query, grouping_sets_drift_query, quality_checks_query
from modeldash.scripts import job_checks as checks
from modeldash.scripts import job_inputs as inputs
from modeldash.scripts.cli_common import BadInput

ENGINES = ("auto", "memory", "stream", "sql")
FILE_KINDS = ("csv", "parquet")


class CannotPush(Exception):
    """The source cannot be counted by the database (e.g. a text timestamp column); ``auto`` then reads it."""


def pick_engine(requested: str, *sources) -> str:
    """``auto``: pushdown when every source is SQL, streaming when every source is a file, else memory."""
    kinds = {s.kind in FILE_KINDS for s in sources}
    if requested == "auto":
        return "stream" if kinds == {True} else "sql" if kinds == {False} else "memory"
    if requested == "sql" and True in kinds:
        raise BadInput("--engine sql: needs table:/query: sources (files are read with --engine stream)")
    if requested == "stream" and False in kinds:
        raise BadInput("--engine stream: reads files; table:/query: sources are counted by the database (--engine sql)")
    return requested


@dataclass
class Counted:
    """What an engine hands to the scoring code, and what the report says about it."""

    columns: dict
    prediction: object | None
    rows: int
    engine: str
    detail: dict = field(default_factory=dict)


def feature_bins(model, profile: dict, prediction_column: str | None) -> list[FeatureBins]:
    """The columns to count, with the baseline's edges and grid (the prediction last, when scored)."""
    out = []
    for f in model.features:
        p = profile["features"][f.name]
        out.append(FeatureBins(f.name, "numeric", tuple(p["bins"]["edges"]), tuple(p["ecdf"]["x"]))
                   if f.kind == "numeric" else FeatureBins(f.name, "categorical"))
    if prediction_column:
        base = profile.get("prediction")
        if model.task == "classification":
            out.append(FeatureBins(prediction_column, "categorical"))
        elif base:
            out.append(FeatureBins(prediction_column, "numeric", tuple(base["bins"]["edges"]), tuple(base["ecdf"]["x"])))
    return out


def _split(model, bins: list[FeatureBins], results: list, prediction_column: str | None):
    columns = {f.name: results[i] for i, f in enumerate(model.features)}
    pred = None
    if prediction_column:
        # a regressor without a prediction profile: the scorer only notes it, any placeholder will do
        pred = results[len(model.features)] if len(bins) > len(model.features) else ({}, 0)
    return columns, pred


# --------------------------------------------------------------------------- files, streamed


def _row_groups(meta, schema, ts: str, start, end) -> list[int] | None:
    """Row groups whose ``ts`` statistics overlap the window (None: no statistics to prune with)."""
    t = schema.field(ts).type
    if pa.types.is_timestamp(t):
        per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[t.unit]
        lo, hi = (_epoch(d) * per_s // 10**6 for d in (start, end))  # raw values: UTC (naive = UTC) in the unit
    elif pa.types.is_integer(t) or pa.types.is_floating(t):
        lo, hi = start.timestamp() - 1, end.timestamp() + 1  # margin: the exact cut is made on each batch
    else:
        return None
    col = schema.get_field_index(ts)
    keep = []
    for i in range(meta.num_row_groups):
        st = meta.row_group(i).column(col).statistics
        if st is None or not st.has_min_max:
            keep.append(i)
            continue
        mn, mx = (st.min_raw, st.max_raw) if pa.types.is_timestamp(t) else (st.min, st.max)
        if mx >= lo and mn < hi:
            keep.append(i)
    return keep


def _epoch(d) -> int:
    """Microseconds since the epoch of an aware datetime (exact: no float)."""
    from datetime import datetime, timezone

    delta = d - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds


def _open_parquet(source, columns: list[str]):
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(source.target, buffer_size=1 << 20, pre_buffer=False)
    except FileNotFoundError:
        raise BadInput(f"{source.target}: file not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(f"{source.target}: not a Parquet file: {str(exc).splitlines()[0]}") from None
    inputs._missing(source, f.schema_arrow.names, columns)
    return f


def parquet_columns(source, columns: list[str], ts: str | None, start, end):
    """``(rows, [(row_group, window_mask or None, rows kept)])`` of a Parquet file: the row groups whose ``ts``
    statistics overlap the window, each with its exact window mask.

    The caller then reads one column of one row group at a time: pyarrow decodes a whole column
    chunk per read, so memory holds one column of one row group, never the file or a full row group.
    """
    f = _open_parquet(source, columns + ([ts] if ts else []))
    windowed = bool(ts and start is not None)
    groups = _row_groups(f.metadata, f.schema_arrow, ts, start, end) if windowed else None
    out = []
    for i in (range(f.metadata.num_row_groups) if groups is None else groups):
        mask = None
        if windowed:
            t = f.read_row_group(i, columns=[ts])
            mask = inputs._window_mask(t, ts, start, end, source.label)
        out.append((i, mask, f.metadata.row_group(i).num_rows if mask is None else int(np.count_nonzero(mask))))
    return f.metadata.num_rows, out


def csv_batches(source, columns: list[str], ts: str | None, start, end, types: dict) -> Iterator[pa.Table]:
    """Blocks of ``columns`` of a CSV file, already cut to the window; BadInput on an empty file."""
    want = list(dict.fromkeys(columns + ([ts] if ts else [])))
    total = 0
    for part in inputs._read_csv(source, want, types):
        total += part.num_rows
        yield inputs._in_window(part, ts, start, end, source.label) if ts and start is not None else part
    if total == 0:
        raise BadInput(f"{source.label}: has no rows")


def _accumulators(bins: list[FeatureBins]) -> list:
    return [NumericAccumulator(f.edges, f.grid) if f.kind == "numeric" else CategoryAccumulator() for f in bins]


def drift_stream(source, model, profile: dict, prediction_column: str | None, ts: str | None, start, end,
                 types: dict) -> Counted:
    """One pass over the file's batches; memory holds one batch and the counts."""
    bins = feature_bins(model, profile, prediction_column)
    accs = _accumulators(bins)
    rows = 0
    cols = [f.name for f in model.features] + ([prediction_column] if prediction_column else [])

    infinite = [0] * len(bins)

    def count(i, part, mask=None):
        f, acc = bins[i], accs[i]
        if f.kind == "numeric":
            values, _ = inputs.numeric_column_counted(part, f.column, source.label)
            values = values if mask is None else values[mask]
            infinite[i] += int(np.count_nonzero(np.isinf(_raw(part, f.column, mask)))) if _ else 0
            acc.add(values)
        else:
            acc.add(*inputs.category_counts(part if mask is None else part.filter(pa.array(mask)), f.column))

    workers = min(len(bins), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        if source.kind == "parquet":
            total, groups = parquet_columns(source, cols, ts, start, end)
            if total == 0:
                raise BadInput(f"{source.label}: has no rows")
            local = threading.local()

            def one(i, group, mask):
                if not hasattr(local, "file"):  # one handle per thread: reads run side by side
                    local.file = _open_parquet(source, cols)
                count(i, local.file.read_row_group(group, columns=[bins[i].column]), mask)

            for group, mask, kept in groups:
                if kept == 0:
                    continue
                list(pool.map(lambda i: one(i, group, mask), range(len(bins))))
                rows += kept
        else:
            for part in csv_batches(source, cols, ts, start, end, types):
                if part.num_rows == 0:
                    continue
                rows += part.num_rows
                list(pool.map(lambda i: count(i, part), range(len(bins))))
    _empty_window(rows, source, ts, start, end)
    results = [a.counts() if isinstance(a, NumericAccumulator) else a.result() for a in accs]
    notes = []
    for f, r, n_inf in zip(bins, results, infinite):  # +-inf: noted, or refused when nothing finite is left
        note = checks.infinite_counts(rows, r.n, n_inf, f.column, source.label) if f.kind == "numeric" else None
        if note:
            notes.append(note)
    columns, pred = _split(model, bins, results, prediction_column)
    detail = {"batch_rows": inputs.BATCH_ROWS} if source.kind == "csv" else {"read": "one row group column at a time"}
    return Counted(columns, pred, rows, "stream", {**detail, **({"notes": notes} if notes else {})})


def _raw(part: pa.Table, column: str, mask):
    values = part.column(column).cast(pa.float64()).to_numpy()
    return values if mask is None else values[mask]


def _empty_window(rows: int, source, ts, start, end) -> None:
    if rows:
        return
    if ts and start is not None:
        raise BadInput(f"{source.label}: empty window: no rows with {ts} in [{start.isoformat()}, {end.isoformat()})")
    raise BadInput(f"{source.label}: has no rows")


# --------------------------------------------------------------------------- SQL, pushed down


DUCKDB_FILES = "duckdb:///:memory:"  # the quality job's stream engine: DuckDB joins the files, spilling to disk
DUCKDB_MEMORY_LIMIT = "256MB"


@contextmanager
def connect(db_url: str | None, label: str):
    """``job_inputs.connect``; the in-process DuckDB over files gets a memory limit (it spills beyond)."""
    with inputs.connect(db_url, label) as conn:
        if db_url == DUCKDB_FILES:
            conn.exec_driver_sql(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")  # our constant, not input
            conn.exec_driver_sql("SET preserve_insertion_order = false")
        yield conn


@dataclass
class SqlSource:
    selectable: object  # a reflected Table or a subquery of the user's query
    types: dict  # column -> SQLAlchemy type (tables) or a sample value (queries, files)
    is_table: bool


def sql_source(conn, source, columns: list[str], name: str = "md_src") -> SqlSource:
    """The table (reflected) or the query (as a subquery ``md_src``); missing columns are bad input."""
    import sqlalchemy as sa

    if source.kind == "table":
        table = inputs.reflect_table(conn, source.target, source.label)
        inputs._missing(source, [c.name for c in table.columns], columns)
        return SqlSource(table, {c.name: c.type for c in table.columns}, True)
    text = _file_text(source) if source.kind in FILE_KINDS else sa.text(source.target)
    # one sample row: the column names, and (from the driver's Python values) how to bind the window
    probe = conn.execute(sa.select(sa.literal_column("*")).select_from(text.columns().subquery("md_src")).limit(1))
    keys = list(probe.keys())
    first = probe.first()
    inputs._missing(source, _file_header(source) if source.kind in FILE_KINDS else keys, columns)
    sub = text.columns(*[sa.column(k) for k in keys]).subquery(name)
    return SqlSource(sub, {k: first[i] if first is not None else None for i, k in enumerate(keys)}, False)


def _file_header(source) -> list[str]:
    """The file's own column names (DuckDB would rename a duplicate header; the jobs refuse it)."""
    import csv
    import gzip

    import pyarrow.parquet as pq

    if source.kind == "parquet":
        return list(pq.read_schema(source.target).names)
    opener = gzip.open if source.target.lower().endswith(".gz") else open
    with opener(source.target, "rt", encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def _file_text(source):
    """``SELECT * FROM read_parquet(:path)`` (or ``read_csv_auto``) for DuckDB, the path bound."""
    import sqlalchemy as sa

    if not os.path.exists(source.target):
        raise BadInput(f"{source.target}: file not found")
    reader = "read_parquet" if source.kind == "parquet" else "read_csv_auto"
    return sa.text(f"SELECT * FROM {reader}(:path)").bindparams(sa.bindparam("path", source.target, unique=True))


def sql_window(src: SqlSource, ts: str | None, start, end, label: str) -> Window | None:
    """The window as a WHERE clause, or CannotPush when the column's type does not allow it."""
    import datetime as dt

    import sqlalchemy as sa

    if not ts or start is None:
        return None
    t = src.types.get(ts)
    if src.is_table:
        if isinstance(t, sa.DateTime):
            return Window(ts, "datetime_tz" if getattr(t, "timezone", False) else "datetime_naive", start, end)
        if isinstance(t, (sa.Integer, sa.Float, sa.Numeric)):
            return Window(ts, "epoch", start, end)
    elif isinstance(t, dt.datetime):  # the driver returned a datetime: the column is a timestamp
        return Window(ts, "datetime_tz" if t.tzinfo else "datetime_naive", start, end)
    elif isinstance(t, (int, float)) and not isinstance(t, bool):
        return Window(ts, "epoch", start, end)
    raise CannotPush(f"{label}: the window cannot be pushed down: column {ts!r} is not a timestamp or number "
                     "in the database (cast it in a query: source, or use --engine memory)")


def _numeric_types_ok(src: SqlSource, bins: list[FeatureBins], label: str) -> set:
    """Refuse non-numeric columns of a table for numeric features; return the categoricals to cast to text."""
    import sqlalchemy as sa

    cast = set()
    for f in bins:
        t = src.types.get(f.column)
        known = src.is_table and not isinstance(t, sa.types.NullType)  # NullType: a sampled NULL, type unknown
        if f.kind == "numeric" and known and not isinstance(t, (sa.Integer, sa.Float, sa.Numeric, sa.Boolean)):
            raise BadInput(f"{label}: column {f.column!r} is {t}, not numeric (declare it categorical in the spec?)")
        if f.kind == "categorical" and not (src.is_table and isinstance(t, sa.String)):
            cast.add(f.column)
    return cast


def _result_bytes(rows) -> int:
    """A lower bound of what the result set carried: 8 bytes per number, the text of each string."""
    def size(v) -> int:
        if isinstance(v, dict):  # DuckDB's histogram maps
            return sum(size(k) + 8 for k in v)
        return len(v.encode()) if isinstance(v, str) else 8

    return sum(size(v) for r in rows for v in r)


def drift_sql(source, model, profile: dict, prediction_column: str | None, ts: str | None, start, end,
              db_url: str | None) -> Counted:
    """One aggregate query; the database returns a few thousand count rows, never the window's rows."""
    bins = feature_bins(model, profile, prediction_column)
    cols = [f.name for f in model.features] + ([prediction_column] if prediction_column else [])
    with connect(db_url, source.label) as conn:
        src = sql_source(conn, source, cols + ([ts] if ts else []))
        window = sql_window(src, ts, start, end, source.label)
        cast = _numeric_types_ok(src, bins, source.label)
        dialect = conn.dialect.name
        if dialect == "duckdb":
            row = conn.execute(duckdb_drift_query(src.selectable, bins, window)).one()._mapping
            groups = [tuple(row.values())]
        elif dialect == "postgresql":
            stmt = grouping_sets_drift_query(src.selectable, bins, window, dialect, cast_text=cast)
            groups = conn.execute(stmt).fetchall()
        else:
            groups = conn.execute(drift_query(src.selectable, bins, window, dialect, cast_text=cast)).fetchall()
    if dialect == "duckdb":
        rows = int(row["rows"])
        _empty_window(rows, source, ts, start, end)
        results = [_from_duckdb(row, i, f, rows) for i, f in enumerate(bins)]
    else:
        rows, results = _from_groups(groups, bins)
        _empty_window(rows, source, ts, start, end)
    columns, pred = _split(model, bins, results, prediction_column)
    return Counted(columns, pred, rows, "sql", {"result_rows": len(groups), "result_bytes": _result_bytes(groups),
                                                 "dialect": dialect})


def _from_groups(groups, bins: list[FeatureBins]) -> tuple[int, list]:
    """Rows in the window and each feature's counts, from ``drift_query``'s groups."""
    per = [[] for _ in bins]
    for f, a, b, c, n in groups:
        per[int(f)].append((a, b, c, n))
    rows = sum(int(g[3]) for g in per[0]) if per else 0
    results = []
    for f, gs in zip(bins, per):
        if f.kind == "numeric":
            results.append(counts_from_codes(len(f.edges), len(f.grid), [(a, b, n) for a, b, _c, n in gs]))
        else:
            acc = CategoryAccumulator()
            for _a, _b, c, n in gs:
                acc.add({c: n})
            results.append(acc.result())
    return rows, results


def _from_duckdb(row, i: int, f: FeatureBins, rows: int):
    n = int(row[f"n{i}"])
    if f.kind == "categorical":
        return {str(k): int(v) for k, v in (row[f"cat{i}"] or {}).items()}, rows - n
    return counts_from_histograms(n, rows - n, f.edges, f.grid, row[f"le{i}"] or {}, row[f"qe{i}"] or {},
                                  row[f"lg{i}"] or {}, row[f"qg{i}"] or {})


def quality_sql(psrc, lsrc, model, id_col: str, pred_col: str, label_col: str, ts: str | None, start, end,
                db_url: str | None):
    """The quality job's counts from the database: ``(pairs or sums, predictions, labelled, detail)``."""
    notes: list[str] = []
    if psrc.kind in FILE_KINDS:
        db_url = DUCKDB_FILES
    with connect(db_url, psrc.label) as conn:
        p = sql_source(conn, psrc, [id_col, pred_col] + ([ts] if ts else []), "md_preds")
        lab = sql_source(conn, lsrc, [id_col, label_col], "md_labels")
        window = sql_window(p, ts, start, end, psrc.label)
        pt, lt = p.types.get(id_col), lab.types.get(id_col)
        cast_ids = type(pt) is not type(lt)
        if p.is_table and lab.is_table and psrc.target == lsrc.target:
            lab = SqlSource(lab.selectable.alias("md_labels"), lab.types, lab.is_table)
        ids_row = conn.execute(quality_checks_query(p.selectable, lab.selectable, id_col, window)).one()
        rows, distinct, ids, l_rows, l_distinct, l_ids = (int(v or 0) for v in ids_row)
        if rows == 0:
            _empty_window(0, psrc, ts, start, end)
        if l_rows == 0:
            raise BadInput(f"{lsrc.label}: has no rows")
        for label, name, n, d, i in ((psrc.label, "prediction", rows, distinct, ids), (lsrc.label, "label", l_rows, l_distinct, l_ids)):
            if i != n:
                raise BadInput(f"{label}: column {id_col!r} has {n - i} empty ids")
            if d != n:
                raise BadInput(f"{label}: column {id_col!r} has duplicate ids; each {name} needs one row")
        if model.task == "classification":
            result = conn.execute(confusion_query(p.selectable, lab.selectable, id_col, pred_col, label_col, window,
                                                  cast_ids=cast_ids)).fetchall()
            pairs = {(str(t), str(q)): int(n) for t, q, n in result}  # NULL as "None", like the in-memory path
            joined = sum(pairs.values())
            out = pairs
        else:
            result = [conn.execute(error_sums_query(p.selectable, lab.selectable, id_col, pred_col, label_col, window,
                                                    conn.dialect.name, cast_ids=cast_ids)).one()]
            j, scored, sum_sq, sum_abs, y_fin, y_inf, yhat_fin, yhat_inf = result[0]
            joined = int(j or 0)
            if joined:  # the in-memory path's notes and refusals for +-inf, from the counts
                for col, label, fin, inf in ((label_col, lsrc.label, y_fin, y_inf), (pred_col, psrc.label, yhat_fin, yhat_inf)):
                    note = checks.infinite_counts(joined, int(fin or 0), int(inf or 0), col, label)
                    if note:
                        notes.append(note)
            out = (int(scored or 0), float(sum_sq or 0.0), float(sum_abs or 0.0))
        detail = {"result_rows": len(result) + 1, "result_bytes": _result_bytes(result) + 48, "dialect": conn.dialect.name}
        if notes:
            detail["notes"] = notes
    if joined == 0:
        raise BadInput(f"no prediction in {psrc.label} (window) has a label in {lsrc.label} yet (joined on {id_col!r}); "
                       "nothing to score")
    return out, rows, joined, detail
