"""Platform layer: pods, restarts, crash loops, deployments, HPAs, container CPU/memory vs limits.

Every factory takes a ``Scope`` so the same panel serves the fleet-wide Platform dashboard
(``namespace=~"$namespace"``) and a model dashboard's workload row (one namespace, the
model's predictor pods).
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.datasources import cadvisor, kube_state
from modeldash.spec.fleet import FleetSpec
from modeldash.panels.common import PERCENT_UNIT, RATE, SHORT, Query, levels, stat, timeseries


@dataclass(frozen=True)
class Scope:
    """Which workloads a panel looks at: a namespace regex and a workload-name regex."""

    namespace: str = "$namespace"
    workload: str = ".*"

    def pods(self) -> str:
        return f'namespace=~"{self.namespace}", pod=~"{self.workload}"'

    def named(self, label: str) -> str:
        return f'namespace=~"{self.namespace}", {label}=~"{self.workload}"'


FLEET = Scope()


def pod_phase(spec: FleetSpec, scope: Scope = FLEET):
    expr = kube_state.pod_phase(scope.pods())
    return timeseries(
        "Pods by phase",
        "Number of pods in each phase. Pending pods wait for resources or images; Failed and Unknown pods "
        "need attention. Succeeded pods of finished Jobs (the drift job) are normal.",
        [Query(expr, "{{namespace}} {{phase}}")],
        SHORT,
        stacked=True,
    )


def pods_not_running(spec: FleetSpec, scope: Scope = FLEET):
    # Job-owned pods are excluded, as in upstream KubePodNotReady: a finished drift job is not an outage.
    expr = f"sum by (namespace, phase) ({kube_state.pods_not_running(scope.pods())})"
    return timeseries(
        "Pods not running (excluding Jobs)",
        "Pods stuck in Pending, Unknown or Failed, not counting pods of Jobs. Above zero for "
        f"{spec.platform.pod_not_running_for / 60:g} minutes fires PodNotRunning: `kubectl describe pod` shows "
        "the scheduling or image problem.",
        [Query(expr, "{{namespace}} {{phase}}")],
        SHORT,
        levels(1),
    )


def restarts(spec: FleetSpec, scope: Scope = FLEET):
    expr = f"sum by (namespace, pod) ({kube_state.restarts(scope.pods())})"
    return timeseries(
        "Container restarts (last 5m)",
        f"Restarts per pod over the last 5 minutes. More than {spec.platform.restarts_in_5m} fires "
        "FrequentPodRestarts: frequent restarts mean crashes or OOM kills; read the previous container's "
        "logs (`kubectl logs --previous`).",
        [Query(expr, "{{namespace}}/{{pod}}")],
        SHORT,
        levels(spec.platform.restarts_in_5m),
    )


def crash_loops(spec: FleetSpec, scope: Scope = FLEET):
    expr = f"count({kube_state.crash_looping(scope.pods())} == 1) or vector(0)"
    return stat(
        "Containers in CrashLoopBackOff",
        "Containers Kubernetes is backing off from restarting. Any value above zero fires PodCrashLooping: the "
        "model server exits at start, usually a bad model artifact, config or missing secret.",
        [Query(expr, "crash-looping")],
        SHORT,
        levels(None, 1),
    )


def replicas(spec: FleetSpec, scope: Scope = FLEET):
    sel = scope.named("deployment")
    return timeseries(
        "Deployment replicas: available vs desired",
        "Available replicas against the desired count per Deployment. Available below desired for "
        f"{spec.platform.replicas_mismatch_for / 60:g} minutes without rollout progress fires "
        "DeploymentReplicasMismatch: pods cannot be scheduled or fail readiness. Knative revisions may "
        "scale to zero, which is not a mismatch.",
        [
            Query(kube_state.replicas_desired(sel), "{{deployment}} desired"),
            Query(kube_state.replicas_available(sel), "{{deployment}} available"),
        ],
        SHORT,
    )


def hpa(spec: FleetSpec, scope: Scope = FLEET):
    sel = scope.named(kube_state.HPA)
    return timeseries(
        "Autoscaler: current vs max replicas",
        "Current replicas of each HorizontalPodAutoscaler against its maximum (kube_horizontalpodautoscaler_*, "
        f"KSM v2). At the maximum for {spec.platform.hpa_maxed_for / 60:g} minutes fires HPAMaxedOut: demand "
        "exceeds what the autoscaler may add; raise maxReplicas or the per-pod capacity.",
        [
            Query(kube_state.hpa_replicas("status_current", sel), "{{horizontalpodautoscaler}} current"),
            Query(kube_state.hpa_replicas("spec_max", sel), "{{horizontalpodautoscaler}} max"),
        ],
        SHORT,
    )


def container_cpu(spec: FleetSpec, scope: Scope = FLEET):
    ratio = spec.platform.container_limit_ratio
    return timeseries(
        "Container CPU against limit",
        "CPU used by each container as a share of its CPU limit (cAdvisor usage rate / KSM limit). Above "
        f"{ratio:.0%} the container is throttled and latency rises: raise the limit or scale out.",
        [Query(cadvisor.usage_against_limit("cpu", scope.pods(), RATE), "{{pod}}/{{container}}")],
        PERCENT_UNIT,
        levels(ratio),
        min_value=0,
    )


def container_memory(spec: FleetSpec, scope: Scope = FLEET):
    ratio = spec.platform.container_limit_ratio
    return timeseries(
        "Container memory (working set) against limit",
        "Working-set memory of each container as a share of its memory limit: the figure the OOM killer and "
        f"evictions use. Above {ratio:.0%} the next spike is an OOM kill: raise the limit or find the leak.",
        [Query(cadvisor.usage_against_limit("memory", scope.pods(), RATE), "{{pod}}/{{container}}")],
        PERCENT_UNIT,
        levels(ratio),
        min_value=0,
    )

