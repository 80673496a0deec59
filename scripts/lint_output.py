"""Lint a rendered tree (in memory or on disk): each output family's checks, in one list."""
from __future__ import annotations

import orjson
from pathlib import Path

from modeldash.spec.fleet import FleetSpec
from modeldash.scripts.cli_common import BadInput
from modeldash.scripts.lint import Problem, lint_dashboards
from modeldash.scripts.lint_alerts import lint_alerts
from modeldash.scripts.lint_k8s import lint_manifests
from modeldash.scripts.output_dashboards import DASHBOARD_DIR


def read_tree(out_dir: Path) -> dict[str, str]:
    files = {}
    for path in sorted(out_dir.rglob("*")):
        if path.is_file():
            try:
                files[path.relative_to(out_dir).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    if not files:
        raise BadInput(f"{out_dir}: no rendered files found (run `modeldash render` first)")
    return files


def lint_files(files: dict[str, str], spec: FleetSpec | None = None, parsed: dict[str, object] | None = None) -> list[Problem]:
    """Every problem of every generated file; ``spec`` adds the spec's datasource uid as known.

    ``parsed`` holds the objects render serialised, by path, so they need not be parsed again.
    """
    parsed = parsed or {}
    boards = []
    problems: list[Problem] = []
    for rel, text in sorted(files.items()):
        if rel.startswith(DASHBOARD_DIR + "/") and rel.endswith(".json"):
            if rel in parsed:
                boards.append(parsed[rel])
                continue
            try:
                board = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                problems.append(Problem(rel, "", f"not JSON: {exc}"))
                continue
            if isinstance(board, dict):
                boards.append(board)
            else:
                problems.append(Problem(rel, "", f"a dashboard must be a JSON object, not {type(board).__name__}"))
    known = [spec.datasource.uid] if spec else []
    problems += lint_dashboards(boards, known)
    problems += [Problem("alerts", "", reason) for reason in lint_alerts({rel: parsed.get(rel, text) for rel, text in files.items()})]
    problems += [Problem("k8s", "", reason) for reason in lint_manifests(files, parsed)]
    return sorted(problems)
