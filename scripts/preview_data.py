"""Run every panel query of a dashboard over a time range, as Grafana would, for the preview page.

Template variables are resolved like the live lint does (query variables through Prometheus's
label-values API, All as ``allValue`` or the options' regex); each panel gets its own step and
``$__interval`` / ``$__rate_interval`` / ``$__range*`` from its pixel width and the scrape
interval (``modeldash.preview.timerange``). Results become frames (``modeldash.preview.frames``);
a failing query keeps Prometheus's error text, which the page shows in the panel.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from modeldash.preview.frames import build_frame, matrix_series
from modeldash.preview.grid import DEFAULT_WIDTH, panel_box, visible_panels
from modeldash.preview.page import PADDING
from modeldash.preview.timerange import RangeError, panel_timing, parse_duration
from modeldash.scripts.live_lint import (
    ALL, _is_prometheus, panel_values, resolve_variables, substitute_macros, substitute_variables,
)
from modeldash.scripts.prometheus_client_http import PrometheusError, query, query_range

QUERY_PANELS = ("timeseries", "stat", "bargauge", "table")


def _display(var: dict, text: str) -> str:
    current = (var.get("current") or {}).get("value")
    chosen = current if isinstance(current, list) else [current]
    return "All" if ALL in chosen or (var.get("includeAll") and not current) else text


def _min_interval(panel: dict) -> float | None:
    try:
        return parse_duration(panel["interval"]) if panel.get("interval") else None
    except RangeError:
        return None


def _run_target(url: str, expr: str, target: dict, timing) -> dict:
    if target.get("instant") and not target.get("range"):
        data = query(url, expr, time=timing.end)
    else:
        data = query_range(url, expr, timing.start, timing.end, timing.step)
    return data


def _panel_jobs(dashboard: dict, url: str, start: float, end: float, scrape_interval: float, width: int):
    """(panel id, refId, resolved expr, target, timing) for every query, plus the variables shown."""
    variables = (dashboard.get("templating") or {}).get("list", [])
    base = panel_timing(start, end, width, scrape_interval)
    resolver, known, options, _problems = resolve_variables(dashboard, url, base.macros)
    shown = {v["name"]: _display(v, known.get(v["name"], "")) for v in variables
             if v.get("name") and v.get("type") not in ("datasource", "adhoc")}
    jobs = []
    for panel in visible_panels(dashboard.get("panels") or []):
        if panel.get("type") not in QUERY_PANELS or not _is_prometheus(panel.get("datasource")):
            continue
        box = panel_box(panel.get("gridPos") or {}, width - 2 * PADDING)
        points = int(panel.get("maxDataPoints") or max(1, box.width - 16))
        timing = panel_timing(start, end, points, scrape_interval, _min_interval(panel))
        values = panel_values(panel, variables, resolver, known, options)
        for target in panel.get("targets") or []:
            if target.get("hide") or not target.get("expr"):
                continue
            expr = substitute_variables(substitute_macros(target["expr"], timing.macros), values)
            jobs.append((panel, target, expr, timing))
    return jobs, shown


def dashboard_results(dashboard: dict, url: str, start: float, end: float, scrape_interval: float,
                      width: int = DEFAULT_WIDTH, workers: int = 4) -> dict:
    """``{"start", "end", "variables", "panels": {id: {"state", "frame" | "error"}}}`` for the page."""
    jobs, shown = _panel_jobs(dashboard, url, start, end, scrape_interval, width)

    def run(job):
        panel, target, expr, timing = job
        try:
            return _run_target(url, expr, target, timing), None
        except PrometheusError as exc:
            return None, f"{target.get('refId', '?')}: {exc}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(run, jobs))
    panels: dict[str, dict] = {}
    grouped: dict[str, list] = {}
    for (panel, target, expr, timing), outcome in zip(jobs, outcomes):
        grouped.setdefault(str(panel.get("id")), []).append((target, expr, timing, outcome))
    for pid, items in grouped.items():
        errors = [err for *_, (_, err) in items if err]
        if errors:
            panels[pid] = {"state": "error", "error": "\n".join(errors)}
            continue
        series = []
        for target, expr, _timing, (data, _) in items:
            series.extend(matrix_series(data.get("result") or [], target.get("legendFormat"), expr, target.get("refId", "A")))
        timing = items[0][2]
        frame = build_frame(series, timing.start, timing.end, timing.step)
        has_values = any(v is not None for s in frame["series"] for v in s["values"])
        panels[pid] = {"state": "ok", "frame": frame, "step": timing.step} if has_values else {"state": "nodata"}
    return {"start": start, "end": end, "variables": shown, "panels": panels}
