"""Multi-cluster scoping of any generated PromQL: one rewrite, applied where expressions leave the build.

With ``prometheus.multi_cluster`` every expression must keep the cluster label apart:

- every ``by (...)`` aggregation gains the cluster label, and a bare ``sum(...)`` becomes
  ``sum by (cluster) (...)`` (``topk``/``bottomk`` keep their grouping: they select series,
  whose labels, the cluster's included, stay);
- every ``on (...)`` vector match gains it, unless one side reads a constant series that has no
  cluster (``model:info``, ``model:threshold``: the same per model in every cluster);
- ``X or vector(0)`` (a 0 when X is empty) fills each cluster X lacks: ``X or (0 * group by
  (cluster) (up))``, so a model whose series vanish in one cluster still reads 0 there;
- dashboards also get ``cluster=~"$cluster"`` on every selector, so the cluster variable filters.

The rewrite works on the parsed expression (promql-parser), never on text, so it reaches every
selector and aggregation whatever module built the expression.
"""
from __future__ import annotations

import re

import promql_parser as pp

from modeldash.datasources import fleet_signals as fs

CONSTANT_SERIES = (fs.INFO, fs.THRESHOLD)
_KEEP_GROUPING = {"topk", "bottomk", "limitk", "limit_ratio"}  # these select series, keeping their labels
_SENTINEL = "7777777s"  # stands in for Grafana's $__rate_interval / $__interval while parsing
_MACRO = re.compile(r"\$\{?(__rate_interval|__interval|__range)\}?")


def _reads_constant(expr) -> bool:
    found = []

    def visit(node):
        if isinstance(node, pp.VectorSelector) and node.name in CONSTANT_SERIES:
            found.append(node.name)
            return False
        return None

    pp.walk(expr, visit)
    return bool(found)


def _constant_vector(expr) -> float | None:
    """``n`` when ``expr`` is ``vector(n)``."""
    if isinstance(expr, pp.Call) and expr.func.name == "vector" and isinstance(expr.args[0], pp.NumberLiteral):
        return float(expr.args[0].val)
    return None


def _labels(labels) -> str:
    return ", ".join(labels)


def _selector_text(vs, label: str, matcher: str) -> str:
    matchers = [str(m) for m in vs.matchers.matchers]
    matchers.append(str(pp.Matcher(pp.MatchOp.Re, label, matcher)))
    return f"{vs.name or ''}{{{', '.join(matchers)}}}"


def _offset(vs) -> str:
    return f" offset {pp.display_duration(vs.offset)}" if vs.offset else ""


def _has(vs, label: str) -> bool:
    return any(m.name == label for m in vs.matchers.matchers)


_CARD = {"ManyToOne": "group_left", "OneToMany": "group_right"}


def _rewriter(label: str, matcher: str | None):
    """Post-order visitor: each changed node is re-printed from its (already rewritten) children and parsed."""

    def post(node):
        if isinstance(node, pp.MatrixSelector) and matcher is not None:
            vs = node.vector_selector
            if _has(vs, label) or vs.at is not None or vs.name in CONSTANT_SERIES:
                return None
            return pp.parse(f"{_selector_text(vs, label, matcher)}[{pp.display_duration(node.range)}]{_offset(vs)}")
        if isinstance(node, pp.VectorSelector) and matcher is not None:
            if _has(node, label) or node.at is not None or node.name in CONSTANT_SERIES:
                return None
            return pp.parse(_selector_text(node, label, matcher) + _offset(node))
        if isinstance(node, pp.AggregateExpr):
            op = str(node.op).lower()
            mod = node.modifier
            if op in _KEEP_GROUPING or (mod is not None and (mod.type != pp.AggModifierType.By or label in mod.labels)):
                return None
            labels = [*(mod.labels if mod is not None else []), label]
            param = f"{node.param!r}, " if isinstance(node.param, (int, float)) else \
                (f"{node.param.prettify()}, " if node.param is not None else "")
            return pp.parse(f"{op} by ({_labels(labels)}) ({param}{node.expr.prettify()})")
        if isinstance(node, pp.BinaryExpr) and str(node.op) == "or" and _constant_vector(node.rhs) is not None:
            # "X or vector(0)" fills 0 when X is empty; per cluster, it must fill each cluster X lacks
            up = "up" if matcher is None else f'up{{{label}=~"{matcher}"}}'
            fill = f"{_constant_vector(node.rhs)!r} * group by ({label}) ({up})"
            return pp.parse(f"({node.lhs.prettify()}) or ({fill})")
        if isinstance(node, pp.BinaryExpr) and node.modifier is not None:
            mod = node.modifier
            matching = mod.matching
            if (matching is None or matching.type != pp.LabelModifierType.Include or label in matching.labels
                    or _reads_constant(node.lhs) or _reads_constant(node.rhs)):
                return None
            parts = [f"({node.lhs.prettify()})", str(node.op)]
            if mod.return_bool:
                parts.append("bool")
            parts.append(f"on ({_labels([*matching.labels, label])})")
            card = str(mod.card).rsplit(".", 1)[-1]
            if card in _CARD:
                parts.append(f"{_CARD[card]} ({_labels(mod.group_labels or [])})")
            parts.append(f"({node.rhs.prettify()})")
            return pp.parse(" ".join(parts))
        return None

    return post


def scoped(expr: str, label: str, matcher: str | None = None) -> str:
    """``expr`` aggregated and matched per ``label``; with ``matcher``, every selector also filters on it.

    Grafana's range macros (``$__rate_interval``) are swapped for a sentinel duration while parsed.
    """
    found = set(m.group(0) for m in _MACRO.finditer(expr))
    if len(found) > 1:
        raise ValueError(f"one Grafana range macro per expression, got {sorted(found)}: {expr[:80]}")
    tree = pp.parse(_MACRO.sub(_SENTINEL, expr))
    out = pp.transform(tree, post_visit=_rewriter(label, matcher)).prettify()
    if found:
        out = out.replace(pp.display_duration(pp.parse_duration(_SENTINEL)), found.pop())
    return " ".join(out.split())


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$", re.S)
VARIABLE = "cluster"  # the dashboards' variable name, whatever the label is called


def scoped_variable_query(query: str, label: str) -> str:
    """A ``label_values(<selector>, name)`` variable query, restricted to the chosen cluster."""
    m = _LABEL_VALUES.match(query)
    if not m:
        return query
    return f"label_values({scoped(m.group(1), label, f'${VARIABLE}')}, {m.group(2)})"


def legend(fmt: str, label: str) -> str:
    """Series of several clusters told apart in legends."""
    return f"{fmt} ({{{{{label}}}}})" if fmt and "{{" + label + "}}" not in fmt else fmt
