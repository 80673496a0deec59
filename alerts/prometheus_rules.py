"""Prometheus side of the alert catalogue: rules file, PrometheusRule objects, promtool tests.

Groups mirror the Grafana rule groups (one per layer and one per model) plus one group of
recording rules. The promtool unit tests are generated from each definition's scenario and
expect exactly what the rule will produce: labels and the expanded annotations.
"""
from __future__ import annotations

from collections import defaultdict

from modeldash.alerts.catalog import AlertDefinition, alert_definitions, expand_template, render_template
from modeldash.alerts.recording_rules import recording_rules
from modeldash.alerts.slo_rules import slo_rule_groups
from modeldash.spec.base import format_duration

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
    groups += slo_rule_groups(spec, interval)  # before the alerts: promtool evaluates groups in order
    for name, defs in sorted(_groups(alert_definitions(spec)).items()):
        groups.append({"name": name, "interval": interval, "rules": [prometheus_alert_rule(d) for d in defs]})
    return {"groups": groups}


def group_eval_order(rules: dict) -> list[str]:
    """Every group of a rules file, recording groups first, for a promtool test's ``group_eval_order``.

    The per-model alerts read recorded series: evaluated after the recording groups at each step,
    they see this step's values, as the cases expect. promtool only orders the groups it is told
    about (the others tie at 0 in no fixed order), so every group is listed.
    """
    groups = rules.get("groups", [])
    recording = [g["name"] for g in groups if any("record" in r for r in g["rules"])]
    return recording + [g["name"] for g in groups if g["name"] not in recording]


def prometheus_rule_manifests(spec, release: str | None = None) -> list[dict]:
    """One PrometheusRule per group, labelled for kube-prometheus-stack's rule selector.

    Namespace, ``release`` and extra labels are the ``kubernetes`` section's, like every other
    manifest modeldash writes.
    """
    target = spec.kubernetes
    labels = {
        "app.kubernetes.io/managed-by": "modeldash",
        "app.kubernetes.io/part-of": spec.name,
        **target.extra_labels,
        "release": release or target.release,
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
    """``{alert name: promtool test document}``: every definition's cases, one file per alert name.

    Cases of same-name definitions with the same title, checks and step whose series do not
    overlap (other models, namespaces, features) are merged into one test group: promtool
    evaluates every rule at every step of every group, so fewer groups is most of the run time.
    """
    defs = alert_definitions(spec)
    by_uid = {d.uid: d for d in defs}
    buckets: dict[str, list[dict]] = defaultdict(list)
    for d in defs:
        if d.scenario is None:
            continue
        for case in d.scenario.cases(d.uid, d.for_):
            key = (case.name, tuple(case.checks), d.scenario.step)
            names = {s["series"] for s in case.series}
            for bucket in buckets[d.name]:
                if bucket["key"] == key and not (bucket["names"] & names):
                    break
            else:
                bucket = {"key": key, "names": set(), "series": [], "values": {}, "titles": [],
                          "background": None, "step": d.scenario.step}
                buckets[d.name].append(bucket)
            bucket["names"] |= names
            bucket["series"] += case.series
            bucket["values"].update(case.values)
            bucket["titles"].append(d.title)
            bg = {s["series"]: s for s in case.background}
            bucket["background"] = bg if bucket["background"] is None else {
                k: v for k, v in bucket["background"].items() if k in bg}
    files: dict[str, dict] = {}
    order = group_eval_order(prometheus_rules(spec))
    for name, name_buckets in buckets.items():
        step = name_buckets[0]["step"]
        doc = {"rule_files": [f"../{RULES_FILE}"], "evaluation_interval": f"{step}m", "group_eval_order": order,
               "tests": []}
        for bucket in name_buckets:
            case_name, checks, _ = bucket["key"]
            series = bucket["series"] + [s for k, s in sorted((bucket["background"] or {}).items())
                                         if k not in bucket["names"]]
            alert_tests = []
            for minute, may_fire in checks:
                exp = []
                if may_fire:
                    for uid, value in sorted(bucket["values"].items()):
                        other = by_uid.get(uid)
                        if other is not None and other.name == name and other.fires(value):
                            exp.append(_expected(other, value, other.scenario.output_labels))
                alert_tests.append({"eval_time": f"{minute}m", "alertname": name, "exp_alerts": exp})
            doc["tests"].append({
                "name": f"{case_name} [{'; '.join(bucket['titles'])}]",
                "interval": f"{step}m",
                "input_series": series or [{"series": 'up{job="modeldash-test"}', "values": "1"}],
                "alert_rule_test": alert_tests,
            })
        files[name] = doc
    return files


def count_cases(tests: dict[str, dict]) -> int:
    return sum(len(doc["tests"]) for doc in tests.values())
