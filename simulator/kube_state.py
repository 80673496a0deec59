"""kube-state-metrics v2: nodes, the model pods (5 phase series each), owners, restarts,
crash-loop waiting reasons, Deployments, HPAs, resource limits/requests and the finished
drift-job pod (phase Succeeded, owned by a Job) with its ``kube_job_*`` series."""
from __future__ import annotations

from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.families import Families
from modeldash.simulator.topology import CONTAINERS, Topology

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
GIB = 1024**3
LIMITS = {"kserve-container": {"cpu": ("core", 1.0), "memory": ("byte", 2 * GIB)}}  # queue-proxy has none
REQUESTS = {
    "kserve-container": {"cpu": ("core", 0.5), "memory": ("byte", 1 * GIB)},
    "queue-proxy": {"cpu": ("core", 0.025), "memory": ("byte", 0.0625 * GIB)},
}


class KubeStateMetrics:
    def __init__(self, topology: Topology, signals, counters: Accumulator):
        self.topology = topology
        self._signals = signals  # () -> {model name: ModelSignals}
        self._acc = counters

    def _nodes(self, f: Families) -> None:
        for i, node in enumerate(self.topology.nodes):
            for condition in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
                good = "true" if condition == "Ready" else "false"
                for status in ("true", "false", "unknown"):
                    f.gauge("kube_node_status_condition", {"node": node, "condition": condition, "status": status},
                            1 if status == good else 0, "The condition of a cluster node.")
            f.gauge("kube_node_info", {"node": node, "kernel_version": "6.1.0-18-amd64", "kubelet_version": "v1.29.4",
                                       "internal_ip": f"10.0.0.{i + 10}"}, 1, "Information about a cluster node.")
            for resource, unit, value in (("cpu", "core", 4), ("memory", "byte", 32 * GIB), ("pods", "integer", 110)):
                f.gauge("kube_node_status_allocatable", {"node": node, "resource": resource, "unit": unit}, value,
                        "The allocatable for different resources of a node that are available for scheduling.")

    def _pod(self, f: Families, ns: str, pod: str, node: str, phase: str, owner_kind: str, owner_name: str) -> None:
        for p in PHASES:
            f.gauge("kube_pod_status_phase", {"namespace": ns, "pod": pod, "phase": p}, 1 if p == phase else 0,
                    "The pods current phase.")
        f.gauge("kube_pod_owner", {"namespace": ns, "pod": pod, "owner_kind": owner_kind, "owner_name": owner_name,
                                   "owner_is_controller": "true"}, 1, "Information about the Pod's owner.")
        f.gauge("kube_pod_info", {"namespace": ns, "pod": pod, "node": node, "created_by_kind": owner_kind,
                                  "created_by_name": owner_name, "host_network": "false"}, 1, "Information about pod.")

    def collect(self):
        f = Families()
        self._nodes(f)
        signals = self._signals()
        for layout in self.topology.models:
            sig = signals[layout.model.name]
            ns = layout.namespace
            current = layout.hpa_max if sig.hpa_maxed else layout.replicas
            for pod in layout.pods:
                self._pod(f, ns, pod.name, pod.node, "Running", "ReplicaSet", layout.replicaset)
                for container in CONTAINERS:
                    labels = {"namespace": ns, "pod": pod.name, "container": container}
                    crashing = sig.crash_looping and pod.index == 0 and container == "kserve-container"
                    rate = sig.restarts_per_s if (pod.index == 0 and container == "kserve-container") else 0.0
                    f.counter("kube_pod_container_status_restarts_total", labels,
                              round(self._acc.read(("restarts", ns, pod.name, container), rate)),
                              "The number of container restarts per container.")
                    if crashing:  # KSM emits a waiting reason only while the container waits
                        f.gauge("kube_pod_container_status_waiting_reason", {**labels, "reason": "CrashLoopBackOff"}, 1,
                                "Describes the reason the container is currently in waiting state.")
                    f.gauge("kube_pod_container_status_waiting", labels, 1 if crashing else 0,
                            "Describes whether the container is currently in waiting state.")
                    f.gauge("kube_pod_container_status_running", labels, 0 if crashing else 1,
                            "Describes whether the container is currently in running state.")
                    f.gauge("kube_pod_container_status_ready", labels, 0 if crashing else 1,
                            "Describes whether the containers readiness check succeeded.")
                    for resource, (unit, value) in sorted(LIMITS.get(container, {}).items()):
                        f.gauge("kube_pod_container_resource_limits", {**labels, "node": pod.node, "resource": resource, "unit": unit},
                                value, "The number of requested limit resource by a container.")
                    for resource, (unit, value) in sorted(REQUESTS.get(container, {}).items()):
                        f.gauge("kube_pod_container_resource_requests", {**labels, "node": pod.node, "resource": resource, "unit": unit},
                                value, "The number of requested request resource by a container.")
                ready = not (sig.crash_looping and pod.index == 0)
                for cond in ("true", "false", "unknown"):
                    f.gauge("kube_pod_status_ready", {"namespace": ns, "pod": pod.name, "condition": cond},
                            1 if cond == str(ready).lower() else 0, "Describes whether the pod is ready to serve requests.")
            dep = {"namespace": ns, "deployment": layout.deployment}
            f.gauge("kube_deployment_spec_replicas", dep, current, "Number of desired pods for a deployment.")
            f.gauge("kube_deployment_status_replicas", dep, current, "The number of replicas per deployment.")
            f.gauge("kube_deployment_status_replicas_available", dep, current + sig.replicas_available_delta,
                    "The number of available replicas per deployment.")
            f.gauge("kube_deployment_status_replicas_unavailable", dep, -sig.replicas_available_delta,
                    "The number of unavailable replicas per deployment.")
            f.gauge("kube_deployment_status_replicas_updated", dep, current, "The number of updated replicas per deployment.")
            f.gauge("kube_deployment_metadata_generation", dep, 1, "Sequence number representing a specific generation of the desired state.")
            f.gauge("kube_deployment_status_observed_generation", dep, 1, "The generation observed by the deployment controller.")
            f.gauge("kube_replicaset_owner", {"namespace": ns, "replicaset": layout.replicaset, "owner_kind": "Deployment",
                                              "owner_name": layout.deployment, "owner_is_controller": "true"}, 1,
                    "Information about the ReplicaSet's owner.")
            hpa = {"namespace": ns, "horizontalpodautoscaler": layout.hpa}
            f.gauge("kube_horizontalpodautoscaler_info", {**hpa, "scaletargetref_kind": "Deployment",
                                                          "scaletargetref_name": layout.deployment}, 1, "Information about this autoscaler.")
            f.gauge("kube_horizontalpodautoscaler_spec_min_replicas", hpa, layout.hpa_min, "Lower limit for the number of pods.")
            f.gauge("kube_horizontalpodautoscaler_spec_max_replicas", hpa, layout.hpa_max, "Upper limit for the number of pods.")
            f.gauge("kube_horizontalpodautoscaler_status_current_replicas", hpa, current, "Current number of replicas of pods managed by this autoscaler.")
            f.gauge("kube_horizontalpodautoscaler_status_desired_replicas", hpa, current, "Desired number of replicas of pods managed by this autoscaler.")
            # the drift CronJob's last Job: finished, its pod Succeeded (must not look like a broken pod)
            self._pod(f, ns, layout.drift_pod, layout.pods[0].node, "Succeeded", "Job", layout.drift_job)
            job = {"namespace": ns, "job_name": layout.drift_job}
            f.gauge("kube_job_owner", {**job, "owner_kind": "CronJob", "owner_name": f"{layout.model.name}-drift",
                                       "owner_is_controller": "true"}, 1, "Information about the Job's owner.")
            f.gauge("kube_job_status_succeeded", job, 1, "The number of pods which reached Phase Succeeded.")
            f.gauge("kube_job_status_failed", job, 0, "The number of pods which reached Phase Failed.")
            f.gauge("kube_job_status_active", job, 0, "The number of actively running pods.")
            # kube_job_failed exists only once a Job has a Failed condition: absent here, as in KSM
            for cond in ("true", "false", "unknown"):
                f.gauge("kube_job_complete", {**job, "condition": cond}, 1 if cond == "true" else 0, "The job has completed its execution.")
        return f.build()
