"""What every output family is handed: the spec, what the previous render left, and the values
built from the spec ONCE per render (alert catalogue, dashboards, rule documents)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from modeldash.alerts import build as A
from modeldash.dashboards.build import build_dashboards
from modeldash.spec.fleet import FleetSpec

MANIFEST = ".modeldash-manifest.json"


@dataclass
class RenderContext:
    """What every output family may use: the spec, and what the previous render left (if any).

    The built values are cached properties: the first family that asks builds them, every other
    family (and lint) gets the same objects. Families must not mutate them.
    """

    spec: FleetSpec
    out_dir: Path
    previous_manifest: dict = field(default_factory=dict)
    # filled by the output families as they run, for the manifest and the summary
    manifest: dict = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    # objects already serialised into files, by path, so lint need not parse them again
    parsed: dict[str, object] = field(default_factory=dict)
    # the output families to write (``scripts/outputs.py``); None: all
    only: frozenset[str] | None = None
    # what a family built in steps hands from one step to the next (the k8s tree's objects)
    parts: dict = field(default_factory=dict)

    @cached_property
    def catalog(self) -> tuple[list, list]:
        """``(alert definitions, skipped)``: ``alerts.build.build_catalog``, once."""
        return A.build_catalog(self.spec)

    # set by a streaming render (``render.iter_files(release=True)``): what the families still
    # to run read; None keeps every built value (an in-memory build's caller may want them)
    later_reads: set[str] | None = None

    def release(self, names) -> None:
        """Forget built values (``catalog``, ``dashboards``, ...) no family will read again."""
        for name in names:
            self.__dict__.pop(name, None)

    def done_with(self, *names: str) -> None:
        """A family has written what it needed ``names`` for: in a streaming render, forget the
        ones no later family reads, before the family builds its next large document."""
        if self.later_reads is not None:
            self.release(set(names) - self.later_reads)

    @property
    def defs(self) -> list:
        return self.catalog[0]

    @cached_property
    def dashboards(self) -> list:
        return build_dashboards(self.spec)

    @cached_property
    def recordings(self) -> list:
        """``recording_rules(spec)``, once: rules.yaml and the promtool tests' index both read them
        (``alert_files`` releases them when its tests are built)."""
        return A.recording_rules(self.spec)

    @cached_property
    def prometheus_rules(self) -> dict:
        return A.prometheus_rules(self.spec, self.defs, self.recordings)

    @cached_property
    def grafana_alerting(self) -> dict:
        """Grafana's alerting file-provisioning document (contact points and policies included)."""
        return A.grafana_alerting_provisioning(self.spec, self.defs)


OutputFn = Callable[[RenderContext], "dict[str, str] | Iterable[tuple[str, str]]"]
