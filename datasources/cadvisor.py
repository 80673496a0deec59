"""cAdvisor signals (the kubelet's /metrics/cadvisor): container CPU and working-set memory,
against the limits kube-state-metrics reports."""
from __future__ import annotations

from modeldash.datasources import kube_state
from modeldash.datasources.selectors import selector

MATCHERS = 'job="kubelet", metrics_path="/metrics/cadvisor", container!="", image!=""'
JOB_LABELS = {"job": "kubelet", "metrics_path": "/metrics/cadvisor"}
RESOURCES = {"cpu": "container_cpu_usage_seconds_total", "memory": "container_memory_working_set_bytes"}


def usage(resource: str, scope: str, window: str) -> str:
    """CPU cores used (a counter's rate, never raw) or working-set bytes (what OOM kills use)."""
    sel = selector(RESOURCES[resource], MATCHERS, scope)
    return f"rate({sel}[{window}])" if resource == "cpu" else sel


def usage_against_limit(resource: str, scope: str, window: str) -> str:
    """Usage as a share of the limit, both sides summed per container before dividing."""
    return (f"sum by (namespace, pod, container) ({usage(resource, scope, window)}) / "
            f"{kube_state.container_limit(resource, scope)}")
