"""The model's own series (names from ``modeldash.datasources.metrics``): predictions by class,
confidence, regression values, drift per feature and method, quality, job last success."""
from __future__ import annotations

import math
import time

from modeldash.datasources import metrics as M
from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.families import Families
from modeldash.simulator.topology import Topology

VALUE_BUCKETS = tuple(10 ** (e / 2) for e in range(2, 15))  # 10 .. 10^7
QUALITY_JOBS = ("drift", "quality")


def _confidence_cdf(c: float) -> float:
    return min(1.0, c) ** 4  # mean 0.8: most predictions confident


def _value_cdf(v: float, median: float = 2.5e5, sigma: float = 0.6) -> float:
    return 0.5 * (1.0 + math.erf((math.log(v) - math.log(median)) / (sigma * math.sqrt(2.0))))


def _above(floor: float | None, default: float) -> float:
    return default if floor is None else max(default, floor + (1.0 - floor) / 2)


class ModelMetrics:
    def __init__(self, topology: Topology, signals, counters: Accumulator, wall_clock=time.time):
        self.topology = topology
        self._signals = signals
        self._acc = counters
        self._now = wall_clock

    def _histogram(self, f, metric, key, labels, rate, bounds, cdf) -> None:
        buckets = [(b, self._acc.read(key + (b,), rate * cdf(b))) for b in bounds]
        count = self._acc.read(key + ("count",), rate)
        buckets.append((float("inf"), count))
        mid = sum(bounds) / len(bounds)
        f.histogram(metric.name, labels, buckets, self._acc.read(key + ("sum",), rate * mid), metric.help)

    def collect(self):
        f = Families()
        signals = self._signals()
        for layout in self.topology.models:
            m = layout.model
            sig = signals[m.name]
            model = {M.MODEL_LABEL: m.name}
            if m.task == "classification":
                for cls, share in sorted(sig.class_shares.items()):
                    labels = {**model, M.CLASS_LABEL: cls}
                    f.counter(M.PREDICTIONS.name, labels, self._acc.read(("pred", m.name, cls), sig.rps * share), M.PREDICTIONS.help)
                self._histogram(f, M.CONFIDENCE, ("conf", m.name), model, sig.rps, M.CONFIDENCE_BUCKETS, _confidence_cdf)
            else:
                self._histogram(f, M.PREDICTION_VALUE, ("value", m.name), model, sig.rps, VALUE_BUCKETS, _value_cdf)
            method = m.thresholds.drift.method
            for feature, score in sorted(sig.drift.items()):
                f.gauge(M.DRIFT_SCORE.name, {**model, "feature": feature, "method": method}, score, M.DRIFT_SCORE.help)
            f.gauge(M.DRIFT_SCORE.name, {**model, "feature": M.PREDICTION_FEATURE, "method": method},
                    0.3 * m.thresholds.drift.threshold, M.DRIFT_SCORE.help)
            q = m.thresholds.quality
            if m.ground_truth and m.task == "classification":
                f.gauge(M.ACCURACY.name, model, _above(q.accuracy_min, 0.95), M.ACCURACY.help)
                for metric, floor in ((M.PRECISION, q.precision_min), (M.RECALL, q.recall_min), (M.F1, q.f1_min)):
                    for target in sorted(m.classes) + [M.MACRO]:
                        f.gauge(metric.name, {**model, "target_class": target}, _above(floor, 0.9), metric.help)
            elif m.ground_truth:
                f.gauge(M.RMSE.name, model, 0.4 * q.rmse_max if q.rmse_max else 12000.0, M.RMSE.help)
                f.gauge(M.MAE.name, model, 0.4 * q.mae_max if q.mae_max else 8000.0, M.MAE.help)
            for job in QUALITY_JOBS if m.ground_truth else QUALITY_JOBS[:1]:
                f.gauge(M.JOB_LAST_SUCCESS.name, {**model, "job": job}, math.floor(self._now()) - 120, M.JOB_LAST_SUCCESS.help)
        return f.build()
