"""Lint a rendered folder as a whole: is every file the render wrote still there, unchanged, and nothing else?

``render`` records every file it wrote, with its SHA-256, in ``.modeldash-manifest.json``
(``files``). Lint of a folder compares the folder with that list, so a deleted dashboard, a
file replaced by binary bytes or a foreign file is a problem, not a silent "no problems".
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from modeldash.scripts.errors import BadInput
from modeldash.scripts.lint import Problem
from modeldash.scripts.render_context import MANIFEST


def file_hashes(files: dict[str, str]) -> dict[str, str]:
    """What the manifest records: ``{relative path: sha256 of the UTF-8 text}``."""
    return {rel: hashlib.sha256(text.encode("utf-8")).hexdigest() for rel, text in sorted(files.items())}


def read_rendered_tree(out_dir: Path) -> tuple[dict[str, str], list[Problem]]:
    """The UTF-8 files of a rendered folder, and the problems of the folder as a whole.

    Raises ``BadInput`` (exit 2) when the folder holds no modeldash output at all.
    """
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        raise BadInput(f"{out_dir}: not a modeldash output folder (no {MANIFEST}); "
                       "lint a spec, or a folder written by `modeldash render`")
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except orjson.JSONDecodeError:
        raise BadInput(f"{out_dir}/{MANIFEST}: not JSON; render the folder again") from None
    if not isinstance(manifest, dict) or manifest.get("generator") != "modeldash":
        raise BadInput(f"{out_dir}/{MANIFEST}: not a modeldash manifest; render the folder again")
    expected = manifest.get("files")
    expected = expected if isinstance(expected, dict) else None  # manifests before 0.2 had no file list
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for path in sorted(out_dir.rglob("*")):
        if not path.is_file() or path == manifest_path:
            continue
        rel = path.relative_to(out_dir).as_posix()
        try:
            files[rel] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(rel, "", "not UTF-8 text (binary?): render the folder again"))
            continue
        except OSError as exc:
            problems.append(Problem(rel, "", f"cannot be read: {exc.__class__.__name__}"))
            continue
    if expected is not None:
        on_disk = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()} - {MANIFEST}
        for rel in sorted(set(expected) - on_disk):
            problems.append(Problem(rel, "", "missing: modeldash rendered it but it is not in the folder"))
        for rel in sorted(on_disk - set(expected)):
            problems.append(Problem(rel, "", "foreign file: not written by modeldash (render replaces the folder)"))
        hashes = file_hashes(files)
        for rel in sorted(set(hashes) & set(expected)):
            if hashes[rel] != expected[rel]:
                problems.append(Problem(rel, "", "changed since render (its SHA-256 differs from the manifest)"))
    return files, problems
