"""Output family: one JSON file per dashboard, grouped by folder (``dashboards/<folder>/<uid>.json``)."""
from __future__ import annotations

from typing import Iterator

from modeldash.dashboards.build import iter_dashboards

from modeldash.spec.base import make_uid
from modeldash.scripts.render_context import RenderContext
from modeldash.scripts.serialise import dumps_json_bytes

DASHBOARD_DIR = "dashboards"


def dashboard_path(folder_title: str, uid: str) -> str:
    return f"{DASHBOARD_DIR}/{make_uid(folder_title)}/{uid}.json"


def dashboard_files(ctx: RenderContext) -> Iterator[tuple[str, bytes]]:
    """Each dashboard built, serialised and handed on before the next is built; its text is
    kept (``ctx.dashboard_texts``) for the k8s and provisioning copies, the object is not."""
    texts, folders = [], set()
    boards = ctx.__dict__.get("dashboards")  # built already (an in-memory build's caller asked)
    for b in boards if boards is not None else iter_dashboards(ctx.spec):
        path = dashboard_path(b.folder_title, b.uid)
        text = dumps_json_bytes(b.json)
        texts.append((b.uid, b.folder_title, text))
        folders.add(f"{b.folder_uid}:{b.folder_title}")
        ctx.parsed[path] = b.json
        yield path, text
    ctx.__dict__["dashboard_texts"] = texts
    ctx.manifest["dashboards"] = sorted(uid for uid, _f, _t in texts)
    ctx.manifest["folders"] = sorted(folders)
    ctx.summary.append(f"{len(texts)} dashboards in folder {ctx.spec.grafana.folder!r}")
