"""The house style of every panel: datasource reference, units, thresholds, legends.

Panel factories in this package describe *what* a panel shows (query, unit, thresholds,
description); this module decides *how* it looks, so all dashboards look alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import grafanalib.core as g

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"  # the range every panel rate() uses

GREEN, ORANGE, RED, BLUE = "green", "orange", "red", "blue"

# Grafana unit ids
PERCENT_UNIT = "percentunit"  # 0..1 shown as %
BYTES_RATE = "Bps"
REQ_RATE = "reqps"
SHORT = "short"
NONE = "none"

LEGEND_HIDDEN_MARK = "Legend hidden:"  # the recorded reason of a panel without a legend


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel, with its legend."""

    expr: str
    legend: str = ""
    instant: bool = False


def levels(warning: float | None = None, critical: float | None = None, base: str = GREEN) -> list[g.Threshold]:
    """Threshold steps from spec levels: green below warning, orange from warning, red from critical."""
    steps = [g.Threshold(base, 0, 0.0)]
    if warning is not None:
        steps.append(g.Threshold(ORANGE, len(steps), float(warning)))
    if critical is not None:
        steps.append(g.Threshold(RED, len(steps), float(critical)))
    return steps


def floor_levels(floor: float | None, warning_floor: float | None = None) -> list[g.Threshold]:
    """Thresholds for signals where *low* is bad (accuracy, recall): red below the floor."""
    steps = [g.Threshold(RED, 0, 0.0)]
    if warning_floor is not None:
        steps.append(g.Threshold(ORANGE, 1, float(warning_floor)))
    if floor is not None:
        steps.append(g.Threshold(GREEN, len(steps), float(floor)))
    return steps


def _targets(queries: list[Query]) -> list[g.Target]:
    return [
        g.Target(expr=q.expr, legendFormat=q.legend, refId=chr(ord("A") + i), instant=q.instant, datasource=DATASOURCE)
        for i, q in enumerate(queries)
    ]


def timeseries(
    title: str,
    description: str,
    queries: list[Query],
    unit: str,
    thresholds: list[g.Threshold] | None = None,
    show_thresholds: bool = True,
    min_value: float | None = None,
    max_value: float | None = None,
    stacked: bool = False,
    links: list[dict] | None = None,
    legend_hidden_because: str | None = None,
    overrides: list[dict] | None = None,
) -> g.TimeSeries:
    """A time-series panel; thresholds are drawn as dashed lines when given.

    The legend is a bottom table with mean, max and last, so every line can be told apart; a
    panel hides it only with a reason, which is written into its description for the reader.
    """
    steps = thresholds or [g.Threshold(GREEN, 0, 0.0)]
    if legend_hidden_because:
        description = f"{description} {LEGEND_HIDDEN_MARK} {legend_hidden_because}"
    return g.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        unit=unit,
        thresholdType="absolute",
        thresholds=steps,
        thresholdsStyleMode="dashed" if thresholds and show_thresholds else "off",
        legendDisplayMode="hidden" if legend_hidden_because else "table",
        legendPlacement="bottom",
        legendCalcs=["mean", "max", "lastNotNull"],
        tooltipMode="multi",
        axisSoftMin=min_value,
        axisSoftMax=max_value,
        stacking={"mode": "normal"} if stacked else {"mode": "none"},
        fillOpacity=10,
        links=links or [],
        overrides=overrides or [],
    )


def stat(
    title: str,
    description: str,
    queries: list[Query],
    unit: str,
    thresholds: list[g.Threshold] | None = None,
    links: list[dict] | None = None,
    color_mode: str = "value",
) -> g.Stat:
    """A single-value panel showing the last value, coloured by thresholds."""
    return g.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        format=unit,
        thresholdType="absolute",
        thresholds=thresholds or [g.Threshold(GREEN, 0, 0.0)],
        reduceCalc="lastNotNull",
        colorMode=color_mode,
        graphMode="area",
        links=links or [],
    )


def panel_link(title: str, url: str) -> dict:
    return {"title": title, "url": url, "targetBlank": False}


class RawPanel:
    """A panel written as Grafana's JSON model, for panel types grafanalib models poorly
    (table with transformations, bar gauge, alert list); ``assemble`` places it like any other."""

    def __init__(self, model: dict):
        self.model = model
        self.id = None
        self.gridPos = None

    def to_json_data(self) -> dict:
        return {**self.model, "id": self.id, "gridPos": self.gridPos}


def target(q: Query, ref: str, table: bool = False) -> dict:
    out = {"refId": ref, "expr": q.expr, "legendFormat": q.legend, "datasource": DATASOURCE}
    if q.instant:
        out["instant"] = True
    if table:
        out["format"] = "table"
    return out


def steps(thresholds: list[g.Threshold]) -> dict:
    """grafanalib threshold steps as fieldConfig thresholds (the base step's value is null)."""
    return {"mode": "absolute", "steps": [{"color": t.color, "value": None if i == 0 else t.value}
                                           for i, t in enumerate(thresholds)]}


def threshold_override(series: str, thresholds: list[g.Threshold]) -> dict:
    """Field override: one series (by legend) drawn against its own threshold lines."""
    return {"matcher": names_matcher(series),
            "properties": [{"id": "thresholds", "value": steps(thresholds)},
                           {"id": "custom.thresholdsStyle", "value": {"mode": "dashed"}}]}


def names_matcher(*names: str) -> dict:
    """Override matcher by display name; ``byNames`` because the schema types matcher options as objects."""
    return {"id": "byNames", "options": {"mode": "include", "names": list(names)}}


def field_link(title: str, url: str) -> dict:
    """A data link in the shape the dashboard schema gives field links (that of dashboard links)."""
    return {"title": title, "type": "link", "url": url, "icon": "dashboard", "tooltip": "", "tags": [],
            "asDropdown": False, "targetBlank": False, "includeVars": False, "keepTime": True}
