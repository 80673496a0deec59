"""kube-state-metrics v2 signals (job="kube-state-metrics"): nodes, pods, deployments, HPAs, limits.

Each function returns a per-object series; the Platform dashboard sums it per namespace and the
platform alert compares it per object. ``scope`` is extra matchers: ``namespace=~"$namespace"``
(and a workload regex) on a dashboard, ``namespace="<ns>"`` on an alert.
"""
from __future__ import annotations

from modeldash.datasources.selectors import selector

JOB = 'job="kube-state-metrics"'
JOB_LABELS = {"job": "kube-state-metrics"}
NOT_RUNNING = 'phase=~"Pending|Unknown|Failed"'
HPA = "horizontalpodautoscaler"
RESTARTS_WINDOW = "5m"


def ksm(metric: str, *parts: str) -> str:
    return selector(metric, JOB, *parts)


def node_ready() -> str:
    """1 while the kubelet reports the node Ready, per node."""
    sel = ksm("kube_node_status_condition", 'condition="Ready"', 'status="true"')
    return f"max by (node) ({sel})"


def pod_phase(scope: str) -> str:
    return f"sum by (namespace, phase) ({ksm('kube_pod_status_phase', scope)})"


def pods_not_running(scope: str) -> str:
    """Pending/Unknown/Failed pods (five phase series per pod), never Job-owned ones: a finished or
    failed try of the drift job is not an outage (upstream KubePodNotReady does the same)."""
    phase = ksm("kube_pod_status_phase", scope, NOT_RUNNING)
    owner = ksm("kube_pod_owner", scope, 'owner_kind="Job"')
    return (f"max by (namespace, pod, phase) ({phase}) "
            f"unless on (namespace, pod) max by (namespace, pod) ({owner})")


def crash_looping(scope: str) -> str:
    sel = ksm("kube_pod_container_status_waiting_reason", scope, 'reason="CrashLoopBackOff"')
    return f"max by (namespace, pod, container) ({sel})"


def restarts(scope: str) -> str:
    """Container restarts in the last ``RESTARTS_WINDOW`` (the spec's ``restarts_in_5m``), never
    the dashboard's rate interval."""
    sel = ksm("kube_pod_container_status_restarts_total", scope)
    return f"max by (namespace, pod, container) (increase({sel}[{RESTARTS_WINDOW}]))"


def _deployment(metric: str, scope: str) -> str:
    return f"max by (namespace, deployment) ({ksm(metric, scope)})"


def replicas_desired(scope: str) -> str:
    return _deployment("kube_deployment_spec_replicas", scope)


def replicas_available(scope: str) -> str:
    return _deployment("kube_deployment_status_replicas_available", scope)


def replicas_missing_without_rollout(scope: str) -> str:
    """Desired minus available replicas, only while no rollout makes progress (upstream mismatch)."""
    updated = ksm("kube_deployment_status_replicas_updated", scope)
    return (f"({replicas_desired(scope)} - {replicas_available(scope)}) and on (namespace, deployment) "
            f"(changes({updated}[10m]) == 0)")


def hpa_replicas(which: str, scope: str) -> str:
    """``status_current``, ``spec_max`` or ``spec_min`` replicas of each HPA (KSM 2 names)."""
    return f"max by (namespace, {HPA}) ({ksm(f'kube_horizontalpodautoscaler_{which}_replicas', scope)})"


def hpa_at_max(scope: str) -> str:
    """Current / max replicas, for HPAs that can scale at all (max != min)."""
    cur, mx, mn = (hpa_replicas(w, scope) for w in ("status_current", "spec_max", "spec_min"))
    return f"({cur} / {mx}) and on (namespace, {HPA}) ({mx} != {mn})"


def container_limit(resource: str, scope: str) -> str:
    sel = ksm("kube_pod_container_resource_limits", scope, f'resource="{resource}"')
    return f"sum by (namespace, pod, container) ({sel})"
