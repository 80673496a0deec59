"""Lint a rendered tree (in memory or on disk): each output family's checks, in one list."""
from __future__ import annotations

import orjson
from pathlib import Path

from modeldash.spec.fleet import FleetSpec
from modeldash.scripts.cli_common import BadInput
from modeldash.scripts.lint import Problem, lint_dashboard
from modeldash.scripts.lint_alerts import lint_alerts
from modeldash.scripts.lint_k8s import ManifestLint
from modeldash.scripts.lint_warnings import read_by_warnings, lint_warnings
from modeldash.scripts.output_alerts import (ALERTMANAGER, CONTACT_POINTS, GRAFANA_FILE, GRAFANA_GROUPS, POLICY,
                                             PROM_RULES)
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


_ALERT_FILES = frozenset({GRAFANA_GROUPS, CONTACT_POINTS, POLICY, GRAFANA_FILE, PROM_RULES, ALERTMANAGER})


class TreeLint:
    """Lint of a rendered tree one file at a time: what ``lint_files`` reports, for a render
    that writes each file as it is built and keeps none. ``add`` checks a file (dashboard,
    alerting artefact, manifest) and forgets it; checks across files (duplicate uids and
    objects, the kustomization's list) keep only names until ``finish``."""

    def __init__(self, spec: FleetSpec | None = None):
        self.known = [spec.datasource.uid] if spec else []
        self.problems: list[Problem] = []
        self._uids: dict[str, str] = {}
        self._k8s = ManifestLint()
        self._for_warnings: dict[str, str] = {}  # the few files lint_warnings reads

    def add(self, rel: str, text: str | bytes, obj=None, check: bool = True) -> None:
        """Lint one file; ``obj``: what render serialised into it (else ``text`` is parsed)."""
        if isinstance(text, bytes) and (obj is None or read_by_warnings(rel)):
            text = text.decode("utf-8")
        if read_by_warnings(rel):
            self._for_warnings[rel] = text
        if not check:
            return
        if rel.startswith(DASHBOARD_DIR + "/") and rel.endswith(".json"):
            self._dashboard(rel, text, obj)
        elif rel in _ALERT_FILES:
            # bytes come only from render's own orjson serialisers: the secrets search may reuse them
            dumped = {rel: text} if obj is not None and isinstance(text, bytes) else None
            self.problems += [Problem("alerts", "", r) for r in lint_alerts({rel: text if obj is None else obj}, dumped)]
        elif ManifestLint.wants(rel):
            self._k8s.add(rel, text, obj)

    def _dashboard(self, rel: str, text: str, board) -> None:
        if board is None:
            try:
                board = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                self.problems.append(Problem(rel, "", f"not JSON: {exc}"))
                return
        if not isinstance(board, dict):
            self.problems.append(Problem(rel, "", f"a dashboard must be a JSON object, not {type(board).__name__}"))
            return
        self.problems += lint_dashboard(board, self.known)
        uid = str(board.get("uid", ""))
        if uid in self._uids:
            self.problems.append(Problem(uid, "", f"uid also used by dashboard {self._uids[uid]!r}"))
        self._uids[uid] = board.get("title", "")

    def absorb(self, earlier: "TreeLint") -> None:
        """Merge the lint of files another render process wrote before this one's."""
        self.problems[:0] = earlier.problems
        for uid, title in self._uids.items():
            if uid in earlier._uids:
                self.problems.append(Problem(uid, "", f"uid also used by dashboard {earlier._uids[uid]!r}"))
        self._uids = {**earlier._uids, **self._uids}
        self._k8s.absorb(earlier._k8s)
        self._for_warnings = {**earlier._for_warnings, **self._for_warnings}

    def finish(self) -> list[Problem]:
        return sorted(self.problems + [Problem("k8s", "", reason) for reason in self._k8s.finish()])

    def warnings(self) -> list[str]:
        return lint_warnings(self._for_warnings)


def lint_files(files: dict[str, str], spec: FleetSpec | None = None, parsed: dict[str, object] | None = None) -> list[Problem]:
    """Every problem of every generated file; ``spec`` adds the spec's datasource uid as known.

    ``parsed`` holds the objects render serialised, by path, so they need not be parsed again.
    """
    parsed = parsed or {}
    lint = TreeLint(spec)
    for rel, text in sorted(files.items()):
        lint.add(rel, text, parsed.get(rel))
    return lint.finish()
