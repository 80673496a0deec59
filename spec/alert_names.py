"""The names of every alert modeldash can generate, so the spec can check ``disabled_alerts``.

The alert catalogue (``modeldash.alerts.catalog``) imports this list and refuses to add an
alert that is not on it, so the two never drift apart; the spec cannot import the catalogue
(data flows spec -> alerts).
"""
from __future__ import annotations

ALERT_NAMES: tuple[str, ...] = (
    # infrastructure
    "HighNodeCPUUsage", "HighNodeMemoryUsage", "NodeDiskAlmostFull", "NodeNotReady",
    # platform (per model namespace)
    "PodNotRunning", "PodCrashLooping", "FrequentPodRestarts", "DeploymentReplicasMismatch", "HPAMaxedOut",
    "ContainerNearCPULimit", "ContainerNearMemoryLimit",
    # serving (per model)
    "ModelLatencyP95High", "ModelLatencyP95Critical", "ModelErrorRateHigh", "ModelTrafficStopped",
    # model (per model)
    "PredictionDistributionShift", "ModelDriftHigh", "ModelQualityDegraded", "ModelMonitoringJobStale",
    # service-level objectives (per model and objective; page and ticket)
    "ModelErrorBudgetBurn",
)
