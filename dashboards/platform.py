"""The Platform dashboard: every model namespace's pods, deployments, autoscalers and containers."""
from __future__ import annotations

from modeldash.dashboards.layout import Slot, assemble, custom_variable, dashboard_link
from modeldash.spec.fleet import FleetSpec, dashboard_uid
from modeldash.panels import platform as pp


def platform_dashboard(spec: FleetSpec) -> dict:
    namespaces = sorted({m.namespace for m in spec.models})
    slots = [
        Slot("platform.pod_phase", pp.pod_phase(spec)),
        Slot("platform.not_running", pp.pods_not_running(spec)),
        Slot("platform.restarts", pp.restarts(spec), 16),
        Slot("platform.crash_loops", pp.crash_loops(spec), 8),
        Slot("platform.replicas", pp.replicas(spec)),
        Slot("platform.hpa", pp.hpa(spec)),
        Slot("platform.container_cpu", pp.container_cpu(spec)),
        Slot("platform.container_memory", pp.container_memory(spec)),
    ]
    return assemble(
        spec,
        "platform",
        dashboard_uid("platform"),
        "ML Platform / Workloads",
        "Pods, deployments, autoscalers and container resources of the model namespaces (kube-state-metrics v2, cAdvisor).",
        ["modeldash", "layer:platform"],
        slots,
        variables=[custom_variable("namespace", "Namespace", namespaces)],
        links=[dashboard_link("Fleet overview", f"/d/{dashboard_uid('fleet')}")],
    )
