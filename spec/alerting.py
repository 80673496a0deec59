"""Spec section ``alerting``: rule evaluation, receivers, routes and the PrometheusRule target.

Secrets never live in the spec. A receiver names an environment variable (read by Grafana,
which expands ``$VAR`` in provisioning files) and a mounted file (read by Alertmanager via
``api_url_file`` / ``auth_password_file``). A spec that puts a webhook URL or a password
inline is rejected with a message that says how to reference it instead.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from modeldash.spec.alert_names import ALERT_NAMES
from modeldash.spec.base import DurationField, FieldProblem, PositiveDuration, StrictModel, SubFieldProblem, make_uid
from modeldash.spec.safe_values import label_name_problem, safe_text_problem, url_problem

ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SEVERITIES = ("warning", "critical")
MANAGED_LABEL = ("managed_by", "modeldash")

# inline keys people write by habit -> (env key, file key) they must use instead
_INLINE_SECRETS = {
    "webhook_url": ("webhook_url_env", "webhook_url_file"),
    "api_url": ("webhook_url_env", "webhook_url_file"),
    "password": ("password_env", "password_file"),
    "auth_password": ("password_env", "password_file"),
    "bearer_token": ("bearer_token_env", "bearer_token_file"),
    "token": ("bearer_token_env", "bearer_token_file"),
}


def _reject_inline(data: Any) -> Any:
    """Refuse inline secrets by key, naming the keys to use (never echoing the value)."""
    if isinstance(data, dict):
        for key in data:
            if key in _INLINE_SECRETS:
                env_key, file_key = _INLINE_SECRETS[key]
                raise ValueError(
                    f"{key}: inline secrets are not allowed; reference it with {env_key}: ENV_VAR "
                    f"(Grafana reads the environment variable) and {file_key}: /path/in/pod "
                    f"(Alertmanager reads the mounted file)"
                )
    return data


def _env(v: str | None) -> str | None:
    if v is not None and not ENV_RE.match(v):
        raise ValueError(f"{v!r} is not an environment variable name (A-Z, 0-9, _)")
    return v


def _file(v: str | None) -> str | None:
    if v is not None and not v.startswith("/"):
        raise ValueError(f"{v!r} must be an absolute path of a file mounted into the Alertmanager pod")
    return v


_ADDRESS_RE = re.compile(r"^[\w.+-]+@[A-Za-z0-9.-]+$")


def _address(v: str) -> str:
    """A plain address: it lands in Alertmanager's (templated) config and Grafana's provisioning."""
    if not _ADDRESS_RE.match(v):
        raise ValueError(f"{v!r} is not a plain email address (name@example.com)")
    return v


class SlackReceiver(StrictModel):
    """A Slack incoming webhook; the URL itself is a secret (the token is in its path)."""

    channel: str
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None
    send_resolved: bool = True

    _inline = model_validator(mode="before")(classmethod(lambda cls, d: _reject_inline(d)))
    _e = field_validator("webhook_url_env")(classmethod(lambda cls, v: _env(v)))
    _f = field_validator("webhook_url_file")(classmethod(lambda cls, v: _file(v)))

    @field_validator("channel")
    @classmethod
    def _channel(cls, v):
        if not re.match(r"^[#@][\w.-]{1,80}$", v):
            raise ValueError(f"{v!r} is not a Slack channel ('#ml-alerts') or user ('@oncall')")
        return v


class EmailReceiver(StrictModel):
    """Email through an SMTP smarthost. Grafana sends with its own [smtp] settings
    (``GF_SMTP_PASSWORD`` from ``password_env``); Alertmanager reads ``password_file``."""

    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from")
    smarthost: str
    auth_username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    require_tls: bool = True
    send_resolved: bool = True

    _inline = model_validator(mode="before")(classmethod(lambda cls, d: _reject_inline(d)))
    _e = field_validator("password_env")(classmethod(lambda cls, v: _env(v)))
    _f = field_validator("password_file")(classmethod(lambda cls, v: _file(v)))

    @field_validator("to")
    @classmethod
    def _addresses(cls, v):
        for addr in v:
            _address(addr)
        return v

    _from = field_validator("from_", "auth_username")(classmethod(lambda cls, v: v if v is None else _address(v)))

    @field_validator("smarthost")
    @classmethod
    def _smarthost(cls, v):
        if not re.match(r"^[A-Za-z0-9.-]+:\d+$", v):
            raise ValueError(f"{v!r} is not host:port (e.g. smtp.example.com:587)")
        return v


class WebhookReceiver(StrictModel):
    """A generic webhook. A plain ``url`` is allowed only without credentials in it;
    otherwise use ``url_env`` + ``url_file``. Auth token via ``bearer_token_env``/``_file``."""

    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    bearer_token_env: str | None = None
    bearer_token_file: str | None = None
    send_resolved: bool = True

    _inline = model_validator(mode="before")(classmethod(lambda cls, d: _reject_inline(d)))
    _e = field_validator("url_env", "bearer_token_env")(classmethod(lambda cls, v: _env(v)))
    _f = field_validator("url_file", "bearer_token_file")(classmethod(lambda cls, v: _file(v)))

    @field_validator("url")
    @classmethod
    def _plain_url(cls, v):
        if v is None:
            return v
        problem = url_problem(v)
        if problem:
            raise ValueError(problem)
        parts = urlsplit(v)
        if parts.username or parts.password or parts.query:
            raise ValueError(
                "a URL with credentials or a query string is a secret: reference it with url_env "
                "(Grafana reads the environment variable) and url_file (Alertmanager reads the mounted file)"
            )
        return v

    @model_validator(mode="after")
    def _one_url(self):
        if self.url is None and self.url_env is None and self.url_file is None:
            raise ValueError("url: give url (a plain endpoint) or url_env and url_file")
        if self.url is not None and (self.url_env or self.url_file):
            raise ValueError("url: give either url or url_env/url_file, not both")
        return self


class ReceiverSpec(StrictModel):
    """A named receiver (Grafana contact point / Alertmanager receiver) with one or more integrations."""

    name: str
    slack: SlackReceiver | None = None
    email: EmailReceiver | None = None
    webhook: WebhookReceiver | None = None

    _inline = model_validator(mode="before")(classmethod(lambda cls, d: _reject_inline(d)))

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        if not re.match(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$", v):
            raise ValueError(f"{v!r}: receiver names are 2-40 characters of a-z, 0-9 and '-'")
        return v

    @model_validator(mode="after")
    def _some(self):
        if not (self.slack or self.email or self.webhook):
            raise ValueError("a receiver needs at least one of slack, email, webhook")
        return self

    @property
    def uid(self) -> str:
        return make_uid("md", self.name)

    # Default secret references, so the generated files and the deployment agree on names.
    @property
    def env_prefix(self) -> str:
        return "MODELDASH_" + self.name.upper().replace("-", "_")

    def slack_url_env(self) -> str:
        return (self.slack.webhook_url_env if self.slack else None) or f"{self.env_prefix}_SLACK_WEBHOOK_URL"

    def slack_url_file(self, secrets_dir: str) -> str:
        return (self.slack.webhook_url_file if self.slack else None) or f"{secrets_dir}/{self.name}-slack-webhook-url"

    def smtp_password_env(self) -> str:
        return (self.email.password_env if self.email else None) or "GF_SMTP_PASSWORD"

    def smtp_password_file(self, secrets_dir: str) -> str:
        return (self.email.password_file if self.email else None) or f"{secrets_dir}/{self.name}-smtp-password"


class SeverityRoutes(StrictModel):
    """Receiver per severity; ``None`` falls back to the default receiver."""

    warning: str | None = None
    critical: str | None = None


class RoutesSpec(StrictModel):
    """Which receiver gets which alerts: by severity, optionally overridden per team."""

    default: str
    severity: SeverityRoutes = SeverityRoutes()
    teams: dict[str, SeverityRoutes] = Field(default_factory=dict)
    group_by: list[str] = Field(default_factory=lambda: ["alertname", "model", "namespace"])
    group_wait: DurationField = 30
    group_interval: PositiveDuration = 300
    repeat_interval: PositiveDuration = 4 * 3600

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, v):
        if v == ["..."]:  # Alertmanager: group by every label
            return v
        for i, name in enumerate(v):
            problem = label_name_problem(name, what="group_by label")
            if problem:
                raise SubFieldProblem((i,), problem)
        return v

    @field_validator("teams")
    @classmethod
    def _teams(cls, v):
        for team in v:
            problem = safe_text_problem(team, "team")
            if problem:
                raise SubFieldProblem((team,), problem)
        return v


class GrafanaAlertingSpec(StrictModel):
    org_id: int = 1
    # Send X-Disable-Provenance on API writes so rules stay editable in the UI. Pick once:
    # Grafana refuses to change the provenance of an existing rule.
    disable_provenance: bool = False


class AlertmanagerSpec(StrictModel):
    """Alertmanager config knobs; secrets are files mounted under ``secrets_dir``."""

    secrets_dir: str = "/etc/alertmanager/secrets"
    resolve_timeout: PositiveDuration = 300

    _f = field_validator("secrets_dir")(classmethod(lambda cls, v: _file(v)))


class AlertingSpec(StrictModel):
    enabled: bool = True
    # rule-group evaluation interval (Grafana and Prometheus): a multiple of 10s
    interval: DurationField = 60
    runbook_base_url: str = "https://runbooks.example.com/modeldash"
    disabled_alerts: list[str] = Field(default_factory=list)

    @field_validator("disabled_alerts")
    @classmethod
    def _known_alerts(cls, v):
        for i, name in enumerate(v):
            if name not in ALERT_NAMES:
                raise SubFieldProblem((i,), f"unknown alert {name!r}; known alerts: {', '.join(ALERT_NAMES)}")
        return v

    @field_validator("runbook_base_url")
    @classmethod
    def _runbook(cls, v):
        problem = url_problem(v)
        if problem:
            raise ValueError(problem)
        return v
    receivers: list[ReceiverSpec] = Field(default_factory=list)
    routes: RoutesSpec | None = None
    grafana: GrafanaAlertingSpec = GrafanaAlertingSpec()
    alertmanager: AlertmanagerSpec = AlertmanagerSpec()

    @field_validator("interval")
    @classmethod
    def _interval(cls, v):
        if v <= 0 or v != int(v) or int(v) % 10:
            raise ValueError(f"{v:g}s is not a positive multiple of 10s (Grafana's scheduler tick), e.g. 1m or 30s")
        return v

    @model_validator(mode="after")
    def _routes_known(self):
        if not self.receivers and self.routes is None:
            return self
        names = [r.name for r in self.receivers]
        for i, n in enumerate(names):
            if names.index(n) != i:
                raise FieldProblem(("alerting", "receivers", i, "name"), f"duplicate receiver {n!r}")
        if self.routes is None:
            if self.receivers:
                raise FieldProblem(("alerting", "routes"), "receivers are defined but no routes use them")
            return self
        known = set(names)

        def check(loc: tuple, value: str | None):
            if value is not None and value not in known:
                choices = ", ".join(sorted(known)) or "none defined"
                raise FieldProblem(("alerting", "routes") + loc, f"unknown receiver {value!r} (receivers: {choices})")

        check(("default",), self.routes.default)
        for sev in SEVERITIES:
            check(("severity", sev), getattr(self.routes.severity, sev))
        for team, levels in self.routes.teams.items():
            for sev in SEVERITIES:
                check(("teams", team, sev), getattr(levels, sev))
        return self

    def receiver(self, name: str) -> ReceiverSpec:
        return next(r for r in self.receivers if r.name == name)
