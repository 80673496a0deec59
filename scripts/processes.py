"""Ending the child processes modeldash starts (Prometheus, chromium): never left running, never hung."""
from __future__ import annotations

import subprocess


def end_process(process: subprocess.Popen, grace: float, terminate: bool = True) -> None:
    """Stop ``process``: SIGTERM (unless it was already asked to exit some other way), ``grace``
    seconds to exit, then SIGKILL."""
    if process.poll() is not None:
        return
    if terminate:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
