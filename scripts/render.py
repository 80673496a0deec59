"""Render a fleet spec to files: every output family, linted, written to a temp folder that
replaces the output folder only when all is well.

Each output family is a function ``(RenderContext) -> {relative path: text}`` (or an iterator
of such pairs, for the large ones) listed in ``_outputs``. ``render_to`` lints and writes each
file as it comes (``scripts/output_tree.py``), so memory holds one family's work, not the
whole tree, and bad input never leaves half-written output behind. ``build_files`` collects
the same files in memory (lint of a spec, preview, tests).
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
from modeldash.scripts.output_alerts import alert_files
from modeldash.scripts.output_dashboards import dashboard_files
from modeldash.scripts.output_jobs import job_files
from modeldash.scripts.output_k8s import KUSTOMIZATION, k8s_files, kustomization_file
from modeldash.scripts.lint_tree import file_hashes
from modeldash.scripts.output_tree import OutputTree
from modeldash.scripts.render_context import MANIFEST, OutputFn, RenderContext
from modeldash.scripts.serialise import dumps_json, dumps_yaml  # noqa: F401  (re-exported)


def _outputs() -> list[tuple[OutputFn, frozenset[str]]]:
    """Each family and the output names (``spec/outputs.py``) its files belong to."""
    return [
        (dashboard_files, frozenset({"dashboards"})),
        (k8s_files, frozenset({"k8s", "provisioning"})),
        (alert_files, frozenset({"alerts", "prometheus-rules"})),
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
    dashboard_files: {"dashboard_texts"},
    k8s_files: {"dashboard_texts", "grafana_alerting", "prometheus_rules", "catalog"},
    alert_files: {"catalog", "grafana_alerting", "prometheus_rules"},
    job_files: set(),
}


def iter_files(ctx: RenderContext, release: bool = False) -> Iterator[tuple[str, str | bytes]]:
    """Every generated file as ``(path relative to the output folder, text)``, family by family
    (the largest documents as their UTF-8 bytes).

    ``ctx.only``: the output names to write (``chosen_outputs``); a family none of whose outputs
    is chosen is not built at all. ``release``: drop each built value (dashboards, rule
    documents) after the last family that reads it, so memory holds one family's work at a
    time (``render_to``); an in-memory ``build_files`` keeps them for its caller."""
    only = ctx.only
    families = [(fn, names) for fn, names in _outputs() if only is None or names & only]
    for i, (fn, _names) in enumerate(families):
        later = set().union(*(_READS[f] for f, _ in families[i + 1:]))
        ctx.later_reads = later if release else None
        produced = fn(ctx)
        for rel, text in produced.items() if isinstance(produced, dict) else produced:
            if not selected(rel, only):
                ctx.parsed.pop(rel, None)
                continue
            yield rel, text
            del text  # not held while the family builds its next document
        if release:
            ctx.release(_READS[fn] - later)


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


def render_to(spec: FleetSpec, out_dir: Path, only: frozenset[str] | None = None, lint: bool = True) -> Rendered:
    """Render straight to disk: each file is linted and written as it is built, into a temp
    folder that replaces ``out_dir`` only when lint found nothing (``lint=False``: always).

    Memory holds one family's work at a time, not the whole tree."""
    from modeldash.scripts.lint_output import TreeLint

    check_output_dir(out_dir)
    ctx = RenderContext(spec=spec, out_dir=out_dir, previous_manifest=read_manifest(out_dir), only=only)
    linter = TreeLint(spec)
    # no cycles are made (gc.collect() finds none): the collector would only re-walk what is built
    with cyclic_gc_paused(), OutputTree(out_dir) as tree:
        for rel, text in iter_files(ctx, release=True):
            linter.add(rel, text, ctx.parsed.pop(rel, None), check=lint)
            tree.add(rel, text)
            del text  # not held while the family builds its next (maybe 60 MB) document
        for rel, text in closing_files(ctx, tree.names, tree.flush()).items():
            linter.add(rel, text, None, check=lint)
            tree.add(rel, text)
        problems = linter.finish() if lint else []
        if not problems:
            tree.commit()
    return Rendered(ctx, len(tree.names), problems, linter.warnings())


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
