"""Whether a PromQL expression parses, asked once per expression *shape*.

A fleet's expressions differ between models only in plain label values (``model="m0042"``), and
parsing is the largest part of linting 1,000 models (promql-parser builds a Python AST each
time). Plain equality literals (``="..."``, ``!="..."``, letters, digits and ``_.:/ -`` only,
no escapes) are replaced by ``"x"`` for the cache key: they cannot make a parse fail. Regex
literals (``=~``, ``!~``) and anything with a backslash are kept, since those can.
"""
from __future__ import annotations

import functools
import re

import promql_parser

_PLAIN_EQ = re.compile(r'(?<![=!~])(!?=)\s*"[A-Za-z0-9_.:/ -]*"')


def shape(expr: str) -> str:
    return _PLAIN_EQ.sub(r'\1"x"', expr)


@functools.lru_cache(maxsize=65536)
def _shape_error(key: str) -> bool:
    try:
        promql_parser.parse(key)
    except ValueError:
        return True
    return False


def parse_error(expr: str) -> str | None:
    """The parser's message for ``expr``, or None when it parses."""
    if not _shape_error(shape(expr)):
        return None
    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        return str(exc)
    return None
