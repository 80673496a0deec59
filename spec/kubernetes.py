"""Spec section ``kubernetes``: how the rendered ``k8s/`` tree meets the cluster.

kube-prometheus-stack finds our objects by label and annotation; every one of those names is
a chart value that users change, so each is a field here with the chart's default. Per-model
scrape endpoints default to what the serving backend says (``metrics_port``/``metrics_path``)
and can be overridden per model under ``endpoints``.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from modeldash.spec.base import DurationField, FieldProblem, StrictModel, dns_label_problem

# Kubernetes label/annotation keys: optional DNS-subdomain prefix, '/', name of at most 63 chars.
_QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PORT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def qualified_name_problem(key: str) -> str | None:
    """Why ``key`` is not a valid Kubernetes label or annotation key (None when it is)."""
    if not isinstance(key, str) or not key:
        return "a label/annotation key must be a non-empty string"
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN_RE.match(prefix)):
        return f"{key!r}: prefix {prefix!r} is not a DNS subdomain"
    if len(name) > 63 or not _QUALIFIED_NAME_RE.match(name):
        return f"{key!r} is not a Kubernetes label key (at most 63 characters of A-Z a-z 0-9 - _ ., alphanumeric at both ends)"
    return None


def label_value_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid Kubernetes label value (None when it is)."""
    if not isinstance(value, str):
        return f"label value {value!r} must be a string (quote it: \"1\")"
    if len(value) > 63 or not _LABEL_VALUE_RE.match(value):
        return f"label value {value!r} is not valid (at most 63 characters of A-Z a-z 0-9 - _ ., alphanumeric at both ends)"
    return None


def _raising(check):
    """A pydantic validator from a ``problem(value) -> str | None`` check shared with lint."""

    def validate(v):
        problem = check(v)
        if problem:
            raise ValueError(problem)
        return v

    return validate


_dns_label = _raising(dns_label_problem)
_label_key = _raising(qualified_name_problem)
_label_value = _raising(label_value_problem)


def _labels(v: Any) -> Any:
    if not isinstance(v, dict):
        raise ValueError("must be a mapping of label names to string values")
    for key, value in v.items():
        _label_key(key)
        _label_value(value)
    return v


K8sName = Annotated[str, AfterValidator(_dns_label)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, BeforeValidator(_label_value)]
Labels = Annotated[dict[str, str], BeforeValidator(_labels)]


class SidecarLabel(StrictModel):
    """The label a Grafana sidecar watches for (``sidecar.<kind>.label`` / ``labelValue``)."""

    name: LabelKey
    value: LabelValue = "1"


class MetricsEndpoint(StrictModel):
    """One scrape endpoint of a model's pods: a container port number and path."""

    port: int
    path: str = "/metrics"

    @field_validator("port")
    @classmethod
    def _port(cls, v):
        if not 1 <= v <= 65535:
            raise ValueError("a port is a number from 1 to 65535")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v):
        if not v.startswith("/"):
            raise ValueError(f"path {v!r} must start with '/'")
        return v


class ModelEndpoints(StrictModel):
    """Override of one model's scrape endpoints (default: asked of its serving backends)."""

    kind: Literal["PodMonitor", "ServiceMonitor"] = "PodMonitor"
    # pods (PodMonitor) or Services (ServiceMonitor) to select; default: the InferenceService label
    selector: Labels = Field(default_factory=dict)
    endpoints: list[MetricsEndpoint] = Field(default_factory=list)
    # ServiceMonitor only: the Service port NAME (ServiceMonitors select service ports by name)
    port_name: str | None = None

    @model_validator(mode="after")
    def _service(self):
        if self.kind == "ServiceMonitor" and not self.port_name:
            raise ValueError("port_name: a ServiceMonitor selects a Service port by name; set port_name")
        if self.port_name is not None and not _PORT_NAME_RE.match(self.port_name):
            raise ValueError(f"port_name: {self.port_name!r} is not a port name (lowercase a-z, 0-9, '-')")
        return self


class ProvisioningSpec(StrictModel):
    """File provisioning for a Grafana that is not on Kubernetes."""

    # where the dashboard JSON files are on the Grafana host (the provider's options.path)
    dashboards_path: str = "/etc/grafana/provisioning/dashboards/modeldash"

    @field_validator("dashboards_path")
    @classmethod
    def _abs(cls, v):
        if not v.startswith("/"):
            raise ValueError(f"{v!r} must be an absolute path on the Grafana host")
        return v


class KubernetesSpec(StrictModel):
    """Everything the ``k8s/`` and ``provisioning/`` trees need beyond the dashboards and alerts."""

    # false: no k8s/ tree (and no ConfigMap size limits), e.g. when only the HTTP sync or a
    # file-provisioned Grafana is used; provisioning/ is written either way
    enabled: bool = True
    namespace: K8sName = "monitoring"
    name_prefix: K8sName = "modeldash"
    dashboard_label: SidecarLabel = SidecarLabel(name="grafana_dashboard")
    # kube-prometheus-stack: grafana.sidecar.dashboards.folderAnnotation
    folder_annotation: LabelKey = "k8s-sidecar-target-directory"
    datasource_label: SidecarLabel = SidecarLabel(name="grafana_datasource")
    alert_label: SidecarLabel = SidecarLabel(name="grafana_alert")
    # emit the datasource ConfigMap (off when the chart's own Prometheus datasource is used)
    datasource: bool = True
    # true when the cluster applies with `kubectl apply --server-side` (lifts the 256 KiB limit)
    server_side_apply: bool = False
    # `release` label that the chart's default rule/monitor selectors match
    release: LabelValue = "kube-prometheus-stack"
    extra_labels: Labels = Field(default_factory=dict)
    scrape_interval: DurationField = 30.0
    # per-model overrides of the scrape endpoints, keyed by model name
    endpoints: dict[str, ModelEndpoints] = Field(default_factory=dict)
    # renders a vanished rule uid / dashboard ConfigMap stays on the deletion lists
    keep_deletions_for: int = 10
    provisioning: ProvisioningSpec = ProvisioningSpec()

    @field_validator("scrape_interval")
    @classmethod
    def _interval(cls, v):
        if v < 1 or v != int(v):
            raise ValueError("must be a whole number of seconds, at least 1s")
        return v

    @field_validator("keep_deletions_for")
    @classmethod
    def _keep(cls, v):
        if v < 1:
            raise ValueError("must be at least 1 (the render right after the removal)")
        return v


def _check_against_models(value: KubernetesSpec, info: ValidationInfo) -> KubernetesSpec:
    """``endpoints`` may only name models of the fleet (a typo would silently do nothing)."""
    models = (info.data or {}).get("models")
    if models is None:  # models themselves failed; that error is reported instead
        return value
    names = {m.name for m in models}
    for name in value.endpoints:
        if name not in names:
            raise FieldProblem(("kubernetes", "endpoints", name), f"no model named {name!r} in models")
    return value


# FleetSpec declares ``kubernetes: KubernetesField = KubernetesSpec()`` AFTER ``models``.
KubernetesField = Annotated[KubernetesSpec, AfterValidator(_check_against_models)]
