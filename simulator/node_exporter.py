"""node-exporter on each node: CPU by cpu/mode, memory, filesystems, disk I/O, network."""
from __future__ import annotations

from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.families import Families

GIB = 1024**3
CPUS = 4
HEALTHY_MODES = {"user": 0.22, "system": 0.08, "iowait": 0.01, "irq": 0.004, "softirq": 0.006, "nice": 0.0, "steal": 0.0}
SATURATED_MODES = {"user": 0.86, "system": 0.11, "iowait": 0.002, "irq": 0.002, "softirq": 0.004, "nice": 0.0, "steal": 0.0}
FILESYSTEMS = (  # device, fstype, mountpoint, size, free share
    ("/dev/sda1", "ext4", "/", 200 * GIB, 0.55),
    ("/dev/sda15", "vfat", "/boot/efi", 0.1 * GIB, 0.9),
    ("tmpfs", "tmpfs", "/run", 3.2 * GIB, 0.97),
)
NETWORK = {"eth0": (2.5e6, 1.8e6), "lo": (4e5, 4e5)}  # device -> receive, transmit bytes/s


class NodeExporter:
    """One node's node-exporter; ``saturated`` tells whether the scenario pegs its CPU."""

    def __init__(self, node: str, saturated, counters: Accumulator):
        self.node = node
        self._saturated = saturated  # () -> bool
        self._acc = counters

    def collect(self):
        f = Families()
        node = self.node
        modes = SATURATED_MODES if self._saturated() else HEALTHY_MODES
        modes = {**modes, "idle": max(0.0, 1.0 - sum(modes.values()))}
        for cpu in range(CPUS):
            for mode, rate in sorted(modes.items()):
                labels = {"cpu": str(cpu), "mode": mode}
                f.counter("node_cpu_seconds_total", labels, self._acc.read((node, "cpu", cpu, mode), rate),
                          "Seconds the CPUs spent in each mode.")
        f.gauge("node_memory_MemTotal_bytes", {}, 32 * GIB, "Memory information field MemTotal_bytes.")
        f.gauge("node_memory_MemAvailable_bytes", {}, 19.5 * GIB, "Memory information field MemAvailable_bytes.")
        f.gauge("node_memory_MemFree_bytes", {}, 8 * GIB, "Memory information field MemFree_bytes.")
        f.gauge("node_memory_Buffers_bytes", {}, 0.6 * GIB, "Memory information field Buffers_bytes.")
        f.gauge("node_memory_Cached_bytes", {}, 10.5 * GIB, "Memory information field Cached_bytes.")
        for device, fstype, mountpoint, size, free in FILESYSTEMS:
            labels = {"device": device, "fstype": fstype, "mountpoint": mountpoint}
            f.gauge("node_filesystem_size_bytes", labels, size, "Filesystem size in bytes.")
            f.gauge("node_filesystem_avail_bytes", labels, size * free, "Filesystem space available to non-root users in bytes.")
            f.gauge("node_filesystem_free_bytes", labels, size * (free + 0.02), "Filesystem free space in bytes.")
            f.gauge("node_filesystem_readonly", labels, 0, "Filesystem read-only status.")
        for metric, rate in (
            ("node_disk_io_time_seconds_total", 0.03),
            ("node_disk_read_bytes_total", 2.0e5),
            ("node_disk_written_bytes_total", 8.0e5),
            ("node_disk_reads_completed_total", 12.0),
            ("node_disk_writes_completed_total", 40.0),
        ):
            f.counter(metric, {"device": "sda"}, self._acc.read((node, metric), rate), metric)
        for device, (rx, tx) in sorted(NETWORK.items()):
            labels = {"device": device}
            f.counter("node_network_receive_bytes_total", labels, self._acc.read((node, "rx", device), rx), "Network device statistic receive_bytes.")
            f.counter("node_network_transmit_bytes_total", labels, self._acc.read((node, "tx", device), tx), "Network device statistic transmit_bytes.")
        load = 3.8 if self._saturated() else 1.1
        for w in ("1", "5", "15"):
            f.gauge(f"node_load{w}", {}, load * CPUS / 4, f"{w}m load average.")
        f.gauge("node_boot_time_seconds", {}, 1.7e9, "Node boot time, in unixtime.")
        f.gauge("node_uname_info", {"nodename": node, "release": "6.1.0-18-amd64", "machine": "x86_64", "sysname": "Linux"}, 1, "Labeled system information as provided by the uname system call.")
        return f.build()
