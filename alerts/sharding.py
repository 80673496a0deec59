"""Rule groups split on stable keys, so no group (and no object holding one) outgrows a limit.

A fleet of any size yields groups of bounded size: the infrastructure group is fixed, the
platform alerts go one group per namespace (``modeldash-platform-<namespace>``), each model
keeps its own group, and the recording rules go one group per namespace. A group still too
large (a model with hundreds of features, a namespace with hundreds of models) is cut into
chunks of consecutive rules in a stable sorted order (``<name>-2``, ``<name>-3``, ...), so
adding a model or a feature changes its own chunk and at most the ones after it in the same
key, never the rest of the fleet.

A chunk ends before ``MAX_RULES`` rules or ``BUDGET`` estimated bytes, whichever comes first.
The estimate (``alert_weight``) is what a rule costs as the last-applied annotation of its
ConfigMap: about 2.5 KB of fixed shape plus 2.5x its texts (expression, annotations, labels,
escaped twice: JSON inside JSON); measured, it overestimates (example fleet: 59 KB estimated,
53 KB real for 15 rules). ``BUDGET`` leaves 80 KB of the 262,144 bytes of client-side
``kubectl apply``; render still measures every object (``k8s/manifests.size_problem``).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

MAX_RULES = 100  # alerting rules per group: a Grafana group is PUT as one request and evaluated together
MAX_RECORDING_RULES = 500
BUDGET = 180_000  # estimated bytes per group (see above)
PLATFORM_GROUP = "modeldash-platform"
RECORDING_GROUP = "modeldash-recording"


def alert_weight(d) -> int:
    texts = len(d.expr) + len(d.summary) + len(d.description) + len(d.runbook_url) + len(d.title)
    texts += sum(len(str(k)) + len(str(v)) for k, v in d.labels.items())
    return 2500 + int(2.5 * texts)


def recording_weight(r) -> int:
    return 300 + 2 * (len(r.expr) + len(r.record) + sum(len(k) + len(v) for k, v in r.labels.items()))


def chunked(name: str, items: list[T], limit: int, weight: Callable[[T], int] | None = None,
            budget: int = BUDGET) -> dict[str, list[T]]:
    """``{name: items}``, or ``{name: ..., name-2: ..., ...}`` cut before ``limit`` items or
    ``budget`` total weight."""
    parts: list[list[T]] = [[]]
    used = 0
    for item in items:
        w = weight(item) if weight else 0
        if parts[-1] and (len(parts[-1]) >= limit or used + w > budget):
            parts.append([])
            used = 0
        parts[-1].append(item)
        used += w
    return {name if i == 0 else f"{name}-{i + 1}": part for i, part in enumerate(parts) if part}


def shard(items: Iterable[T], key: Callable[[T], str], order: Callable[[T], tuple], limit: int,
          weight: Callable[[T], int] | None = None) -> dict[str, list[T]]:
    """Items grouped by ``key``, each group sorted by ``order`` and chunked; sorted by name."""
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    out: dict[str, list[T]] = {}
    for name in sorted(groups):
        for part, members in chunked(name, sorted(groups[name], key=order), limit, weight).items():
            if part in out:  # a key that looks like another key's chunk name
                raise ValueError(f"two rule groups are both named {part!r}")
            out[part] = members
    return dict(sorted(out.items()))


def group_key(d) -> str:
    """The group of an alert definition: the catalogue's, the platform's split by namespace."""
    if d.group == PLATFORM_GROUP and d.namespace:
        return f"{PLATFORM_GROUP}-{d.namespace}"
    return d.group


def alert_groups(defs) -> dict[str, list]:
    """``{group name: definitions}``: what both the Grafana and the Prometheus rule groups hold.

    Within a group the catalogue's order is kept (it is deterministic); chunks cut it in that order.
    """
    index = {id(d): i for i, d in enumerate(defs)}
    return shard(defs, group_key, lambda d: (index[id(d)],), MAX_RULES, alert_weight)


def recording_groups(rules) -> dict[str, list]:
    """Recording rules one group per namespace (label ``namespace``), by model then record name.

    A rule labelled with its model only (``model:threshold``) joins its model's namespace, so a
    new model never reshuffles a fleet-wide group."""
    index = {id(r): i for i, r in enumerate(rules)}
    home = {r.labels["model"]: r.labels["namespace"] for r in rules if "model" in r.labels and "namespace" in r.labels}

    def namespace(r) -> str:
        return r.labels.get("namespace") or home.get(r.labels.get("model", ""), "all")

    return shard(rules, lambda r: f"{RECORDING_GROUP}-{namespace(r)}",
                 lambda r: (r.labels.get("model", ""), index[id(r)]), MAX_RECORDING_RULES, recording_weight)
