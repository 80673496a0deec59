"""Where the jobs' results go: a Pushgateway (bounded retries), a node-exporter textfile, a JSON report.

A push uses the grouping key ``{job, model}`` and HTTP PUT (``push_to_gateway``), so each run
replaces the previous run's group as a whole: a feature that disappeared leaves no stale score.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from prometheus_client import CollectorRegistry, push_to_gateway, write_to_textfile

from modeldash.scripts.serialise import dumps_json


class PushFailed(Exception):
    """The Pushgateway did not take the metrics after every retry."""


def push(registry: CollectorRegistry, gateway: str, job: str, model: str, *, attempts: int = 4,
         backoff: float = 1.0, timeout: float = 10.0, log: Callable[[str], None] = lambda _m: None,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """PUT the registry to ``gateway`` under ``/metrics/job/<job>/model/<model>``.

    Retries ``attempts`` times in all, waiting ``backoff``, 2x, 4x ... seconds in between.
    """
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            push_to_gateway(gateway, job=job, grouping_key={"model": model}, registry=registry, timeout=timeout)
            return
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps_json(report))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
