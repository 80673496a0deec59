"""Prometheus side of the alert catalogue: rules file, PrometheusRule objects, promtool tests.

Groups mirror the Grafana rule groups (one per layer and one per model) plus one group of
recording rules. The promtool unit tests are generated from each definition's scenario and
expect exactly what the rule will produce: labels and the expanded annotations.
"""
from __future__ import annotations

from collections import defaultdict

from modeldash.dashboards.alert_catalog import AlertDefinition, alert_definitions, expand_template, render_template
from modeldash.dashboards.recording_rules import recording_rules
from modeldash.dashboards.spec_base import format_duration

RECORDING_GROUP = "modeldash-recording"
RULES_FILE = "rules.yaml"  # tests live in prometheus/tests/ and load ../rules.yaml


def prometheus_alert_rule(d: AlertDefinition) -> dict:
    value = "$value"
    return {
        "alert": d.name,
        "expr": d.condition,
        "for": d.for_text,
        "labels": dict(d.labels),
        "annotations": _annotations(d, value),
    }


def _annotations(d: AlertDefinition, value_ref: str) -> dict:
    return {
        "summary": render_template(d.summary, value_ref, d.value_format),
        "description": render_template(d.description, value_ref, d.value_format),
        "runbook_url": d.runbook_url,
    }


def _groups(defs: list[AlertDefinition]) -> dict[str, list[AlertDefinition]]:
    groups: dict[str, list[AlertDefinition]] = defaultdict(list)
    for d in defs:
        groups[d.group].append(d)
    return groups


def prometheus_rules(spec) -> dict:
    """A plain rules file (``rule_files`` / ``promtool check rules``): recording + alerting groups."""
    interval = format_duration(spec.alerting.interval)
    groups = []
    recs = recording_rules(spec)
    if recs:
        groups.append({"name": RECORDING_GROUP, "interval": interval, "rules": [r.as_prometheus() for r in recs]})
    for name, defs in sorted(_groups(alert_definitions(spec)).items()):
        groups.append({"name": name, "interval": interval, "rules": [prometheus_alert_rule(d) for d in defs]})
    return {"groups": groups}


def prometheus_rule_manifests(spec, release: str | None = None) -> list[dict]:
    """One PrometheusRule per group, labelled for kube-prometheus-stack's rule selector."""
    target = spec.alerting.prometheus_rule
    labels = {
        "app.kubernetes.io/managed-by": "modeldash",
        "app.kubernetes.io/part-of": spec.name,
        "release": release or target.release,
        **target.labels,
    }
    out = []
    for group in prometheus_rules(spec)["groups"]:
        out.append({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": group["name"], "namespace": target.namespace, "labels": dict(labels)},
            "spec": {"groups": [group]},
        })
    return out


# --------------------------------------------------------------------------- promtool tests


def _expected(d: AlertDefinition, value: float, output_labels: dict) -> dict:
    labels = {**output_labels, **d.labels}
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": expand_template(d.summary, labels, value, d.value_format),
            "description": expand_template(d.description, labels, value, d.value_format),
            "runbook_url": d.runbook_url,
        },
    }


def promtool_tests(spec) -> dict[str, dict]:
    """``{alert name: promtool test document}``: every definition's cases, in one file per alert name."""
    defs = alert_definitions(spec)
    by_uid = {d.uid: d for d in defs}
    files: dict[str, dict] = {}
    for d in defs:
        if d.scenario is None:
            continue
        step = d.scenario.step
        doc = files.setdefault(d.name, {"rule_files": [f"../{RULES_FILE}"], "evaluation_interval": f"{step}m",
                                        "tests": []})
        for case in d.scenario.cases(d.uid, d.for_):
            checks = []
            for minute, may_fire in case.checks:
                exp = []
                if may_fire:
                    for uid, value in sorted(case.values.items()):
                        other = by_uid.get(uid)
                        if other is not None and other.name == d.name and other.fires(value):
                            out = case.output_labels if case.output_labels is not None else other.scenario.output_labels
                            exp.append(_expected(other, value, out))
                checks.append({"eval_time": f"{minute}m", "alertname": d.name, "exp_alerts": exp})
            doc["tests"].append({
                "name": f"{d.title}: {case.name}",
                "interval": f"{step}m",
                "input_series": case.series,
                "alert_rule_test": checks,
            })
    return files


def count_cases(tests: dict[str, dict]) -> int:
    return sum(len(doc["tests"]) for doc in tests.values())
