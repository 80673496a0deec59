"""The serving backend's request and latency series, for whichever backend a model uses.

Everything comes from asking the backend object: its metric names, latency unit, the label
matchers its queries use (label values are chosen to satisfy them), its revision, pod and
status labels and their values. Nothing here tests a backend's name, so a fifth backend
needs no change in the simulator.
"""
from __future__ import annotations

import re

import promql_parser

from modeldash.datasources.backends import ServingBackend
from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.families import Families
from modeldash.simulator.signals import lognormal_cdf
from modeldash.simulator.topology import ModelLayout, Topology

# Bucket bounds in SECONDS; each backend gets them converted to its own unit.
BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0,
             5.0, 7.5, 10.0, 30.0, 60.0)
STATUS_CODES = {"2xx": "200", "4xx": "404", "5xx": "503"}  # numeric status label values


def _matcher_value(op: str, value: str, candidates: list[str]) -> str:
    if op.endswith("Equal"):
        return value
    if op.endswith("Re"):
        for c in candidates:
            if re.fullmatch(value, c):
                return c
    raise ValueError(f"cannot choose a label value for matcher {op} {value!r}")


def base_labels(backend: ServingBackend, layout: ModelLayout) -> dict:
    """Labels that satisfy every matcher the backend's queries put on this model's series."""
    t = layout.target
    candidates = [layout.revision, t.predictor, layout.deployment, t.isvc, t.model]
    selector = promql_parser.parse(backend.selector(t))
    labels = {m.name: _matcher_value(str(m.op), m.value, candidates) for m in selector.matchers.matchers}
    labels.setdefault(backend.revision_label, layout.revision)
    return labels


def status_values(backend: ServingBackend) -> dict:
    """Status class -> the value of the backend's status label."""
    if backend.class_values is not None:
        return dict(backend.class_values)
    return dict(STATUS_CODES)


class Serving:
    def __init__(self, topology: Topology, backends, signals, counters: Accumulator):
        self.topology = topology
        self._backends = backends  # model name -> tuple of backends to emit
        self._signals = signals
        self._acc = counters

    def _emit(self, f: Families, backend: ServingBackend, layout: ModelLayout, sig) -> None:
        base = base_labels(backend, layout)
        pods = [{backend.pod_label: p.name} for p in layout.pods] if backend.pod_label else [{}]
        statuses = [({backend.status_label: v}, sig.status_shares[c]) for c, v in sorted(status_values(backend).items())] \
            if backend.has_status_codes else [({}, 1.0)]
        bounds = [backend.latency_threshold(s) for s in BUCKETS_S]
        to_unit = 1.0 / backend.seconds_per_unit
        hist = backend.histogram_metric
        separate_counter = backend.count_metric != f"{hist}_count"
        for pod in pods:
            for status, share in statuses:
                labels = {**base, **pod, **status}
                rate = sig.rps * share / len(pods)
                key = (backend.name, layout.model.name, tuple(sorted(labels.items())))
                buckets = [
                    (b, self._acc.read(key + (b,), rate * lognormal_cdf(b / to_unit, sig.latency_median_s)))
                    for b in bounds
                ]
                count = self._acc.read(key + ("count",), rate)
                buckets.append((float("inf"), count))
                mean_s = sig.latency_median_s * 1.1331  # exp(sigma^2 / 2) for sigma 0.5
                total = self._acc.read(key + ("sum",), rate * mean_s * to_unit)
                f.histogram(hist, labels, buckets, total, f"Request latency in {backend.latency_unit}.")
                if separate_counter:
                    f.counter(backend.count_metric, labels, count, "Requests served.")
        if backend.has_queue_depth:
            for pod in pods:
                f.gauge(backend.queue_depth_metric, {**base, **pod}, 1.0 if sig.rps else 0.0, "Requests queued.")

    def collect(self):
        f = Families()
        signals = self._signals()
        for layout in self.topology.models:
            for backend in self._backends[layout.model.name]:
                self._emit(f, backend, layout, signals[layout.model.name])
        return f.build()
