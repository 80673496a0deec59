"""Desired state for the sync tests and the benchmark: N models, each with a dashboard
and a rule group, plus contact points (secrets from the environment) and a policy subtree.

Shaped like the outputs of ``build_dashboards`` and ``dashboards.alerts`` so the engine
is exercised independently of how those builders evolve.
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.sync.desired_state import build_desired
from modeldash.spec.fleet import load_spec_data

SECRETS = {
    "MODELDASH_TEST_SLACK_URL": "https://hooks.slack.example/services/T000/B000/slack-secret-0xC0FFEE",
    "MODELDASH_TEST_WEBHOOK_URL": "https://hooks.example.net/alerts/webhook-secret-0xBEEF",
    "MODELDASH_TEST_WEBHOOK_PASSWORD": "webhook-password-0xFACE",
    "MODELDASH_TEST_SMTP_PASSWORD": "smtp-password-0xD00D",
}


@dataclass
class FixtureDashboard:
    uid: str
    title: str
    folder_uid: str
    folder_title: str
    kind: str
    model: str | None
    json: dict


def fleet_spec(n: int, name: str = "test-fleet"):
    models = [{"name": f"model-{i:03d}", "namespace": "ml", "task": "regression"} for i in range(n)]
    return load_spec_data({"name": name, "grafana": {"folder": "ML Models"}, "models": models}, "<fixture>")


def dashboard_json(uid: str, title: str, model: str, threshold: float = 0.5) -> dict:
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 39,
        "tags": ["ml-model", model],
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "annotations": {"list": []},
        "panels": [{
            "type": "timeseries",
            "id": 2,
            "title": "Latency p95",
            "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "targets": [{"refId": "A", "expr": f'histogram_quantile(0.95, sum by (le) (rate(request_duration_seconds_bucket{{model="{model}"}}[$__rate_interval])))'}],
            "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": [
                {"color": "green", "value": None}, {"color": "red", "value": threshold}]}}, "overrides": []},
        }],
    }


def rule_group(model: str, folder_uid: str, threshold: float = 0.5) -> dict:
    return {
        "title": f"{model}",
        "folderUid": folder_uid,
        "interval": 60,
        "rules": [{
            "uid": f"mdr-{model}-latency",
            "title": f"{model}: latency p95 high",
            "condition": "C",
            "data": [
                {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "prometheus",
                 "model": {"refId": "A", "expr": f'histogram_quantile(0.95, sum by (le) (rate(request_duration_seconds_bucket{{model="{model}"}}[5m])))'}},
                {"refId": "B", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
                 "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last"}},
                {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
                 "model": {"refId": "C", "type": "threshold", "expression": "B",
                           "conditions": [{"evaluator": {"type": "gt", "params": [threshold]}}]}},
            ],
            "noDataState": "NoData",
            "execErrState": "Error",
            "for": "5m",
            "labels": {"model": model, "severity": "warning", "team": "ml"},
            "annotations": {"summary": f"{model} p95 latency above {threshold}s",
                            "__dashboardUid__": f"md-model-{model}", "__panelId__": "2"},
        }],
    }


CONTACT_POINTS = [
    {"uid": "ml-slack", "name": "modeldash-ml-slack", "type": "slack",
     "settings": {"url": "${MODELDASH_TEST_SLACK_URL}", "recipient": "#ml-alerts"}},
    {"uid": "ml-webhook", "name": "modeldash-ml-webhook", "type": "webhook",
     "settings": {"url": "$MODELDASH_TEST_WEBHOOK_URL", "password": "$MODELDASH_TEST_WEBHOOK_PASSWORD",
                  "username": "grafana", "httpMethod": "POST"}},
]
POLICY_SUBTREE = [
    {"receiver": "modeldash-ml-slack", "object_matchers": [["severity", "=", "warning"]], "group_by": ["alertname", "model"]},
    {"receiver": "modeldash-ml-webhook", "object_matchers": [["severity", "=", "critical"]]},
]


def desired(n: int = 3, thresholds: dict | None = None, models: int | None = None, name: str = "test-fleet",
            with_alerts: bool = True):
    """The desired objects for ``n`` models; ``thresholds[model]`` changes one model's content."""
    spec = fleet_spec(n, name)
    thresholds = thresholds or {}
    dashboards, groups = [], []
    for m in spec.models[: models if models is not None else n]:
        t = thresholds.get(m.name, 0.5)
        uid = f"md-model-{m.name}"
        dashboards.append(FixtureDashboard(uid, f"Model {m.name}", spec.folder_uid, spec.grafana.folder, "model", m.name,
                                           dashboard_json(uid, f"Model {m.name}", m.name, t)))
        groups.append(rule_group(m.name, spec.folder_uid, t))
    if not with_alerts:
        return spec, build_desired(spec, dashboards)
    return spec, build_desired(spec, dashboards, CONTACT_POINTS, POLICY_SUBTREE, groups)
