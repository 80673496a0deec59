"""Lint generated dashboards: official schemas, ids, grid, datasources, PromQL, uids.

``lint_dashboard`` returns every problem it finds as a ``Problem(dashboard, panel, reason)``;
it never stops at the first one, so one run shows everything to fix.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

import jsonschema

from modeldash.dashboards.build import cyclic_gc_paused
from modeldash.spec.base import UID_MAX
from modeldash.scripts.promql_check import parse_error
from modeldash.scripts.schema_check import SchemaCheck

_UID_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
_PLUGIN_RE = re.compile(r"^[a-z0-9-]+$")
_VAR_RE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")
# What Grafana substitutes before a query reaches Prometheus, with a value of the right shape.
MACROS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__interval_ms": "60000", "__range_s": "3600"}


@dataclass(frozen=True, order=True)
class Problem:
    dashboard: str
    panel: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.dashboard}" + (f" / panel {self.panel}" if self.panel else "")
        return f"{where}: {self.reason}"


@functools.lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads(resources.files("modeldash").joinpath(f"schemas/grafana/{name}.jsonschema.json").read_text())


@functools.lru_cache(maxsize=None)
def _schema(name: str, definition: str | None = None) -> dict:
    schema = load_schema(name)
    return {**schema, "$ref": f"#/definitions/{definition}"} if definition else schema


@functools.lru_cache(maxsize=None)
def _check(name: str, definition: str | None = None) -> SchemaCheck:
    return SchemaCheck(_schema(name, definition))


def _schema_errors(name: str, instance, definition: str | None = None) -> list[str]:
    """Schema errors of ``instance``, one readable line each (the most relevant cause of each)."""
    out = []
    for err in sorted(_check(name, definition).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        best = jsonschema.exceptions.best_match([err])
        path = "/".join(str(p) for p in best.absolute_path) or "(root)"
        out.append(f"schema: {path}: {best.message[:300]}")
    return out


def substitute(expr: str, variables: dict[str, str] | None = None) -> str:
    """An expression as Prometheus receives it: macros and template variables replaced.

    Variables without a known value become ``.*``: generated queries use them only in ``=~``.
    """
    variables = variables or {}

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name in MACROS:
            return MACROS[name]
        return variables.get(name, ".*")

    return _VAR_RE.sub(repl, expr)


def check_promql(expr: str) -> str | None:
    return parse_error(expr)


def _dicts(value) -> list[dict]:
    """The mappings of a list that should hold only mappings (a hand-edited file may hold anything)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _panels(board: dict) -> Iterable[dict]:
    for p in _dicts(board.get("panels")):
        yield p
        yield from _dicts(p.get("panels")) if p.get("type") == "row" else ()


def _grid_box(panel: dict) -> tuple[int, int, int, int] | None:
    """``(left, right, top, bottom)`` of a panel on the grid."""
    pos = panel.get("gridPos")
    if not isinstance(pos, dict):
        return None
    x, y, w, h = (pos.get(k) for k in ("x", "y", "w", "h"))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, w, h)):
        return x, x + w, y, y + h
    return None  # absent, or malformed (the schema check reports that)


def _plugin_problems(panel: dict) -> list[str]:
    ptype = panel.get("type")
    if not isinstance(ptype, str) or not _PLUGIN_RE.match(ptype):
        return []  # no plugin schema of that name (the dashboard schema reports a malformed type)
    try:
        defs = load_schema(ptype)["definitions"]
    except (FileNotFoundError, OSError):
        return []
    out = []
    if "Options" in defs and "options" in panel:
        out += [f"options {e}" for e in _schema_errors(ptype, panel["options"], "Options")]
    field_config = panel.get("fieldConfig")
    field_defaults = field_config.get("defaults") if isinstance(field_config, dict) else None
    custom = field_defaults.get("custom") if isinstance(field_defaults, dict) else None
    if "FieldConfig" in defs and custom is not None:
        out += [f"fieldConfig.defaults.custom {e}" for e in _schema_errors(ptype, custom, "FieldConfig")]
    return out


def lint_dashboard(board: dict, known_datasource_uids: Iterable[str] = ()) -> list[Problem]:
    """Every problem of one dashboard JSON (current Grafana model)."""
    if not isinstance(board, dict):
        return [Problem("<dashboard>", "", f"a dashboard must be a JSON object, not {type(board).__name__}")]
    name = str(board.get("uid") or board.get("title") or "<dashboard>")
    problems = [Problem(name, "", e) for e in _schema_errors("dashboard", board)]
    uid = board.get("uid", "")
    if not (isinstance(uid, str) and 1 <= len(uid) <= UID_MAX and _UID_RE.match(uid)):
        problems.append(Problem(name, "", f"uid {uid!r} must be 1-{UID_MAX} characters of [a-zA-Z0-9_-]"))
    version = board.get("schemaVersion", 0)
    if not isinstance(version, (int, float)) or isinstance(version, bool) or version < 39:
        problems.append(Problem(name, "", f"schemaVersion {version!r} is older than 39"))
    templating = board.get("templating")
    variables = {v.get("name"): v for v in _dicts(templating.get("list") if isinstance(templating, dict) else None)}
    ds_vars = {n for n, v in variables.items() if v.get("type") == "datasource"}
    known = set(known_datasource_uids) | {f"${{{n}}}" for n in ds_vars} | {f"${n}" for n in ds_vars} | {"__expr__", "-- Grafana --", "grafana"}
    seen_ids: dict[int, str] = {}
    placed: list[tuple[int, int, int, int, str]] = []
    for panel in _panels(board):
        title = str(panel.get("title") or f"#{panel.get('id')}")
        pid = panel.get("id")
        pid = pid if isinstance(pid, (int, str)) else repr(pid)
        if pid in seen_ids:
            problems.append(Problem(name, title, f"panel id {pid} is also used by {seen_ids[pid]!r}"))
        seen_ids[pid] = title
        box = _grid_box(panel)
        if box:
            left, right, top, bottom = box  # ~300 pairs a dashboard: compared inline, not by a call each
            problems += [Problem(name, title, f"overlaps panel {other!r} on the grid")
                         for (o_left, o_right, o_top, o_bottom, other) in placed
                         if left < o_right and o_left < right and top < o_bottom and o_top < bottom]
            placed.append((*box, title))
        if panel.get("type") != "row":
            problems += [Problem(name, title, e) for e in _plugin_problems(panel)]
        targets = _dicts(panel.get("targets"))
        refs = [panel.get("datasource")] + [t.get("datasource") for t in targets]
        for ref in refs:
            if isinstance(ref, str):
                problems.append(Problem(name, title, f"datasource {ref!r} is a bare string, not a {{type, uid}} reference"))
            elif isinstance(ref, dict) and (not isinstance(ref.get("uid"), str) or ref.get("uid") not in known):
                problems.append(Problem(name, title, f"datasource uid {ref.get('uid')!r} resolves to no datasource or variable"))
        for t in targets:
            expr = t.get("expr")
            if not isinstance(expr, str):
                continue
            for m in _VAR_RE.finditer(expr):
                var = m.group(1) or m.group(2)
                if var not in MACROS and var not in variables:
                    problems.append(Problem(name, title, f"query {t.get('refId')} uses undefined variable ${var}"))
            err = check_promql(substitute(expr))
            if err:
                problems.append(Problem(name, title, f"query {t.get('refId')} does not parse: {err}"))
    return problems


def lint_dashboards(boards: Iterable[dict], known_datasource_uids: Iterable[str] = ()) -> list[Problem]:
    with cyclic_gc_paused():  # a fleet's dashboards are a heap the collector would walk again and again
        return _lint_dashboards(list(boards), known_datasource_uids)


def _lint_dashboards(boards: list, known_datasource_uids: Iterable[str]) -> list[Problem]:
    problems: list[Problem] = []
    uids: dict[str, str] = {}
    for b in boards:
        problems += lint_dashboard(b, known_datasource_uids)
        if not isinstance(b, dict):
            continue
        uid = str(b.get("uid", ""))
        if uid in uids:
            problems.append(Problem(uid, "", f"uid also used by dashboard {uids[uid]!r}"))
        uids[uid] = b.get("title", "")
    return problems
