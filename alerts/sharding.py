"""Rule groups split on stable keys, so no group (and no object holding one) outgrows a limit.

A fleet of any size yields groups of bounded size: the infrastructure group is fixed, the
platform alerts go one group per namespace (``modeldash-platform-<namespace>``), each model
keeps its own group, and the recording rules go one group per namespace. A group still
longer than ``MAX_RULES`` (a model with hundreds of features, a namespace with hundreds of
models) is cut into chunks of consecutive rules in a stable sorted order (``<name>-2``,
``<name>-3``, ...), so adding a model or a feature changes its own chunk and at most the ones
after it in the same key, never the rest of the fleet.

Why rule counts: the largest generated rule is about 3 KB in Grafana's file format (4 KB as a
last-applied annotation of its ConfigMap), so 40 rules stay near 160 KB, well under the
262,144 bytes of client-side ``kubectl apply``; render still measures every object
(``k8s/manifests.size_problem``) as the last word.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

MAX_RULES = 40  # alerting rules per group (Grafana-managed and Prometheus)
MAX_RECORDING_RULES = 200  # recording rules are ~0.5 KB each
PLATFORM_GROUP = "modeldash-platform"
RECORDING_GROUP = "modeldash-recording"


def chunked(name: str, items: list[T], limit: int) -> dict[str, list[T]]:
    """``{name: items}``, or ``{name: first limit, name-2: next limit, ...}`` when longer."""
    if len(items) <= limit:
        return {name: items}
    out = {}
    for i in range(0, len(items), limit):
        out[name if i == 0 else f"{name}-{i // limit + 1}"] = items[i:i + limit]
    return out


def shard(items: Iterable[T], key: Callable[[T], str], order: Callable[[T], tuple], limit: int) -> dict[str, list[T]]:
    """Items grouped by ``key``, each group sorted by ``order`` and chunked at ``limit``; sorted by name."""
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    out: dict[str, list[T]] = {}
    for name in sorted(groups):
        for part, members in chunked(name, sorted(groups[name], key=order), limit).items():
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
    return shard(defs, group_key, lambda d: (index[id(d)],), MAX_RULES)


def recording_groups(rules) -> dict[str, list]:
    """Recording rules one group per namespace (label ``namespace``), by model then record name."""
    index = {id(r): i for i, r in enumerate(rules)}
    return shard(rules, lambda r: f"{RECORDING_GROUP}-{r.labels.get('namespace', 'all')}",
                 lambda r: (r.labels.get("model", ""), index[id(r)]), MAX_RECORDING_RULES)
