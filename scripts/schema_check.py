"""A JSON schema checked fast, and explained readably only when something is wrong.

jsonschema-rs validates a 40 KB dashboard in microseconds; the pure-Python jsonschema gives
the better messages. Valid objects (nearly all) never reach the slow path.
"""
from __future__ import annotations

from typing import Iterator

import jsonschema
import jsonschema_rs


class SchemaCheck:
    def __init__(self, schema: dict):
        self._explain = jsonschema.Draft7Validator(schema)
        try:
            self._fast = jsonschema_rs.Draft7Validator(schema)
        except (jsonschema_rs.ValidationError, ValueError):
            # e.g. Kubernetes CRD schemas, whose Go-style regexes (?i) the Rust crate rejects
            self._fast = None

    def is_valid(self, instance) -> bool:
        if self._fast is not None:
            return self._fast.is_valid(instance)
        return self._explain.is_valid(instance)

    def iter_errors(self, instance) -> Iterator[jsonschema.ValidationError]:
        """jsonschema's errors (``absolute_path``, ``message``), empty when the instance is valid."""
        if self._fast is not None and self._fast.is_valid(instance):
            return iter(())
        return self._explain.iter_errors(instance)
