"""Block-style YAML text of plain data (dicts, lists, strings, numbers, booleans, None), fast.

Every Kubernetes manifest, ConfigMap and small hand-read file modeldash writes is YAML in one
style: sorted keys, block style, no aliases, multi-line strings (a dashboard or rule file
inside a ConfigMap) as literal blocks so they stay readable in a diff. PyYAML's representer is
pure Python even with libyaml and was a fifth of a 1,000-model render; this emitter writes the
same data in one pass with ``str.join`` and orjson for quoting.

It only writes what it is sure of. Anything else (a non-string key, a string with characters
YAML cannot hold literally, a type it does not know) makes ``dumps`` hand the whole document to
PyYAML instead, so the output always reads back as the same data (``tests/test_yaml_block.py``
checks that against libyaml's loader on generated documents).
"""
from __future__ import annotations

import math
import re

import orjson
import yaml

# A plain scalar needs no quotes: starts with a letter or one of ``_/``, then a safe set, and
# is not one of the words YAML 1.1 or 1.2 reads as a boolean or null.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
_SPECIAL = frozenset(
    "y n yes no on off true false null".split()
)
# Characters YAML cannot hold in a literal block (or whose line breaks it would normalise).
_NOT_LITERAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
# Characters orjson writes raw that YAML does not allow unescaped in a double-quoted scalar.
_NOT_QUOTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


class _Unsure(Exception):
    """A value this emitter does not write: the document goes to PyYAML."""


# What an ASCII string may hold in a literal block: tab, newline and the printable characters.
_LITERAL_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def _literal_safe(s: str) -> bool:
    """No ``_NOT_LITERAL`` character in ``s``. An ASCII string (``isascii`` is a flag, O(1)) is
    checked by deleting its allowed bytes in C: 4x faster than the regex on the MB-sized rule
    files and dashboards inside ConfigMaps."""
    if s.isascii():
        return not s.encode("ascii").translate(None, _LITERAL_ASCII)
    return not _NOT_LITERAL.search(s)


def _quoted(s: str) -> str:
    # of _NOT_QUOTABLE's characters, ASCII has only DEL: one memchr instead of the class scan
    if (not s.isascii() or "\x7f" in s) and _NOT_QUOTABLE.search(s):
        raise _Unsure
    try:
        return orjson.dumps(s).decode("utf-8")  # a JSON string is a YAML double-quoted scalar
    except orjson.JSONEncodeError:  # a lone surrogate
        raise _Unsure from None


def _key(k) -> str:
    if not isinstance(k, str):
        raise _Unsure
    return k if _PLAIN.match(k) and k.lower() not in _SPECIAL else _quoted(k)


def _scalar(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        text = repr(v)
        if "e" in text:  # YAML 1.1 wants a dot in the mantissa and a signed exponent: 1.0e-05
            mantissa, exp = text.split("e")
            text = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exp if exp[0] in '+-' else '+' + exp}"
        return text
    raise _Unsure


def _literal(s: str, pad: str) -> str | None:
    """``|`` / ``|-`` block of a multi-line string at indent ``pad``, or None when one cannot hold it."""
    if s.endswith("\n\n") or s[:1] in (" ", "\t", "\n") or not _literal_safe(s):
        return None
    body, head = (s[:-1], "|") if s.endswith("\n") else (s, "|-")
    if "\n\n" not in body:  # no empty line to keep unindented: one replace, in C
        return f"{head}\n{pad}" + body.replace("\n", "\n" + pad)
    return head + "".join(f"\n{pad}{line}" if line else "\n" for line in body.split("\n"))


# The text of each short string and key, once per process: manifests repeat the same labels,
# names and values thousands of times.
_TEXT: dict[str, str] = {}
_KEYS: dict[str, str] = {}
_CACHED_MAX = 200  # characters; longer strings are rarely repeated


def _str_text(s: str) -> str:
    text = _TEXT.get(s)
    if text is None:
        text = s if _PLAIN.match(s) and s.lower() not in _SPECIAL else _quoted(s)
        if len(s) <= _CACHED_MAX:
            if len(_TEXT) > 100_000:
                _TEXT.clear()
            _TEXT[s] = text
    return text


def _key_text(k) -> str:
    text = _KEYS.get(k) if isinstance(k, str) else None
    if text is None:
        text = _KEYS[k] = _key(k)
    return text


def _value(v, pad: str, out: list[str]) -> None:
    """Append `` value`` (inline) or a nested block after a key or ``-``."""
    t = type(v)
    if t is str:
        if "\n" in v:
            block = _literal(v, pad)
            out.append(f" {block if block is not None else _quoted(v)}\n")
        else:
            out.append(f" {_str_text(v)}\n")
    elif t is dict:
        if v:
            out.append("\n")
            _mapping(v, pad, out)
        else:
            out.append(" {}\n")
    elif t is list or t is tuple:
        if v:
            out.append("\n")
            _sequence(v, pad, out)
        else:
            out.append(" []\n")
    elif isinstance(v, (dict, list, tuple, str)):  # a subclass: PyYAML would tag it
        raise _Unsure
    else:
        out.append(f" {_scalar(v)}\n")


def _mapping(d: dict, pad: str, out: list[str], first: str | None = None) -> None:
    try:
        keys = sorted(d)
    except TypeError:  # keys of several types
        raise _Unsure from None
    lead = pad if first is None else first
    inner = pad + "  "
    for k in keys:
        v = d[k]
        t = type(v)
        if t is str and "\n" not in v:  # the common case, inline
            out.append(f"{lead}{_key_text(k)}: {_str_text(v)}\n")
        else:
            out.append(f"{lead}{_key_text(k)}:")
            # a sequence under a key is indentless (``key:\n- a``), as PyYAML writes it
            _value(v, pad if t is list or t is tuple else inner, out)
        lead = pad


def _sequence(items, pad: str, out: list[str]) -> None:
    """An indentless sequence (``key:\\n- a``), as PyYAML writes it."""
    inner = pad + "  "
    for item in items:
        if type(item) is dict and item:
            _mapping(item, inner, out, first=pad + "- ")
        else:
            out.append(pad + "-")
            _value(item, inner, out)


def dumps(obj) -> str:
    """``obj`` as block YAML with sorted keys (PyYAML's ``safe_dump`` meaning, faster)."""
    out: list[str] = []
    try:
        if isinstance(obj, dict) and obj:
            _mapping(obj, "", out)
        elif isinstance(obj, (list, tuple)) and obj:
            _sequence(obj, "", out)
        else:
            raise _Unsure  # a bare scalar or an empty document: PyYAML's framing
        return "".join(out)
    except _Unsure:
        return yaml.dump(obj, Dumper=_NoAliasDumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=120)


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml when built in
    def ignore_aliases(self, data):  # a repeated dict is written out again, never as &id001
        return True


def _literal_str(dumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_NoAliasDumper.add_representer(str, _literal_str)
