"""Spec section ``jobs``: the batch monitoring jobs (drift, quality), where they read and push.

The schedule drives the CronJob; ``period`` is how often that schedule fires, which the
``ModelMonitoringJobStale`` alert uses (stale after two periods without a success). ``window``
(default: the period) is how much production data each run scores, ending ``delay`` before the
run (labels arrive late). ``models`` says per model where its data lives; every key has a
default that follows the model's name, so a fleet needs none of it to render.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from modeldash.spec.base import DNS_LABEL_RE, DurationField, PositiveDuration, StrictModel, parse_duration, positive_duration
from modeldash.spec.kubernetes import Labels
from modeldash.spec.safe_values import checked, cron_problem, image_problem, port_name_problem, url_problem


PERIOD_MAX = 7 * 86400  # weekly at most: ModelMonitoringJobStale's promtool tests span two periods


def _period_bounded(v: float) -> float:
    if v > PERIOD_MAX:
        raise ValueError("is longer than the maximum of 7d (a job runs at least weekly)")
    return v


JobPeriod = Annotated[float, BeforeValidator(parse_duration), AfterValidator(positive_duration), AfterValidator(_period_bounded)]


class JobSpec(StrictModel):
    enabled: bool = True
    schedule: str = "0 * * * *"
    period: JobPeriod = 3600.0
    window: PositiveDuration | None = None
    delay: DurationField = 0.0

    _cron = field_validator("schedule")(classmethod(lambda cls, v: checked(cron_problem, v)))

    @property
    def window_seconds(self) -> float:
        return self.window if self.window is not None else self.period


def _column(v: str) -> str:
    if not v or len(v) > 128:
        raise ValueError("column name must be 1 to 128 characters")
    return v


class ModelJobSettings(StrictModel):
    """Where one model's jobs read: sources are ``table:NAME``, ``query:SQL`` or a .csv/.parquet path."""

    inputs: str | None = None  # inference inputs (+ predictions); default table:<model>_inputs
    predictions: str | None = None  # default table:<model>_predictions
    labels: str | None = None  # delayed ground truth; default table:<model>_labels
    timestamp_column: str = "timestamp"
    id_column: str = "request_id"
    prediction_column: str = "prediction"
    label_column: str = "label"
    baseline_configmap: str | None = None  # ConfigMap with key baseline.json; default <model>-baseline

    _cols = field_validator("timestamp_column", "id_column", "prediction_column", "label_column")(
        classmethod(lambda cls, v: _column(v))
    )

    @field_validator("baseline_configmap")
    @classmethod
    def _cm(cls, v):
        if v is not None and (len(v) > 63 or not DNS_LABEL_RE.match(v)):
            raise ValueError(f"{v!r} is not a Kubernetes name")
        return v


class JobsSpec(StrictModel):
    drift: JobSpec = JobSpec()
    quality: JobSpec = JobSpec(schedule="0 */6 * * *", period=21600.0)
    image: str = "ghcr.io/example/modeldash-jobs:0.1.0"
    pushgateway_url: str = "http://prometheus-pushgateway.monitoring.svc:9091"
    namespace: str = "monitoring"
    database_secret: str = "modeldash-db"  # Secret whose key `url` is the SQLAlchemy URL
    pushgateway_selector: Labels = Field(default_factory=lambda: {"app.kubernetes.io/name": "prometheus-pushgateway"})
    pushgateway_port: str = "http"  # the Service port NAME (a ServiceMonitor selects ports by name)
    service_monitor_labels: Labels = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    models: dict[str, ModelJobSettings] = Field(default_factory=dict)

    _image = field_validator("image")(classmethod(lambda cls, v: checked(image_problem, v)))
    _port = field_validator("pushgateway_port", mode="before")(classmethod(lambda cls, v: checked(port_name_problem, v)))
    _url = field_validator("pushgateway_url")(classmethod(lambda cls, v: checked(url_problem, v)))

    @field_validator("namespace", "database_secret")
    @classmethod
    def _dns(cls, v):
        if len(v) > 63 or not DNS_LABEL_RE.match(v):
            raise ValueError(f"{v!r} is not a Kubernetes name")
        return v

    def enabled_for(self, model) -> list[str]:
        """Which jobs a model gets: drift when it has features, quality when it has ground truth.

        The CronJobs and the ``ModelMonitoringJobStale`` alerts both ask this, so an alert
        never watches a job that was not deployed.
        """
        out = []
        if self.drift.enabled and model.features:
            out.append("drift")
        if self.quality.enabled and model.ground_truth:
            out.append("quality")
        return out

    def for_model(self, name: str) -> ModelJobSettings:
        """The settings of one model with every default filled in."""
        own = self.models.get(name) or ModelJobSettings()
        base = name.replace("-", "_")
        return own.model_copy(update={
            "inputs": own.inputs or f"table:{base}_inputs",
            "predictions": own.predictions or f"table:{base}_predictions",
            "labels": own.labels or f"table:{base}_labels",
            "baseline_configmap": own.baseline_configmap or f"{name}-baseline",
        })

    def unknown_models(self, model_names) -> list[str]:
        """Keys of ``jobs.models`` that name no model of the fleet."""
        return sorted(set(self.models) - set(model_names))


