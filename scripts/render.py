"""Render a fleet spec to files: every output family, linted, written to a temp folder that
replaces the output folder only when all is well.

Each output family is a function ``(RenderContext) -> {relative path: text}`` (or an iterator
of such pairs, for the large ones) listed in ``_outputs``. ``render_to`` lints and writes each
file as it comes (``scripts/output_tree.py``), so memory holds one family's work, not the
whole tree, and bad input never leaves half-written output behind. ``build_files`` collects
the same files in memory (lint of a spec, preview, tests).

A large fleet's render runs its lanes (``_SIDE_LANES``) in forked processes beside this one
(``render_lanes``): the same files, bytes, summary and errors as one process, in about half
the wall time on two cores.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from modeldash.dashboards.build import cyclic_gc_paused
from modeldash.spec.fleet import FleetSpec
from modeldash.spec.outputs import OUTPUT_NAMES, selected, unknown_outputs
from modeldash.scripts.errors import BadInput
from modeldash.scripts.output_alerts import alert_rule_files, alert_summary, alert_test_files
from modeldash.scripts.output_dashboards import dashboard_files
from modeldash.scripts.output_jobs import job_files
from modeldash.scripts.output_k8s import (KUSTOMIZATION, dashboard_and_copy_files, k8s_alerting_files,
                                          k8s_closing_files, k8s_dashboard_files, k8s_spec_files, kustomization_file)
from modeldash.scripts.lint_tree import file_hashes
from modeldash.scripts.output_tree import OutputTree
from modeldash.scripts.render_context import MANIFEST, OutputFn, RenderContext
from modeldash.scripts.serialise import dumps_json, dumps_yaml  # noqa: F401  (re-exported)


def _outputs() -> list[tuple[OutputFn, frozenset[str]]]:
    """Each family and the output names (``spec/outputs.py``) its files belong to."""
    k8s = frozenset({"k8s", "provisioning"})  # the k8s family, in four steps (output_k8s)
    alerts = frozenset({"alerts", "prometheus-rules"})  # and the alerts family (output_alerts)
    return [
        (dashboard_and_copy_files, frozenset({"dashboards"}) | k8s),  # both of the next two, at once
        (dashboard_files, frozenset({"dashboards"})),
        (k8s_dashboard_files, k8s),
        (k8s_spec_files, k8s),
        (k8s_alerting_files, k8s),
        (k8s_closing_files, k8s),
        (alert_rule_files, alerts),
        (alert_test_files, alerts),
        (alert_summary, alerts),
        (job_files, frozenset({"jobs"})),
    ]


def chosen_outputs(spec: FleetSpec, only: list[str] | None = None) -> frozenset[str] | None:
    """``--only`` names (comma-separated allowed), else the spec's ``outputs``, else None (all).

    An unknown name is bad input: one line naming the choices."""
    if only:
        names = [n.strip() for item in only for n in item.split(",") if n.strip()]
        unknown = unknown_outputs(names)
        if unknown or not names:
            raise BadInput(f"--only: unknown output {unknown[0] if unknown else '(none)'!r}; "
                           f"choose from {', '.join(OUTPUT_NAMES)}")
        return frozenset(names)
    return frozenset(spec.outputs) if spec.outputs else None


def read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# What each family reads from the context; a streaming render drops a built value (its memory)
# once no family still to run reads it.
_READS = {
    dashboard_and_copy_files: set(),
    dashboard_files: set(),
    k8s_dashboard_files: set(),
    k8s_spec_files: set(),
    k8s_alerting_files: {"grafana_alerting", "prometheus_rules", "recordings", "catalog"},
    k8s_closing_files: set(),
    alert_rule_files: {"catalog", "grafana_alerting", "prometheus_rules", "recordings"},
    alert_test_files: {"catalog", "recordings"},
    alert_summary: set(),
    job_files: set(),
}

# Families that run as one when all their parts are chosen (one dashboard's text at a time).
_TOGETHER = ((dashboard_and_copy_files, (dashboard_files, k8s_dashboard_files)),)

# The lanes a large fleet's render runs in forked processes beside this one (``render_lanes``):
# each lane's families and what this process builds before forking it (the child inherits it).
# The dashboards and their copies read nothing the alerts read, the monitors and the jobs only
# the spec, the promtool tests only the catalogue and the recording rules. This process keeps
# the rule documents and their k8s copies. (Lanes of about equal CPU at 1,000 models, file
# writes included: the dashboards' lane alone, the rest split; the OS shares the 2 cores.)
_SIDE_LANES = (
    ((dashboard_and_copy_files, dashboard_files, k8s_dashboard_files), ()),
    ((k8s_spec_files, alert_test_files, job_files), ("catalog", "recordings")),
)
# The steps that need every lane's work: they run once all are merged.
_AFTER_LANES = (k8s_closing_files, alert_summary)
# The fleet size from which the lanes pay for their forks (below it a render takes < 1 s).
PARALLEL_MIN_MODELS = 100


def chosen_families(only: frozenset[str] | None) -> list[tuple[OutputFn, frozenset[str]]]:
    """The families (in order) that write at least one chosen output; the dashboards and their
    k8s copies as one family when both are chosen (``dashboard_and_copy_files``)."""
    families = [(fn, names) for fn, names in _outputs() if only is None or names & only]
    fns = {fn for fn, _ in families}
    drop = set()
    for together, parts in _TOGETHER:
        drop |= set(parts) if set(parts) <= fns else {together}
    return [(fn, names) for fn, names in families if fn not in drop]


def iter_files(ctx: RenderContext, release: bool = False, families: list | None = None,
               sections: dict[int, list[str]] | None = None) -> Iterator[tuple[str, str | bytes]]:
    """Every generated file as ``(path relative to the output folder, text)``, family by family
    (the largest documents as their UTF-8 bytes).

    ``ctx.only``: the output names to write (``chosen_outputs``); a family none of whose outputs
    is chosen is not built at all. ``release``: drop each built value (dashboards, rule
    documents) after the last family that reads it, so memory holds one family's work at a
    time (``render_to``); an in-memory ``build_files`` keeps them for its caller.
    ``families``: these of the chosen ones only (one lane of a render in lanes), whose
    summary lines go to ``sections`` by family position, to be put in order once merged. An
    exception leaves with the failing family's position (``family_position``), so that of
    several lanes' errors the one a single process would have met first is raised."""
    only = ctx.only
    families = chosen_families(only) if families is None else families
    order = [fn for fn, _ in _outputs()]
    for i, (fn, _names) in enumerate(families):
        later = set().union(*(_READS[f] for f, _ in families[i + 1:]))
        ctx.later_reads = later if release else None
        start = len(ctx.summary)
        try:
            produced = fn(ctx)
            for rel, text in produced.items() if isinstance(produced, dict) else produced:
                if not selected(rel, only):
                    ctx.parsed.pop(rel, None)
                    continue
                yield rel, text
                del text  # not held while the family builds its next document
        except Exception as exc:
            exc.family_position = order.index(fn)
            raise
        if release:
            ctx.release(_READS[fn] - later)
        if sections is not None:
            sections[order.index(fn)] = ctx.summary[start:]
            del ctx.summary[start:]


def closing_files(ctx: RenderContext, paths: Iterable[str], hashes: dict[str, str]) -> dict[str, str]:
    """What is written after every family: ``k8s/kustomization.yaml`` (listing every manifest
    any family wrote) and the manifest with every file and its hash (``hashes``), so
    ``modeldash lint DIR`` notices missing, changed or foreign files."""
    out = {}
    if any(rel.startswith("k8s/") for rel in paths):
        out[KUSTOMIZATION] = kustomization_file(paths)
        hashes = {**hashes, **file_hashes(out)}
    if ctx.only is not None:
        ctx.manifest["outputs"] = sorted(ctx.only)
    out[MANIFEST] = dumps_json({"generator": "modeldash", **ctx.manifest, "files": hashes})
    return out


def build_files(spec: FleetSpec, out_dir: Path, only: frozenset[str] | None = None) -> tuple[dict[str, str], RenderContext]:
    """All generated files in memory, keyed by path relative to the output folder (for lint of a
    spec, preview and tests; ``render_to`` streams them to disk instead)."""
    ctx = RenderContext(spec=spec, out_dir=out_dir, previous_manifest=read_manifest(out_dir), only=only)
    files: dict[str, str] = {}
    for rel, text in iter_files(ctx):
        if rel in files:
            raise RuntimeError(f"two output families both write {rel}")
        files[rel] = text.decode("utf-8") if isinstance(text, bytes) else text
    files.update(closing_files(ctx, list(files), file_hashes(files)))
    return files, ctx


@dataclass
class Rendered:
    """What ``render_to`` wrote (or, with lint problems, would have written)."""

    ctx: RenderContext
    files: int
    problems: list
    warnings: list[str]
    # (new, changed, removed) files against the previous render's manifest; None: no previous
    changes: tuple[int, int, int] | None = None


def render_to(spec: FleetSpec, out_dir: Path, only: frozenset[str] | None = None, lint: bool = True,
              processes: int | None = None) -> Rendered:
    """Render straight to disk: each file is linted and written as it is built, into a temp
    folder that replaces ``out_dir`` only when lint found nothing (``lint=False``: always).

    Memory holds one family's work at a time, not the whole tree. ``processes``: 2 builds the
    side lanes (``_SIDE_LANES``: dashboards, promtool tests) in forked processes beside this
    one (``render_lanes``), 1 never; None (the default) chooses 2 for a fleet of
    ``PARALLEL_MIN_MODELS`` models or more on a machine with 2 CPUs."""
    from modeldash.scripts.lint_output import TreeLint

    check_output_dir(out_dir)
    ctx = RenderContext(spec=spec, out_dir=out_dir, previous_manifest=read_manifest(out_dir), only=only)
    linter = TreeLint(spec)
    families = chosen_families(only)
    lanes = _lanes(families, spec, processes)
    # no cycles are made (gc.collect() finds none): the collector would only re-walk what is built
    with cyclic_gc_paused(), OutputTree(out_dir) as tree:
        if lanes is None:
            _write(ctx, iter_files(ctx, release=True), linter, tree, lint)
        else:
            _in_lanes(ctx, *lanes, linter, tree, lint)
        for rel, text in closing_files(ctx, tree.names, tree.flush()).items():
            linter.add(rel, text, None, check=lint)
            tree.add(rel, text)
        problems = linter.finish() if lint else []
        if not problems:
            tree.commit()
    return Rendered(ctx, len(tree.names), problems, linter.warnings(),
                    file_changes(ctx.previous_manifest.get("files"), tree.hashes))


def file_changes(previous, hashes: dict[str, str]) -> tuple[int, int, int] | None:
    """``(new, changed, removed)`` files between the previous manifest's ``files`` and this
    render's hashes (the manifest itself left out); None when there is no previous manifest."""
    if not isinstance(previous, dict):
        return None
    now = {rel: h for rel, h in hashes.items() if rel != MANIFEST}
    new = sum(1 for rel in now if rel not in previous)
    changed = sum(1 for rel, h in now.items() if rel in previous and previous[rel] != h)
    return new, changed, sum(1 for rel in previous if rel not in now)


def _write(ctx: RenderContext, files: Iterable[tuple[str, str | bytes]], linter, tree: OutputTree, lint: bool) -> None:
    for rel, text in files:
        linter.add(rel, text, ctx.parsed.pop(rel, None), check=lint)
        tree.add(rel, text)
        del text  # not held while the family builds its next (maybe 60 MB) document


def _lanes(families: list, spec: FleetSpec, processes: int | None) -> tuple[list, list, list] | None:
    """``([(families, needs)] of the side lanes, this process's families, after them all)``
    for a render in several processes, or None for one process."""
    from modeldash.scripts.render_lanes import can_fork

    if processes == 1 or (processes is None and len(spec.models) < PARALLEL_MIN_MODELS) or not can_fork():
        return None
    chosen = [fn for fn, _ in families]
    side = [([f for f in families if f[0] in fns], needs) for fns, needs in _SIDE_LANES]
    side = [(fs, needs) for fs, needs in side if fs]
    after = [f for f in families if f[0] in _AFTER_LANES]
    taken = {fn for fs, _ in side for fn, _ in fs} | set(_AFTER_LANES)
    rest = [f for f in families if f[0] not in taken]
    return (side, rest, after) if side and (rest or len(side) > 1) and len(chosen) > 1 else None


def _in_lanes(ctx: RenderContext, side: list, rest: list, after: list, linter, tree: OutputTree, lint: bool) -> None:
    """Each side lane in a forked child, the rest here, then what needs them all. When several
    fail, the error of the earliest family is raised, as a one-process render would."""
    from modeldash.scripts.lint_output import TreeLint
    from modeldash.scripts.render_lanes import Lane, LaneResult

    order = [fn for fn, _ in _outputs()]
    sections: dict[int, list[str]] = {}

    def lane_work(families: list):
        def work() -> LaneResult:  # runs in the child: what it sends back is only its own work
            own, mine, lines, before = TreeLint(ctx.spec), tree.share(), {}, dict(ctx.manifest)
            with mine:
                _write(ctx, iter_files(ctx, True, families, lines), own, mine, lint)
                hashes = mine.flush()
            manifest = {k: v for k, v in ctx.manifest.items() if k not in before or before[k] is not v}
            return LaneResult(mine.names, hashes, own, manifest, lines, ctx.parts)
        return work

    tree.background = False  # every process writes its own files (see OutputTree.background)
    lanes: list[tuple[int, object]] = []
    errors: list[tuple[int, BaseException]] = []
    try:
        for families, needs in side:  # each forked once what it reads is built here
            for name in needs:
                getattr(ctx, name)
            lanes.append((order.index(families[0][0]), Lane(lane_work(families))))
        if rest:
            try:
                _write(ctx, iter_files(ctx, True, rest, sections), linter, tree, lint)
            except Exception as exc:
                errors.append((getattr(exc, "family_position", order.index(rest[0][0])), exc))
        results = []
        for first, lane in sorted(lanes, key=lambda p: p[0]):
            try:
                results.append(lane.result())
            except Exception as exc:
                errors.append((getattr(exc, "family_position", first), exc))
    finally:
        for _first, lane in lanes:
            lane.close()
    if errors:
        raise min(errors, key=lambda p: p[0])[1]
    for done in reversed(results):  # each merged in before this process's (and the later lanes') work
        tree.absorb(done.names, done.hashes)
        linter.absorb(done.lint)
        ctx.manifest.update(done.manifest)
        sections.update(done.sections)
        for key, part in done.parts.items():
            if key in ctx.parts:
                ctx.parts[key].absorb(part)
            else:
                ctx.parts[key] = part
    _write(ctx, iter_files(ctx, True, after, sections), linter, tree, lint)
    ctx.summary[:] = [line for _pos, lines in sorted(sections.items()) for line in lines]


def check_output_dir(out_dir: Path) -> None:
    """Refuse to replace a folder modeldash did not write: render swaps the whole folder."""
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists())):
        raise BadInput(
            f"{out_dir}: exists and is not a modeldash output folder (no {MANIFEST}); "
            "render replaces its output folder as a whole, so choose an empty or new folder"
        )


def write_tree(files: dict[str, str], out_dir: Path) -> None:
    """Replace ``out_dir`` with exactly ``files``: written to a sibling temp dir, then swapped in."""
    with OutputTree(out_dir) as tree:
        for rel, text in sorted(files.items()):
            tree.add(rel, text)
        tree.commit()
