"""Where alerts go: Grafana contact points and policy subtree, and an Alertmanager config.

Everything modeldash generates carries ``managed_by="modeldash"``; the routes match that label
first, then team and severity. Secrets are references only: ``$ENV_VAR`` for Grafana (which
expands it in provisioning files; the sync substitutes it before an API write) and
``*_file`` paths for Alertmanager (a mounted Secret).
"""
from __future__ import annotations

from modeldash.alerts.catalog import alert_definitions
from modeldash.alerts.inhibition import inhibit_rules
from modeldash.spec.alerting import MANAGED_LABEL, SEVERITIES, ReceiverSpec
from modeldash.spec.base import format_duration, make_uid

AM_SLACK_TITLE = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.model }}"
AM_SLACK_TEXT = (
    "{{ range .Alerts }}{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}"
)


def _ref(env: str) -> str:
    return f"${env}"


# --------------------------------------------------------------------------- Grafana


def _grafana_integrations(r: ReceiverSpec) -> list[dict]:
    out = []
    if r.slack:
        out.append({"type": "slack", "settings": {"url": _ref(r.slack_url_env()), "recipient": r.slack.channel},
                    "disableResolveMessage": not r.slack.send_resolved})
    if r.email:
        out.append({"type": "email", "settings": {"addresses": ";".join(r.email.to), "singleEmail": False},
                    "disableResolveMessage": not r.email.send_resolved})
    if r.webhook:
        w = r.webhook
        settings = {"url": w.url or _ref(w.url_env or f"{r.env_prefix}_WEBHOOK_URL"), "httpMethod": "POST"}
        if w.bearer_token_env:
            settings.update({"authorization_scheme": "Bearer", "authorization_credentials": _ref(w.bearer_token_env)})
        out.append({"type": "webhook", "settings": settings, "disableResolveMessage": not w.send_resolved})
    return out


def contact_points(spec) -> list[dict]:
    """Contact points in the API shape (``/api/v1/provisioning/contact-points``), one per integration;
    integrations of one receiver share its name, which is what a policy routes to."""
    out = []
    for r in spec.alerting.receivers:
        for integ in _grafana_integrations(r):
            out.append({"uid": make_uid("md", r.name, integ["type"]), "name": r.name, **integ})
    return out


def _matchers(**labels: str) -> list[list[str]]:
    return [[k, "=", v] for k, v in labels.items()]


def _child_routes(spec) -> list[tuple[dict, str]]:
    """(label matchers, receiver) in evaluation order: team + severity first, then severity."""
    routes = spec.alerting.routes
    out = []
    for team, levels in sorted(routes.teams.items()):
        for sev in SEVERITIES:
            rec = getattr(levels, sev)
            if rec:
                out.append(({"team": team, "severity": sev}, rec))
    for sev in SEVERITIES:
        rec = getattr(routes.severity, sev)
        if rec:
            out.append(({"severity": sev}, rec))
    return out


def notification_policy_subtree(spec) -> dict:
    """The policy subtree modeldash owns (API shape), matched by ``managed_by="modeldash"``; the
    sync grafts it into the org's existing tree instead of replacing the tree."""
    routes = spec.alerting.routes
    if routes is None:
        return {}
    return {
        "receiver": routes.default,
        "object_matchers": _matchers(**{MANAGED_LABEL[0]: MANAGED_LABEL[1]}),
        "group_by": list(routes.group_by),
        "group_wait": format_duration(routes.group_wait),
        "group_interval": format_duration(routes.group_interval),
        "repeat_interval": format_duration(routes.repeat_interval),
        "routes": [{"receiver": rec, "object_matchers": _matchers(**m)} for m, rec in _child_routes(spec)],
    }


def grafana_file_contact_points(spec) -> list[dict]:
    org = spec.alerting.grafana.org_id
    return [
        {"orgId": org, "name": r.name,
         "receivers": [{"uid": make_uid("md", r.name, i["type"]), **i} for i in _grafana_integrations(r)]}
        for r in spec.alerting.receivers
    ]


def grafana_file_policies(spec) -> list[dict]:
    """File provisioning replaces the org's whole tree: root -> the modeldash subtree."""
    sub = notification_policy_subtree(spec)
    if not sub:
        return []
    routes = spec.alerting.routes
    return [{"orgId": spec.alerting.grafana.org_id, "receiver": routes.default,
             "group_by": ["grafana_folder", "alertname"], "routes": [sub]}]


# --------------------------------------------------------------------------- Alertmanager


def _am_receiver(spec, r: ReceiverSpec) -> dict:
    secrets = spec.alerting.alertmanager.secrets_dir
    out: dict = {"name": r.name}
    if r.slack:
        out["slack_configs"] = [{"api_url_file": r.slack_url_file(secrets), "channel": r.slack.channel,
                                 "send_resolved": r.slack.send_resolved, "title": AM_SLACK_TITLE,
                                 "text": AM_SLACK_TEXT}]
    if r.email:
        e = r.email
        cfg = {"to": ", ".join(e.to), "from": e.from_, "smarthost": e.smarthost, "require_tls": e.require_tls,
               "send_resolved": e.send_resolved}
        if e.auth_username:
            cfg.update({"auth_username": e.auth_username, "auth_password_file": r.smtp_password_file(secrets)})
        out["email_configs"] = [cfg]
    if r.webhook:
        w = r.webhook
        cfg = {"send_resolved": w.send_resolved}
        if w.url:
            cfg["url"] = w.url
        else:  # url_file needs Alertmanager >= 0.26
            cfg["url_file"] = w.url_file or f"{secrets}/{r.name}-webhook-url"
        if w.bearer_token_file or w.bearer_token_env:
            cfg["http_config"] = {"authorization": {
                "type": "Bearer", "credentials_file": w.bearer_token_file or f"{secrets}/{r.name}-bearer-token"}}
        out["webhook_configs"] = [cfg]
    return out


def alertmanager_config(spec) -> dict:
    """alertmanager.yaml for the kube-prometheus-stack path (passes ``amtool check-config``)."""
    routes = spec.alerting.routes
    if routes is None:
        return {}
    return {
        "global": {"resolve_timeout": format_duration(spec.alerting.alertmanager.resolve_timeout)},
        "route": {
            "receiver": routes.default,
            "group_by": list(routes.group_by),
            "group_wait": format_duration(routes.group_wait),
            "group_interval": format_duration(routes.group_interval),
            "repeat_interval": format_duration(routes.repeat_interval),
            "routes": [{
                "receiver": routes.default,
                "matchers": [f'{MANAGED_LABEL[0]}="{MANAGED_LABEL[1]}"'],
                "routes": [{"receiver": rec, "matchers": [f'{k}="{v}"' for k, v in m.items()]}
                           for m, rec in _child_routes(spec)],
            }],
        },
        "receivers": [_am_receiver(spec, r) for r in spec.alerting.receivers],
        "inhibit_rules": inhibit_rules(alert_definitions(spec)),
    }
