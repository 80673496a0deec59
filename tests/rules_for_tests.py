"""Shorten a Prometheus rules file for end-to-end tests, keeping every rule's logic.

Alerts wait minutes (``for: 5m`` over ``rate(...[5m])``); a test cannot. This scales every
duration in a rules dict (``{"groups": [...]}``): ``for``/``keep_firing_for``, range windows
``[5m]``, subquery ranges and steps ``[1h:1m]`` and ``offset``s, by one factor with floors,
so windows still span several scrapes. promtool tests cover the real durations.
"""
from __future__ import annotations

import copy
import re

from modeldash.spec.base import format_duration, parse_duration

_DUR = r"(?:\d+(?:ms|[smhdwy]))+"
_RANGE_RE = re.compile(rf"\[({_DUR})(?::({_DUR})?)?\]")
_OFFSET_RE = re.compile(rf"\boffset(\s+)(-?)({_DUR})")


def _scale(text: str, factor: float, floor: float) -> str:
    return format_duration(max(floor, round(parse_duration(text) * factor, 3)))


def shorten_expr(expr: str, factor: float, min_window: float = 4.0, min_step: float = 1.0) -> str:
    def rng(m: re.Match) -> str:
        out = "[" + _scale(m.group(1), factor, min_window)
        if m.group(0).count(":"):
            out += ":" + (_scale(m.group(2), factor, min_step) if m.group(2) else "")
        return out + "]"

    expr = _RANGE_RE.sub(rng, expr)
    return _OFFSET_RE.sub(lambda m: f"offset{m.group(1)}{m.group(2)}{_scale(m.group(3), factor, min_step)}", expr)


def shorten_rules(rules: dict, factor: float = 1 / 60, min_window: float = 4.0, min_for: float = 1.0) -> dict:
    """A copy of ``rules`` with every duration multiplied by ``factor`` (windows >= ``min_window`` s)."""
    out = copy.deepcopy(rules)
    for group in out.get("groups", []):
        if "interval" in group:
            group["interval"] = "1s"
        for rule in group.get("rules", []):
            rule["expr"] = shorten_expr(str(rule["expr"]), factor, min_window)
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = _scale(str(rule[key]), factor, min_for)
    return out
