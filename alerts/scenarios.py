"""Test data for an alert: input series that drive its expression to a chosen value over time.

Each ``AlertDefinition`` carries a ``Scenario``; the promtool test generator asks it for
cases (fires after ``for``, quiet just below the threshold, quiet for a shorter breach,
quiet on healthy input, plus alert-specific cases). A scenario knows the series that feed
the expression and how a value maps onto them (a gauge's value, a counter's per-second
rate), so the tests come from the same definition as the rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import promql_parser

MINUTE = 60


# --------------------------------------------------------------------------- series


def example_labels(selector: str, **extra: str) -> dict[str, str]:
    """Concrete labels (``__name__`` included) that satisfy a vector selector's matchers."""
    sel = promql_parser.parse(selector)
    labels = {"__name__": sel.name} if sel.name else {}
    for m in sel.matchers.matchers:
        op = str(m.op).rsplit(".", 1)[-1]
        if op == "Equal":
            labels[m.name] = m.value
        elif op == "Re":
            labels[m.name] = _regex_example(m.value)
        # NotEqual / NotRe: leave the label out (absent label == "" satisfies most of them)
    labels.update(extra)
    return labels


def _regex_example(pattern: str) -> str:
    for candidate in (pattern.replace("(-.*)?", "").replace(".*", "00001").replace(".", "0"),
                      pattern.split("|")[0]):
        if re.fullmatch(pattern, candidate):
            return candidate
    raise ValueError(f"no example value for regex {pattern!r}")


def series_text(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


@dataclass(frozen=True)
class Feed:
    """One input series: a gauge set to ``fn(value)`` or a counter growing at ``fn(value)`` per second."""

    labels: dict
    kind: str  # gauge | counter
    fn: Callable[[float], float] = lambda v: v

    def samples(self, profile: list[tuple[float | None, int]]) -> str:
        out: list[float | None] = []
        total = 0.0
        for value, minutes in profile:
            for _ in range(minutes):
                if value is None:
                    out.append(None)
                elif self.kind == "counter":
                    out.append(total)
                    total += self.fn(value) * MINUTE
                else:
                    out.append(self.fn(value))
        return compress(out)


def compress(values: list[float | None]) -> str:
    """promtool's expanding notation: runs of a constant step become ``a+bxN``, gaps ``_xN``."""
    parts, i = [], 0
    while i < len(values):
        v = values[i]
        if v is None:
            j = i
            while j + 1 < len(values) and values[j + 1] is None:
                j += 1
            parts.append("_" if j == i else f"_x{j - i + 1}")
            i = j + 1
            continue
        j = i
        step = None
        while j + 1 < len(values) and values[j + 1] is not None:
            d = round(values[j + 1] - values[j], 9)
            if step is None:
                step = d
            elif d != step:
                break
            j += 1
        if j == i:
            parts.append(_num(v))
        else:
            sign = "+" if step >= 0 else "-"
            parts.append(f"{_num(v)}{sign}{_num(abs(step))}x{j - i}")
        i = j + 1
    return " ".join(parts)


def _num(x: float) -> str:
    return f"{x:.12g}"


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One promtool test: series, and minutes at which alerts are expected (or not)."""

    name: str
    series: list[dict]
    # (minute, fires): at ``fires`` checks, the definitions whose value in ``values`` crosses
    # their threshold are expected to fire; otherwise no alert of that name.
    checks: list[tuple[int, bool]]
    values: dict[str, float] = field(default_factory=dict)  # uid -> value the expression takes
    output_labels: dict[str, str] | None = None  # overrides the scenario's, per case
    # series every other alert of the name needs to stay quiet (e.g. other jobs reporting);
    # when cases are merged, only series in every member's background are kept
    background: list[dict] = field(default_factory=list)


@dataclass
class Scenario:
    """How to drive one definition's expression: its feeds and the values that matter."""

    feeds: list[Feed]
    breach: float
    near: float
    healthy: float
    output_labels: dict[str, str] = field(default_factory=dict)
    warmup: int = 0  # minutes before a rate() over constant input is meaningful
    window: int = 5  # minutes the expression looks back (smears a short breach)
    shared: dict[str, Callable[[float], float]] = field(default_factory=dict)  # other uids fed by the same series
    extra: list[Case] = field(default_factory=list)
    custom: Callable | None = None  # replaces the generic cases (traffic, job staleness)

    @property
    def step(self) -> int:
        """Minutes between samples and between evaluations in this scenario's tests."""
        return getattr(self.custom, "step", 1)

    def _untie(self, v: float) -> float:
        """Nudge a value whose expected text would sit on a rounding tie (Go and Python could differ)."""
        for _ in range(20):
            values = [v] + [fn(v) for fn in self.shared.values()]
            if not any(_near_tie(x) for x in values):
                return v
            v *= 1.0037
        return v

    def _series(self, profile) -> list[dict]:
        return [{"series": series_text(f.labels), "values": f.samples(profile)} for f in self.feeds]

    def _values(self, uid: str, v: float) -> dict[str, float]:
        out = {uid: v}
        out.update({other: fn(v) for other, fn in self.shared.items()})
        return out

    def cases(self, uid: str, for_s: float) -> list[Case]:
        if self.custom is not None:
            return self.custom(uid, for_s)
        f = int(for_s // MINUTE)
        w = self.warmup
        if self.breach:
            self.breach = self._untie(self.breach)
        if self.near:
            self.near = self._untie(self.near)
        if self.healthy:
            self.healthy = self._untie(self.healthy)
        end = w + f + self.window + 3
        fire_at = w + f + 2
        # A short breach starts after a healthy stretch as long as the rate window, so the window
        # never sees only the breach; on windowed input it lasts one minute less than half of for.
        pre = self.window + w if self.window else 0
        short = max(1, f // 2 - (1 if self.window else 0))
        short_end = pre + short + f + self.window + 3
        return [
            Case("fires when the condition holds longer than for",
                 self._series([(self.breach, end)]),
                 [(max(0, f - 1), False), (fire_at, True)], self._values(uid, self.breach)),
            Case("quiet just below the threshold",
                 self._series([(self.near, end)]),
                 [(fire_at, True)], self._values(uid, self.near)),
            Case("quiet for a breach shorter than for",
                 self._series([(self.healthy, pre), (self.breach, short), (self.healthy, short_end - pre - short)]),
                 [(m, False) for m in spread_minutes(pre + short, short_end)]),
            Case("quiet on healthy input",
                 self._series([(self.healthy, end)]),
                 [(fire_at, True)], self._values(uid, self.healthy)),
        ] + list(self.extra)


def spread_minutes(start: int, stop: int, most: int = 60) -> list[int]:
    """Minutes in ``range(start, stop)``: all of them, or ``most`` spread evenly (ends included).

    Each is one promtool evaluation; with ``for: 7d`` every minute would be 15,000 of them.
    """
    n = stop - start
    if n <= most:
        return list(range(start, stop))
    return sorted({start + round(i * (n - 1) / (most - 1)) for i in range(most)})


# --------------------------------------------------------------------------- expected text


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        secs = int(abs(v))
        d, h, m, s = secs // 86400, secs // 3600 % 24, secs // 60 % 60, secs % 60
        if d:
            return f"{sign}{d}d {h}h {m}m {s}s"
        if h:
            return f"{sign}{h}h {m}m {s}s"
        if m:
            return f"{sign}{m}m {s}s"
        return f"{sign}{_g4(abs(v))}s"
    if v == 0 or v != v:
        return _g4(v) + ("s" if v == 0 else "")
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):  # sub-second latencies: 750ms
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g4(v)}{prefix}s"


def _g4(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.4g}"


def _near_tie(x: float) -> bool:
    """True when 4 significant digits of ``x`` (or of ``100 x``) are not stable under float noise."""
    for y in (x, x * 100):
        if y and f"{y * (1 + 1e-9):.4g}" != f"{y * (1 - 1e-9):.4g}":
            return True
    return False
