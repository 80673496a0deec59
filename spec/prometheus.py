"""The ``prometheus`` section: what the fleet's Prometheus data looks like.

``multi_cluster: true`` is for data that holds several clusters (Thanos, Mimir, a federated
Prometheus): every series carries ``cluster_label`` (kube-prometheus-stack's external label,
``cluster`` by default). Dashboards then get a cluster variable, and every query, recording
rule and alert keeps that label in its aggregations, so clusters are never summed together.
"""
from __future__ import annotations

from pydantic import field_validator

from modeldash.spec.base import LABEL_NAME_RE, StrictModel

# labels the generated queries already give a meaning to
RESERVED = {"model", "namespace", "le", "job", "instance", "feature", "method", "severity", "alertname",
            "alertstate", "team", "backend", "signal", "level", "key"}


class PrometheusSpec(StrictModel):
    multi_cluster: bool = False
    cluster_label: str = "cluster"

    @field_validator("cluster_label")
    @classmethod
    def _label(cls, v):
        if not LABEL_NAME_RE.match(v) or v.startswith("__"):
            raise ValueError(f"{v!r} is not a Prometheus label name")
        if v in RESERVED:
            raise ValueError(f"{v!r} already has a meaning in modeldash's queries; name the cluster label otherwise")
        return v
