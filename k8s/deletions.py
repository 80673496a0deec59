"""What an earlier render generated and this one no longer does: rules and objects to delete.

Deleting a ConfigMap does not remove what the sidecar provisioned from it: Grafana keeps an
alert rule until a ``deleteRules`` entry names its uid, and a dashboard or a stale alert file can
linger too. So each render records what it generated (in the render manifest) and compares
with the previous record.

A vanished item stays on the deletion lists for ``keep`` renders (``kubernetes.keep_deletions_for``,
default 10), not just the next one: a CI job may render several times before anything is
applied, and deleting an already-deleted rule is harmless in Grafana. It leaves the lists early
when it reappears in the spec, since a ``deleteRules`` entry for a live rule would delete it
again on every provisioning pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeletionPlan:
    rule_uids: list[str]  # for ``deleteRules``
    objects: list[str]  # ``Kind/namespace/name`` of generated objects to remove from the cluster
    state: dict = field(default_factory=dict)  # for the next render's manifest


def _counts(value) -> dict[str, int]:
    """A ``{item: renders left}`` map from a manifest, ignoring anything malformed."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)}


def _items(value) -> set[str]:
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _carry(previous_items: set[str], pending: dict[str, int], current: set[str], keep: int) -> dict[str, int]:
    """Age the pending items by one render, drop expired and returned ones, add newly vanished ones."""
    out = {item: left - 1 for item, left in pending.items() if left - 1 > 0 and item not in current}
    for item in previous_items - current:
        out[item] = keep
    return out


def plan_deletions(previous: dict, rule_uids: set[str], objects: set[str], keep: int) -> DeletionPlan:
    """Compare this render's rule uids and objects with the previous render's k8s manifest entry."""
    previous = previous if isinstance(previous, dict) else {}
    rules = _carry(_items(previous.get("rule_uids")), _counts(previous.get("pending_rule_deletions")), rule_uids, keep)
    objs = _carry(_items(previous.get("objects")), _counts(previous.get("pending_object_deletions")), objects, keep)
    state = {
        "rule_uids": sorted(rule_uids),
        "objects": sorted(objects),
        "pending_rule_deletions": dict(sorted(rules.items())),
        "pending_object_deletions": dict(sorted(objs.items())),
    }
    return DeletionPlan(rule_uids=sorted(rules), objects=sorted(objs), state=state)
