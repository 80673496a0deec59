"""Grafana-managed side of the alert catalogue: provisioning-API rule groups and the file format.

Each rule is query A (the Prometheus expression, instant) -> reduce B (last) -> condition C
(``threshold`` for > and <, ``math`` for >= and <=, which threshold only has since Grafana 11.x
minors), all server-side expressions with ``datasourceUid: "__expr__"``. Never
``classic_conditions`` and never grafanalib's AlertRulev9 shape, which current Grafana rejects.
"""
from __future__ import annotations

from modeldash.alerts.catalog import AlertDefinition, alert_definitions, render_template
from modeldash.alerts.sharding import alert_groups
from modeldash.spec.base import format_duration

EXPR_UID = "__expr__"
GRAFANA_VALUE = "$values.B.Value"
_THRESHOLD_TYPES = {">": "gt", "<": "lt"}
_QUERY_RANGE = 600  # seconds of relativeTimeRange for the instant query


def condition_model(d: AlertDefinition) -> dict:
    """The model of refId C: a threshold for > and <, a math comparison otherwise."""
    base = {"refId": "C", "datasource": {"type": EXPR_UID, "uid": EXPR_UID}}
    if d.op in _THRESHOLD_TYPES:
        return {**base, "type": "threshold", "expression": "B",
                "conditions": [{"evaluator": {"type": _THRESHOLD_TYPES[d.op], "params": [d.threshold]}}]}
    return {**base, "type": "math", "expression": f"$B {d.op} {d.threshold_text}"}


def rule_data(d: AlertDefinition, datasource_uid: str) -> list[dict]:
    return [
        {
            "refId": "A",
            "relativeTimeRange": {"from": _QUERY_RANGE, "to": 0},
            "datasourceUid": datasource_uid,
            "model": {
                "refId": "A",
                "datasource": {"type": "prometheus", "uid": datasource_uid},
                "expr": d.expr,
                "instant": True,
                "range": False,
                "editorMode": "code",
                "intervalMs": 1000,
                "maxDataPoints": 43200,
            },
        },
        {
            "refId": "B",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": EXPR_UID,
            "model": {"refId": "B", "datasource": {"type": EXPR_UID, "uid": EXPR_UID}, "type": "reduce",
                      "expression": "A", "reducer": "last"},
        },
        {
            "refId": "C",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": EXPR_UID,
            "model": condition_model(d),
        },
    ]


def api_rule(spec, d: AlertDefinition, group: str | None = None) -> dict:
    """A ProvisionedAlertRule (``/api/v1/provisioning/alert-rules``) of rule group ``group``
    (the sharded group, ``alerts/sharding.py``; the catalogue's when not given)."""
    return api_from_file_rule(spec, file_rule(spec, d), group or d.group)


def api_from_file_rule(spec, rule: dict, group: str) -> dict:
    """The API shape of a file-provisioning rule: the same rule, with its folder and group
    named and the dashboard link as ``__dashboardUid__``/``__panelId__`` annotations. Render
    builds each rule once (the file document) and derives the API groups from it."""
    out = {k: v for k, v in rule.items() if k not in ("dashboardUid", "panelId")}
    out.update(orgID=spec.alerting.grafana.org_id, folderUID=spec.folder_uid, ruleGroup=group,
               annotations={**rule["annotations"], "__dashboardUid__": rule["dashboardUid"],
                            "__panelId__": str(rule["panelId"])})
    return out


def _grouped(spec, defs: list[AlertDefinition] | None) -> dict[str, list[AlertDefinition]]:
    return alert_groups(alert_definitions(spec) if defs is None else defs)


def grafana_rule_groups(spec, defs: list[AlertDefinition] | None = None, file_groups: list[dict] | None = None) -> list[dict]:
    """Rule groups in the API shape (``PUT /api/v1/provisioning/folder/{uid}/rule-groups/{group}``).

    ``defs``: the catalogue when the caller built it already (render builds it once);
    ``file_groups``: the file-provisioning groups (``grafana_file_groups``) when built already."""
    interval = int(spec.alerting.interval)
    groups = grafana_file_groups(spec, defs) if file_groups is None else file_groups
    return [
        {"title": g["name"], "folderUid": spec.folder_uid, "interval": interval,
         "rules": [api_from_file_rule(spec, r, g["name"]) for r in g["rules"]]}
        for g in groups
    ]


def file_rule(spec, d: AlertDefinition) -> dict:
    """A rule in Grafana's file-provisioning format (dashboardUid/panelId, no folderUID)."""
    dash, panel = d.panel
    return {
        "uid": d.uid,
        "title": d.title,
        "condition": "C",
        "data": rule_data(d, spec.datasource.uid),
        "dashboardUid": dash,
        "panelId": panel,
        "noDataState": d.no_data_state,
        "execErrState": d.exec_err_state,
        "for": d.for_text,
        "labels": dict(d.labels),
        "annotations": {
            "summary": render_template(d.summary, GRAFANA_VALUE, d.value_format),
            "description": render_template(d.description, GRAFANA_VALUE, d.value_format),
            "runbook_url": d.runbook_url,
        },
        "isPaused": False,
    }


def grafana_file_groups(spec, defs: list[AlertDefinition] | None = None) -> list[dict]:
    interval = format_duration(spec.alerting.interval)
    org = spec.alerting.grafana.org_id
    return [
        {"orgId": org, "name": name, "folder": spec.grafana.folder, "interval": interval,
         "rules": [file_rule(spec, d) for d in group]}
        for name, group in _grouped(spec, defs).items()
    ]
