"""Serving layer: request rate, latency quantiles, error ratio, 4xx/5xx, queue depth, pod share.

Every expression comes from the model's serving backend object (``spec.backend_for``) and
its status-code source (``spec.error_backend_for``); no factory tests a backend's name.
"""
from __future__ import annotations

from modeldash.spec.fleet import FleetSpec, ModelSpec
from modeldash.datasources.backends import target_of
from modeldash.panels.common import PERCENT_UNIT, RATE, REQ_RATE, SHORT, Query, levels, timeseries


def request_rate(spec: FleetSpec, model: ModelSpec):
    b = spec.backend_for(model)
    return timeseries(
        "Request rate",
        f"Requests per second reaching the model ({b.title}), per {b.revision_label}. A drop to zero while "
        "clients still send traffic is an outage (ModelTrafficStopped); a sudden rise explains latency and "
        "autoscaling on the panels below.",
        [Query(b.request_rate(target_of(model), RATE, by=(b.revision_label,)), f"{{{{{b.revision_label}}}}}")],
        REQ_RATE,
    )


def latency(spec: FleetSpec, model: ModelSpec):
    b = spec.backend_for(model)
    t = model.thresholds.latency_p95
    queries = [
        Query(b.latency_quantile_seconds(q, target_of(model), RATE), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)
    ]
    return timeseries(
        "Latency p50 / p95 / p99",
        f"Request latency quantiles from the {b.histogram_metric} histogram ({b.latency_unit}), shown in seconds "
        "like the alerts and the fleet overview. The lines are the p95 levels: "
        f"{_levels_text(t)} (ModelLatencyP95High / ModelLatencyP95Critical). If p95 rises with traffic, "
        "scale out; if it rises alone, look at CPU throttling and the model version.",
        queries,
        "s",
        levels(t.warning, t.critical),
        min_value=0,
    )


def _pct(ratio: float | None) -> str:
    return "the level (none set)" if ratio is None else f"{ratio:.0%}"


def _levels_text(t) -> str:
    parts = [f"{name} {v * 1000:g} ms" for name, v in (("warning", t.warning), ("critical", t.critical)) if v is not None]
    return ", ".join(parts) or "none set"


def error_ratio(spec: FleetSpec, model: ModelSpec):
    """5xx share of requests; ``None`` when no backend of this model reports status codes."""
    b = spec.error_backend_for(model)
    if b is None:
        return None
    t = model.thresholds.error_ratio
    return timeseries(
        "Error ratio (5xx)",
        "Share of requests answered with a 5xx status: server-side failures only (4xx are client errors and "
        f"are shown apart). Above {_pct(t.critical if t.critical is not None else t.warning)} fires "
        "ModelErrorRateHigh: check the model server's logs "
        "and recent rollouts.",
        [Query(b.error_ratio(target_of(model), RATE, "5xx"), "5xx ratio")],
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
    )


def status_rates(spec: FleetSpec, model: ModelSpec):
    b = spec.error_backend_for(model)
    if b is None:
        return None
    t = target_of(model)
    return timeseries(
        "4xx and 5xx responses",
        "Client errors (4xx: bad payloads, auth) and server errors (5xx) per second, apart. A 4xx rise after a "
        "client release usually means a changed request schema; a 5xx rise is the model server failing.",
        [Query(b.status_rate(t, RATE, "4xx"), "4xx"), Query(b.status_rate(t, RATE, "5xx"), "5xx")],
        REQ_RATE,
    )


def queue_depth(spec: FleetSpec, model: ModelSpec):
    b = spec.backend_for(model)
    if not b.has_queue_depth:
        return None
    return timeseries(
        "Queue depth",
        "Requests waiting in the queue-proxy in front of the model container. A growing queue means the "
        "container cannot keep up: check concurrency settings and scale-out limits.",
        [Query(b.queue_depth(target_of(model)), "queued")],
        SHORT,
    )


def pod_share(spec: FleetSpec, model: ModelSpec):
    b = spec.backend_for(model)
    if not b.pod_label:
        return None
    t = target_of(model)
    expr = b.pod_share(t, RATE)
    return timeseries(
        "Request share per pod",
        "Each pod's share of the model's requests. Uneven shares point at a sticky load balancer or a pod that "
        "fails readiness intermittently.",
        [Query(expr, f"{{{{{b.pod_label}}}}}")],
        PERCENT_UNIT,
        min_value=0,
        max_value=1,
        stacked=True,
    )

