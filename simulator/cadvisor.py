"""cAdvisor through the kubelet (``job="kubelet", metrics_path="/metrics/cadvisor"``) on each node.

Like the real one it also emits the pod-level cgroup (``container=""``, ``image=""``), which is
why queries must filter ``container!="", image!=""``.
"""
from __future__ import annotations

from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.families import Families
from modeldash.simulator.topology import CONTAINERS, IMAGES, Topology, suffix

MIB = 1024**2
CPU = {"kserve-container": 0.25, "queue-proxy": 0.03}  # cores
WORKING_SET = {"kserve-container": 620 * MIB, "queue-proxy": 35 * MIB}


class CAdvisor:
    def __init__(self, node: str, topology: Topology, counters: Accumulator):
        self.node = node
        self.topology = topology
        self._acc = counters

    def collect(self):
        f = Families()
        for layout in self.topology.models:
            for pod in layout.pods:
                if pod.node != self.node:
                    continue
                cgroup = f"/kubepods/burstable/pod{suffix(layout.namespace, pod.name, n=12)}"
                rows = [(c, IMAGES[c], CPU[c], WORKING_SET[c], f"{cgroup}/{c}") for c in CONTAINERS]
                rows.append(("", "", sum(CPU.values()), sum(WORKING_SET.values()), cgroup))
                for container, image, cores, ws, cid in rows:
                    labels = {"namespace": layout.namespace, "pod": pod.name, "container": container, "image": image,
                              "id": cid, "name": f"k8s_{container}_{pod.name}" if container else ""}
                    f.counter("container_cpu_usage_seconds_total", labels,
                              self._acc.read(("cpu", layout.namespace, pod.name, container), cores),
                              "Cumulative cpu time consumed in seconds.")
                    f.gauge("container_memory_working_set_bytes", labels, ws, "Current working set in bytes.")
                    f.gauge("container_memory_usage_bytes", labels, ws + 180 * MIB,
                            "Current memory usage in bytes, including all memory regardless of when it was accessed.")
        return f.build()
