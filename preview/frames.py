"""Prometheus query results as the frames a panel draws: one shared time axis, named series.

Series names follow Grafana: ``legendFormat`` with ``{{label}}`` placeholders, ``__auto`` or
empty -> ``metric{label="value", ...}`` (or the expression when the series has no labels).
Missing samples stay ``None`` so lines break where Grafana's do (``spanNulls: false``).
"""
from __future__ import annotations

import math
import re

_PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def series_name(labels: dict, legend_format: str | None, expr: str) -> str:
    if legend_format and legend_format != "__auto":
        return _PLACEHOLDER_RE.sub(lambda m: str(labels.get(m.group(1), "")), legend_format)
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    if not name and not rest:
        return expr
    return f"{name}{{{rest}}}" if rest else name


def _number(text) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def matrix_series(result: list[dict], legend_format: str | None, expr: str, ref_id: str) -> list[dict]:
    """One entry per series: name, labels, refId and ``{timestamp: value}`` points."""
    out = []
    for s in result:
        labels = dict(s.get("metric") or {})
        samples = s.get("values") or ([s["value"]] if "value" in s else [])
        points = {round(float(t), 3): _number(v) for t, v in samples}
        out.append({"name": series_name(labels, legend_format, expr), "labels": labels,
                    "refId": ref_id, "points": points})
    return out


def build_frame(series: list[dict], start: float, end: float, step: float) -> dict:
    """Series on one time axis ``start..end`` by ``step`` (what uPlot wants: x plus y arrays)."""
    n = int(round((end - start) / step)) + 1 if step > 0 else 0
    xs = [round(start + i * step, 3) for i in range(n)]
    for s in series:  # a sample off the grid (another step) still gets a place on the axis
        for t in s["points"]:
            if t < start or t > end or abs(((t - start) / step) - round((t - start) / step)) > 1e-6:
                xs.append(t)
    xs = sorted(set(xs))
    return {
        "x": xs,
        "series": [{"name": s["name"], "labels": s["labels"], "refId": s["refId"],
                    "values": [s["points"].get(t) for t in xs]} for s in series],
    }
