"""Promtool test files split on stable keys, so no test file outgrows a bound whatever the fleet.

promtool evaluates every rule a test file loads at every step of every test group, and an
active alert costs it about 1 ms per step (it expands every label and annotation template of
every pending or firing alert at every evaluation). One file per alert name for the whole fleet
was megabytes and one long serial promtool run per alert; chunks keep files medium-sized, let
the runs share the cores, and keep re-renders local.

An alert name's definitions are grouped by unit: the model they watch, else the namespace
(per-namespace platform alerts), else the fleet (node alerts: one unit, one file). Units sort by
(namespace, model) and are cut into chunks by content-defined chunking: a unit starts a new
chunk when a hash of its key falls under ``weight / TARGET`` (weight: its definitions), so chunks
hold about ``TARGET`` definitions, and a chunk is also cut before it would pass ``MAX``. Whether
a unit starts a chunk depends on that unit alone: adding a model changes the chunk it joins (or
splits one in two), not the rest of the fleet's files; only when that chunk was cut at ``MAX``
(rare: 4x TARGET) do the same alert's cuts up to its next hash boundary move. A model heavier
than ``MAX`` (hundreds of features) is cut into pieces of ``MAX`` definitions in catalogue order.

Chunks are named after their first unit (``<Alert>.<namespace>.<model>``, DNS labels joined by
dots: safe file names); an alert's first chunk keeps the bare alert name, so a small fleet
writes one test file per alert name, as before.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

TARGET = 75  # definitions per chunk on average (see benchmarks/scale_table.py --test-rules)
MAX = 300  # definitions per chunk at most: 4x TARGET, so a cut forced by size (which moves when a
# model is added before it) is rare (e**-4 of chunks); a single unit over it is cut into pieces


def unit_key(d) -> tuple[str, str]:
    """(namespace, model) of a definition: ("", "") for a fleet-wide one."""
    return (d.namespace or "", d.model or "")


def _starts_chunk(key: tuple[str, str], weight: int) -> bool:
    digest = hashlib.blake2b("/".join(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < weight / TARGET


def _pieces(defs: list) -> list[tuple[tuple[str, str], list]]:
    units: dict[tuple[str, str], list] = defaultdict(list)
    for d in defs:
        units[unit_key(d)].append(d)
    out = []
    for key in sorted(units):
        members = units[key]
        if not key[1] or len(members) <= MAX:  # a fleet-wide or namespace unit stays whole
            out.append((key, members))
            continue
        for i in range(0, len(members), MAX):
            out.append(((key[0], key[1] + (f".{i // MAX + 1}" if i else "")), members[i:i + MAX]))
    return out


def chunks(defs: list) -> list[tuple[str, list]]:
    """``[(suffix, definitions)]`` of one alert name's definitions, in unit order: suffix "" for
    the first chunk, ``.<namespace>.<model>`` (or ``.<namespace>``) of its first unit for the others."""
    cut: list[tuple[tuple[str, str], list]] = []
    for key, members in _pieces(defs):
        if not cut or _starts_chunk(key, len(members)) or len(cut[-1][1]) + len(members) > MAX:
            cut.append((key, []))
        cut[-1][1].extend(members)
    return [("" if i == 0 else "." + ".".join(p for p in key if p), members)
            for i, (key, members) in enumerate(cut)]
