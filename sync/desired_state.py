"""What Grafana should hold for a fleet: folders, contact points, the policy subtree,
dashboards and rule groups, each stamped with modeldash's ownership markers.

Why a separate, pure module: ``modeldash diff``/``sync`` compare this list against what
Grafana returns; building it touches neither the disk nor the network, so tests and the
benchmark can feed it any dashboards and alert definitions.

The producers are ``modeldash.dashboards.build.build_dashboards(spec)`` (objects with
``uid, title, folder_uid, folder_title, model, json``) and, in
``modeldash.alerts.build``, ``contact_points(spec)`` (API JSON ``{uid?, name, type,
settings}``), ``notification_policy_subtree(spec)`` (one route or a list of routes) and
``grafana_rule_groups(spec)`` (API JSON ``{title, folderUid, interval, rules}``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable

from modeldash.sync import ownership as ownership
from modeldash.spec.base import make_uid

# Creation order; deletions run in reverse (rules before the dashboards they link to,
# policies before the contact points they route to).
KINDS = ("folder", "contact_point", "policy", "dashboard", "rule_group")
POLICY_KEY = "notification-policy-tree"


@dataclass(frozen=True)
class DesiredObject:
    """One object Grafana should hold: its kind, its key within the kind, its API body."""

    kind: str
    key: str
    title: str
    body: Any
    model: str | None = None
    folder_uid: str | None = None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def _contact_point_uid(fleet: str, cp: dict) -> str:
    prefix = ownership.contact_point_prefix(fleet)
    rest = make_uid(str(cp.get("uid") or cp.get("name") or "contact-point"))
    uid = prefix + rest
    return uid if len(uid) <= 40 else make_uid(prefix.rstrip("-"), rest)


def _rule_uid(folder_uid: str, group: str, title: str) -> str:
    return make_uid("mdr", folder_uid, group, title)


def build_desired(
    spec,
    dashboards: Iterable[Any] = (),
    contact_points: Iterable[dict] = (),
    policy_subtree: Any = None,
    rule_groups: Iterable[dict] = (),
    org_id: int | None = None,
) -> list[DesiredObject]:
    """Assemble and stamp the desired objects, in creation order."""
    fleet = spec.name
    out: list[DesiredObject] = []
    folders: dict[str, str] = {spec.folder_uid: spec.grafana.folder}

    dash_objects = []
    for d in dashboards:
        folder_uid = _get(d, "folder_uid") or spec.folder_uid
        folders.setdefault(folder_uid, _get(d, "folder_title") or spec.grafana.folder)
        body = dict(_get(d, "json"))
        body["uid"] = _get(d, "uid") or body.get("uid")
        body["title"] = _get(d, "title") or body.get("title")
        stamped = ownership.stamp_dashboard(body, fleet, folder_uid)
        dash_objects.append(DesiredObject("dashboard", body["uid"], body["title"], stamped, _get(d, "model"), folder_uid))

    group_objects = []
    for g in rule_groups:
        group = copy.deepcopy(dict(g))
        folder_uid = group.get("folderUid") or spec.folder_uid
        group["folderUid"] = folder_uid
        folders.setdefault(folder_uid, folder_uid)
        models = set()
        for rule in group.get("rules") or []:
            rule["folderUID"] = folder_uid
            rule["ruleGroup"] = group["title"]
            if org_id is not None or "orgID" not in rule:
                rule["orgID"] = org_id or 1
            rule.setdefault("uid", _rule_uid(folder_uid, group["title"], rule.get("title", "")))
            model = (rule.get("labels") or {}).get("model")
            if model:
                models.add(model)
        stamped = ownership.stamp_rule_group(group, fleet)
        model = next(iter(models)) if len(models) == 1 else None
        group_objects.append(DesiredObject("rule_group", f"{folder_uid}/{group['title']}", group["title"], stamped, model, folder_uid))

    for uid, title in folders.items():
        out.append(DesiredObject("folder", uid, title, {"uid": uid, "title": title}))

    for cp in contact_points:
        body = copy.deepcopy(dict(cp))
        body["uid"] = _contact_point_uid(fleet, body)
        body.pop("provenance", None)
        out.append(DesiredObject("contact_point", body["uid"], body.get("name", body["uid"]), body))

    if isinstance(policy_subtree, dict):
        routes = [policy_subtree] if policy_subtree else []
    else:
        routes = list(policy_subtree or [])
    if routes:
        managed = {"object_matchers": ownership.managed_matchers(fleet), "routes": copy.deepcopy(routes)}
        out.append(DesiredObject("policy", POLICY_KEY, "notification policies (modeldash subtree)", managed))

    return out + dash_objects + group_objects


def available_desired_state(spec, org_id: int | None = None) -> tuple[list[DesiredObject], list[str]]:
    """The desired objects this build can produce, and the kinds it cannot (yet).

    A kind whose builder is not installed is *skipped*, never treated as empty: the sync
    neither writes nor prunes it (an empty list would make ``--prune`` delete them all).
    """
    import importlib

    def load(module: str, names: tuple[str, ...]):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                return None
            raise
        return tuple(getattr(mod, n, None) for n in names)

    skipped: list[str] = []
    build = load("modeldash.dashboards.build", ("build_dashboards",))
    dashboards = build[0](spec) if build and build[0] else None
    if dashboards is None:
        skipped.append("dashboard")
    alerts = load("modeldash.alerts.build", ("contact_points", "notification_policy_subtree", "grafana_rule_groups"))
    cps = policy = groups = None
    if alerts:
        cps = alerts[0](spec) if alerts[0] else None
        policy = alerts[1](spec) if alerts[1] else None
        groups = alerts[2](spec) if alerts[2] else None
    for kind, value, fn in (("contact_point", cps, alerts and alerts[0]), ("policy", policy, alerts and alerts[1]),
                            ("rule_group", groups, alerts and alerts[2])):
        if not fn:
            skipped.append(kind)
    objects = build_desired(spec, dashboards or (), cps or (), policy, groups or (), org_id=org_id)
    return objects, skipped
