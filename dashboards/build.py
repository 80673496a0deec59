"""Every dashboard of a fleet, as values: the entry point renderers and the sync use."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import attr

from modeldash.dashboards.cluster_scope import scope_dashboard
from modeldash.dashboards.fleet import fleet_dashboard
from modeldash.dashboards.infrastructure import infrastructure_dashboard
from modeldash.dashboards.model import model_dashboard
from modeldash.dashboards.platform import platform_dashboard
from modeldash.spec.fleet import FleetSpec


@dataclass(frozen=True)
class GeneratedDashboard:
    uid: str
    title: str
    folder_uid: str
    folder_title: str
    kind: str  # model | fleet | platform | infrastructure
    model: str | None
    json: dict


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cycle collector (reference counting still frees everything) for bulk work.

    A model dashboard is about 400 new dicts and lists, and all of them stay alive; every few
    thousand allocations the collector walks the young ones and, as they pile up, the whole
    heap again: about a third of building 1,000 model dashboards, to find no cycles at all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_dashboards(spec: FleetSpec) -> list[GeneratedDashboard]:
    """Fleet, platform and infrastructure views, then one dashboard per model, in spec order."""
    with cyclic_gc_paused():
        return list(iter_dashboards(spec))


def iter_dashboards(spec: FleetSpec) -> Iterator[GeneratedDashboard]:
    """``build_dashboards`` one at a time: a streaming render serialises and drops each
    dashboard before it builds the next (1,000 of them are ~150 MB as Python objects)."""
    folder = (spec.folder_uid, spec.grafana.folder)

    def gen(kind: str, build, *args) -> GeneratedDashboard:
        # grafanalib's attrs validators re-check the types of every panel argument (~700 calls a
        # dashboard, ~8 % of the build); the official schemas check the finished dashboard instead
        # (lint), so they are off while one is built, and back on between (another caller's objects)
        with attr.validators.disabled():
            board = build(spec, *args)
        if spec.prometheus.multi_cluster:
            board = scope_dashboard(board, spec.prometheus.cluster_label)
        model = args[0].name if args else None
        return GeneratedDashboard(board["uid"], board["title"], *folder, kind, model, board)

    yield gen("fleet", fleet_dashboard)
    yield gen("platform", platform_dashboard)
    yield gen("infrastructure", infrastructure_dashboard)
    for mo in spec.models:
        yield gen("model", model_dashboard, mo)
