"""node-exporter signals (job="node-exporter"): node CPU, memory, disk, I/O, network, up.

Defined once for the Infrastructure dashboard's panels and the infrastructure alerts. ``scope``
is extra matchers: the dashboard's ``instance=~"$instance"``, nothing for an alert (every node).
"""
from __future__ import annotations

from modeldash.datasources.selectors import selector

JOB = 'job="node-exporter"'
JOB_LABELS = {"job": "node-exporter"}
# Real filesystems only: tmpfs/overlay are memory and container layers, squashfs (snaps) is
# always 100 % full, and series without fstype or mountpoint are not filesystems.
FILESYSTEM_FILTER = 'fstype!~"tmpfs|overlay|squashfs", fstype!="", mountpoint!=""'
BUSY_MODES = 'mode=~"idle|iowait|steal"'  # the idle-like modes node-mixin subtracts from 1
INSTANCES = f"label_values(node_cpu_seconds_total{{{JOB}}}, instance)"  # the dashboard's node picker


def cpu_utilisation(window: str, scope: str = "") -> str:
    """node-mixin's utilisation: busy share of every CPU, averaged per node (0..1)."""
    sel = selector("node_cpu_seconds_total", JOB, scope, BUSY_MODES)
    return f"1 - avg without (cpu) (sum without (mode) (rate({sel}[{window}])))"


def _used(avail: str, total: str, by: str, *parts: str) -> str:
    return (f"1 - max by ({by}) ({selector(avail, JOB, *parts)}) / "
            f"max by ({by}) ({selector(total, JOB, *parts)})")


def memory_utilisation(scope: str = "") -> str:
    """1 - MemAvailable / MemTotal per node (0..1)."""
    return _used("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "instance", scope)


def disk_usage(scope: str = "") -> str:
    """Used share of each real filesystem, per node, device and mountpoint (0..1)."""
    return _used("node_filesystem_avail_bytes", "node_filesystem_size_bytes", "instance, device, mountpoint",
                 scope, FILESYSTEM_FILTER)


def disk_io_busy(window: str, scope: str = "") -> str:
    return f"rate({selector('node_disk_io_time_seconds_total', JOB, scope)}[{window}])"


def network_bytes(direction: str, window: str, scope: str = "") -> str:
    """Bytes/s received or transmitted per node, loopback excluded."""
    sel = selector(f"node_network_{direction}_bytes_total", JOB, scope, 'device!="lo"')
    return f"sum by (instance) (rate({sel}[{window}]))"


def exporters_up(scope: str = "") -> str:
    up = selector("up", JOB, scope)
    return f"sum({up}) / count({up})"
