"""A JSON schema checked fast, and explained readably only when something is wrong.

jsonschema-rs validates a 40 KB dashboard in microseconds; the pure-Python jsonschema gives
the better messages. Valid objects (nearly all) never reach the slow path.
"""
from __future__ import annotations

import re
from typing import Iterator

import jsonschema
import jsonschema_rs


def _case_insensitive(pattern: str) -> str:
    """``^(?i)(abort|warn)?$`` -> ``^([aA][bB]...)?$``: Go's inline flag as ECMA character classes."""
    body = pattern.replace("(?i)", "")
    return re.sub(r"(?<!\\)[A-Za-z]", lambda m: f"[{m.group().lower()}{m.group().upper()}]", body)


def ecma_patterns(schema):
    """A copy of ``schema`` whose Go-style ``(?i)`` patterns (Kubernetes CRDs) the Rust crate accepts.

    Only patterns that are plain text, groups and alternations are rewritten (the CRDs' are);
    anything else is left as it is and the slow validator takes over."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "pattern" and isinstance(v, str) and "(?i)" in v and re.fullmatch(r"[\^$()|?A-Za-z0-9_-]*", v.replace("(?i)", "")):
                out[k] = _case_insensitive(v)
            else:
                out[k] = ecma_patterns(v)
        return out
    if isinstance(schema, list):
        return [ecma_patterns(v) for v in schema]
    return schema


class SchemaCheck:
    def __init__(self, schema: dict):
        self._explain = jsonschema.Draft7Validator(schema)
        self._fast = None
        for candidate in (schema, ecma_patterns(schema)):
            try:
                self._fast = jsonschema_rs.Draft7Validator(candidate)
                break
            except (jsonschema_rs.ValidationError, ValueError):
                # e.g. Kubernetes CRD schemas, whose Go-style regexes (?i) the Rust crate rejects
                continue

    def is_valid(self, instance) -> bool:
        if self._fast is not None:
            return self._fast.is_valid(instance)
        return self._explain.is_valid(instance)

    def iter_errors(self, instance) -> Iterator[jsonschema.ValidationError]:
        """jsonschema's errors (``absolute_path``, ``message``), empty when the instance is valid."""
        if self._fast is not None and self._fast.is_valid(instance):
            return iter(())
        return self._explain.iter_errors(instance)
