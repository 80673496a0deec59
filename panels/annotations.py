"""Dashboard annotations of a model: its alert state changes and its deployments.

"Did latency jump when we deployed?" needs both on the same time axis: firing alerts from
Prometheus's ``ALERTS`` series, and rollouts from kube-state-metrics (a new Deployment
generation, or a new Deployment as a new Knative revision creates one).
"""
from __future__ import annotations

from modeldash.datasources import fleet_signals as fs
from modeldash.panels.common import DATASOURCE
from modeldash.spec.alerting import MANAGED_LABEL

GENERATION = "kube_deployment_status_observed_generation"


def _annotation(name: str, expr: str, colour: str, title: str, text: str, tags: str) -> dict:
    return {"name": name, "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": colour,
            "expr": expr, "step": "1m", "titleFormat": title, "textFormat": text, "tagKeys": tags,
            "useValueForTime": False}


def alert_states(model) -> dict:
    sel = fs.selector("ALERTS", model=model.name, alertstate="firing", **{MANAGED_LABEL[0]: MANAGED_LABEL[1]})
    return _annotation("Alerts", sel, "red", "{{alertname}}", "{{severity}} alert {{alertname}} firing",
                       "severity,alertname")


def deployments(model, workload_regex: str) -> dict:
    """A rollout (generation change) or a new Deployment (a new revision) of the model's predictor."""
    sel = fs.selector(GENERATION, namespace=model.namespace, deployment=fs.Regex(workload_regex))
    by = "max by (namespace, deployment)"
    expr = (f"({by} (changes({sel}[2m])) > 0) or ({by} ({sel}) unless {by} ({sel} offset 2m))")
    return _annotation("Deployments", expr, "blue", "Rollout of {{deployment}}",
                       "Deployment {{deployment}} in {{namespace}} changed (new generation or revision)", "deployment")


def model_annotations(model, workload_regex: str) -> list[dict]:
    return [alert_states(model), deployments(model, workload_regex)]
