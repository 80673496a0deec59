"""Small builders over prometheus-client's metric families, keyed by label dicts.

Counters whose exporter does not add ``_total`` (Knative's ``revision_request_count``) are
exposed under their exact name as untyped samples: prometheus-client would otherwise append
``_total`` and the series would no longer be what the real exporter emits.
"""
from __future__ import annotations

from typing import Iterable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    UnknownMetricFamily,
)
from prometheus_client.utils import floatToGoString


class Family:
    """One metric family collected from ``(labels dict, value)`` pairs."""

    def __init__(self, name: str, doc: str, kind: str):
        self.name, self.doc, self.kind = name, doc, kind
        self._rows: list[tuple[dict, object]] = []

    def add(self, labels: dict, value) -> None:
        self._rows.append((dict(labels), value))

    def build(self) -> Metric | None:
        if not self._rows:
            return None
        names = sorted({k for labels, _ in self._rows for k in labels})
        if self.kind == "counter" and self.name.endswith("_total"):
            fam = CounterMetricFamily(self.name, self.doc, labels=names)
        elif self.kind == "counter":
            fam = UnknownMetricFamily(self.name, self.doc, labels=names)
        elif self.kind == "gauge":
            fam = GaugeMetricFamily(self.name, self.doc, labels=names)
        elif self.kind == "histogram":
            fam = HistogramMetricFamily(self.name, self.doc, labels=names)
        else:
            raise ValueError(f"unknown metric kind {self.kind!r}")
        for labels, value in self._rows:
            values = [labels.get(k, "") for k in names]
            if self.kind == "histogram":
                buckets, total = value
                fam.add_metric(values, buckets=[(floatToGoString(le), c) for le, c in buckets], sum_value=total)
            else:
                fam.add_metric(values, value)
        return fam


class Families:
    """An ordered set of families for one scrape."""

    def __init__(self):
        self._by_name: dict[str, Family] = {}

    def get(self, name: str, kind: str, doc: str = "") -> Family:
        fam = self._by_name.get(name)
        if fam is None:
            fam = self._by_name[name] = Family(name, doc or name, kind)
        elif fam.kind != kind:
            raise ValueError(f"{name} is both a {fam.kind} and a {kind}")
        return fam

    def counter(self, name: str, labels: dict, value: float, doc: str = "") -> None:
        self.get(name, "counter", doc).add(labels, value)

    def gauge(self, name: str, labels: dict, value: float, doc: str = "") -> None:
        self.get(name, "gauge", doc).add(labels, value)

    def histogram(self, name: str, labels: dict, buckets: list[tuple[float, float]], total: float, doc: str = "") -> None:
        """``buckets``: cumulative counts by upper bound, ending with +Inf."""
        self.get(name, "histogram", doc).add(labels, (buckets, total))

    def build(self) -> Iterable[Metric]:
        for fam in self._by_name.values():
            built = fam.build()
            if built is not None:
                yield built
