"""Building blocks of the spec models: strict base model, durations, uids, SpecError.

Spec sections that live in their own modules (alerting, kubernetes, jobs) import from
here, not from ``spec``, so ``spec`` can import them without a cycle.
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

UID_MAX = 40
UID_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION_RE = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_DURATION_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


class SpecError(Exception):
    """A spec problem, already phrased for the user: ``file: field: reason``."""

    def __init__(self, source: str, field: str, reason: str):
        self.source, self.field, self.reason = source, field, reason
        super().__init__(f"{source}: {field}: {reason}" if field else f"{source}: {reason}")


# --------------------------------------------------------------------------- durations


def parse_duration(value: Any) -> float:
    """Seconds from a Prometheus duration (``5m``, ``1h30m``, ``500ms``) or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 5m or 500ms")
    if isinstance(value, (int, float)):
        if value < 0 or not math.isfinite(value):
            raise ValueError("must be a non-negative duration")
        return float(value)
    if not isinstance(value, str) or not value or value == "0":
        if value == "0":
            return 0.0
        raise ValueError("expected a duration like 5m or 500ms")
    m = _DURATION_RE.match(value)
    if not m or not any(m.groups()):
        raise ValueError(f"{value!r} is not a duration (use units y w d h m s ms in that order, e.g. 5m, 1h30m, 500ms)")
    total = 0.0
    for unit, idx in (("y", 2), ("w", 4), ("d", 6), ("h", 8), ("m", 10), ("s", 12)):
        if m.group(idx):
            total += int(m.group(idx)) * _DURATION_UNITS[unit]
    if m.group(14):
        total += int(m.group(14)) / 1000
    return total


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


def dns_label_problem(name: Any, what: str = "name") -> str | None:
    """Why ``name`` is not a Kubernetes DNS-1123 label, or None."""
    if not isinstance(name, str) or len(name) > 63 or not DNS_LABEL_RE.match(name):
        return f"{what} {name!r} is not a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63 characters)"
    return None


def _label_names(v: dict) -> dict:
    for key in v:
        if not LABEL_NAME_RE.match(key):
            raise ValueError(f"{key!r} is not a Prometheus label name")
    return v


LabelMap = Annotated[dict[str, str], AfterValidator(_label_names)]
"""Prometheus labels: every key must be a valid label name."""


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def non_negative(v: float) -> float:
    if v is None:
        return v
    if v < 0:
        raise ValueError("must not be negative")
    return v


# --------------------------------------------------------------------------- uids


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
