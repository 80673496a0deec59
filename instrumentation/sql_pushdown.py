"""Aggregate queries that make the database count what the drift and quality scores need.

Built with SQLAlchemy Core, so identifiers are quoted by the dialect and every value (bin edges,
ECDF grid points, window bounds, integer codes) is a bound parameter: no value is ever written
into the SQL text. Only counts come back: per numeric feature a few thousand groups (baseline
bin, ECDF grid position), per categorical feature one group per category, per quality job one
group per (label, prediction) pair or one row of error sums.

Binning is ``width_bucket(v, ARRAY[...])`` on PostgreSQL (a binary search in C) and a balanced
tree of ``CASE`` expressions elsewhere (SQLite, DuckDB, any dialect with standard ``CASE``):
both give ``j`` = grid points ``<= v``. The rows are unpivoted against a small constant list of
feature numbers, so the table is scanned once for all features.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

NAN_EQUALS_NAN = ("postgresql", "duckdb")  # NaN = NaN holds there: NULLIF(v, NaN) makes NaN missing
CAST_TO_DOUBLE = ("postgresql", "duckdb")
BINDS_INFINITY = ("postgresql", "duckdb", "sqlite")  # +-inf count as missing, as in the other engines


@dataclass(frozen=True)
class FeatureBins:
    """One column to count: numeric (baseline ``edges`` and ECDF ``grid``) or categorical."""

    column: str
    kind: str  # numeric | categorical
    edges: tuple[float, ...] = ()
    grid: tuple[float, ...] = ()


@dataclass(frozen=True)
class Window:
    """``start <= column < end``; ``kind`` says how the bounds are bound: datetime (aware/naive) or epoch seconds."""

    column: str
    kind: str  # datetime_tz | datetime_naive | epoch
    start: datetime
    end: datetime

    def clause(self, col):
        if self.kind == "epoch":
            lo, hi = (sa.bindparam(None, d.timestamp(), type_=sa.Float()) for d in (self.start, self.end))
        else:
            tz = self.kind == "datetime_tz"
            lo, hi = (sa.bindparam(None, d if tz else d.replace(tzinfo=None), type_=sa.DateTime(timezone=tz))
                      for d in (self.start, self.end))
        return sa.and_(col >= lo, col < hi)


def _int(value: int):
    return sa.bindparam(None, int(value), type_=sa.Integer())


def _tree(col, grid: tuple[float, ...], lo: int, hi: int):
    """``2 j + (v == x_{j-1})`` for ``j`` in ``[lo, hi]``: nested CASE, depth log2(len(grid))."""
    if lo == hi:
        if lo == 0:
            return _int(0)
        return sa.case((col == sa.bindparam(None, grid[lo - 1], type_=sa.Float()), _int(2 * lo + 1)), else_=_int(2 * lo))
    mid = (lo + hi + 1) // 2  # j >= mid  <=>  x_{mid-1} <= v
    return sa.case((col < sa.bindparam(None, grid[mid - 1], type_=sa.Float()), _tree(col, grid, lo, mid - 1)),
                   else_=_tree(col, grid, mid, hi))


def _json_points(points: tuple[float, ...]):
    """SQLite: the points as rows of ``json_each(:points)``, one bound parameter (repr round-trips floats)."""
    return sa.func.json_each(sa.bindparam(None, json.dumps([float(p) for p in points]), type_=sa.String())) \
        .table_valued("value")


def _bucket(col, points: tuple[float, ...], dialect: str):
    """Points ``<= v`` (0 .. len(points)); NULL when ``v`` is NULL."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return sa.func.width_bucket(col, sa.bindparam(None, list(points), type_=ARRAY(sa.Float())))
    if dialect == "sqlite":  # SQLite prepares big CASE trees in quadratic time: count against json_each instead
        pts = _json_points(points)
        return sa.select(sa.func.sum(pts.c.value <= col, type_=sa.Integer())).scalar_subquery()
    return _tree_plain(col, points, 0, len(points))


def _tree_plain(col, points, lo, hi):
    if lo == hi:
        return _int(lo)
    mid = (lo + hi + 1) // 2
    return sa.case((col < sa.bindparam(None, points[mid - 1], type_=sa.Float()), _tree_plain(col, points, lo, mid - 1)),
                   else_=_tree_plain(col, points, mid, hi))


def _grid_code(col, grid: tuple[float, ...], dialect: str):
    """``2 j + (v == x_{j-1})`` with ``j`` = grid points ``<= v``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        arr = sa.bindparam(None, list(grid), type_=ARRAY(sa.Float()))
        j = sa.func.width_bucket(col, arr)
        element = sa.type_coerce(sa.Grouping(sa.cast(arr, ARRAY(sa.Float()))), ARRAY(sa.Float()))[j]  # (grid)[j] = x_{j-1}
        equal = sa.case((col == element, _int(1)), else_=_int(0))
        return _int(2) * j + equal
    if dialect == "sqlite":  # O(len(grid)) per value; PostgreSQL and DuckDB search in O(log)
        pts = _json_points(grid)
        j = sa.func.sum(pts.c.value <= col, type_=sa.Integer())
        return sa.select(_int(2) * j + sa.func.max(pts.c.value == col, type_=sa.Integer())).scalar_subquery()
    return sa.case((col.is_(None), sa.null()), else_=_tree(col, grid, 0, len(grid)))


def numeric_value(col, dialect: str):
    """The column as a double; NaN and +-inf as NULL (missing) where the database can store them."""
    if dialect in CAST_TO_DOUBLE:
        col = sa.cast(col, sa.Double())
    if dialect in NAN_EQUALS_NAN:
        col = sa.func.nullif(col, sa.bindparam(None, float("nan"), type_=sa.Double()))
    if dialect in BINDS_INFINITY:
        for inf in (float("inf"), float("-inf")):
            col = sa.func.nullif(col, sa.bindparam(None, inf, type_=sa.Double()))
    return col


def drift_query(src, features: list[FeatureBins], window: Window | None, dialect: str, *, cast_text=frozenset()):
    """One aggregate over ``src`` (a table or subquery): rows ``(feature_no, bin, code, category, rows)``.

    Numeric feature ``i``: ``bin`` = baseline edges ``<= v``, ``code`` = ``2 j + (v == x_{j-1})``;
    categorical: ``category`` as text. NULLs group as NULL (missing). ``cast_text`` names
    categorical columns to cast to text (those not known to be text already).
    """
    cols = _feature_columns(src, features, dialect, cast_text)
    inner = sa.select(*[e.label(k) for k, e in cols.items()]).select_from(src)
    if window is not None:
        inner = inner.where(window.clause(src.c[window.column]))
    rows = inner.subquery("md_rows")
    idx = sa.union_all(*[sa.select(_int(i).label("f")) for i in range(len(features))]).subquery("md_features")

    def pick(prefix: str):
        whens = [(idx.c.f == _int(i), rows.c[f"{prefix}{i}"]) for i in range(len(features)) if f"{prefix}{i}" in rows.c]
        return sa.case(*whens, else_=sa.null()) if whens else sa.null()

    expanded = sa.select(idx.c.f.label("f"), pick("a").label("a"), pick("b").label("b"), pick("c").label("c")) \
        .select_from(rows.join(idx, sa.true())).subquery("md_cells")
    e = expanded.c
    return sa.select(e.f, e.a, e.b, e.c, sa.func.count().label("n")).group_by(e.f, e.a, e.b, e.c)


def grouping_sets_drift_query(src, features: list[FeatureBins], window: Window | None, dialect: str, *,
                              cast_text=frozenset()):
    """PostgreSQL: the same counts as ``drift_query`` in one pass with ``GROUP BY GROUPING SETS``
    (one set per feature, hashed side by side), instead of unpivoting every row per feature.

    Rows as ``drift_query``'s: ``(feature_no, bin, code, category, rows)``, the feature told by
    ``GROUPING()`` (0 for the set a row belongs to), so only five columns come back per group.
    """
    cols = _feature_columns(src, features, dialect, cast_text)
    inner = sa.select(*[e.label(k) for k, e in cols.items()]).select_from(src)
    if window is not None:
        inner = inner.where(window.clause(src.c[window.column]))
    rows = inner.subquery("md_rows")
    sets, own = [], []
    for i, f in enumerate(features):
        keys = [rows.c[f"a{i}"], rows.c[f"b{i}"]] if f.kind == "numeric" else [rows.c[f"c{i}"]]
        sets.append(sa.tuple_(*keys))
        own.append(sa.func.grouping(*keys) == _int(0))  # this row is feature i's group

    def pick(prefix: str):
        whens = [(own[i], rows.c[f"{prefix}{i}"]) for i in range(len(features)) if f"{prefix}{i}" in rows.c]
        return sa.case(*whens, else_=sa.null()) if whens else sa.null()

    feature = sa.case(*[(own[i], _int(i)) for i in range(len(features))], else_=sa.null())
    return sa.select(feature.label("f"), pick("a").label("a"), pick("b").label("b"), pick("c").label("c"),
                     sa.func.count().label("n")).group_by(sa.func.grouping_sets(*sets))


def _feature_columns(src, features: list[FeatureBins], dialect: str, cast_text) -> dict:
    cols = {}
    for i, f in enumerate(features):
        c = src.c[f.column]
        if f.kind == "numeric":
            v = numeric_value(c, dialect)
            cols[f"a{i}"] = _bucket(v, f.edges, dialect)
            cols[f"b{i}"] = _grid_code(v, f.grid, dialect)
        else:
            cols[f"c{i}"] = sa.cast(c, sa.String()) if f.column in cast_text else c
    return cols


def duckdb_drift_query(src, features: list[FeatureBins], window: Window | None):
    """DuckDB: one row of ``histogram`` aggregates (binary search over one bound list per feature).

    Per numeric feature ``i``: ``n{i}`` non-null values, ``ge{i}``/``qe{i}`` = values ``<=`` / ``==``
    each edge, ``gg{i}``/``qg{i}`` the same at each grid point; per categorical one ``cat{i}`` map.
    """
    out = [sa.func.count().label("rows")]
    for i, f in enumerate(features):
        c = src.c[f.column]
        if f.kind == "numeric":
            v = numeric_value(c, "duckdb")
            out.append(sa.func.count(v).label(f"n{i}"))
            for tag, pts in (("e", f.edges), ("g", f.grid)):
                arr = sa.bindparam(None, [float(p) for p in pts], type_=sa.ARRAY(sa.Double()))
                out.append(sa.func.histogram(v, arr, type_=sa.types.NullType()).label(f"l{tag}{i}"))
                out.append(sa.func.histogram_exact(v, arr, type_=sa.types.NullType()).label(f"q{tag}{i}"))
        else:
            v = sa.cast(c, sa.String())
            out.append(sa.func.count(v).label(f"n{i}"))
            out.append(sa.func.histogram(v, type_=sa.types.NullType()).label(f"cat{i}"))
    stmt = sa.select(*out).select_from(src)
    return stmt.where(window.clause(src.c[window.column])) if window is not None else stmt


def quality_checks_query(preds, labels, id_col: str, window: Window | None):
    """One row: predictions in the window, their distinct and non-null ids; the same for the labels."""
    p = sa.select(sa.func.count().label("rows"), sa.func.count(sa.distinct(preds.c[id_col])).label("distinct"),
                  sa.func.count(preds.c[id_col]).label("ids")).select_from(preds)
    if window is not None:
        p = p.where(window.clause(preds.c[window.column]))
    lab = sa.select(sa.func.count().label("rows"), sa.func.count(sa.distinct(labels.c[id_col])).label("distinct"),
                    sa.func.count(labels.c[id_col]).label("ids")).select_from(labels)
    ps, ls = p.subquery("md_p"), lab.subquery("md_l")
    return sa.select(ps.c.rows, ps.c.distinct, ps.c.ids, ls.c.rows.label("l_rows"), ls.c.distinct.label("l_distinct"),
                     ls.c.ids.label("l_ids")).select_from(ps.join(ls, sa.true()))


def _joined(preds, labels, id_col: str, window: Window | None, cast_ids: bool):
    pid, lid = preds.c[id_col], labels.c[id_col]
    if cast_ids:
        pid, lid = sa.cast(pid, sa.String()), sa.cast(lid, sa.String())
    cond = [pid == lid]
    if window is not None:
        cond.append(window.clause(preds.c[window.column]))
    return preds.join(labels, pid == lid), sa.and_(*cond)


def confusion_query(preds, labels, id_col: str, pred_col: str, label_col: str, window: Window | None, *,
                    cast_ids: bool = False):
    """Rows ``(label, prediction, rows)`` of the predictions in the window joined with their labels, as text."""
    joined, where = _joined(preds, labels, id_col, window, cast_ids)
    t = sa.cast(labels.c[label_col], sa.String()).label("t")
    p = sa.cast(preds.c[pred_col], sa.String()).label("p")
    inner = sa.select(t, p).select_from(joined).where(where).subquery("md_pairs")
    return sa.select(inner.c.t, inner.c.p, sa.func.count().label("n")).group_by(inner.c.t, inner.c.p)


def error_sums_query(preds, labels, id_col: str, pred_col: str, label_col: str, window: Window | None, dialect: str, *,
                     cast_ids: bool = False):
    """One row: joined rows, rows with both values, sums of squared and absolute errors, and per
    column its finite values and its +-inf (left out like missing ones, as in the other engines)."""
    joined, where = _joined(preds, labels, id_col, window, cast_ids)
    raw_y, raw_yhat = labels.c[label_col], preds.c[pred_col]
    if dialect in CAST_TO_DOUBLE:
        raw_y, raw_yhat = sa.cast(raw_y, sa.Double()), sa.cast(raw_yhat, sa.Double())
    y, yhat = numeric_value(labels.c[label_col], dialect), numeric_value(preds.c[pred_col], dialect)
    cols = [y.label("y"), yhat.label("yhat")]
    if dialect in BINDS_INFINITY:
        for name, raw in (("y_inf", raw_y), ("yhat_inf", raw_yhat)):
            inf = sa.or_(*[raw == sa.bindparam(None, v, type_=sa.Double()) for v in (float("inf"), float("-inf"))])
            cols.append(sa.case((inf, _int(1)), else_=_int(0)).label(name))
    else:
        cols += [_int(0).label("y_inf"), _int(0).label("yhat_inf")]
    inner = sa.select(*cols).select_from(joined).where(where).subquery("md_pairs")
    err = inner.c.yhat - inner.c.y
    both = sa.and_(inner.c.y.is_not(None), inner.c.yhat.is_not(None))
    return sa.select(sa.func.count().label("joined"), sa.func.count(err).label("scored"),
                     sa.func.sum(sa.case((both, err * err), else_=sa.null())).label("sum_sq"),
                     sa.func.sum(sa.case((both, sa.func.abs(err)), else_=sa.null())).label("sum_abs"),
                     sa.func.count(inner.c.y).label("y_finite"), sa.func.sum(inner.c.y_inf).label("y_inf"),
                     sa.func.count(inner.c.yhat).label("yhat_finite"), sa.func.sum(inner.c.yhat_inf).label("yhat_inf"))
