"""Ownership markers and content hashes that modeldash writes into Grafana objects.

Why: the sync must touch only what it owns (prune deletes nothing else) and must notice
when someone edited a managed object in the UI since modeldash last wrote it. Both facts
are recorded *inside* the object, in fields that a UI save keeps:

- dashboards: tag ``modeldash`` and a dashboard link whose tooltip carries
  ``modeldash fleet=<fleet> uid=<uid> sha256=<hash>``; the hash covers the dashboard
  content (without the link itself) and its folder. A "Save as" copy has another uid, so
  it is not considered managed.
- alert rules: labels ``managed_by=modeldash`` and ``modeldash_fleet=<fleet>``, and the
  annotation ``modeldash_sha256`` holding the hash of the whole rule group (interval and
  every rule, without that annotation).
- contact points: a uid prefix derived from the fleet name (they have no labels or tags).
- notification policies: the top-level route whose object matchers carry the two labels.

Everything here is pure; the sync engine and the desired-state builder both use it.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from modeldash.spec.base import parse_duration

TAG = "modeldash"
MANAGED_LABEL = "managed_by"
MANAGED_VALUE = "modeldash"
FLEET_LABEL = "modeldash_fleet"
HASH_ANNOTATION = "modeldash_sha256"
LINK_TITLE = "Managed by modeldash"
_MARKER_RE = re.compile(r"modeldash fleet=(?P<fleet>\S+) uid=(?P<uid>\S+) sha256=(?P<sha>[0-9a-f]+)")
HASH_LEN = 16

# Fields Grafana adds or bumps on every save; never part of the content we compare.
_DASHBOARD_VOLATILE = ("id", "version", "iteration")
_RULE_VOLATILE = ("id", "updated", "provenance", "orgID")
# Query-model fields the Grafana UI fills in with these values when a rule is saved there.
_QUERY_MODEL_DEFAULTS = {"intervalMs": 1000, "maxDataPoints": 43200}


def content_hash(obj: Any) -> str:
    """A short, stable hash of a JSON value (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LEN]


def prune_empty(value: Any) -> Any:
    """Drop nulls, empty maps/lists and ``False`` flags Grafana fills in by itself.

    A missing key and its zero value mean the same to Grafana; comparing without them
    avoids permanent diffs caused by defaults the server adds on read.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = prune_empty(v)
            if v is None or v is False or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [prune_empty(v) for v in value]
    return value


# --------------------------------------------------------------------------- dashboards


def _is_marker_link(link: Any) -> bool:
    return isinstance(link, dict) and isinstance(link.get("tooltip"), str) and bool(_MARKER_RE.search(link["tooltip"]))


def dashboard_content(dashboard: dict) -> dict:
    """The dashboard as compared: no volatile fields, no marker link, no empty defaults."""
    body = {k: v for k, v in dashboard.items() if k not in _DASHBOARD_VOLATILE}
    links = [link for link in body.get("links") or [] if not _is_marker_link(link)]
    body["links"] = links
    return prune_empty(body)


def dashboard_hash(dashboard: dict, folder_uid: str | None) -> str:
    return content_hash({"dashboard": dashboard_content(dashboard), "folderUid": folder_uid or ""})


def stamp_dashboard(dashboard: dict, fleet: str, folder_uid: str) -> dict:
    """A copy of ``dashboard`` with the ``modeldash`` tag and the marker link (with the hash)."""
    out = copy.deepcopy(dashboard)
    for key in _DASHBOARD_VOLATILE:
        out.pop(key, None)
    tags = [t for t in out.get("tags") or [] if t != TAG]
    out["tags"] = sorted(set(tags) | {TAG})
    out["links"] = [link for link in out.get("links") or [] if not _is_marker_link(link)]
    sha = dashboard_hash(out, folder_uid)
    out["links"].append({
        "title": LINK_TITLE,
        "type": "link",
        "icon": "info",
        "tooltip": f"Generated from the fleet spec; edit the spec, not this dashboard. "
                   f"modeldash fleet={fleet} uid={out['uid']} sha256={sha}",
        "tags": [],
        "asDropdown": False,
        "targetBlank": True,
        "includeVars": False,
        "keepTime": False,
        "url": "https://github.com/modeldash/modeldash/blob/main/docs/sync.md",
    })
    return out


def dashboard_marker(dashboard: dict) -> dict | None:
    """``{fleet, uid, sha}`` from the marker link, or None when the dashboard has none."""
    for link in dashboard.get("links") or []:
        if _is_marker_link(link):
            return _MARKER_RE.search(link["tooltip"]).groupdict()
    return None


def dashboard_is_managed(dashboard: dict, fleet: str) -> bool:
    marker = dashboard_marker(dashboard)
    return (
        TAG in (dashboard.get("tags") or [])
        and marker is not None
        and marker["fleet"] == fleet
        and marker["uid"] == dashboard.get("uid")
    )


# --------------------------------------------------------------------------- alert rules


def _duration_seconds(value: Any) -> Any:
    try:
        return parse_duration(value)
    except ValueError:
        return value


def rule_content(rule: dict) -> dict:
    """A rule as compared: no server fields, durations as seconds, no hash annotation."""
    body = {k: v for k, v in rule.items() if k not in _RULE_VOLATILE}
    annotations = {k: v for k, v in (body.get("annotations") or {}).items() if k != HASH_ANNOTATION}
    body["annotations"] = annotations
    for key in ("for", "keep_firing_for"):
        if key in body:
            body[key] = _duration_seconds(body[key])
            if body[key] == 0:
                body.pop(key)
    data = []
    for query in body.get("data") or []:
        query = dict(query)
        model = {k: v for k, v in (query.get("model") or {}).items() if _QUERY_MODEL_DEFAULTS.get(k, object()) != v}
        query["model"] = model
        data.append(query)
    body["data"] = data
    return prune_empty(body)


def group_content(group: dict) -> dict:
    rules = sorted((rule_content(r) for r in group.get("rules") or []), key=lambda r: (r.get("uid", ""), r.get("title", "")))
    return {"title": group.get("title"), "folderUid": group.get("folderUid"), "interval": group.get("interval"), "rules": rules}


def group_hash(group: dict) -> str:
    return content_hash(group_content(group))


def rule_is_managed(rule: dict, fleet: str) -> bool:
    labels = rule.get("labels") or {}
    return labels.get(MANAGED_LABEL) == MANAGED_VALUE and labels.get(FLEET_LABEL) == fleet


def rule_recorded_hash(rule: dict) -> str | None:
    return (rule.get("annotations") or {}).get(HASH_ANNOTATION)


def stamp_rule_group(group: dict, fleet: str) -> dict:
    """A copy of ``group`` whose rules carry the ownership labels and the group's hash."""
    out = copy.deepcopy(group)
    for rule in out.get("rules") or []:
        rule["labels"] = {**(rule.get("labels") or {}), MANAGED_LABEL: MANAGED_VALUE, FLEET_LABEL: fleet}
        rule.setdefault("annotations", {}).pop(HASH_ANNOTATION, None)
    sha = group_hash(out)
    for rule in out.get("rules") or []:
        rule["annotations"][HASH_ANNOTATION] = sha
    return out


# --------------------------------------------------------------------------- contact points


def contact_point_prefix(fleet: str) -> str:
    """``mdcp-<6 hex>-``: contact points have no labels, so their uid says who owns them."""
    return f"mdcp-{hashlib.sha256(fleet.encode()).hexdigest()[:6]}-"


def contact_point_is_managed(cp: dict, fleet: str) -> bool:
    return str(cp.get("uid", "")).startswith(contact_point_prefix(fleet))


# --------------------------------------------------------------------------- notification policies


def managed_matchers(fleet: str) -> list[list[str]]:
    return [[MANAGED_LABEL, "=", MANAGED_VALUE], [FLEET_LABEL, "=", fleet]]


def route_is_managed(route: dict, fleet: str) -> bool:
    """A top-level route is modeldash's when its object matchers select this fleet's alerts."""
    matchers = [list(m) for m in route.get("object_matchers") or []]
    return all(m in matchers for m in managed_matchers(fleet))
