"""The Infrastructure dashboard: node CPU, memory, disk, network and availability."""
from __future__ import annotations

from modeldash.dashboards.layout import Slot, assemble, dashboard_link, query_variable
from modeldash.spec.fleet import FleetSpec, dashboard_uid
from modeldash.datasources import node
from modeldash.panels import infra


def infrastructure_dashboard(spec: FleetSpec) -> dict:
    slots = [
        Slot("infra.node_cpu", infra.node_cpu(spec)),
        Slot("infra.node_memory", infra.node_memory(spec)),
        Slot("infra.node_disk", infra.node_disk(spec)),
        Slot("infra.node_disk_io", infra.node_disk_io(spec)),
        Slot("infra.node_network", infra.node_network(spec)),
        Slot("infra.node_availability", infra.node_availability(spec), 4),
        Slot("infra.node_ready", infra.node_ready(spec), 8),
    ]
    return assemble(
        spec,
        "infrastructure",
        dashboard_uid("infrastructure"),
        "ML Platform / Nodes",
        "Node-level health of the cluster that serves the models (node-exporter, kube-state-metrics).",
        ["modeldash", "layer:infrastructure"],
        slots,
        variables=[
            query_variable("instance", "Node", node.INSTANCES)
        ],
        links=[dashboard_link("Fleet overview", f"/d/{dashboard_uid('fleet')}")],
    )
