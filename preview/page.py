"""One self-contained HTML page per dashboard: layout, panel options and query results embedded.

The page carries uPlot (vendored, see ``vendor/uplot/PROVENANCE.md``), the drawing script and the
data as one JSON document, so it opens offline and the same data always draws the same picture.
Every string from the dashboard reaches the DOM as text (``textContent``), never as markup; text
panels' markdown is turned into HTML here by markdown-it with raw HTML disabled.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from html import escape
from importlib import resources

from markdown_it import MarkdownIt

from modeldash.preview.grid import DEFAULT_WIDTH, grid_height, panel_box, visible_panels
from modeldash.preview.tables import table_model

SUPPORTED = ("timeseries", "stat", "bargauge", "table", "text", "row")
HEADER_HEIGHT = 56  # title bar with time range and variables
PADDING = 16  # around the grid


def page_height(dashboard: dict, width: int = DEFAULT_WIDTH) -> int:
    """Pixel height of the page (and of its PNG): header, grid, padding."""
    return int(round(HEADER_HEIGHT + 2 * PADDING + grid_height(dashboard.get("panels") or [], width - 2 * PADDING)))


@lru_cache(maxsize=None)
def _asset(*parts: str) -> str:
    return resources.files("modeldash.preview").joinpath(*parts).read_text(encoding="utf-8")


def _markdown(text: str) -> str:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return md.render(text or "")


def _text_html(panel: dict) -> str:
    opts = panel.get("options") or {}
    content = opts.get("content", panel.get("content", ""))
    if opts.get("mode", panel.get("mode", "markdown")) == "markdown":
        return _markdown(content)
    return f"<pre>{escape(str(content))}</pre>"  # html/code modes: shown as text, never run


def _panel_model(panel: dict, data: dict, width: int) -> dict:
    kind = panel.get("type") or "(none)"
    box = panel_box(panel.get("gridPos") or {}, width)
    model = {
        "id": panel.get("id"), "type": kind, "title": panel.get("title") or "",
        "box": {"left": box.left, "top": box.top, "width": box.width, "height": box.height},
        "fieldConfig": panel.get("fieldConfig") or {"defaults": {}, "overrides": []},
        "options": panel.get("options") or {},
        "transparent": bool(panel.get("transparent")),
    }
    if kind == "row":
        model["collapsed"] = bool(panel.get("collapsed"))
        model["hidden"] = len(panel.get("panels") or []) if panel.get("collapsed") else 0
    elif kind == "text":
        model["html"] = _text_html(panel)
    elif kind in SUPPORTED:
        model["data"] = data.get(str(panel.get("id"))) or {"state": "nodata"}
        if kind == "table" and model["data"].get("frame"):
            model["table"] = table_model(model["data"]["frame"], panel.get("transformations"))
    return model


def _json_for_script(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def build_page(dashboard: dict, results: dict, width: int = DEFAULT_WIDTH) -> str:
    """The HTML page of ``dashboard`` with ``results`` (see ``modeldash.scripts.preview_data``)."""
    grid_width = width - 2 * PADDING
    panels = [_panel_model(p, results.get("panels") or {}, grid_width) for p in visible_panels(dashboard.get("panels") or [])]
    doc = {
        "title": dashboard.get("title") or dashboard.get("uid") or "",
        "uid": dashboard.get("uid") or "",
        "range": f"{_utc(results['start'])} to {_utc(results['end'])}" if "start" in results else "",
        "variables": results.get("variables") or {},
        "width": width, "height": page_height(dashboard, width),
        "header": HEADER_HEIGHT, "padding": PADDING,
        "gridHeight": grid_height(dashboard.get("panels") or [], grid_width),
        "panels": panels,
    }
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(doc['title'])} (modeldash preview)</title>",
        f"<style>{_asset('vendor', 'uplot', 'uPlot.min.css')}</style>",
        f"<style>{_asset('static', 'preview.css')}</style>",
        "</head><body>",
        '<div id="md-dashboard"></div>',
        f'<script type="application/json" id="md-data">{_json_for_script(doc)}</script>',
        f"<script>{_asset('vendor', 'uplot', 'uPlot.iife.min.js')}</script>",
        f"<script>{_asset('static', 'units.js')}</script>",
        f"<script>{_asset('static', 'preview.js')}</script>",
        "</body></html>",
        "",
    ])
