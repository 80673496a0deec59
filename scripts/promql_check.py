"""Whether a PromQL expression parses, asked once per expression *shape*.

A fleet's expressions differ between models only in label values (``model="m0042"``,
``pod=~"m0042-predictor.*"``), and parsing is the largest part of linting 1,000 models
(promql-parser builds a Python AST each time). So the parse is cached on the expression with
those values replaced by a stand-in that parses exactly when the value does:

- an equality literal (``="..."``, ``!="..."``) of letters, digits and ``_.:/ -`` only (no
  escapes) becomes ``"x"``, or stays ``""`` when empty: only its emptiness matters to the parser
  (a selector needs one matcher that does not match the empty string);
- a regex literal (``=~``, ``!~``) of such characters and ``(...)`` groups, each optionally
  followed by one ``*``, ``+`` or ``?``, and ``|`` between non-empty branches, is always a
  valid regex; it becomes ``".*"`` when it matches the empty string, else ``"x"``.

Anything else (escapes, classes, counted repeats, empty groups) is kept as it is: it can fail.
An expression whose shape fails is parsed again as itself, for the parser's own message.
"""
from __future__ import annotations

import functools
import re

import promql_parser

_PLAIN = r"[A-Za-z0-9_.:/ -]"
# A non-empty value after ``=`` (so also ``!=``), replaced by a literal that re.sub copies in C.
# Neither pattern starts with a look-behind, which makes the regex engine try every position
# (10x slower for the first, 1.6x for the second); the regex matcher's ``=`` or ``!`` is matched
# and put back instead. After ``==`` or ``<=`` a string fails to parse whatever it holds, so
# replacing it there changes nothing.
_PLAIN_EQ = re.compile(rf'=\s*"{_PLAIN}+"')
_REGEX = re.compile(r'([=!])~\s*"([^"\\]*)"')
_PLAIN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/ -")


def _safe_regex(body: str, i: int = 0) -> tuple[bool, int] | None:
    """``(matches the empty string, end)`` of the alternation at ``body[i:]``, or None when it is
    not made only of plain characters, ``(...)`` groups, one ``*``/``+``/``?`` after each, and
    ``|`` between non-empty branches (such a regex always compiles)."""
    any_empty = False
    while True:
        branch_empty, start = True, i
        while i < len(body) and body[i] not in "|)":
            if body[i] in _PLAIN_CHARS:
                item_empty, i = False, i + 1
            elif body[i] == "(":
                inner = _safe_regex(body, i + 1)
                if inner is None or inner[1] >= len(body) or body[inner[1]] != ")":
                    return None
                item_empty, i = inner[0], inner[1] + 1
            else:
                return None
            if i < len(body) and body[i] in "*+?":
                item_empty, i = item_empty or body[i] != "+", i + 1
            branch_empty = branch_empty and item_empty
        if i == start:
            return None  # an empty branch or group: leave it to the parser
        any_empty = any_empty or branch_empty
        if i < len(body) and body[i] == "|":
            i += 1
            continue
        return any_empty, i


def _regex_stand_in(m: re.Match) -> str:
    return m.group(1) + _regex_stand_in_for(m.group(2), m.group(0)[1:])


@functools.lru_cache(maxsize=65536)
def _regex_stand_in_for(body: str, matched: str) -> str:
    """The stand-in of one regex matcher (cached: a model's regexes recur on several of its panels)."""
    if not body:
        return '~".*"'
    safe = _safe_regex(body)
    if safe is None or safe[1] != len(body):
        return matched  # might not compile: the parser must see it
    return '~".*"' if safe[0] else '~"x"'


def shape(expr: str) -> str:
    """``expr`` with its label values replaced by stand-ins that parse exactly when they do."""
    return _REGEX.sub(_regex_stand_in, _PLAIN_EQ.sub('="x"', expr))


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
