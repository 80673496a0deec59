"""Service-level indicators per serving backend: the bad-event and all-event rates of an objective.

An objective is a share of good requests. Availability: requests not answered with 5xx
(from the model's status-code source, ``error_backend_for``). Latency: requests faster than a
threshold, read from the backend's histogram as ``_count - _bucket{le=threshold}``, which is
exact only when the threshold is a bucket boundary (``BUCKETS`` lists each backend's defaults).
Every query is asked of the backend object; nothing here tests a backend's name.
"""
from __future__ import annotations

from dataclasses import dataclass

from modeldash.datasources.backends import ServingBackend, Target

# Default histogram bucket boundaries, in each backend's own unit (provenance: docs/slo.md).
BUCKETS: dict[str, tuple[float, ...]] = {
    # knative.dev/serving pkg/queue stats reporter (OpenCensus), milliseconds
    "knative-legacy": (5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900,
                       1000, 2000, 5000, 10000, 20000, 50000, 100000),
    # KServe's Python model server: prometheus_client's default Histogram buckets, seconds
    "kserve": (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0),
    # Istio's istio_request_duration_milliseconds default buckets
    "istio": (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
              1800000, 3600000),
    # Knative >= 1.19 (OpenTelemetry): the HTTP-duration boundaries of the OTel semantic conventions, seconds
    "knative": (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0),
}

AVAILABILITY, LATENCY = "availability", "latency"


def default_buckets_seconds(backend: ServingBackend) -> tuple[float, ...]:
    """The backend's default bucket boundaries, in seconds."""
    return tuple(round(b * backend.seconds_per_unit, 9) for b in BUCKETS[backend.name])


def le_matcher(backend: ServingBackend, seconds: float) -> str:
    """The ``le`` matcher of a bucket boundary. Integral boundaries match both ``500`` (Go and
    OpenCensus exporters, Prometheus 2) and ``500.0`` (Prometheus 3 normalises ``le`` on ingestion)."""
    value = backend.latency_threshold(seconds)
    if float(value).is_integer():
        return f'le=~"{int(value)}(\\\\.0)?"'
    return f'le="{value:g}"'


def le_value(backend: ServingBackend, seconds: float) -> str:
    """One concrete ``le`` label value the matcher accepts (for test series)."""
    value = backend.latency_threshold(seconds)
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Indicator:
    """One objective's indicator for one model: PromQL of bad-event and all-event rates over a window."""

    objective: str  # availability | latency
    target: float
    backend: ServingBackend
    t: Target
    threshold_s: float | None = None  # latency only

    def _sum_rate(self, metric: str, window: str, extra: tuple[str, ...] = ()) -> str:
        return f"sum (rate({metric}{self.backend.selector(self.t, extra)}[{window}]))"

    def total(self, window: str) -> str:
        if self.objective == AVAILABILITY:
            return self.backend.request_rate(self.t, window)
        return self._sum_rate(f"{self.backend.histogram_metric}_count", window)

    def errors(self, window: str) -> str:
        if self.objective == AVAILABILITY:
            return self.backend.status_rate(self.t, window, "5xx")
        good = self._sum_rate(f"{self.backend.histogram_metric}_bucket", window,
                              (le_matcher(self.backend, self.threshold_s),))
        return f"{self.total(window)} - {good}"

    def error_ratio(self, window: str) -> str:
        return f"({self.errors(window)}) / ({self.total(window)})"


def indicators(spec, model) -> list[Indicator]:
    """The indicators of a model's objectives (none when it has no ``slo``), availability first."""
    slo = model.slo
    if slo is None:
        return []
    t = Target(namespace=model.namespace, isvc=model.isvc, model=model.name)
    out = []
    if slo.availability is not None:
        out.append(Indicator(AVAILABILITY, slo.availability, spec.error_backend_for(model), t))
    if slo.latency is not None:
        out.append(Indicator(LATENCY, slo.latency.target, spec.backend_for(model), t, slo.latency.threshold))
    return out
