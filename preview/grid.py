"""Grafana's dashboard grid in pixels: 24 columns, 30 px rows, 8 px gaps (react-grid-layout).

A panel at ``gridPos {x, y, w, h}`` on a ``width``-pixel dashboard sits at
``left = x * (col + 8)``, ``top = y * 38`` and is ``w * col + (w - 1) * 8`` by
``h * 30 + (h - 1) * 8`` pixels, where ``col = (width - 23 * 8) / 24``. Panels inside a
collapsed row are not shown (Grafana hides them until the row is expanded).
"""
from __future__ import annotations

from dataclasses import dataclass

COLUMNS = 24
CELL_HEIGHT = 30
MARGIN = 8
DEFAULT_WIDTH = 1600


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float


def column_width(width: float) -> float:
    return (width - MARGIN * (COLUMNS - 1)) / COLUMNS


def panel_box(grid_pos: dict, width: float = DEFAULT_WIDTH) -> Box:
    col = column_width(width)
    x, y = int(grid_pos.get("x", 0)), int(grid_pos.get("y", 0))
    w, h = max(1, int(grid_pos.get("w", 12))), max(1, int(grid_pos.get("h", 8)))
    return Box(left=x * (col + MARGIN), top=y * (CELL_HEIGHT + MARGIN),
               width=w * col + (w - 1) * MARGIN, height=h * CELL_HEIGHT + (h - 1) * MARGIN)


def visible_panels(panels: list[dict]) -> list[dict]:
    """Top-level panels plus those of expanded rows (legacy rows nest them in ``panels``)."""
    out = []
    for p in panels or []:
        out.append(p)
        if p.get("type") == "row" and not p.get("collapsed"):
            out.extend(p.get("panels") or [])
    return out


def grid_height(panels: list[dict], width: float = DEFAULT_WIDTH) -> float:
    """Pixel height of the grid: the lowest panel's bottom edge."""
    bottoms = [panel_box(p.get("gridPos") or {}, width) for p in visible_panels(panels)]
    return max((b.top + b.height for b in bottoms), default=0)
