"""The ``prometheus`` section: what the fleet's Prometheus data looks like.

``multi_cluster: true`` is for data that holds several clusters (Thanos, Mimir, a federated
Prometheus): every series carries ``cluster_label`` (kube-prometheus-stack's external label,
``cluster`` by default). Dashboards then get a cluster variable, and every query, recording
rule and alert keeps that label in its aggregations, so clusters are never summed together.
"""
from __future__ import annotations

from pydantic import field_validator

from modeldash.spec.base import StrictModel
from modeldash.spec.safe_values import RESERVED_LABELS, label_name_problem

# labels the generated queries and rules already give a meaning to
RESERVED = RESERVED_LABELS | {"alertstate", "backend", "signal", "level", "key", "slo", "slo_window", "slo_alert"}


class PrometheusSpec(StrictModel):
    multi_cluster: bool = False
    cluster_label: str = "cluster"

    @field_validator("cluster_label")
    @classmethod
    def _label(cls, v):
        problem = label_name_problem(v, RESERVED, "cluster_label")
        if problem:
            raise ValueError(f"{problem}; name the cluster label otherwise" if v in RESERVED else problem)
        return v
