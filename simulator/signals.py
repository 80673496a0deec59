"""The numbers behind every series, per model and scenario, in SI units (seconds, ratios).

Healthy values sit well inside the spec's thresholds; each fault pushes exactly one signal
of the target model well past its critical level. Exporters only render these numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from modeldash.simulator.scenarios import ScenarioState
from modeldash.simulator.topology import ModelLayout

SIGMA = 0.5  # spread of the log-normal latency distribution
Z95, Z99 = 1.6449, 2.3263
CRASH_RESTARTS_PER_S = 2.0
SERVER_ERROR_SHARE_FAULT = 0.2
CLIENT_ERROR_SHARE = 0.01


def lognormal_cdf(x: float, median: float, sigma: float = SIGMA) -> float:
    if x <= 0:
        return 0.0
    return 0.5 * (1.0 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2.0))))


@dataclass(frozen=True)
class ModelSignals:
    rps: float  # requests per second over all pods
    status_shares: dict  # "2xx"/"4xx"/"5xx" -> share of requests
    latency_median_s: float
    class_shares: dict  # predicted_class -> share
    drift: dict  # feature name -> score
    restarts_per_s: float  # of the first pod's model container
    crash_looping: bool
    replicas_available_delta: int
    hpa_maxed: bool
    node_saturated: bool


def _healthy_median(m) -> float:
    t = m.thresholds
    caps = []
    if t.latency_p95.warning:
        caps.append(0.4 * t.latency_p95.warning / math.exp(Z95 * SIGMA))
    if t.latency_p99.warning:
        caps.append(0.4 * t.latency_p99.warning / math.exp(Z99 * SIGMA))
    return min(caps) if caps else 0.05


def _spike_median(m) -> float:
    t = m.thresholds
    levels = [0.5]
    for lv, z in ((t.latency_p95, Z95), (t.latency_p99, Z99)):
        top = lv.critical or lv.warning
        if top:
            levels.append(2.0 * top / math.exp(z * SIGMA))
    return max(levels)


def _shifted_classes(classes: dict) -> dict:
    """All traffic to the rarest class: every share moves by at least 1 - max baseline."""
    rarest = min(classes, key=lambda c: (classes[c], c))
    return {c: (1.0 if c == rarest else 0.0) for c in classes}


def model_signals(layout: ModelLayout, index: int, state: ScenarioState) -> ModelSignals:
    m = layout.model
    name = m.name
    hit = lambda scenario: state.hits(scenario, name)  # noqa: E731
    t = m.thresholds
    err_warn = t.error_ratio.warning or t.error_ratio.critical or 0.01
    server_errors = SERVER_ERROR_SHARE_FAULT if hit("error-burst") else 0.2 * err_warn
    budget = (1 - m.slo.availability) if m.slo is not None and m.slo.availability is not None else None
    if budget is not None and not hit("error-burst"):  # healthy means within the error budget too
        server_errors = min(server_errors, 0.5 * budget)
        if hit("slow-burn"):
            server_errors = m.slo.slow_burn * budget
    if hit("error-burst") and t.error_ratio.critical:
        server_errors = max(server_errors, min(0.9, 3 * t.error_ratio.critical))
    drift = {}
    for i, f in enumerate(m.features):
        level = m.drift_threshold(f)
        drift[f.name] = (2.0 * level + 0.1) if (hit("drift") and i == 0) else 0.3 * level
    return ModelSignals(
        rps=0.0 if hit("traffic-stop") else 5.0 + index % 7,
        status_shares={
            "2xx": 1.0 - server_errors - CLIENT_ERROR_SHARE,
            "4xx": CLIENT_ERROR_SHARE,
            "5xx": server_errors,
        },
        latency_median_s=_spike_median(m) if hit("latency-spike") else _healthy_median(m),
        class_shares=_shifted_classes(m.classes) if (hit("class-shift") and m.classes) else dict(m.classes),
        drift=drift,
        restarts_per_s=CRASH_RESTARTS_PER_S if hit("crash-loop") else 0.0,
        crash_looping=hit("crash-loop"),
        replicas_available_delta=-1 if hit("replica-mismatch") else 0,
        hpa_maxed=hit("hpa-maxed"),
        node_saturated=hit("cpu-saturation"),
    )
