"""Alerts as code: the public interface other modules and helpers code against.

One ``AlertDefinition`` per alert (``alert_catalog``) becomes Grafana-managed rules
(``alert_grafana``), Prometheus rules and promtool tests (``alert_prometheus``) and is routed by
``routing``. Everything here is pure: building, never writing.
"""
from __future__ import annotations

from modeldash.alerts.catalog import AlertDefinition, alert_definitions, build_catalog
from modeldash.alerts.grafana_rules import grafana_file_groups, grafana_rule_groups
from modeldash.alerts.prometheus_rules import (
    TEST_RULES_DIR,
    count_cases,
    prometheus_rule_manifests,
    prometheus_rules,
    promtool_suite,
    promtool_test_rules,
    promtool_tests,
    recording_index,
    rule_shapes,
    shape_summary,
)
from modeldash.alerts.recording_rules import (
    RECORDED_ERROR_RATIO,
    RECORDED_LATENCY_P95,
    RECORDED_NAMES,
    RECORDED_REQUEST_RATE,
    recording_rules,
)
from modeldash.alerts.routing import (
    alertmanager_config,
    contact_points,
    grafana_file_contact_points,
    grafana_file_policies,
    notification_policy_subtree,
)

__all__ = [
    "AlertDefinition", "alert_definitions", "build_catalog", "grafana_rule_groups", "grafana_file_groups",
    "grafana_alerting_provisioning", "contact_points", "notification_policy_subtree", "alertmanager_config",
    "prometheus_rules", "prometheus_rule_manifests", "promtool_tests", "promtool_test_rules", "promtool_suite",
    "recording_index", "rule_shapes", "shape_summary",
    "count_cases", "rule_uids", "recording_rules", "RECORDED_REQUEST_RATE", "RECORDED_LATENCY_P95", "RECORDED_ERROR_RATIO", "RECORDED_NAMES",
]


def rule_uids(spec, defs: list[AlertDefinition] | None = None) -> list[str]:
    """Stable uids of every generated Grafana rule (``[a-z0-9-]``, 1-40 chars, from name + model)."""
    return [d.uid for d in (alert_definitions(spec) if defs is None else defs)]


def grafana_alerting_provisioning(spec, defs: list[AlertDefinition] | None = None) -> dict:
    """Grafana's alerting file-provisioning document (the k8s helper adds ``deleteRules``)."""
    return {
        "apiVersion": 1,
        "groups": grafana_file_groups(spec, defs),
        "contactPoints": grafana_file_contact_points(spec),
        "policies": grafana_file_policies(spec),
    }
