"""Preview dashboards: run their queries, write one HTML page and one PNG per dashboard.

``write_previews`` is the whole pipeline for a list of dashboard JSON models: results from
Prometheus (``preview_data``), the page (``modeldash.preview.page``), a screenshot from
headless Chromium (``browser``). ``changed_dashboards`` picks the dashboards of a render that
differ from an earlier render, for pull requests.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from modeldash.preview.grid import DEFAULT_WIDTH
from modeldash.preview.page import build_page, page_height
from modeldash.scripts.browser import Chromium
from modeldash.scripts.errors import BadInput
from modeldash.scripts.preview_data import dashboard_results

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Preview:
    uid: str
    title: str
    html: Path
    png: Path
    height: int
    states: dict
    seconds: float


def file_stem(uid: str) -> str:
    """A file name from a dashboard uid: only ``[A-Za-z0-9_.-]``, never a path."""
    stem = _SAFE_NAME.sub("_", uid or "dashboard").lstrip(".")
    return stem[:80] or "dashboard"


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the pictures from a web server / artifact reader
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def changed_dashboards(files: dict[str, str], base_dir: Path) -> list[dict]:
    """Dashboards of ``files`` whose JSON is new or differs from the same file under ``base_dir``."""
    if not base_dir.is_dir():
        raise BadInput(f"--changed: {base_dir} is not a folder (render the base branch into it first)")
    out = []
    for rel, text in sorted(files.items()):
        if not (rel.startswith("dashboards/") and rel.endswith(".json")):
            continue
        base = base_dir / rel
        try:
            same = base.is_file() and json.loads(base.read_text(encoding="utf-8")) == json.loads(text)
        except ValueError:
            same = False
        if not same:
            out.append(json.loads(text))
    return out


def _states(html_results: dict) -> dict:
    counts: dict[str, int] = {}
    for p in html_results["panels"].values():
        counts[p["state"]] = counts.get(p["state"], 0) + 1
    return counts


def write_previews(dashboards: list[dict], prometheus_url: str, out_dir: Path, start: float, end: float,
                   scrape_interval: float, width: int = DEFAULT_WIDTH, browser: Chromium | None = None,
                   progress=None) -> list[Preview]:
    """One ``<uid>.html`` and ``<uid>.png`` per dashboard in ``out_dir``; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    own = browser is None
    browser = browser or Chromium().start()
    previews = []
    try:
        page = browser.page()
        try:
            for board in dashboards:
                t0 = time.monotonic()
                results = dashboard_results(board, prometheus_url, start, end, scrape_interval, width)
                stem = file_stem(str(board.get("uid") or board.get("title") or "dashboard"))
                html_path, png_path = out_dir / f"{stem}.html", out_dir / f"{stem}.png"
                _write_atomic(html_path, build_page(board, results, width).encode("utf-8"))
                height = page_height(board, width)
                page.open(html_path, width, height)
                _write_atomic(png_path, page.screenshot())
                preview = Preview(str(board.get("uid") or stem), str(board.get("title") or ""), html_path, png_path,
                                  height, _states(results), time.monotonic() - t0)
                previews.append(preview)
                if progress:
                    progress(preview)
        finally:
            page.close()
    finally:
        if own:
            browser.stop()
    return previews
