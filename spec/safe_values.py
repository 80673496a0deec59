"""What a spec value may hold once it reaches PromQL, labels, templates, file names or manifests.

Every check here is a ``problem(value) -> str | None`` (the reason, phrased for the user) so
the spec validators and lint share one rule. Text that ends up inside a PromQL string, a
Prometheus/Alertmanager label value, a Go template or a Grafana provisioning file (which
expands ``$VAR``) is restricted to a character set that needs no escaping anywhere: letters
and digits of any script, ``_``, space, ``. : / + @ -``. Quotes, backslashes, braces, ``$``
and control characters are refused rather than escaped, because each consumer escapes
differently and one miss turns a name into an always-firing rule.
"""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

SAFE_TEXT_MAX = 128
_SAFE_TEXT_RE = re.compile(r"^[^\W][\w .:/+@-]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# Labels every generated alert (or its expression) sets itself; a spec label of the same
# name would crash the builder, silently override ownership (managed_by) or break routing.
RESERVED_LABELS = frozenset({
    "alertname", "severity", "team", "layer", "modeldash_alert", "managed_by", "model", "namespace",
    "feature", "predicted_class", "direction", "quality_metric", "job", "method", "instance", "pod",
    "container", "node", "device", "mountpoint", "deployment", "horizontalpodautoscaler", "le",
    "quantile", "grafana_folder",
})


def checked(check, value: Any, *args) -> Any:
    """Run a ``problem(value, ...) -> str | None`` check as a pydantic validator: raise or pass through."""
    problem = check(value, *args)
    if problem:
        raise ValueError(problem)
    return value


def safe_text_problem(value: Any, what: str = "value") -> str | None:
    """Why ``value`` may not go into PromQL strings, label values or templates (None if it may)."""
    if not isinstance(value, str):
        return f"{what} must be a string"
    if not value:
        return f"{what} must not be empty"
    if len(value) > SAFE_TEXT_MAX:
        return f"{what} is longer than {SAFE_TEXT_MAX} characters"
    if not _SAFE_TEXT_RE.match(value) or value.endswith(" "):
        bad = next((c for c in value if not (c.isalnum() or c in "_ .:/+@-")), None)
        shown = repr(bad) if bad is not None else "a leading or trailing space/punctuation"
        return (f"{what} {value[:60]!r} contains {shown}: use letters, digits, '_', space and . : / + @ - "
                "(it reaches PromQL, alert labels and templates)")
    return None


def display_name_problem(value: Any, what: str = "name") -> str | None:
    """Why ``value`` cannot be a display name in provisioning files (Grafana expands ``$VAR`` there)."""
    if not isinstance(value, str) or not value.strip() or len(value) > SAFE_TEXT_MAX:
        return f"{what} must be 1 to {SAFE_TEXT_MAX} characters"
    bad = next((c for c in value if not c.isprintable() or c in '$"\\{}`'), None)
    if bad is not None:
        return f"{what} {value[:60]!r} contains {bad!r}: no control characters, $, quotes, backslashes or braces"
    return None


def label_name_problem(name: Any, reserved: frozenset = frozenset(), what: str = "label") -> str | None:
    """Why ``name`` is not a label name a spec may set (None when it is)."""
    if not isinstance(name, str) or not LABEL_NAME_RE.match(name):
        return f"{what} {name!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
    if name.startswith("__"):
        return f"{what} {name!r}: names starting with '__' are reserved by Prometheus"
    if name in reserved:
        return f"{what} {name!r} is set by modeldash itself (reserved: {', '.join(sorted(reserved))})"
    return None


def label_map_problem(labels: Any, reserved: frozenset) -> tuple[str, str] | None:
    """(key, reason) of the first bad entry of a spec ``labels`` mapping, or None."""
    if not isinstance(labels, dict):
        return "", "must be a mapping of label names to string values"
    for key, value in labels.items():
        problem = label_name_problem(key, reserved) or safe_text_problem(value, "label value")
        if problem:
            return str(key), problem
    return None


# --------------------------------------------------------------------------- numbers


def number_problem(v: Any, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False,
                   meaning: str = "") -> str | None:
    """Why ``v`` is not a finite number in the interval (None when it is)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "must be a number"
    if not math.isfinite(v):
        return "must be a finite number (not nan or inf)"
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    if below or above:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        why = "must not be negative" if v < 0 <= lo else "is out of range"
        return f"{v:g} {why}: {meaning + ' ' if meaning else ''}must be in {left}{lo:g}, {hi:g}{right}"
    return None


# --------------------------------------------------------------------------- file names

_UNSAFE_FILENAME_CHARS = set('<>:"/\\|?*')
FILENAME_MAX_BYTES = 200  # NAME_MAX is 255 bytes; leave room for suffixes added by tools


def folder_title_problem(title: Any) -> str | None:
    """Why a Grafana folder title cannot also be a directory name on every filesystem."""
    if not isinstance(title, str) or not title.strip():
        return "folder title must be a non-empty string"
    bad = next((c for c in title if c in _UNSAFE_FILENAME_CHARS or ord(c) < 32 or ord(c) == 127 or c == "$"), None)
    if bad is not None:
        return (f"folder title contains {bad!r}: it becomes a directory name (sidecar folders), so "
                "control characters, $ and < > : \" / \\ | ? * are not allowed")
    if title != title.strip() or title.endswith("."):
        return "folder title must not start or end with a space or end with '.'"
    if len(title.encode("utf-8")) > FILENAME_MAX_BYTES:
        return f"folder title is {len(title.encode('utf-8'))} bytes in UTF-8; at most {FILENAME_MAX_BYTES} fit a file name"
    return None


# --------------------------------------------------------------------------- Kubernetes values

_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
                ("month", 1, 12, {m: i + 1 for i, m in enumerate(
                    "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
                ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))


def _cron_value(text: str, lo: int, hi: int, names: dict) -> int | None:
    v = names.get(text.lower()) if text.isalpha() else (int(text) if text.isdigit() else None)
    return v if v is not None and lo <= v <= hi else None


def cron_problem(expr: Any) -> str | None:
    """Why ``expr`` is not a schedule a Kubernetes CronJob accepts (five fields or an @macro)."""
    if not isinstance(expr, str):
        return "must be a cron schedule string"
    if expr.strip() in _CRON_MACROS:
        return None
    fields = expr.split()
    if len(fields) != 5:
        return f"{expr!r} is not a five-field cron schedule (e.g. '0 * * * *')"
    for text, (what, lo, hi, names) in zip(fields, _CRON_FIELDS):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and (not step.isdigit() or not 1 <= int(step) <= hi):
                return f"{expr!r}: {what} step {step!r} is not a number from 1 to {hi}"
            if base == "*" or (base == "?" and what.startswith("day")):
                continue
            a, _, b = base.partition("-")
            first = _cron_value(a, lo, hi, names)
            last = _cron_value(b, lo, hi, names) if b else first
            if first is None or last is None or last < first:
                return f"{expr!r}: {what} {part!r} is not a value or range within {lo}-{hi}"
    return None


_IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def image_problem(ref: Any) -> str | None:
    """Why ``ref`` is not a container image reference (``registry/name:tag`` or ``@sha256:...``)."""
    if not isinstance(ref, str) or len(ref) > 255 or not _IMAGE_RE.match(ref):
        return f"{ref!r} is not a container image reference (e.g. ghcr.io/org/modeldash-jobs:0.1.0)"
    return None


_PORT_NAME_RE = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def port_name_problem(port: Any) -> str | None:
    """Why ``port`` is not an IANA port name (what a ServiceMonitor endpoint selects a Service port by)."""
    if isinstance(port, str) and _PORT_NAME_RE.match(port) and "--" not in port:
        return None
    return f"{port!r} is not a Service port name (1-15 characters of a-z, 0-9, '-', with at least one letter)"


_URL_UNSAFE = set(' \t\r\n"\'\\{}$<>`')


def url_problem(url: Any, in_templates: bool = True) -> str | None:
    """Why ``url`` is not a plain http(s) URL (safe inside annotations and provisioning files)."""
    if not isinstance(url, str) or not url:
        return "must be an http(s) URL"
    bad = next((c for c in url if c in _URL_UNSAFE or ord(c) < 32), None)
    if bad is not None and not in_templates:
        return f"{url[:80]!r} is not an http(s) URL (it contains {bad!r})"
    if bad is not None:
        return f"URL contains {bad!r} (it reaches alert annotations and templates): percent-encode it"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return f"{url[:80]!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url[:80]!r} is not an http(s) URL"
    return None
