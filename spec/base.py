"""Building blocks of the spec models: strict base model, durations, uids, SpecError.

Spec sections that live in their own modules (alerting, kubernetes, jobs) import from
here, not from ``spec``, so ``spec`` can import them without a cycle.
"""
from __future__ import annotations

import functools

import hashlib
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from modeldash.spec.safe_values import RESERVED_LABELS, label_map_problem, safe_text_problem

UID_MAX = 40
UID_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION_RE = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_DURATION_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


class SpecError(Exception):
    """A spec problem, already phrased for the user: ``file: field: reason``."""

    def __init__(self, source: str, field: str, reason: str):
        self.source, self.field, self.reason = source, field, reason
        text = f"{source}: {field}: {reason}" if field else f"{source}: {reason}"
        # one line, whatever the spec held (a key or value with a newline must not split it)
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in text))


# --------------------------------------------------------------------------- durations


DURATION_MAX = 31 * 86400  # a month: the longest window (an SLO's, a job's period) that means something here
FOR_MAX = 7 * 86400  # a condition held for more than a week is a report, not an alert
# (the generated promtool tests no longer grow with durations: alerts/scenarios.thin)


def parse_duration(value: Any) -> float:
    """Seconds from a Prometheus duration (``5m``, ``1h30m``, ``500ms``) or a number of seconds.

    Whole milliseconds only (Prometheus' resolution), never negative, at most ``DURATION_MAX``.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration like 5m or 500ms")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError("must be a non-negative duration")
        total = float(value)
    elif value == "0":
        total = 0.0
    elif not isinstance(value, str) or not value or len(value) > 40:
        raise ValueError("expected a duration like 5m or 500ms")
    else:
        m = _DURATION_RE.match(value)
        if not m or not any(m.groups()):
            raise ValueError(f"{value!r} is not a duration (use units y w d h m s ms in that order, e.g. 5m, 1h30m, 500ms)")
        total = 0.0
        for unit, idx in (("y", 2), ("w", 4), ("d", 6), ("h", 8), ("m", 10), ("s", 12)):
            if m.group(idx):
                total += int(m.group(idx)) * _DURATION_UNITS[unit]
        if m.group(14):
            total += int(m.group(14)) / 1000
    if total > DURATION_MAX:
        raise ValueError(f"{format_duration(min(total, 1e12))} is longer than the maximum of {DURATION_MAX // 86400}d")
    if abs(total * 1000 - round(total * 1000)) > 1e-6:
        raise ValueError(f"{total!r}s is not a whole number of milliseconds (Prometheus' resolution)")
    return total


def _for_bounded(v: float) -> float:
    if v > FOR_MAX:
        raise ValueError(f"{format_duration(v)} is longer than the maximum of {FOR_MAX // 86400}d for an alert condition")
    return v


@functools.lru_cache(maxsize=4096)  # a fleet spells the same few durations ~100,000 times
def format_duration(seconds: float) -> str:
    """The canonical Prometheus spelling of a duration: ``300 -> 5m``, ``0.5 -> 500ms``, ``0 -> 0s``."""
    if seconds == 0:
        return "0s"
    ms = round(seconds * 1000)
    if ms % 1000:
        whole, ms = divmod(ms, 1000)
        return (format_duration(whole) if whole else "") + f"{ms}ms"
    rest = ms // 1000
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _DURATION_UNITS[unit]
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)


DurationField = Annotated[float, BeforeValidator(parse_duration)]
ForDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_for_bounded)]
"""How long an alert condition must hold: 0 (fire on the first evaluation) up to ``FOR_MAX``."""


def positive_duration(v: float | None) -> float | None:
    if v is not None and v <= 0:
        raise ValueError("must be a positive duration")
    return v


PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(positive_duration)]


def dns_label_problem(name: Any, what: str = "name") -> str | None:
    """Why ``name`` is not a Kubernetes DNS-1123 label, or None."""
    if not isinstance(name, str) or len(name) > 63 or not DNS_LABEL_RE.match(name):
        return f"{what} {name!r} is not a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63 characters)"
    return None


def _label_names(v: dict) -> dict:
    found = label_map_problem(v, RESERVED_LABELS)
    if found:
        raise SubFieldProblem((found[0],) if found[0] else (), found[1])
    return v


def _fleet_label_names(v: dict) -> dict:
    found = label_map_problem(v, RESERVED_LABELS - {"team"})
    if found:
        raise SubFieldProblem((found[0],) if found[0] else (), found[1])
    return v


LabelMap = Annotated[dict[str, str], AfterValidator(_label_names)]
"""A model's extra alert labels: valid, unreserved label names; template-safe values."""
FleetLabelMap = Annotated[dict[str, str], AfterValidator(_fleet_label_names)]
"""The fleet's labels: like ``LabelMap``, and ``team`` names the fleet's default team."""


def _safe_text(v: Any) -> Any:
    problem = safe_text_problem(v)
    if problem:
        raise ValueError(problem)
    return v


SafeText = Annotated[str, AfterValidator(_safe_text)]
"""Text that reaches PromQL strings, label values or templates (see ``safe_values``)."""


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


def non_negative(v: float) -> float:
    if v is None:
        return v
    if v < 0:
        raise ValueError("must not be negative")
    return v


# --------------------------------------------------------------------------- uids


@functools.lru_cache(maxsize=8192)  # folder and dashboard uids are asked for once per rule
def make_uid(*parts: str) -> str:
    """A stable uid from names: lowercase ``[a-z0-9-]``, at most 40 chars, no trailing '-'.

    Long names are cut and suffixed with a short hash so two long names never collide.
    """
    raw = "-".join(parts)
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")
    if not slug:
        slug = "x"
    if len(slug) > UID_MAX:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        slug = slug[: UID_MAX - 9].rstrip("-") + "-" + digest
    return slug


def dashboard_uid(kind: str, name: str = "") -> str:
    """uid of a generated dashboard: ``md-model-<name>``, ``md-fleet``, ..."""
    return make_uid("md", kind, name) if name else make_uid("md", kind)


def check_uid(v: str, what: str = "uid") -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"{what} must be a non-empty string")
    if len(v) > 30 or not UID_RE.match(v):
        raise ValueError(
            f"{what} {v!r} cannot form a valid uid: use 1-30 characters of lowercase a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return v


class FieldProblem(ValueError):
    """Raised inside validators to point at a field deeper than the one being validated."""

    def __init__(self, loc: tuple, msg: str):
        self.loc = loc
        super().__init__(msg)


class SubFieldProblem(FieldProblem):
    """Like ``FieldProblem``, but ``loc`` is relative to the field being validated (a mapping's key)."""
