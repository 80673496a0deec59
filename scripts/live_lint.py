"""Live lint: run every panel query of every dashboard against a real Prometheus.

A query naming a metric no exporter emits renders as "No data" and no schema check can see
it. This resolves the dashboard's template variables the way Grafana does (query variables
through the label-values API, custom/constant/interval values, All as a regex), substitutes
Grafana's macros, runs each target as an instant query and reports every panel that errors,
returns nothing or returns only NaN.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from modeldash.scripts.prometheus_client_http import PrometheusError, label_values, query

# Grafana's built-in macros, as a 1-hour dashboard with a 15 s scrape interval resolves them.
DEFAULT_MACROS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
_MACRO_RE = re.compile(r"\$\{(__\w+)\}|\$(__\w+)")
_VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)")
_LABEL_VALUES_RE = re.compile(r"^\s*label_values\(\s*(?:(.*)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$", re.S)
_QUERY_RESULT_RE = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)
_REGEX_SPECIALS = re.compile(r"([.+*?()\[\]{}|^$\\])")
ALL = "$__all"


@dataclass(frozen=True)
class Problem:
    """One panel query that shows no data: where it is, what was run, why it failed."""

    dashboard: str
    panel: str
    query: str
    reason: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel}: {self.reason}\n    {self.query}"


def iter_panels(panels: Iterable[dict]) -> Iterator[dict]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels or []:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def _is_prometheus(ds) -> bool:
    if ds is None:
        return True  # inherits the panel's / dashboard's default
    if isinstance(ds, str):
        return not ds.startswith("-- ") and ds != "__expr__"
    return ds.get("type") in (None, "prometheus") or str(ds.get("uid", "")).startswith("$")


def _escape_regex(value: str) -> str:
    return _REGEX_SPECIALS.sub(r"\\\\\1", value)


def substitute_macros(expr: str, macros: dict[str, str]) -> str:
    return _MACRO_RE.sub(lambda m: macros.get(m.group(1) or m.group(2), m.group(0)), expr)


def substitute_variables(expr: str, values: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(3) or m.group(5)
        return values.get(name, m.group(0))

    return _VAR_RE.sub(repl, expr)


class _Resolver:
    """Template variable values of one dashboard, asked of Prometheus like Grafana does."""

    def __init__(self, prometheus_url: str, macros: dict[str, str]):
        self.url = prometheus_url
        self.macros = macros

    def options(self, var: dict, known: dict[str, str]) -> list[str]:
        kind = var.get("type", "query")
        q = var.get("query", "")
        if isinstance(q, dict):
            q = q.get("query", "")
        q = substitute_variables(substitute_macros(str(q), self.macros), known)
        if kind == "query":
            values = self._query_options(q)
        elif kind == "custom":
            values = [v.strip() for v in re.split(r"(?<!\\),", q) if v.strip()]
            values = [v.split(" : ", 1)[-1] for v in values]
        elif kind in ("constant", "textbox"):
            values = [q] if q else [str((var.get("current") or {}).get("value", ""))]
        elif kind == "interval":
            values = [v.strip() for v in q.split(",") if v.strip()]
        else:
            values = [str(o.get("value")) for o in var.get("options", []) if o.get("value") not in (None, ALL)]
        regex = var.get("regex")
        if regex and kind == "query":
            body = regex.strip("/")
            pat = re.compile(body)
            kept = []
            for v in values:
                m = pat.search(v)
                if m:
                    kept.append(m.group(1) if m.groups() else v)
            values = kept
        return values

    def _query_options(self, q: str) -> list[str]:
        m = _LABEL_VALUES_RE.match(q)
        if m:
            selector, label = (m.group(1) or "").strip(), m.group(2)
            return sorted(set(label_values(self.url, label, selector or None)))
        m = _QUERY_RESULT_RE.match(q)
        if m:
            data = query(self.url, m.group(1))
            return [str(r.get("metric", {})) for r in data.get("result", [])]
        raise PrometheusError(f"unsupported variable query {q!r}")

    def value(self, var: dict, options: list[str], single: bool) -> str:
        """The text Grafana puts in place of ``$var``: the current selection, All as a regex."""
        current = (var.get("current") or {}).get("value")
        chosen = current if isinstance(current, list) else ([current] if current is not None else [])
        if not chosen or ALL in chosen:
            if var.get("includeAll") and not single:
                if var.get("allValue"):
                    return var["allValue"]
                chosen = options
            else:
                chosen = options[:1]
        else:
            chosen = [c for c in chosen if c in options] or options[:1]
        if single:
            chosen = chosen[:1]
        if len(chosen) == 1:
            return chosen[0]
        return "(" + "|".join(_escape_regex(c) for c in chosen) + ")"


def _result_reason(data: dict) -> str | None:
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return None
    if not result:
        return "returns no series"
    values = []
    for series in result:
        if "value" in series:
            values.append(series["value"][1])
        values.extend(v[1] for v in series.get("values", []))
    if values and all(_is_nan(v) for v in values):
        return f"returns only NaN ({len(result)} series)"
    return None


def _is_nan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def resolve_variables(dashboard: dict, prometheus_url: str, macros: dict[str, str]):
    """Each template variable's text as Grafana substitutes it (current value, or first/All).

    Returns the resolver, ``{name: text}``, ``{name: options}`` and the variables' problems.
    """
    resolver = _Resolver(prometheus_url, macros)
    title = dashboard.get("title") or dashboard.get("uid") or "?"
    variables = (dashboard.get("templating") or {}).get("list", [])
    problems: list[Problem] = []
    known: dict[str, str] = {}
    options: dict[str, list[str]] = {}
    for var in variables:
        name = var.get("name")
        if not name or var.get("type") in ("datasource", "adhoc"):
            if name:
                known[name] = str((var.get("current") or {}).get("value") or var.get("query") or name)
            continue
        try:
            opts = resolver.options(var, known)
        except PrometheusError as exc:
            problems.append(Problem(title, f"variable ${name}", str(var.get("query")), str(exc)))
            opts = []
        if not opts and var.get("type") in ("query", "custom"):
            problems.append(Problem(title, f"variable ${name}", str(var.get("query")), "variable has no values"))
        options[name] = opts
        known[name] = resolver.value(var, opts, single=False) if opts else ""
    return resolver, known, options, problems


def panel_values(panel: dict, variables: list[dict], resolver: _Resolver, known: dict, options: dict) -> dict:
    """The variables one panel sees: a repeated panel's first copy gets its variable's first value."""
    values = dict(known)
    repeat = panel.get("repeat")
    if repeat and repeat in options:
        var = next(v for v in variables if v.get("name") == repeat)
        values[repeat] = resolver.value(var, options[repeat], single=True)
    return values


def lint_dashboard(dashboard: dict, prometheus_url: str, macros: dict[str, str] | None = None) -> list[Problem]:
    macros = {**DEFAULT_MACROS, **(macros or {})}
    title = dashboard.get("title") or dashboard.get("uid") or "?"
    variables = (dashboard.get("templating") or {}).get("list", [])
    resolver, known, options, problems = resolve_variables(dashboard, prometheus_url, macros)
    for panel in iter_panels(dashboard.get("panels", [])):
        if not _is_prometheus(panel.get("datasource")):
            continue
        values = panel_values(panel, variables, resolver, known, options)
        for target in panel.get("targets", []) or []:
            expr = target.get("expr")
            if not expr or not _is_prometheus(target.get("datasource", panel.get("datasource"))):
                continue
            resolved = substitute_variables(substitute_macros(expr, macros), values)
            panel_name = f"{panel.get('title') or '(untitled)'} [id {panel.get('id')}, {target.get('refId', '?')}]"
            try:
                reason = _result_reason(query(prometheus_url, resolved))
            except PrometheusError as exc:
                reason = f"query fails: {exc}"
            if reason:
                problems.append(Problem(title, panel_name, resolved, reason))
    return problems


def lint_live(dashboards_json: list[dict], prometheus_url: str, macros: dict[str, str] | None = None) -> list[Problem]:
    """Problems of every panel query of every dashboard, in dashboard order."""
    problems: list[Problem] = []
    for dashboard in dashboards_json:
        problems.extend(lint_dashboard(dashboard, prometheus_url, macros))
    return problems


def count_queries(dashboards_json: list[dict]) -> int:
    """How many Prometheus targets the dashboards hold (for the "x of y" summary)."""
    return sum(
        1
        for d in dashboards_json
        for p in iter_panels(d.get("panels", []))
        if _is_prometheus(p.get("datasource"))
        for t in p.get("targets", []) or []
        if t.get("expr")
    )
