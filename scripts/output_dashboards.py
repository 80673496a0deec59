"""Output family: one JSON file per dashboard, grouped by folder (``dashboards/<folder>/<uid>.json``)."""
from __future__ import annotations

from modeldash.spec.base import make_uid
from modeldash.scripts.render_context import RenderContext
from modeldash.scripts.serialise import dumps_json

DASHBOARD_DIR = "dashboards"


def dashboard_path(folder_title: str, uid: str) -> str:
    return f"{DASHBOARD_DIR}/{make_uid(folder_title)}/{uid}.json"


def dashboard_files(ctx: RenderContext) -> dict[str, str]:
    boards = ctx.dashboards
    ctx.manifest["dashboards"] = sorted(b.uid for b in boards)
    ctx.manifest["folders"] = sorted({f"{b.folder_uid}:{b.folder_title}" for b in boards})
    ctx.summary.append(f"{len(boards)} dashboards in folder {ctx.spec.grafana.folder!r}")
    files = {}
    for b in boards:
        path = dashboard_path(b.folder_title, b.uid)
        files[path] = dumps_json(b.json)
        ctx.parsed[path] = b.json
    return files
