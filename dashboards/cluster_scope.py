"""Multi-cluster dashboards: a cluster variable, and every query scoped to it (``datasources.clusters``).

Applied to each finished dashboard when ``prometheus.multi_cluster`` is set: panel targets,
annotation queries and variable queries are rewritten on their parsed form, so dashboards built
by any module get the same treatment.
"""
from __future__ import annotations

from modeldash.dashboards.layout import query_variable
from modeldash.datasources import clusters


def cluster_variable(label: str) -> dict:
    var = query_variable(clusters.VARIABLE, "Cluster", f"label_values(up, {label})")
    return var


def _panels(panels):
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def scope_dashboard(board: dict, label: str) -> dict:
    match = f"${clusters.VARIABLE}"
    for panel in _panels(board.get("panels", [])):
        for t in panel.get("targets", []):
            if "expr" in t:
                t["expr"] = clusters.scoped(t["expr"], label, match)
                t["legendFormat"] = clusters.legend(t.get("legendFormat", ""), label)
    for ann in board.get("annotations", {}).get("list", []):
        if "expr" in ann:
            ann["expr"] = clusters.scoped(ann["expr"], label, match)
            ann["titleFormat"] = clusters.legend(ann.get("titleFormat", ""), label)
    variables = board.setdefault("templating", {}).setdefault("list", [])
    for var in variables:
        if var.get("type") == "query":
            var["query"] = var["definition"] = clusters.scoped_variable_query(var["query"], label)
    at = 1 if variables and variables[0].get("type") == "datasource" else 0
    variables.insert(at, cluster_variable(label))
    return board
