"""Infrastructure layer: node CPU, memory, disk, network and availability (node-exporter, KSM)."""
from __future__ import annotations

from modeldash.datasources import kube_state, node
from modeldash.spec.fleet import FleetSpec
from modeldash.panels.common import BYTES_RATE, PERCENT_UNIT, RATE, SHORT, Query, floor_levels, levels, stat, timeseries

INSTANCE = 'instance=~"$instance"'  # the dashboard's node picker


def node_cpu(spec: FleetSpec):
    t = spec.infrastructure.node_cpu
    expr = node.cpu_utilisation(RATE, INSTANCE)
    return timeseries(
        "Node CPU utilisation",
        "Share of each node's CPU time spent busy (not idle, iowait or steal). Sustained values above the "
        f"warning line ({'not set' if t.warning is None else format(t.warning, '.0%')}) starve model servers of CPU and raise latency: check which pods use "
        "the node (Platform dashboard), spread them with anti-affinity, or add nodes.",
        [Query(expr, "{{instance}}")],
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
        max_value=1,
    )


def node_memory(spec: FleetSpec):
    t = spec.infrastructure.node_memory
    expr = node.memory_utilisation(INSTANCE)
    return timeseries(
        "Node memory utilisation",
        "Share of each node's memory in use (1 - MemAvailable / MemTotal). Near the line, the kubelet starts "
        "evicting pods and the kernel OOM-kills containers: find the largest working sets on the Platform "
        "dashboard and set memory limits, or add nodes.",
        [Query(expr, "{{instance}}")],
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
        max_value=1,
    )


def node_disk(spec: FleetSpec):
    t = spec.infrastructure.node_disk
    expr = node.disk_usage(INSTANCE)
    return timeseries(
        "Node disk usage",
        "Share of each real filesystem in use (tmpfs, overlay and squashfs excluded). A full disk stops image pulls, "
        "logging and the kubelet: clean up images and logs or grow the volume before the red line.",
        [Query(expr, "{{instance}} {{mountpoint}}")],
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
        max_value=1,
    )


def node_disk_io(spec: FleetSpec):
    expr = node.disk_io_busy(RATE, INSTANCE)
    return timeseries(
        "Node disk I/O busy",
        "Share of time each disk was busy with I/O. Near 100 % the disk is saturated: model loading and "
        "logging slow down; move heavy I/O elsewhere or use faster volumes.",
        [Query(expr, "{{instance}} {{device}}")],
        PERCENT_UNIT,
        levels(0.9),
        min_value=0,
        max_value=1,
    )


def node_network(spec: FleetSpec):
    def q(direction: str) -> str:
        return node.network_bytes(direction, RATE, INSTANCE)

    return timeseries(
        "Node network traffic",
        "Bytes per second received and transmitted by each node (loopback excluded). A sudden drop with "
        "steady requests points at a network fault; a plateau at the NIC's speed is saturation.",
        [Query(q("receive"), "{{instance}} received"), Query(q("transmit"), "{{instance}} transmitted")],
        BYTES_RATE,
    )


def node_availability(spec: FleetSpec):
    expr = node.exporters_up(INSTANCE)
    return stat(
        "Node exporters up",
        "Share of node-exporter targets Prometheus can scrape. Below 100 % a node is down or unreachable, "
        "and every node panel above is missing it: check `kubectl get nodes` and the exporter pod.",
        [Query(expr, "up")],
        PERCENT_UNIT,
        floor_levels(1.0, warning_floor=0.5),
    )


def node_ready(spec: FleetSpec):
    expr = kube_state.node_ready()
    return timeseries(
        "Node Ready condition",
        "1 while the kubelet reports the node Ready, 0 when NotReady. A NotReady node gets no new pods and "
        "its pods are evicted after the toleration timeout: check the kubelet, disk and memory pressure.",
        [Query(expr, "{{node}}")],
        SHORT,
        min_value=0,
        max_value=1,
    )
