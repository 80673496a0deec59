"""The output families a render can write, by name (spec ``outputs:`` and ``render --only``).

Most users deploy one way (sidecar ConfigMaps, provisioning files or the API sync); naming the
outputs writes only those. Not naming any writes all of them.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

# name -> the output folders it covers (paths relative to the output folder)
OUTPUT_PATHS: dict[str, tuple[str, ...]] = {
    "dashboards": ("dashboards/",),  # dashboard JSON, what `modeldash sync` pushes
    "alerts": ("alerts/", "alertmanager/"),  # Grafana rule groups, contact points, policy; Alertmanager config
    "prometheus-rules": ("prometheus/",),  # rules.yaml and its promtool tests
    "k8s": ("k8s/dashboards/", "k8s/alerting/", "k8s/datasources/", "k8s/prometheus-rules/",
            "k8s/monitors/", "k8s/deletions.txt"),  # kube-prometheus-stack objects
    "provisioning": ("provisioning/",),  # a plain Grafana's /etc/grafana/provisioning
    "jobs": ("k8s/jobs/",),  # drift/quality CronJobs, their spec ConfigMaps, the Pushgateway monitor
}
OUTPUT_NAMES = tuple(OUTPUT_PATHS)
OutputName = Literal["dashboards", "alerts", "prometheus-rules", "k8s", "provisioning", "jobs"]
OutputList = Annotated[list[OutputName], Field(min_length=1)]


def unknown_outputs(names) -> list[str]:
    return [n for n in names if n not in OUTPUT_PATHS]


def selected(rel: str, names: frozenset[str] | None) -> bool:
    """Whether the file at ``rel`` belongs to one of the output ``names`` (None: every output)."""
    if names is None:
        return True
    return any(rel.startswith(p) for n in names for p in OUTPUT_PATHS[n])
