"""Multi-cluster alerts and recording rules: per-cluster aggregation, and the cluster named.

With ``prometheus.multi_cluster`` every alert expression and recording rule keeps the cluster
label through its aggregations and vector matches (``datasources.clusters.scoped``), so an
alert fires per cluster and never adds two clusters' series; summaries name the cluster.
"""
from __future__ import annotations

import dataclasses

from modeldash.datasources.clusters import scoped


def scoped_definitions(spec, defs: list) -> list:
    if not spec.prometheus.multi_cluster:
        return defs
    label = spec.prometheus.cluster_label
    return [dataclasses.replace(d, expr=scoped(d.expr, label), summary=f"{d.summary} in cluster {{{label}}}",
                                description=f"{d.description} Cluster: {{{label}}}.") for d in defs]


def scoped_rules(spec, rules: list) -> list:
    if not spec.prometheus.multi_cluster:
        return rules
    label = spec.prometheus.cluster_label
    return [dataclasses.replace(r, expr=scoped(r.expr, label)) for r in rules]
