"""The sync engine: plan (read and compare every kind), then apply (writes, then deletes).

Why this shape: a plan is computed from one read of Grafana and is the whole answer of
``modeldash diff``; ``sync`` applies it kind by kind in dependency order (folders,
contact points, policies, dashboards, rule groups; deletions in reverse), each kind's
writes concurrently with a bound. One object's failure is recorded and the others go on.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from modeldash.sync.desired_state import KINDS, DesiredObject
from modeldash.scripts import sync_secrets
from modeldash.scripts.grafana_http import GrafanaError, GrafanaHTTP
from modeldash.scripts.sync_kinds import HANDLERS, SECURE_SETTINGS, Action, Context, expand_env

log = logging.getLogger("modeldash.sync")

PENDING_OPS = ("create", "update", "delete")


class SyncInputError(ValueError):
    """The desired state cannot be sent (e.g. a contact point names an unset variable)."""


@dataclass
class SyncReport:
    actions: list[Action]
    requests: int = 0
    writes: int = 0
    retries: int = 0
    applied: bool = False
    requests_by_method: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what a diff could not compare

    def count(self) -> dict[str, int]:
        c = Counter()
        for a in self.actions:
            if a.op == "extra":
                continue
            c[a.result or ("pending" if a.op in PENDING_OPS else a.op)] += 1
        out = {k: c.get(k, 0) for k in ("created", "updated", "unchanged", "deleted", "conflict", "failed")}
        out["conflicts"] = out.pop("conflict")
        if not self.applied:
            out["to_create"] = sum(1 for a in self.actions if a.op == "create")
            out["to_update"] = sum(1 for a in self.actions if a.op == "update")
            out["to_delete"] = sum(1 for a in self.actions if a.op == "delete")
            out["unchanged"] = sum(1 for a in self.actions if a.op == "unchanged")
            out["conflicts"] = sum(1 for a in self.actions if a.op == "conflict")
        out["extra"] = sum(1 for a in self.actions if a.op == "extra")
        out["requests"], out["writes"], out["retries"] = self.requests, self.writes, self.retries
        return out

    @property
    def pending(self) -> bool:
        return any(a.op in PENDING_OPS for a in self.actions) and not self.applied

    @property
    def conflicts(self) -> list[Action]:
        return [a for a in self.actions if (a.result or a.op) == "conflict"]

    @property
    def failures(self) -> list[Action]:
        return [a for a in self.actions if a.result == "failed"]


def resolve_secrets(desired: list[DesiredObject], http: GrafanaHTTP, env: dict | None = None,
                    gaps: dict | None = None) -> list[DesiredObject]:
    """Contact-point settings may name environment variables; fill them in at sync time only.

    ``gaps`` (``sync_secrets.unset``) are the settings a diff leaves as ``$VAR``: not compared.
    """
    env = dict(os.environ if env is None else env)
    gaps = gaps or {}
    out = []
    for d in desired:
        if d.kind == "contact_point" and d.key in gaps:
            pass  # at least one reference is unset: only a diff gets here, and it compares the rest
        elif d.kind == "contact_point":
            try:
                settings = expand_env(d.body.get("settings") or {}, env, http.redactor, f"contact point {d.title}: settings")
            except KeyError as exc:
                raise SyncInputError(exc.args[0]) from None
            for k, v in settings.items():
                if k in SECURE_SETTINGS and isinstance(v, str):
                    http.redactor.add(v)
            d = DesiredObject(d.kind, d.key, d.title, {**d.body, "settings": settings}, d.model, d.folder_uid)
        out.append(d)
    return out


def plan(http: GrafanaHTTP, desired: list[DesiredObject], fleet: str, *, prune: bool = False,
         concurrency: int = 8, force: bool = False, skip_kinds=(), uncompared=None) -> tuple[list[Action], Context]:
    """Read Grafana and compare: every desired object gets an action; managed extras too."""
    unknown = {d.kind for d in desired} - set(KINDS)
    if unknown:
        raise SyncInputError(f"unknown object kind(s): {', '.join(sorted(unknown))}")
    ctx = Context(http=http, fleet=fleet, concurrency=concurrency, force=force, uncompared=uncompared or {})
    actions: list[Action] = []
    for kind in KINDS:
        if kind in skip_kinds:
            continue
        mine = [d for d in desired if d.kind == kind]
        actions += HANDLERS[kind].plan(ctx, mine, prune)
    return actions, ctx


def apply(ctx: Context, actions: list[Action], progress: Callable[[int], None] | None = None) -> None:
    """Writes in kind order, then deletions in reverse kind order; each kind concurrently."""

    def run(a: Action) -> None:
        handler = HANDLERS[a.kind]
        try:
            a.result = handler.delete(ctx, a) if a.op == "delete" else handler.write(ctx, a)
        except GrafanaError as exc:
            a.result, a.error = "failed", ctx.http.redactor.redact(str(exc))
            log.debug("failed: %s %s: %s", a.kind, a.key, a.error)
        except Exception as exc:  # one object's surprise must not stop the others
            a.result = "failed"
            a.error = ctx.http.redactor.redact(f"unexpected {exc.__class__.__name__}: {exc}")[:300]
            log.debug("failed: %s %s: %s", a.kind, a.key, a.error)
        if progress:
            progress(1)

    for a in actions:
        if a.op == "unchanged":
            a.result = "unchanged"
        elif a.op == "conflict" and not ctx.force:
            a.result = "conflict"
    steps = [(k, ("create", "update", "conflict") if ctx.force else ("create", "update")) for k in KINDS]
    steps += [(k, ("delete",)) for k in reversed(KINDS)]
    with ThreadPoolExecutor(max_workers=max(1, ctx.concurrency)) as pool:
        for kind, ops in steps:
            batch = [a for a in actions if a.kind == kind and a.op in ops]
            list(pool.map(run, batch))


def run_sync(http: GrafanaHTTP, desired: list[DesiredObject], fleet: str, *, apply_changes: bool, prune: bool = False,
             force: bool = False, concurrency: int = 8, progress_factory=None, env: dict | None = None,
             skip_kinds=()) -> SyncReport:
    """Health check, plan, and (unless a dry run) apply. Raises GrafanaError if Grafana cannot be read.

    A sync needs every secret its contact points reference (``SyncInputError`` naming the missing
    ones, before any request); a diff compares without the missing ones and notes what it skipped.
    """
    gaps = sync_secrets.unset(desired, dict(os.environ if env is None else env))
    if gaps and apply_changes:
        raise SyncInputError(sync_secrets.missing_for_sync(desired, gaps))
    http.health_check()
    desired = resolve_secrets(desired, http, env, gaps)
    actions, ctx = plan(http, desired, fleet, prune=prune, concurrency=concurrency, force=force,
                       skip_kinds=skip_kinds, uncompared={k: sorted(v) for k, v in gaps.items()})
    if apply_changes:
        todo = [a for a in actions if a.op in PENDING_OPS or (force and a.op == "conflict")]
        if progress_factory and todo:
            with progress_factory(len(todo)) as bar:
                apply(ctx, actions, bar)
        else:
            apply(ctx, actions)
    return SyncReport(actions, http.total_requests, http.writes, http.retries, apply_changes, dict(http.requests),
                      sync_secrets.diff_notes(desired, gaps))
