"""Grid layout and dashboard assembly shared by every dashboard builder.

Builders list ``Slot(key, panel, width, height)`` in reading order; ``assemble`` gives each
panel its stable id from ``panel_keys`` and flows it onto Grafana's 24-column grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grafanalib.core as g

from modeldash.dashboards import panel_keys
from modeldash.dashboards.normalise import normalise_dashboard
from modeldash.spec.fleet import FleetSpec

GRID_WIDTH = 24


@dataclass(frozen=True)
class Slot:
    key: str
    panel: Any  # a grafanalib panel, or None when the model lacks the signal
    width: int = 12
    height: int = 8


def row_slot(key: str, title: str) -> Slot:
    return Slot(key, g.RowPanel(title=title), GRID_WIDTH, 1)


def place(kind: str, slots: list[Slot]) -> list:
    """Set id and gridPos of every present panel; rows start a new line and span the grid."""
    x = y = line_h = 0
    placed = []
    for slot in slots:
        if slot.panel is None:
            continue
        if slot.width >= GRID_WIDTH or x + slot.width > GRID_WIDTH:
            y += line_h
            x = line_h = 0
        slot.panel.id = panel_keys.panel_id(kind, slot.key)
        slot.panel.gridPos = g.GridPos(h=slot.height, w=slot.width, x=x, y=y)
        placed.append(slot.panel)
        x += slot.width
        line_h = max(line_h, slot.height)
        if x >= GRID_WIDTH:
            y += line_h
            x = line_h = 0
    return placed


def datasource_variable(spec: FleetSpec) -> dict:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {"selected": True, "text": spec.datasource.name, "value": spec.datasource.uid},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "includeAll": False,
        "multi": False,
        "options": [],
    }


def custom_variable(name: str, label: str, values: list[str]) -> dict:
    """A multi-value variable with fixed options and an All choice matching any value (``.*``)."""
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(values),
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [{"selected": False, "text": v, "value": v} for v in values],
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "hide": 0,
    }


def query_variable(name: str, label: str, query: str) -> dict:
    """A variable filled from Prometheus label values, All matching any value."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": query,
        "definition": query,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "refresh": 2,
        "sort": 1,
        "hide": 0,
    }


def dashboard_link(title: str, url: str, tooltip: str = "", icon: str = "dashboard") -> dict:
    return {
        "title": title,
        "type": "link",
        "url": url,
        "icon": icon,
        "tooltip": tooltip,
        "tags": [],
        "asDropdown": False,
        "targetBlank": False,
        "includeVars": False,
        "keepTime": True,
    }


def assemble(
    spec: FleetSpec,
    kind: str,
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    slots: list[Slot],
    variables: list[dict] = (),
    links: list[dict] = (),
    refresh: str = "1m",
) -> dict:
    """Lay out, build with grafanalib, normalise to the current model, add variables and links."""
    board = g.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=sorted(set(tags)),
        panels=place(kind, slots),
        timezone="browser",
        refresh=refresh,
        time=g.Time("now-3h", "now"),
        graphTooltip=1,
    )
    default_ds = {"type": "prometheus", "uid": "${datasource}"}
    out = normalise_dashboard(board, default_ds)
    out["templating"] = {"list": [datasource_variable(spec), *variables]}
    out["links"] = list(links)
    out["editable"] = True
    return out
