"""A render on two cores: output lanes in forked processes beside the rest.

The dashboards and their k8s/provisioning copies read nothing the alerts read, and the
promtool tests, monitors and jobs only the catalogue and the spec, so a large fleet's render
builds them in forked children while this process builds the rule documents
(``render._SIDE_LANES``). A child writes its files into the same temp folder
(``OutputTree.share``), lints them itself, and sends back what the parent needs to finish:
the names and hashes, its lint, and what its families recorded. ``fork`` hands a child the
spec, the imported modules and what was built before it for free; nothing large crosses the pipe.
"""
from __future__ import annotations

import os
import pickle
import signal
import traceback
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class LaneResult:
    """What a lane hands back: its files' names and hashes, its lint (``TreeLint``), what its
    families put in the render manifest, their summary lines by family position, and their
    step-to-step state (``RenderContext.parts``)."""

    names: list[str]
    hashes: dict[str, str]
    lint: object
    manifest: dict = field(default_factory=dict)
    sections: dict[int, list[str]] = field(default_factory=dict)
    parts: dict = field(default_factory=dict)


def can_fork() -> bool:
    """Two lanes need ``fork`` and at least two CPUs this process may run on."""
    if not hasattr(os, "fork"):
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus >= 2


def _portable(exc: BaseException) -> BaseException:
    """The child's exception as the parent can raise it: itself when it pickles, else a
    RuntimeError naming it; either way with the child's traceback as a note."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        position = getattr(exc, "family_position", None)  # where it failed (render.iter_files)
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        if position is not None:
            exc.family_position = position
    exc.add_note("in a render lane's process:\n" + "".join(traceback.format_exception(exc)).rstrip())
    return exc


class Lane:
    """A forked child running ``work``; ``result`` waits for it (raising the child's error)."""

    def __init__(self, work: Callable[[], LaneResult]):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller (its `with` blocks belong to the parent)
            code = 0
            try:
                os.close(read_fd)
                try:
                    payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # noqa: BLE001  (sent to the parent, raised there)
                    payload = pickle.dumps(_portable(exc), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as fh:
                    fh.write(payload)
            except BaseException:  # noqa: BLE001  (the parent reports a child without a result)
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid: int | None = pid
        self._fd = read_fd

    def result(self) -> LaneResult:
        fd, self._fd = self._fd, None
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
        _pid, status = os.waitpid(self._pid, 0)
        self._pid = None
        if not data:
            raise RuntimeError(f"a render lane's process ended without a result (wait status {status})")
        obj = pickle.loads(data)
        if isinstance(obj, BaseException):
            raise obj
        return obj

    def close(self) -> None:
        """Stop the child if it still runs (the parent failed or was interrupted) and reap it."""
        if self._pid is None:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            return
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self._pid, 0)
        self._pid = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
