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
from functools import cached_property, lru_cache
from typing import Callable

import promql_parser

from modeldash.scripts.promql_check import _safe_regex

MINUTE = 60


# --------------------------------------------------------------------------- series


def example_labels(selector: str, **extra: str) -> dict[str, str]:
    """Concrete labels (``__name__`` included) that satisfy a vector selector's matchers.

    A fresh dict each call: callers add to it."""
    labels = dict(_selector_labels(selector))
    labels.update(extra)
    return labels


@lru_cache(maxsize=16384)
def _selector_labels(selector: str) -> dict[str, str]:
    """``example_labels`` without extras, once per selector (the catalogue asks for most
    selectors several times: each severity, each scenario). Shared: never hand it out."""
    shape, values = _selector_shape(selector)
    name, matchers = _parsed_selector(shape)
    labels = {"__name__": name} if name else {}
    for label, op, value in matchers:
        value = values.get(value, value)
        if op == "Equal":
            labels[label] = value
        elif op == "Re":
            labels[label] = _regex_example(value)
        # NotEqual / NotRe: leave the label out (absent label == "" satisfies most of them)
    return labels


@lru_cache(maxsize=1024)
def _parsed_selector(selector: str) -> tuple[str | None, tuple[tuple[str, str, str], ...]]:
    """``(metric name, ((label, op, value), ...))`` of a vector selector, as promql_parser reads it."""
    sel = promql_parser.parse(selector)
    return sel.name, tuple((m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in sel.matchers.matchers)


# a matcher's operator and double-quoted value without escapes (checked: no backslash at all)
_MATCHER_VALUE = re.compile(r'(=~|!~|!=|=)(\s*)"([^"\\]*)"')


def _selector_shape(selector: str) -> tuple[str, dict[str, str]]:
    """``selector`` with its model-specific values as stand-ins ``x0``, ``x1``... and the values
    by stand-in, so the parse is cached per shape: 4,000 selectors of 1,000 models are ~10.

    A stand-in parses exactly when its value does: only non-empty equality values and regexes
    that always compile and never match the empty string (``promql_check._safe_regex``) are
    replaced; anything unusual (escapes, other quotes, comments, ``__name__``) keeps the text."""
    if any(c in selector for c in "\\'`#") or "__name__" in selector:
        return selector, {}
    values: dict[str, str] = {}
    kept: set[str] = set()

    def stand_in(m: re.Match) -> str:
        op, space, value = m.groups()
        if op in ("=~", "!~"):
            safe = _safe_regex(value) if value else None
            if safe is None or safe[0] or safe[1] != len(value):
                kept.add(value)
                return m.group(0)
        elif not value:
            return m.group(0)
        key = f"x{len(values)}"
        values[key] = value
        return f'{op}{space}"{key}"'

    shape = _MATCHER_VALUE.sub(stand_in, selector)
    if kept & values.keys():  # a kept value that reads as a stand-in
        return selector, {}
    return shape, values


# the generated pod and revision matchers: a plain name, optionally followed by ``-anything``
_NAME_PREFIX_RE = re.compile(r"([A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*)(?:\(-\.\*\)\?)?")


def _regex_example(pattern: str) -> str:
    plain = _NAME_PREFIX_RE.fullmatch(pattern)
    if plain:  # the name itself matches; no per-model regex to compile (7,000 at 1,000 models)
        return plain.group(1)
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

    @cached_property
    def text(self) -> str:
        """The series' promtool text (``series_text`` of its labels), built once per feed."""
        return series_text(self.labels)

    def samples(self, profile: list[tuple[float | None, int]], every: int = 1, lead: int = 0) -> str:
        """The series in promtool's expanding notation, one sample a minute along ``profile``
        (``(value, minutes)`` runs; None: no sample).

        ``every`` > 1: rules are evaluated only every ``every`` minutes, so samples are kept only
        in the ``lead`` minutes before each evaluation (what a window or the 5m lookback reads)
        and the rest is a gap. Built run by run, never minute by minute, so the text and the
        time stay small whatever the durations (a ``for: 1y`` is a few hundred runs). Feeds
        driven to the same values share the text (a fleet's features mostly do)."""
        levels = tuple((None if value is None else self.fn(value), minutes) for value, minutes in profile)
        return _samples(self.kind, levels, every, lead)


@lru_cache(maxsize=4096)
def _samples(kind: str, levels: tuple[tuple[float | None, int], ...], every: int, lead: int) -> str:
    runs: list[tuple[float | None, float, int]] = []  # (first value, step, count)
    total, minute = 0.0, 0
    for level, minutes in levels:
        per_min = 0.0 if level is None or kind != "counter" else level * MINUTE
        start = minute
        for a, b, present in _presence(start, start + minutes, every, lead):
            if not present or level is None:
                runs.append((None, 0.0, b - a))
            elif kind == "counter":
                runs.append((total + per_min * (a - start), per_min, b - a))
            else:
                runs.append((level, 0.0, b - a))
        total += per_min * minutes
        minute += minutes
    return compress_runs(runs)


def _presence(a: int, b: int, every: int, lead: int):
    """``(start, end, present)`` stretches of minutes ``[a, b)``: present within ``lead`` minutes
    before a multiple of ``every`` (every minute when ``every`` is 1)."""
    if every <= 1 or lead + 1 >= every:
        if b > a:
            yield a, b, True
        return
    m = a
    while m < b:
        nxt = -(-m // every) * every  # the next evaluation at or after m
        lo = nxt - lead
        if m < lo:
            end = min(lo, b)
            yield m, end, False
            m = end
            continue
        end = min(nxt + 1, b)
        yield m, end, True
        m = end


def compress_runs(runs: list[tuple[float | None, float, int]]) -> str:
    """``compress`` over runs ``(first value, step, count)`` (value None: a gap), merging runs
    that continue each other; O(runs), not O(samples)."""
    merged: list[list] = []
    for v, step, n in runs:
        if n <= 0:
            continue
        if merged:
            pv, pstep, pn = merged[-1]
            if v is None and pv is None:
                merged[-1][2] += n
                continue
            if v is not None and pv is not None:
                nxt = round(pv + pstep * pn, 9) if pn > 1 else None
                if pn > 1 and nxt == round(v, 9) and (n == 1 or round(step - pstep, 9) == 0):
                    merged[-1][2] += n
                    continue
                if pn == 1 and (n == 1 or round(v - pv - step, 9) == 0):
                    merged[-1] = [pv, round(v - pv, 9), n + 1]
                    continue
        merged.append([v, step, n])
    parts = []
    for v, step, n in merged:
        if v is None:
            parts.append("_" if n == 1 else f"_x{n}")
        elif n == 1:
            parts.append(_num(v))
        else:
            parts.append(f"{_num(v)}{'+' if step >= 0 else '-'}{_num(abs(step))}x{n - 1}")
    return " ".join(parts)


def eval_every(for_minutes: int) -> int:
    """Minutes between rule evaluations in a test of an alert with this ``for``: 1 up to two
    hours, then about a sixtieth of ``for``, so a test evaluates ~100 times whatever the duration."""
    return 1 if for_minutes <= 120 else -(-for_minutes // 60)


def thin(minutes: list[int], every: int, keep: int = 24) -> list[int]:
    """At most ``keep`` evaluation times from ``minutes``, on multiples of ``every``, first and
    last kept: checking every minute of a long stretch only makes the test file grow."""
    on = sorted({m - m % every for m in minutes})
    if len(on) <= keep:
        return on
    picked = {on[round(i * (len(on) - 1) / (keep - 1))] for i in range(keep)}
    return sorted(picked)


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
    # series other alerts of the name need to stay quiet (e.g. other jobs reporting), by the model
    # whose rule needs them: a test file adds those of the models it loads; when cases are
    # merged, only series in every member's background are kept
    background: dict[str, list[dict]] = field(default_factory=dict)
    every: int = 1  # minutes between rule evaluations (``eval_every``): the file's evaluation_interval


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
        e = eval_every(f)
        lead = max(self.window, w) + 2

        def up(m: int) -> int:  # the first evaluation at or after minute m
            return -(-m // e) * e

        fire_at = up(w + f + 2) + (e if e > 1 else 0)  # pending from the first true evaluation
        end = fire_at + self.window + 1
        # A short breach starts after a healthy stretch as long as the rate window, so the window
        # never sees only the breach; on windowed input it lasts one minute less than half of for.
        pre = self.window + w if self.window else 0
        short = max(1, f // 2 - (1 if self.window else 0))
        short_end = pre + short + f + self.window + 3

        def series(profile):
            return [{"series": f_.text, "values": f_.samples(profile, e, lead)} for f_ in self.feeds]

        return [
            Case("fires when the condition holds longer than for",
                 series([(self.breach, end)]),
                 [(max(0, f - 1) // e * e, False), (fire_at, True)], self._values(uid, self.breach), every=e),
            Case("quiet just below the threshold",
                 series([(self.near, end)]),
                 [(fire_at, True)], self._values(uid, self.near), every=e),
            Case("quiet for a breach shorter than for",
                 series([(self.healthy, pre), (self.breach, short), (self.healthy, short_end - pre - short)]),
                 [(m, False) for m in thin(list(range(up(pre + short), short_end, e)), e)], every=e),
            Case("quiet on healthy input",
                 series([(self.healthy, end)]),
                 [(fire_at, True)], self._values(uid, self.healthy), every=e),
        ] + list(self.extra)


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
