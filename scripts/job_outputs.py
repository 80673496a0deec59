"""Where the jobs' results go: a Pushgateway (bounded retries), a node-exporter textfile, a JSON report.

A push uses the grouping key ``{job, model}`` and HTTP PUT (``push_to_gateway``), so each run
replaces the previous run's group as a whole: a feature that disappeared leaves no stale score.
A push counts only when the answer is what a real Pushgateway sends: 200 (202 with
``--push.disable-consistency-check``) and an empty body. A login page or proxy that answers 200
with HTML, or a redirect, is not a Pushgateway: the push fails at once (no retry).
"""
from __future__ import annotations

import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from prometheus_client import CollectorRegistry, push_to_gateway, write_to_textfile

from modeldash.scripts.errors import BadInput
from modeldash.scripts.serialise import dumps_json

PUSHGATEWAY_OK = (200, 202)  # PUT/POST answers of prometheus-pushgateway (checked against 1.5.1)


class PushFailed(Exception):
    """The Pushgateway did not take the metrics after every retry."""


class NotAPushgateway(PushFailed):
    """The URL answered, but not as a Pushgateway does: retrying will not help."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


def _verified_handler(url, method, timeout, headers, data):
    """A ``push_to_gateway`` handler that checks the answer is a Pushgateway's, not just "not an error"."""

    def handle():
        request = urllib.request.Request(url, data=data, method=method)
        for key, value in headers:
            request.add_header(key, value)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as resp:
                status, kind, body = resp.status, resp.headers.get("Content-Type") or "no content type", resp.read(65536)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                where = (exc.headers.get("Location") or "?").split("?", 1)[0]
                raise NotAPushgateway(f"answered {exc.code} redirecting to {where} (a login page?), not as a "
                                      "Pushgateway does") from None
            raise
        if status not in PUSHGATEWAY_OK or body:
            what = "an HTML page" if b"<html" in body[:2048].lower() or "html" in kind else f"{len(body)} bytes of {kind}"
            raise NotAPushgateway(f"answered {status} with {what} instead of an empty success: not a Pushgateway "
                                  "(a login page or proxy in front of it?)")

    return handle


def push(registry: CollectorRegistry, gateway: str, job: str, model: str, *, attempts: int = 4,
         backoff: float = 1.0, timeout: float = 10.0, log: Callable[[str], None] = lambda _m: None,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """PUT the registry to ``gateway`` under ``/metrics/job/<job>/model/<model>``.

    Retries ``attempts`` times in all, waiting ``backoff``, 2x, 4x ... seconds in between.
    """
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            push_to_gateway(gateway, job=job, grouping_key={"model": model}, registry=registry, timeout=timeout,
                            handler=_verified_handler)
            return
        except NotAPushgateway as exc:
            raise NotAPushgateway(f"the Pushgateway URL {gateway} {exc}") from None
        except OSError as exc:  # connection refused, timeouts, and HTTP errors (prometheus-client raises OSError)
            last = f"{exc.__class__.__name__}: {getattr(exc, 'reason', None) or exc}"
            if attempt < attempts:
                wait = backoff * 2 ** (attempt - 1)
                log(f"push to {gateway} failed ({last}); retry {attempt}/{attempts - 1} in {wait:g}s")
                sleep(wait)
    raise PushFailed(f"could not push to the Pushgateway at {gateway} after {attempts} attempts: {last}")


def write_textfile(registry: CollectorRegistry, directory: str | Path, job: str, model: str) -> Path:
    """``<dir>/modeldash_<job>_<model>.prom`` for node-exporter's textfile collector (atomic rename)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PushFailed(f"textfile directory {directory} does not exist")
    path = directory / f"modeldash_{job}_{model.replace('-', '_')}.prom"
    try:
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise PushFailed(f"cannot write {path}: {exc.__class__.__name__}: {exc.strerror or exc}") from None
    return path


def write_report(report: dict, path: str | Path) -> None:
    """The JSON report, written to a temp file beside it and renamed into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise BadInput(f"{path}: cannot write the report: {exc.strerror or exc.__class__.__name__}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps_json(report))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BadInput(f"{path}: cannot write the report: {exc.strerror or exc.__class__.__name__}") from None
        raise
