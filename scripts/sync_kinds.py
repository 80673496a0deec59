"""One handler per Grafana object kind: how to read it, compare it, write it, delete it.

Why: the sync engine (``scripts/sync_engine.py``) is generic; everything kind-specific (which
endpoint, which fields Grafana adds, where the ownership marker lives, what a conflict
is) sits here, one small class per kind, all through grafana-client.
"""
from __future__ import annotations

import copy
import difflib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from modeldash.sync import ownership as ownership
from modeldash.sync.desired_state import POLICY_KEY, DesiredObject
from modeldash.spec.base import parse_duration
from modeldash.scripts.grafana_http import GrafanaError, GrafanaHTTP
from modeldash.scripts.serialise import dumps_json

REDACTED = "[REDACTED]"
# Integration settings Grafana stores encrypted (and returns as [REDACTED]); never shown.
SECURE_SETTINGS = {
    "url", "password", "token", "apiKey", "api_key", "apiSecret", "integrationKey", "routingKey",
    "authorization_credentials", "bearer_token", "basicAuthPassword", "secret", "webhookUrl",
    "botToken", "chatid", "userKey", "webhook_url", "kafkaRestProxy", "sasl_password", "hmacConfig",
}
MAX_DIFF_LINES = 80
SEARCH_LIMIT = 1000
UID_CHUNK = 100


@dataclass
class Action:
    """What the sync does (or would do) with one object, and how it went."""

    kind: str
    key: str
    title: str
    op: str  # create | update | unchanged | conflict | delete | extra (managed, not in the spec, no --prune)
    desired: DesiredObject | None = None
    live: Any = None
    diff: str = ""
    reason: str = ""
    model: str | None = None
    result: str | None = None  # created | updated | deleted | conflict | failed | unchanged | pending
    error: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Context:
    http: GrafanaHTTP
    fleet: str
    concurrency: int = 8
    force: bool = False
    uncompared: dict = field(default_factory=dict)  # contact point key -> settings left as $VAR (diff only)

    def map(self, fn, items):
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(fn, items))


def text_diff(live: Any, desired: Any, redact=None, name: str = "") -> str:
    """A unified diff of two JSON values, shortened, with secrets removed."""
    a = dumps_json(live).splitlines() if live is not None else []
    b = dumps_json(desired).splitlines() if desired is not None else []
    lines = list(difflib.unified_diff(a, b, f"grafana/{name}", f"spec/{name}", n=2, lineterm=""))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more diff lines"]
    text = "\n".join(lines)
    return redact(text) if redact else text


def _strip(value: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_strip(v, keys) for v in value]
    return value


# --------------------------------------------------------------------------- folders


class Folders:
    kind = "folder"

    def plan(self, ctx: Context, desired: list[DesiredObject], prune: bool) -> list[Action]:
        def one(d: DesiredObject) -> Action:
            try:
                live = ctx.http.call(f"folder {d.key}", ctx.http.api.folder.get_folder, d.key)
            except GrafanaError as exc:
                if exc.status != 404:
                    raise
                return Action(self.kind, d.key, d.title, "create", d, None, text_diff(None, d.body, name=d.key))
            if live.get("title") == d.title:
                return Action(self.kind, d.key, d.title, "unchanged", d, live)
            return Action(self.kind, d.key, d.title, "update", d, live,
                          text_diff({"title": live.get("title")}, {"title": d.title}, name=d.key))

        # Folders are never pruned: deleting one would delete whatever else it holds.
        return ctx.map(one, desired)

    def write(self, ctx: Context, a: Action) -> str:
        api = ctx.http.api.folder
        if a.op == "create":
            try:
                ctx.http.call(f"create folder {a.key}", api.create_folder, a.title, uid=a.key)
            except GrafanaError as exc:
                if exc.status != 409:
                    raise
                # A retried create may have landed already; anything else is a real clash.
                try:
                    live = ctx.http.call(f"folder {a.key}", api.get_folder, a.key)
                except GrafanaError:
                    raise GrafanaError(409, f"folder {a.title!r}: a folder with this title already exists under another "
                                            "uid; set grafana.folder_uid in the spec to its uid") from None
                if live.get("title") != a.title:
                    raise
            return "created"
        ctx.http.call(f"update folder {a.key}", api.update_folder, a.key, title=a.title, overwrite=True)
        return "updated"

    def delete(self, ctx: Context, a: Action) -> str:  # pragma: no cover - folders are never pruned
        raise GrafanaError(0, "folders are not deleted by modeldash")


# --------------------------------------------------------------------------- contact points


def _secret_keys(settings: dict, like: dict | None) -> set[str]:
    return {k for k, v in settings.items()
            if isinstance(v, str) and v and (k in SECURE_SETTINGS or (like or {}).get(k) == REDACTED)}


class ContactPoints:
    kind = "contact_point"

    @staticmethod
    def comparable(cp: dict, like: dict | None = None) -> dict:
        """For equality: a secure value Grafana shows as [REDACTED] cannot be compared."""
        body = {k: v for k, v in cp.items() if k != "provenance"}
        live_settings = (like or {}).get("settings") or {}
        body["settings"] = {k: (REDACTED if live_settings.get(k) == REDACTED and isinstance(v, str) and v else v)
                            for k, v in (body.get("settings") or {}).items()}
        return ownership.prune_empty(body)

    @staticmethod
    def shown(have: dict | None, want: dict) -> tuple[dict | None, dict]:
        """For display: every secure value hidden; a changed one says so, without its value."""
        hs = (have or {}).get("settings") or {}
        ws = want.get("settings") or {}
        secret = _secret_keys(ws, hs) | _secret_keys(hs, None)
        show_w = {**want, "settings": {k: ("<secret, changed>" if k in secret and hs.get(k) != v else "<secret>") if k in secret else v
                                       for k, v in ws.items()}}
        if have is None:
            return None, show_w
        show_h = {**have, "settings": {k: ("<secret>" if k in secret else v) for k, v in hs.items()}}
        return show_h, show_w

    def plan(self, ctx: Context, desired: list[DesiredObject], prune: bool) -> list[Action]:
        live_all = ctx.http.call("list contact points", ctx.http.api.alertingprovisioning.get_contactpoints) or []
        live = {cp.get("uid"): cp for cp in live_all}
        actions = []
        for d in desired:
            cur = live.get(d.key)
            want = self.comparable(d.body, cur)
            if cur is None:
                _, shown = self.shown(None, want)
                actions.append(Action(self.kind, d.key, d.title, "create", d, None, text_diff(None, shown, ctx.http.redactor.redact, d.title)))
                continue
            have = self.comparable(cur)
            for k in ctx.uncompared.get(d.key, ()):  # $VAR unset (a diff without secrets): not compared
                for side in (have, want):
                    side.get("settings", {}).pop(k, None)
            hidden = REDACTED in (cur.get("settings") or {}).values()
            if have == want and hidden and ctx.force:
                # Grafana never returns secure settings, so a rotated secret is invisible:
                # --force is the way to push one.
                actions.append(Action(self.kind, d.key, d.title, "update", d, cur,
                                      reason="secure settings cannot be compared; rewritten because of --force"))
            elif have == want:
                actions.append(Action(self.kind, d.key, d.title, "unchanged", d, cur))
            else:
                diff = text_diff(*self.shown(have, want), ctx.http.redactor.redact, d.title)
                actions.append(Action(self.kind, d.key, d.title, "update", d, cur, diff))
        wanted = {d.key for d in desired}
        for uid, cur in live.items():
            if uid not in wanted and ownership.contact_point_is_managed(cur, ctx.fleet):
                actions.append(Action(self.kind, uid, cur.get("name", uid), "delete" if prune else "extra", None, cur))
        return actions

    def write(self, ctx: Context, a: Action) -> str:
        api = ctx.http.api.alertingprovisioning
        if a.op == "create":
            try:
                ctx.http.call(f"create contact point {a.title}", api.create_contactpoint, a.desired.body, disable_provenance=True)
                return "created"
            except GrafanaError as exc:
                # A retried create whose first attempt landed: the uid exists now, so update it.
                live = ctx.http.call("list contact points", api.get_contactpoints) or []
                if exc.status not in (400, 409) or a.key not in {cp.get("uid") for cp in live}:
                    raise

        ctx.http.call(f"update contact point {a.title}", api.update_contactpoint, a.key, a.desired.body, disable_provenance=True)
        return "updated"

    def delete(self, ctx: Context, a: Action) -> str:
        ctx.http.call(f"delete contact point {a.title}", ctx.http.api.alertingprovisioning.delete_contactpoint, a.key)
        return "deleted"


# --------------------------------------------------------------------------- notification policies


class Policies:
    """Only modeldash's top-level route(s) in the org's tree; everything else stays as found."""

    kind = "policy"

    @staticmethod
    def comparable(routes: list[dict]) -> list[dict]:
        return ownership.prune_empty(_strip(routes, ("provenance",)))

    def plan(self, ctx: Context, desired: list[DesiredObject], prune: bool) -> list[Action]:
        tree = ctx.http.call("notification policy tree", ctx.http.api.alertingprovisioning.get_notification_policy_tree) or {}
        mine = [r for r in tree.get("routes") or [] if ownership.route_is_managed(r, ctx.fleet)]
        d = desired[0] if desired else None
        want = [d.body] if d else []
        title = "notification policies (modeldash subtree)"
        if self.comparable(mine) == self.comparable(want):
            if d is None:
                return []
            return [Action(self.kind, POLICY_KEY, title, "unchanged", d, tree)]
        diff = text_diff(self.comparable(mine), self.comparable(want), ctx.http.redactor.redact, "policies")
        if d is None:
            return [Action(self.kind, POLICY_KEY, title, "delete" if prune else "extra", None, tree, diff)]
        return [Action(self.kind, POLICY_KEY, title, "create" if not mine else "update", d, tree, diff)]

    def _put(self, ctx: Context, a: Action, routes: list[dict]) -> None:
        tree = copy.deepcopy(a.live or {})
        tree.pop("provenance", None)
        kept, index = [], None
        for r in tree.get("routes") or []:
            if ownership.route_is_managed(r, ctx.fleet):
                index = len(kept) if index is None else index
            else:
                kept.append(r)
        index = 0 if index is None else index
        tree["routes"] = kept[:index] + routes + kept[index:]
        if not tree["routes"]:
            tree.pop("routes")
        ctx.http.call("update notification policy tree", ctx.http.api.alertingprovisioning.set_notification_policy_tree,
                      _strip(tree, ("provenance",)), disable_provenance=True)

    def write(self, ctx: Context, a: Action) -> str:
        self._put(ctx, a, [a.desired.body])
        return "created" if a.op == "create" else "updated"

    def delete(self, ctx: Context, a: Action) -> str:
        self._put(ctx, a, [])
        return "deleted"


# --------------------------------------------------------------------------- dashboards


class Dashboards:
    kind = "dashboard"

    def _search(self, ctx: Context, **params) -> list[dict]:
        hits, page = [], 1
        while True:
            batch = ctx.http.call("search dashboards", ctx.http.api.search.search_dashboards,
                                  type_="dash-db", limit=SEARCH_LIMIT, page=page, **params) or []
            hits.extend(batch)
            if len(batch) < SEARCH_LIMIT:
                return hits
            page += 1

    def plan(self, ctx: Context, desired: list[DesiredObject], prune: bool) -> list[Action]:
        wanted = {d.key: d for d in desired}
        uids = sorted(wanted)
        existing: set[str] = set()
        for i in range(0, len(uids), UID_CHUNK):
            existing |= {h["uid"] for h in self._search(ctx, dashboard_uids=uids[i:i + UID_CHUNK])}
        tagged = {h["uid"] for h in self._search(ctx, tag=ownership.TAG)}
        to_get = sorted((existing & set(wanted)) | (tagged - set(wanted)))

        def get(uid):
            try:
                return uid, ctx.http.call(f"dashboard {uid}", ctx.http.api.dashboard.get_dashboard, uid)
            except GrafanaError as exc:
                if exc.status == 404:
                    return uid, None
                raise

        live = dict(ctx.map(get, to_get))
        actions = [self._compare(ctx, d, live.get(d.key)) for d in desired]
        for uid in sorted(tagged - set(wanted)):
            cur = live.get(uid)
            if cur and ownership.dashboard_is_managed(cur["dashboard"], ctx.fleet):
                actions.append(Action(self.kind, uid, cur["dashboard"].get("title", uid), "delete" if prune else "extra", None, cur))
        return actions

    def _compare(self, ctx: Context, d: DesiredObject, cur: dict | None) -> Action:
        if cur is None:
            return Action(self.kind, d.key, d.title, "create", d, None, model=d.model)
        dash, meta = cur["dashboard"], cur.get("meta") or {}
        marker = ownership.dashboard_marker(dash)
        # The desired marker holds the hash of the desired content and folder: one hash of
        # the live dashboard tells "unchanged" without a deep comparison.
        live_hash = ownership.dashboard_hash(dash, meta.get("folderUid"))
        if marker == ownership.dashboard_marker(d.body) and live_hash == marker["sha"]:
            return Action(self.kind, d.key, d.title, "unchanged", d, cur, model=d.model)
        want = {"folderUid": d.folder_uid or "", "dashboard": ownership.dashboard_content(d.body)}
        have = {"folderUid": meta.get("folderUid") or "", "dashboard": ownership.dashboard_content(dash)}
        diff = text_diff(have, want, name=d.key)
        if not ownership.dashboard_is_managed(dash, ctx.fleet):
            return Action(self.kind, d.key, d.title, "conflict", d, cur, diff, "exists in Grafana and is not managed by modeldash", d.model)
        recorded = (marker or {}).get("sha")
        if recorded != live_hash:
            return Action(self.kind, d.key, d.title, "conflict", d, cur, diff,
                          f"edited in Grafana since modeldash wrote it (version {meta.get('version')})", d.model)
        return Action(self.kind, d.key, d.title, "update", d, cur, diff, model=d.model)

    def write(self, ctx: Context, a: Action) -> str:
        body = {
            "dashboard": dict(a.desired.body),
            "folderUid": a.desired.folder_uid,
            "overwrite": bool(ctx.force and a.op == "conflict"),
            "message": f"modeldash sync ({(ownership.dashboard_marker(a.desired.body) or {}).get('sha')})",
        }
        if a.live is not None:
            body["dashboard"]["version"] = (a.live.get("meta") or {}).get("version") or a.live["dashboard"].get("version")
        try:
            ctx.http.call(f"save dashboard {a.key}", ctx.http.api.dashboard.update_dashboard, body)
        except GrafanaError as exc:
            if exc.status not in (400, 412) or not self._landed(ctx, a):
                if exc.status == 412:
                    raise GrafanaError(412, f"dashboard {a.key}: changed in Grafana during the sync (version "
                                            "mismatch); run the sync again to see the conflict") from None
                raise
        return "created" if a.live is None else "updated"

    def _landed(self, ctx: Context, a: Action) -> bool:
        """After a retried save (the first attempt timed out but was applied), is it there?"""
        try:
            cur = ctx.http.call(f"dashboard {a.key}", ctx.http.api.dashboard.get_dashboard, a.key)
        except GrafanaError:
            return False
        return self._compare(ctx, a.desired, cur).op == "unchanged"

    def delete(self, ctx: Context, a: Action) -> str:
        ctx.http.call(f"delete dashboard {a.key}", ctx.http.api.dashboard.delete_dashboard, a.key)
        return "deleted"


# --------------------------------------------------------------------------- rule groups

_SERVER_RULE_FIELDS = ("id", "updated", "provenance")
_comparable_group = ownership.group_content


class RuleGroups:
    kind = "rule_group"

    def plan(self, ctx: Context, desired: list[DesiredObject], prune: bool) -> list[Action]:
        rules = ctx.http.call("list alert rules", ctx.http.api.alertingprovisioning.get_alertrules_all) or []
        by_group: dict[str, list[dict]] = {}
        for r in rules:
            by_group.setdefault(f"{r.get('folderUID')}/{r.get('ruleGroup')}", []).append(r)
        wanted = {d.key: d for d in desired}
        managed_groups = {k for k, rs in by_group.items() if any(ownership.rule_is_managed(r, ctx.fleet) for r in rs)}
        # The rule list lacks each group's interval; one export per folder has them all
        # (instead of one GET per rule group).
        folders = sorted({k.split("/", 1)[0] for k in (set(wanted) | managed_groups) if k in by_group})
        intervals: dict[str, int] = {}
        for folder, groups in ctx.map(lambda f: (f, self._export(ctx, f)), folders):
            for g in groups:
                intervals[f"{folder}/{g.get('name')}"] = int(parse_duration(g.get("interval", "1m")))
        live = {}
        for key in set(wanted) | managed_groups:
            if key in by_group:
                folder, group = key.split("/", 1)
                live[key] = {"title": group, "folderUid": folder, "interval": intervals.get(key), "rules": by_group[key]}
        # A Grafana without the export endpoint (or a group it left out): ask per group.
        missing = sorted(k for k, v in live.items() if v["interval"] is None)
        for key, interval in ctx.map(lambda k: (k, self._interval(ctx, k)), missing):
            live[key]["interval"] = interval
        actions = [self._compare(ctx, d, live.get(d.key)) for d in desired]
        for key in sorted(managed_groups - set(wanted)):
            mine = [r for r in by_group[key] if ownership.rule_is_managed(r, ctx.fleet)]
            foreign = len(by_group[key]) - len(mine)
            title = key.split("/", 1)[1]
            actions.append(Action(self.kind, key, title, "delete" if prune else "extra", None,
                                  {"rules": mine}, extra={"foreign": foreign}))
        return actions

    @staticmethod
    def _interval(ctx: Context, key: str) -> int | None:
        folder, group = key.split("/", 1)
        try:
            out = ctx.http.call(f"rule group {key}", ctx.http.api.alertingprovisioning.get_rule_group,
                                folder, quote(group, safe=""))
        except GrafanaError as exc:
            if exc.status == 404:
                return None
            raise
        return (out or {}).get("interval")

    @staticmethod
    def _export(ctx: Context, folder: str) -> list[dict]:
        try:
            out = ctx.http.call(f"export rules of folder {folder}", ctx.http.api.client.GET,
                                "/v1/provisioning/alert-rules/export", params={"folderUid": folder, "format": "json"})
        except GrafanaError as exc:
            if exc.status == 404:
                return []
            raise
        return (out or {}).get("groups") or [] if isinstance(out, dict) else []

    def _compare(self, ctx: Context, d: DesiredObject, cur: dict | None) -> Action:
        if cur is None:
            return Action(self.kind, d.key, d.title, "create", d, None, model=d.model)
        mine = [r for r in cur.get("rules") or [] if ownership.rule_is_managed(r, ctx.fleet)]
        have = _comparable_group({**cur, "rules": mine})
        # Every desired rule carries the hash of the desired group: one hash of the live
        # group tells "unchanged" without building the desired side again.
        wanted_hash = {ownership.rule_recorded_hash(r) for r in d.body.get("rules") or []}
        if len(wanted_hash) == 1 and wanted_hash == {ownership.content_hash(have)}:
            return Action(self.kind, d.key, d.title, "unchanged", d, cur, model=d.model)
        want = _comparable_group(d.body)
        if have == want:
            return Action(self.kind, d.key, d.title, "unchanged", d, cur, model=d.model)
        diff = text_diff(have, want, ctx.http.redactor.redact, d.key)
        if cur.get("rules") and not mine:
            return Action(self.kind, d.key, d.title, "conflict", d, cur, diff, "a rule group with this name exists and is not managed by modeldash", d.model)
        recorded = {ownership.rule_recorded_hash(r) for r in mine}
        if mine and recorded != {ownership.content_hash(have)}:
            return Action(self.kind, d.key, d.title, "conflict", d, cur, diff, "edited in Grafana since modeldash wrote it", d.model)
        return Action(self.kind, d.key, d.title, "update", d, cur, diff, model=d.model)

    def write(self, ctx: Context, a: Action) -> str:
        folder, group = a.key.split("/", 1)
        body = copy.deepcopy(a.desired.body)
        if a.live:  # keep rules that others put into this group (even with --force)
            foreign = [r for r in a.live.get("rules") or [] if not ownership.rule_is_managed(r, ctx.fleet)]
            body["rules"] += [{k: v for k, v in r.items() if k not in _SERVER_RULE_FIELDS and v is not None} for r in foreign]
        ctx.http.call(f"save rule group {a.key}", ctx.http.api.alertingprovisioning.update_rule_group,
                      folder, quote(group, safe=""), body, disable_provenance=True)
        return "created" if a.live is None else "updated"

    def delete(self, ctx: Context, a: Action) -> str:
        folder, group = a.key.split("/", 1)
        if a.extra.get("foreign"):
            for r in a.live["rules"]:
                ctx.http.call(f"delete alert rule {r.get('uid')}", ctx.http.api.alertingprovisioning.delete_alertrule, r["uid"])
        else:
            path = f"/v1/provisioning/folder/{folder}/rule-groups/{quote(group, safe='')}"
            ctx.http.call(f"delete rule group {a.key}", ctx.http.api.client.DELETE, path)
        return "deleted"


HANDLERS = {h.kind: h for h in (Folders(), ContactPoints(), Policies(), Dashboards(), RuleGroups())}


def expand_env(value: Any, env: dict[str, str], redactor, where: str) -> Any:
    """``$VAR``/``${VAR}`` in contact-point settings, from the environment; values become secrets."""
    if isinstance(value, dict):
        return {k: expand_env(v, env, redactor, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env, redactor, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def sub(m):
        name = m.group(1) or m.group(2)
        if not env.get(name):  # an unset CI secret arrives as an empty variable
            raise KeyError(f"{where} references ${name}, which is not set in the environment")
        redactor.add(env[name])
        return env[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, value)
