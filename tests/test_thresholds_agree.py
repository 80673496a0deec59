"""Threshold lines, status colours and the fleet's threshold series agree with the alerts' thresholds."""
from __future__ import annotations

import math

import pytest

from modeldash.alerts.build import alert_definitions, recording_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import fleet_signals as fs
from modeldash.datasources import thresholds as th
from modeldash.scripts.live_lint import iter_panels
from modeldash.spec.fleet import bundled_example, load_spec

CHARTED = {"ModelLatencyP95High", "ModelLatencyP95Critical", "ModelErrorRateHigh", "ModelDriftHigh",
           "ModelQualityDegraded"}


@pytest.fixture(scope="module")
def spec():
    return load_spec(bundled_example())


@pytest.fixture(scope="module")
def panels(spec):
    return {(d.uid, p["id"]): p for d in build_dashboards(spec) for p in iter_panels(d.json["panels"])}


def _values(thresholds: dict) -> list[float]:
    return [s["value"] for s in thresholds["steps"][1:]]


def lines_for(panel: dict, series: str | None) -> list[float]:
    """Threshold values drawn for one series of a panel: its own override, else the panel's."""
    for o in panel["fieldConfig"]["overrides"]:
        if series is not None and series in o["matcher"]["options"]["names"]:
            return _values(next(p["value"] for p in o["properties"] if p["id"] == "thresholds"))
    if panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "off":
        return []
    return _values(panel["fieldConfig"]["defaults"]["thresholds"])


def _series(d) -> str | None:
    if d.name == "ModelDriftHigh":
        return d.key
    if d.name == "ModelQualityDegraded":
        return th.quality_series_name(d.key)
    return None


def _charted(spec):
    defs = [d for d in alert_definitions(spec) if d.name in CHARTED]
    assert {d.name for d in defs} == CHARTED
    return defs


def test_every_charted_alert_has_its_line(spec, panels):
    for d in _charted(spec):
        drawn = lines_for(panels[d.panel], _series(d))
        assert any(math.isclose(v, d.threshold) for v in drawn), (d.title, d.threshold, drawn)


def test_no_line_without_an_alert(spec, panels):
    """The other direction: each drawn level is the threshold of an alert of that panel and series."""
    defs = _charted(spec)
    for key in {d.panel for d in defs}:
        panel = panels[key]
        for name in [None] + [n for o in panel["fieldConfig"]["overrides"] for n in o["matcher"]["options"]["names"]]:
            wanted = [d.threshold for d in defs if d.panel == key and (_series(d) == name or
                      (name is None and _series(d) not in _override_names(panel)))]
            for v in lines_for(panel, name):
                assert any(math.isclose(v, w) for w in wanted), (panel["title"], name, v, wanted)


def _override_names(panel):
    return {n for o in panel["fieldConfig"]["overrides"] for n in o["matcher"]["options"]["names"]}


def test_status_stats_use_the_alert_levels(spec):
    defs = alert_definitions(spec)
    boards = {d.model: d.json for d in build_dashboards(spec) if d.kind == "model"}
    for model in spec.models:
        stats = {p["title"]: p for p in boards[model.name]["panels"] if p["type"] == "stat"}
        latency = sorted(d.threshold for d in defs if d.model == model.name and d.name.startswith("ModelLatencyP95"))
        assert sorted(v for v in _values(stats["p95 latency"]["fieldConfig"]["defaults"]
                                                                    ["thresholds"])) == latency
        errors = sorted(d.threshold for d in defs if d.model == model.name and d.name == "ModelErrorRateHigh")
        assert _values(stats["5xx ratio"]["fieldConfig"]["defaults"]["thresholds"]) == errors
        key = th.headline_quality_key(model)
        if key:
            (quality,) = [p for t, p in stats.items() if t.lower() == key]
            alert = [d.threshold for d in defs if d.model == model.name and d.name == "ModelQualityDegraded"
                     and d.key == key]
            assert _values(quality["fieldConfig"]["defaults"]["thresholds"]) == alert


def test_fleet_threshold_series_equal_the_alert_thresholds(spec):
    defs = alert_definitions(spec)
    series = [r for r in recording_rules(spec) if r.record == fs.THRESHOLD]
    assert len(series) >= 3 * len(spec.models)
    names = {("latency_p95", "warning"): "ModelLatencyP95High", ("latency_p95", "critical"): "ModelLatencyP95Critical"}
    for r in series:
        model = next(m for m in spec.models if m.name == r.labels["model"])
        value = float(r.expr.removeprefix("vector(").removesuffix(")"))
        signal, level = r.labels["signal"], r.labels["level"]
        if signal == "latency_p95":  # seconds on both sides, like the recorded p95
            match = [d for d in defs if d.model == model.name and d.name == names[(signal, level)]]
        elif signal == "error_ratio":
            match = [d for d in defs if d.model == model.name and d.name == "ModelErrorRateHigh" and d.key == level]
        elif signal == "drift":
            match = [d for d in defs if d.model == model.name and d.name == "ModelDriftHigh"
                     and d.key == r.labels["feature"]]
        else:
            match = [d for d in defs if d.model == model.name and d.name == "ModelQualityDegraded"
                     and d.key == r.labels["key"]]
        assert [d.threshold for d in match] == [pytest.approx(value)], r
    # and every charted alert has its series
    assert len(series) == len(_charted(spec))
