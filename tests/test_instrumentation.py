"""Predictor instrumentation: the exact series the model panels query, from a scraped registry."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import metrics as m
from modeldash.instrumentation import PredictionMetrics
from modeldash.scripts.lint import substitute

EXAMPLE_PREDICTOR = Path(__file__).resolve().parent.parent / "examples" / "predictor.py"
SELECTOR = re.compile(r"\b(model_[a-z_]+)\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(=~|!=|=)\s*"([^"]*)"')


def scrape(registry) -> list[tuple[str, dict, float]]:
    """Every sample of the registry's text exposition, as Prometheus would ingest it."""
    text = generate_latest(registry).decode()
    return [(s.name, s.labels, s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def panel_selectors(spec, model_name: str) -> list[tuple[str, dict]]:
    """Every ``model_*{...}`` selector in the model dashboard's queries."""
    board = next(b for b in build_dashboards(spec) if b.kind == "model" and b.model == model_name)
    out = []

    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                for name, inner in SELECTOR.findall(substitute(t.get("expr", ""))):
                    out.append((name, {k: (op, v) for k, op, v in MATCHER.findall(inner)}))

    walk(board.json["panels"])
    return out


def matches(sample_labels: dict, matchers: dict) -> bool:
    for key, (op, value) in matchers.items():
        have = sample_labels.get(key, "")
        if op == "=" and have != value or op == "!=" and have == value:
            return False
        if op == "=~" and not re.fullmatch(value, have):
            return False
    return True


def test_classifier_series_are_what_the_panels_query(example_spec):
    model = next(x for x in example_spec.models if x.name == "fraud-detector")
    registry = CollectorRegistry()
    metrics = PredictionMetrics.for_model(model, registry=registry)
    metrics.observe_classification(["legit", "legit", "fraud", "unknown-class", "legit"], [0.99, 0.95, 0.6, 0.5, 0.81])
    samples = scrape(registry)
    counts = {s[1][m.CLASS_LABEL]: s[2] for s in samples if s[0] == m.PREDICTIONS.name}
    assert counts == {"legit": 3.0, "fraud": 1.0, m.OTHER_CLASS: 1.0}
    buckets = {s[1]["le"]: s[2] for s in samples if s[0] == m.CONFIDENCE.name + "_bucket"}
    assert set(buckets) == {str(b) for b in m.CONFIDENCE_BUCKETS} | {"+Inf"}
    assert buckets["0.5"] == 1 and buckets["0.6"] == 2 and buckets["0.9"] == 3 and buckets["+Inf"] == 5
    queried = [(n, mt) for n, mt in panel_selectors(example_spec, model.name)
               if n in (m.PREDICTIONS.name, m.CONFIDENCE.name + "_bucket")]
    assert {n for n, _ in queried} == {m.PREDICTIONS.name, m.CONFIDENCE.name + "_bucket"}
    for name, matchers in queried:
        assert any(s[0] == name and matches(s[1], matchers) for s in samples), (name, matchers)


def test_regression_series_are_what_the_panels_query(example_spec):
    model = next(x for x in example_spec.models if x.name == "price-regressor")
    registry = CollectorRegistry()
    metrics = PredictionMetrics.for_model(model, registry=registry, value_buckets=(1e5, 2e5, 4e5, 8e5))
    metrics.observe_regression([150_000.0, 250_000.0, float("nan"), 900_000.0])
    samples = scrape(registry)
    buckets = {s[1]["le"]: s[2] for s in samples if s[0] == m.PREDICTION_VALUE.name + "_bucket"}
    assert buckets == {"100000.0": 0, "200000.0": 1, "400000.0": 2, "800000.0": 2, "+Inf": 3}
    queried = [(n, mt) for n, mt in panel_selectors(example_spec, model.name) if n == m.PREDICTION_VALUE.name + "_bucket"]
    assert queried
    for name, matchers in queried:
        assert any(s[0] == name and matches(s[1], matchers) for s in samples), (name, matchers)


def test_class_series_start_at_zero_and_cardinality_is_bounded():
    registry = CollectorRegistry()
    metrics = PredictionMetrics("m1", ["a", "b"], registry=registry)
    zero = {s[1][m.CLASS_LABEL]: s[2] for s in scrape(registry) if s[0] == m.PREDICTIONS.name}
    assert zero == {"a": 0.0, "b": 0.0, "other": 0.0}
    metrics.observe_classification([f"junk-{i}" for i in range(100)])
    classes = {s[1][m.CLASS_LABEL] for s in scrape(registry) if s[0] == m.PREDICTIONS.name}
    assert classes == {"a", "b", "other"}


def test_two_models_share_one_registry():
    registry = CollectorRegistry()
    a = PredictionMetrics("m-a", ["x", "y"], registry=registry)
    b = PredictionMetrics("m-b", ["x", "y"], registry=registry)
    a.observe_classification(["x"])
    b.observe_classification(["y", "y"])
    got = {(s[1]["model"], s[1][m.CLASS_LABEL]): s[2] for s in scrape(registry) if s[0] == m.PREDICTIONS.name}
    assert got[("m-a", "x")] == 1 and got[("m-b", "y")] == 2 and got[("m-a", "y")] == 0
    with pytest.raises(ValueError, match="buckets"):
        PredictionMetrics("m-c", ["x", "y"], registry=registry, value_buckets=(1.0, 2.0))


def test_bad_calls_are_refused():
    registry = CollectorRegistry()
    metrics = PredictionMetrics("m1", ["a", "b"], registry=registry)
    with pytest.raises(ValueError, match="probability"):
        metrics.observe_confidence([1.5])
    with pytest.raises(ValueError, match="no class list"):
        PredictionMetrics("reg", registry=registry).observe_classification(["a"])
    with pytest.raises(ValueError, match="reserved"):
        PredictionMetrics("m2", ["a", "other"], registry=CollectorRegistry())


def test_default_registry_is_used_without_one():
    metrics = PredictionMetrics("default-registry-model", ["a", "b"])
    metrics.observe_classification(["a"])
    assert REGISTRY.get_sample_value(m.PREDICTIONS.name, {"model": "default-registry-model", m.CLASS_LABEL: "a"}) == 1.0


def test_example_predictor_imports_without_kserve_and_records(example_spec, monkeypatch):
    monkeypatch.setitem(sys.modules, "kserve", None)  # as if kserve were not installed
    spec = importlib.util.spec_from_file_location("example_predictor", EXAMPLE_PREDICTOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    registry = CollectorRegistry()
    predictor = mod.FraudPredictor("fraud-detector", registry=registry)
    predictor.load()
    out = predictor.predict({"instances": [[10.0, 0.9, 5, "DE"], [500.0, 0.1, 900, "FR"]]})
    assert len(out["predictions"]) == 2
    total = sum(s[2] for s in scrape(registry) if s[0] == m.PREDICTIONS.name)
    assert total == 2
    count = [s[2] for s in scrape(registry) if s[0] == m.CONFIDENCE.name + "_count"]
    assert count == [2.0]
