"""What a model server calls after each batch: predicted classes, confidences, regression outputs.

The metric names, labels and confidence buckets come from ``modeldash.datasources.metrics``,
the same definitions the model panels query, so the producer and the dashboards cannot disagree.
Classes outside the spec's list are counted as ``other`` so the label's cardinality stays bounded.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections import Counter as _Tally
from typing import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from modeldash.datasources.metrics import (
    CLASS_LABEL,
    CONFIDENCE,
    CONFIDENCE_BUCKETS,
    MODEL_LABEL,
    OTHER_CLASS,
    PREDICTION_VALUE,
    PREDICTIONS,
)

# Default buckets of the regression-output histogram: wide powers of ten around typical outputs.
DEFAULT_VALUE_BUCKETS = (0.01, 0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)

# One set of metric objects per registry: several models (or a reload) in one process share them.
_per_registry: "weakref.WeakKeyDictionary[CollectorRegistry, dict]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _metrics(registry: CollectorRegistry, value_buckets: tuple[float, ...]) -> dict:
    with _lock:
        found = _per_registry.get(registry)
        if found is None:
            found = {
                "predictions": Counter(PREDICTIONS.base_name, PREDICTIONS.help, PREDICTIONS.labels, registry=registry),
                "confidence": Histogram(
                    CONFIDENCE.name, CONFIDENCE.help, CONFIDENCE.labels, buckets=CONFIDENCE_BUCKETS, registry=registry
                ),
                "value": Histogram(
                    PREDICTION_VALUE.name, PREDICTION_VALUE.help, PREDICTION_VALUE.labels,
                    buckets=value_buckets, registry=registry,
                ),
                "value_buckets": value_buckets,
            }
            _per_registry[registry] = found
        elif found["value_buckets"] != value_buckets:
            raise ValueError(
                f"{PREDICTION_VALUE.name} is already registered in this registry with buckets "
                f"{found['value_buckets']}; one registry has one set of buckets"
            )
        return found


class PredictionMetrics:
    """Counts and histograms of one model's predictions.

    >>> metrics = PredictionMetrics("fraud-detector", classes=["legit", "fraud"])
    >>> metrics.observe_classification(["legit", "fraud"], confidences=[0.97, 0.61])

    ``registry`` defaults to prometheus-client's global registry (what ``start_http_server``
    and KServe's ``/metrics`` expose); pass your own ``CollectorRegistry`` otherwise.
    """

    def __init__(
        self,
        model: str,
        classes: Iterable[str] = (),
        *,
        registry: CollectorRegistry | None = None,
        value_buckets: Iterable[float] = DEFAULT_VALUE_BUCKETS,
    ):
        if not model:
            raise ValueError("model name must not be empty")
        self.model = model
        self.classes = tuple(str(c) for c in classes)
        if OTHER_CLASS in self.classes:
            raise ValueError(f"{OTHER_CLASS!r} is reserved for classes outside the list")
        self._known = frozenset(self.classes)
        m = _metrics(registry if registry is not None else REGISTRY, tuple(float(b) for b in value_buckets))
        self._predictions = m["predictions"]
        self._confidence = m["confidence"].labels(**{MODEL_LABEL: model})
        self._value = m["value"].labels(**{MODEL_LABEL: model})
        # Every class series exists from the start (at 0), so rate() and class shares work at once.
        self._class_counters = {
            c: self._predictions.labels(**{MODEL_LABEL: model, CLASS_LABEL: c}) for c in (*self.classes, OTHER_CLASS)
        } if self.classes else {}

    @classmethod
    def for_model(cls, model_spec, *, registry: CollectorRegistry | None = None, **kwargs) -> "PredictionMetrics":
        """From a ``ModelSpec`` of the fleet spec: its name and its class list."""
        return cls(model_spec.name, classes=model_spec.classes.keys(), registry=registry, **kwargs)

    def class_label(self, predicted) -> str:
        """The ``predicted_class`` value a prediction is counted under."""
        name = str(predicted)
        return name if name in self._known else OTHER_CLASS

    def observe_classification(self, predicted_classes: Iterable, confidences: Iterable[float] | None = None) -> None:
        """One batch of a classifier: the predicted class of each row and, optionally, its confidence."""
        if not self._known:
            raise ValueError(f"model {self.model!r} was given no class list; counts would be unbounded")
        tally = _Tally(self.class_label(p) for p in predicted_classes)
        for name, n in tally.items():
            self._class_counters[name].inc(n)
        if confidences is not None:
            self.observe_confidence(confidences)

    def observe_confidence(self, confidences: Iterable[float]) -> None:
        """Top-class probabilities in [0, 1]; NaN is skipped (a missing score is not a low one)."""
        for c in confidences:
            c = float(c)
            if math.isnan(c):
                continue
            if not 0.0 <= c <= 1.0:
                raise ValueError(f"confidence {c!r} is not a probability between 0 and 1")
            self._confidence.observe(c)

    def observe_regression(self, values: Iterable[float]) -> None:
        """One batch of a regression model: each predicted value (NaN is skipped)."""
        for v in values:
            v = float(v)
            if not math.isnan(v):
                self._value.observe(v)
