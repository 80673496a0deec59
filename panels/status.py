"""The status row of a model dashboard: six stat panels, each coloured by the model's own alert levels.

Values come from the recorded series (seconds and ratios whatever the backend) and the
generated threshold series; levels come from ``datasources.thresholds``, the thresholds the
alerts are built from.
"""
from __future__ import annotations

from modeldash.alerts import recording_rules as rr
from modeldash.datasources import fleet_signals as fs
from modeldash.datasources import metrics as m
from modeldash.datasources import thresholds as th
from modeldash.panels.common import (
    BLUE, PERCENT_UNIT, REQ_RATE, SHORT, NONE, Query, floor_levels, levels, stat,
)
from modeldash.spec.alerting import MANAGED_LABEL


def _one(name: str, model, how: str = "max") -> str:
    return f"{how} ({fs.selector(name, model=model.name)})"


def _warn_crit(found: list[th.Level]) -> list:
    by_level = {lv.level: lv.value for lv in found}
    return levels(by_level.get("warning"), by_level.get("critical"))


def traffic(spec, model):
    return stat("Traffic", "Requests per second now (model:requests:rate5m).",
                [Query(_one(rr.RECORDED_REQUEST_RATE, model, "sum"))], REQ_RATE, levels(base=BLUE))


def latency(spec, model):
    found = th.latency_p95(model)
    text = ", ".join(f"{lv.level} {lv.value * 1000:g} ms" for lv in found)
    return stat("p95 latency", f"p95 latency now, in seconds; coloured by the model's p95 alert levels ({text}).",
                [Query(_one(rr.RECORDED_LATENCY_P95, model))], "s", _warn_crit(found))


def error_ratio(spec, model):
    if spec.error_backend_for(model) is None:
        return None
    found = th.error_ratio(model)
    text = ", ".join(f"{lv.level} {lv.value:.1%}" for lv in found)
    return stat("5xx ratio", f"Share of requests failing with 5xx now; coloured by the model's alert levels ({text}).",
                [Query(_one(rr.RECORDED_ERROR_RATIO, model))], PERCENT_UNIT, _warn_crit(found))


def worst_drift(spec, model):
    if not model.features:
        return None
    scores = fs.selector(fs.THRESHOLD, model=model.name, signal="drift")
    expr = (f"max (max by (feature, method) ({fs.selector(m.DRIFT_SCORE.name, model=model.name)}) "
            f"/ on (feature, method) group_left () {scores})")
    return stat("Worst drift", "The most drifted feature's score as a share of its own drift threshold: 100 % fires "
                "ModelDriftHigh (after its for).", [Query(expr)], PERCENT_UNIT, levels(0.8, 1.0))


def quality(spec, model):
    key = th.headline_quality_key(model)
    if key is None:
        return None
    metric, extra, op, _field = th.QUALITY[key]
    found = [lv for lv in th.quality(model) if lv.key == key]
    value = found[0].value if found else None
    steps = floor_levels(value) if op == th.LOWER_IS_BAD else levels(value)
    word = "floor" if op == th.LOWER_IS_BAD else "ceiling"
    return stat(th.quality_series_name(key).capitalize() if key == "accuracy" else key.upper(),
                f"Latest {key} against ground truth; coloured by the model's {word} "
                f"({'none set' if value is None else f'{value:g}'}).",
                [Query(f"max ({metric.selector(model=model.name, **extra)})")],
                PERCENT_UNIT if key == "accuracy" else SHORT, steps)


def firing_alerts(spec, model):
    sel = fs.selector("ALERTS", model=model.name, alertstate="firing", **{MANAGED_LABEL[0]: MANAGED_LABEL[1]})
    return stat("Firing alerts", "modeldash alerts of this model firing now (the Alerts annotations mark when).",
                [Query(f"count ({sel}) or vector(0)")], NONE, levels(critical=1))


STATUS_PANELS = (
    ("status.traffic", traffic), ("status.latency", latency), ("status.error_ratio", error_ratio),
    ("status.drift", worst_drift), ("status.quality", quality), ("status.alerts", firing_alerts),
)
