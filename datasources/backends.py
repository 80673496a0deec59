"""Serving backends: where a model's request, latency and status-code series come from.

Each backend is one small object that knows its metric names, labels and latency unit
(reference: metrics.md). Panels and alerts ask it for expressions and never test its name,
so adding a fifth backend touches this file only.

Every expression method takes a ``Target`` (which model) and a ``window`` (``$__rate_interval``
in panels, ``5m`` in alerts and recording rules) and returns PromQL.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """The series of one model: its namespace, InferenceService and model-server name."""

    namespace: str
    isvc: str
    model: str

    @property
    def predictor(self) -> str:
        """KServe names the predictor's Knative service / Deployment ``<isvc>-predictor``."""
        return f"{self.isvc}-predictor"


def target_of(model) -> Target:
    """The one place a model spec becomes a ``Target`` (panels, alerts, recording rules, simulator)."""
    return Target(namespace=model.namespace, isvc=model.isvc, model=model.name)


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


@dataclass(frozen=True)
class ServingBackend:
    """A serving stack's metric vocabulary, with the expressions built from it."""

    name: str
    title: str
    count_metric: str  # counter of requests (a histogram's _count works too)
    histogram_metric: str  # histogram base name, without _bucket
    latency_unit: str  # Grafana unit of the histogram: "ms" or "s"
    status_label: str | None  # label with the HTTP status, when the backend has one
    class_values: dict | None  # for backends with a status-class label: class -> matcher
    revision_label: str
    pod_label: str | None
    queue_depth_metric: str | None = None
    # extra, fixed matchers every series of this backend needs (e.g. Istio's reporter)
    fixed_matchers: tuple[tuple[str, str, str], ...] = ()
    # where Prometheus scrapes these series on the model's pods (the k8s PodMonitor asks this)
    metrics_port: int = 8080
    metrics_path: str = "/metrics"

    # -- selection ------------------------------------------------------------------
    def matchers(self, t: Target) -> list[str]:
        raise NotImplementedError

    def selector(self, t: Target, extra: tuple[str, ...] = ()) -> str:
        parts = [f'{k}{op}"{v}"' for k, op, v in self.fixed_matchers] + self.matchers(t) + list(extra)
        return "{" + ", ".join(parts) + "}"

    # -- units: the one place milliseconds and seconds meet ------------------------------
    @property
    def seconds_per_unit(self) -> float:
        return 0.001 if self.latency_unit == "ms" else 1.0

    def latency_threshold(self, seconds: float) -> float:
        """A latency in the histogram's own unit (500 ms is 500 on a millisecond histogram): the
        bucket bounds a histogram of this backend has (the simulator, promtool test series)."""
        return round(seconds / self.seconds_per_unit, 9)

    # -- capabilities ---------------------------------------------------------------
    @property
    def has_status_codes(self) -> bool:
        return self.status_label is not None

    @property
    def has_queue_depth(self) -> bool:
        return self.queue_depth_metric is not None

    # -- expressions ----------------------------------------------------------------
    def request_rate(self, t: Target, window: str, by: tuple[str, ...] = ()) -> str:
        return f"sum{_by(by)} (rate({self.count_metric}{self.selector(t)}[{window}]))"

    def latency_quantile(self, q: float, t: Target, window: str, by: tuple[str, ...] = ()) -> str:
        """p-quantile latency in ``latency_unit``, from the histogram, never an average."""
        labels = ("le",) + tuple(by)
        return (
            f"histogram_quantile({q:g}, sum by ({', '.join(labels)}) "
            f"(rate({self.histogram_metric}_bucket{self.selector(t)}[{window}])))"
        )

    def latency_quantile_seconds(self, q: float, t: Target, window: str) -> str:
        """p-quantile latency in seconds whatever the histogram's unit: what panels, recording
        rules and (through the recording) alerts show, so every threshold is in seconds."""
        expr = self.latency_quantile(q, t, window)
        return expr if self.seconds_per_unit == 1.0 else f"{expr} * {self.seconds_per_unit:g}"

    def status_matcher(self, code_class: str) -> str | None:
        """A label matcher selecting one status class ("4xx", "5xx", "2xx")."""
        if not self.has_status_codes:
            return None
        if self.class_values is not None:
            return f'{self.status_label}="{self.class_values[code_class]}"'
        return f'{self.status_label}=~"{code_class[0]}.."'

    def status_rate(self, t: Target, window: str, code_class: str, by: tuple[str, ...] = ()) -> str | None:
        m = self.status_matcher(code_class)
        if m is None:
            return None
        return f"sum{_by(by)} (rate({self.count_metric}{self.selector(t, (m,))}[{window}]))"

    def error_ratio(self, t: Target, window: str, code_class: str = "5xx") -> str | None:
        """Share of requests answered with ``code_class``; ``None`` when the backend has no status codes.

        Errors are the 5xx class only: ``!~"2.."`` would also count redirects and client errors.
        """
        num = self.status_rate(t, window, code_class)
        if num is None:
            return None
        return f"{num} / {self.request_rate(t, window)}"

    def pod_share(self, t: Target, window: str) -> str:
        """Each pod's share of the model's requests (backends with a pod label)."""
        per_pod = self.request_rate(t, window, by=(self.pod_label,))
        return f"{per_pod} / ignoring ({self.pod_label}) group_left () {self.request_rate(t, window)}"

    def queue_depth(self, t: Target) -> str | None:
        if not self.queue_depth_metric:
            return None
        return f"sum by ({self.pod_label or self.revision_label}) ({self.queue_depth_metric}{self.selector(t)})"


@dataclass(frozen=True)
class KnativeLegacy(ServingBackend):
    """Knative Serving <= 1.18 queue-proxy (KServe serverless): OpenCensus names, milliseconds."""

    def matchers(self, t: Target) -> list[str]:
        return [f'namespace_name="{t.namespace}"', f'configuration_name="{t.predictor}"']


@dataclass(frozen=True)
class KnativeOtel(ServingBackend):
    """Knative Serving >= 1.19: OpenTelemetry names in seconds, status as a numeric code."""

    def matchers(self, t: Target) -> list[str]:
        return [f'k8s_namespace_name="{t.namespace}"', f'kn_revision_name=~"{t.predictor}-.*"']


@dataclass(frozen=True)
class KServeModelServer(ServingBackend):
    """KServe's own model server /metrics: predict latency per ``model_name``; no status codes."""

    def matchers(self, t: Target) -> list[str]:
        return [f'namespace="{t.namespace}"', f'model_name="{t.model}"']


@dataclass(frozen=True)
class Istio(ServingBackend):
    """KServe Standard (raw deployment) mode behind Istio: destination-side mesh metrics, milliseconds."""

    def matchers(self, t: Target) -> list[str]:
        return [
            f'destination_workload_namespace="{t.namespace}"',
            f'destination_workload=~"{t.predictor}(-.*)?"',
        ]


BACKENDS: dict[str, ServingBackend] = {
    b.name: b
    for b in (
        KnativeLegacy(
            name="knative-legacy",
            title="Knative Serving <= 1.18 (queue-proxy)",
            count_metric="revision_request_count",
            histogram_metric="revision_request_latencies",
            latency_unit="ms",
            status_label="response_code_class",
            class_values={"2xx": "2xx", "4xx": "4xx", "5xx": "5xx"},
            revision_label="revision_name",
            pod_label="pod_name",
            metrics_port=9091,  # queue-proxy's http-usermetric port
        ),
        KnativeOtel(
            name="knative",
            title="Knative Serving >= 1.19 (OpenTelemetry)",
            count_metric="kn_serving_invocation_duration_seconds_count",
            histogram_metric="kn_serving_invocation_duration_seconds",
            latency_unit="s",
            status_label="http_response_status_code",
            class_values=None,
            revision_label="kn_revision_name",
            pod_label=None,
            queue_depth_metric="kn_serving_queue_depth",
            metrics_port=9091,  # queue-proxy's metrics port
        ),
        KServeModelServer(
            name="kserve",
            title="KServe model server",
            count_metric="request_predict_seconds_count",
            histogram_metric="request_predict_seconds",
            latency_unit="s",
            status_label=None,
            class_values=None,
            revision_label="model_name",
            pod_label="pod",
            metrics_port=8080,  # the model server serves /metrics on its HTTP port
        ),
        Istio(
            name="istio",
            title="KServe Standard mode behind Istio",
            count_metric="istio_requests_total",
            histogram_metric="istio_request_duration_milliseconds",
            latency_unit="ms",
            status_label="response_code",
            class_values=None,
            revision_label="destination_workload",
            pod_label=None,
            fixed_matchers=(("reporter", "=", "destination"),),
            metrics_port=15090,  # the Envoy sidecar's merged Prometheus endpoint
            metrics_path="/stats/prometheus",
        ),
    )
}


def get_backend(name: str) -> ServingBackend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown serving backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}") from None
