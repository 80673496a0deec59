"""Stable panel ids, by key, for every generated dashboard.

An alert rule links to the panel that explains it (``__dashboardUid__`` + ``__panelId__``);
both sides take the id from here, so a panel keeps its id when others are added or a
model lacks an optional panel.
"""
from __future__ import annotations

from modeldash.spec.fleet import dashboard_uid

# Each dashboard's keys in display order; the id is the position + 1 (row panels included).
MODEL = (
    "row.serving", "serving.request_rate", "serving.latency", "serving.error_ratio", "serving.status_rates",
    "serving.queue_depth", "serving.pod_share",
    "row.model", "model.class_share", "model.confidence", "model.prediction_value", "model.drift", "model.quality",
    "row.workload", "workload.pod_phase", "workload.restarts", "workload.replicas", "workload.hpa",
    "workload.cpu", "workload.memory",
    "row.status", "status.traffic", "status.latency", "status.error_ratio", "status.drift", "status.quality",
    "status.alerts",  # appended last: existing panel ids (and alert links to them) stay put
    "row.slo", "slo.budget_remaining", "slo.burn_rate", "slo.budget_consumption",
)
FLEET = (
    "fleet.status_table", "fleet.top_latency", "fleet.top_errors", "fleet.top_drift", "fleet.alerts",
    "fleet.slo_budget",
)
PLATFORM = (
    "platform.pod_phase", "platform.not_running", "platform.restarts", "platform.crash_loops", "platform.replicas",
    "platform.hpa", "platform.container_cpu", "platform.container_memory",
)
INFRASTRUCTURE = (
    "infra.node_cpu", "infra.node_memory", "infra.node_disk", "infra.node_disk_io", "infra.node_network",
    "infra.node_availability", "infra.node_ready",
)

_BY_KIND = {"model": MODEL, "fleet": FLEET, "platform": PLATFORM, "infrastructure": INFRASTRUCTURE}


def panel_id(kind: str, key: str) -> int:
    """The id of panel ``key`` on a dashboard of ``kind`` (model, fleet, platform, infrastructure)."""
    keys = _BY_KIND[kind]
    try:
        return keys.index(key) + 1
    except ValueError:
        raise KeyError(f"no panel {key!r} on the {kind} dashboard") from None


def panel_link(kind: str, key: str, model: str = "") -> tuple[str, int]:
    """``(dashboard uid, panel id)`` of a panel, for an alert rule's annotations."""
    return dashboard_uid(kind, model), panel_id(kind, key)
