"""Grafana's time-range arithmetic for Prometheus panels: step, ``$__interval``, ``$__rate_interval``.

Follows Grafana's Prometheus datasource: the panel's interval is ``range / maxDataPoints``
(maxDataPoints defaults to the panel's width in pixels) rounded by ``roundInterval`` and never
below the scrape interval (the datasource's ``timeInterval``); the query step is that interval,
at most 11,000 points; ``$__rate_interval`` is ``max($__interval + scrape, 4 * scrape)``; the
range is aligned down to multiples of the step.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_FROM_RE = re.compile(r"^(?:now)?-?(\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))$")
# Grafana's rangeutil.roundInterval: (upper bound ms, rounded ms)
_ROUND = [
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
    (2700000, 1800000), (5400000, 3600000), (9000000, 7200000), (16200000, 10800000),
    (32400000, 21600000), (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000),
    (3628800000, 2592000000),
]
MAX_POINTS = 11000


class RangeError(ValueError):
    """A duration or ``--from`` value Grafana would not accept."""


def parse_duration(text: str) -> float:
    """``"15s"``, ``"1m"``, ``"250ms"`` -> seconds."""
    m = _DURATION_RE.match(str(text).strip())
    if not m:
        raise RangeError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def parse_from(text: str) -> float:
    """``-1h``, ``now-1h`` or ``1h``: how far back the range starts, in seconds."""
    m = _FROM_RE.match(str(text).strip())
    if not m:
        raise RangeError(f"not a relative time: {text!r} (use e.g. -1h, now-30m)")
    seconds = parse_duration(m.group(1))
    if seconds <= 0:
        raise RangeError(f"not a relative time: {text!r} (must reach back)")
    return seconds


def round_interval_ms(ms: float) -> int:
    for bound, rounded in _ROUND:
        if ms < bound:
            return rounded
    return 31536000000


def _fmt_seconds(s: float) -> str:
    return f"{int(s)}s" if float(s).is_integer() else f"{s:g}s"


@dataclass(frozen=True)
class PanelTiming:
    """What one panel's queries run with: aligned range, step and the macro values."""

    start: float
    end: float
    step: float
    macros: dict


def panel_timing(start: float, end: float, max_data_points: int, scrape_interval: float,
                 min_interval: float | None = None) -> PanelTiming:
    """Range, step and macros of a panel ``max_data_points`` wide over ``[start, end]`` (unix seconds)."""
    if end <= start:
        raise RangeError("the time range is empty")
    range_s = end - start
    low = max(min_interval or 0, scrape_interval)
    interval_ms = round_interval_ms(range_s * 1000 / max(1, max_data_points))
    interval = max(interval_ms / 1000, low)
    step = max(interval, math.ceil(range_s / MAX_POINTS))
    rate = max(step + scrape_interval, 4 * scrape_interval)
    range_whole = round(range_s)
    macros = {
        "__interval": _fmt_seconds(step),
        "__interval_ms": str(int(round(step * 1000))),
        "__rate_interval": _fmt_seconds(rate),
        "__rate_interval_ms": str(int(round(rate * 1000))),
        "__range": f"{range_whole}s",
        "__range_s": str(range_whole),
        "__range_ms": str(int(round(range_s * 1000))),
    }
    aligned_start = math.floor(start / step) * step
    aligned_end = math.floor(end / step) * step
    return PanelTiming(aligned_start, aligned_end, step, macros)
