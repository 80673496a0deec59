"""Render a fleet spec to files: every output family, linted, then written all at once.

Each output family is a function ``(RenderContext) -> {relative path: text}`` listed in
``OUTPUTS``. ``render`` builds them all in memory, runs lint, and only then replaces the
output tree, so bad input never leaves half-written output behind.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from modeldash.spec.fleet import FleetSpec
from modeldash.scripts.errors import BadInput
from modeldash.scripts.output_alerts import alert_files
from modeldash.scripts.output_dashboards import dashboard_files
from modeldash.scripts.output_jobs import job_files
from modeldash.scripts.output_k8s import KUSTOMIZATION, k8s_files, kustomization_file
from modeldash.scripts.lint_tree import file_hashes
from modeldash.scripts.render_context import MANIFEST, OutputFn, RenderContext
from modeldash.scripts.serialise import dumps_json, dumps_yaml  # noqa: F401  (re-exported)


def _outputs() -> list[OutputFn]:
    return [dashboard_files, alert_files, job_files, k8s_files]


def read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def build_files(spec: FleetSpec, out_dir: Path) -> tuple[dict[str, str], RenderContext]:
    """All generated files in memory, keyed by path relative to the output folder."""
    ctx = RenderContext(spec=spec, out_dir=out_dir, previous_manifest=read_manifest(out_dir))
    files: dict[str, str] = {}
    for fn in _outputs():
        for rel, text in fn(ctx).items():
            if rel in files:
                raise RuntimeError(f"two output families both write {rel}")
            files[rel] = text

    files[KUSTOMIZATION] = kustomization_file(files)
    # every file and its hash, so `modeldash lint DIR` notices missing, changed or foreign files
    files[MANIFEST] = dumps_json({"generator": "modeldash", **ctx.manifest, "files": file_hashes(files)})
    return files, ctx


def check_output_dir(out_dir: Path) -> None:
    """Refuse to replace a folder modeldash did not write: render swaps the whole folder."""
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists())):
        raise BadInput(
            f"{out_dir}: exists and is not a modeldash output folder (no {MANIFEST}); "
            "render replaces its output folder as a whole, so choose an empty or new folder"
        )


def write_tree(files: dict[str, str], out_dir: Path) -> None:
    """Replace ``out_dir`` with exactly ``files``: written to a sibling temp dir, then swapped in."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for rel, text in sorted(files.items()):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
