"""Output family: one JSON file per dashboard, grouped by folder (``dashboards/<folder>/<uid>.json``)."""
from __future__ import annotations

from typing import Callable, Iterator

from modeldash.dashboards.build import iter_dashboards

from modeldash.spec.base import make_uid
from modeldash.scripts.render_context import RenderContext
from modeldash.scripts.serialise import dumps_json_bytes

DASHBOARD_DIR = "dashboards"


def dashboard_path(folder_title: str, uid: str) -> str:
    return f"{DASHBOARD_DIR}/{make_uid(folder_title)}/{uid}.json"


def dashboard_files(ctx: RenderContext, copies: Callable | None = None) -> Iterator[tuple[str, bytes]]:
    """Each dashboard built, serialised and handed on before the next is built; neither the
    object nor the text is kept. ``copies(uid, folder title, text, dashboard)``: more files made
    of that text (and the object it was written from), handed on right after it (the k8s and
    provisioning copies, ``output_k8s``)."""
    uids, folders = [], set()
    boards = ctx.__dict__.get("dashboards")  # built already (an in-memory build's caller asked)
    for b in boards if boards is not None else iter_dashboards(ctx.spec):
        path = dashboard_path(b.folder_title, b.uid)
        text = dumps_json_bytes(b.json)
        uids.append(b.uid)
        folders.add(f"{b.folder_uid}:{b.folder_title}")
        ctx.parsed[path] = b.json
        yield path, text
        if copies is not None:
            yield from copies(b.uid, b.folder_title, text, b.json)
    ctx.manifest["dashboards"] = sorted(uids)
    ctx.manifest["folders"] = sorted(folders)
    ctx.summary.append(f"{len(uids)} dashboards in folder {ctx.spec.grafana.folder!r}")
