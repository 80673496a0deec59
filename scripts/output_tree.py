"""Write a rendered tree as it is built: files go to a sibling temp folder one by one, and the
folder replaces the output folder only when everything was written and linted.

Streaming keeps a render's memory to what it is building, not the sum of every file it wrote
(a 1,000-model fleet is about 500 MB of text); the swap at the end keeps "no half-written
output": a failure or a lint problem removes the temp folder and leaves the old tree as it was.
"""
from __future__ import annotations

import hashlib
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path


_LINK_MAX = 4 << 20  # files up to this size may be hard-linked to (a dashboard is ~50 KB)


class OutputTree:
    """A temp folder beside ``out_dir`` that becomes ``out_dir`` on ``commit``.

    Use as a context manager: leaving it without ``commit`` (an exception, lint problems)
    deletes everything written so far. Files are written and hashed by a background thread
    (file I/O and SHA-256 release the GIL; with ``background`` off, in ``add`` itself), so a
    one-process render's 500 MB of writes overlap with
    building the next files instead of adding to them. At most ``pending`` files and
    ``pending_bytes`` bytes wait (one larger file waits alone), so the queue never holds a
    second copy of the largest documents while the next one is being built.
    """

    def __init__(self, out_dir: Path, pending: int = 64, pending_bytes: int = 8 << 20):
        self.out_dir = out_dir.resolve()
        self._owner = True  # False: a ``share`` of another tree's temp folder (not ours to remove)
        # False: write each file in ``add`` (a render in lanes: its processes are the parallelism,
        # and a writer thread would wait for the GIL after every system call)
        self.background = True
        self.hashes: dict[str, str] = {}  # relative path -> sha256 of its UTF-8 text (after flush)
        self._names: set[str] = set()
        self._dirs: set[Path] = set()
        self._tmp: Path | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=pending)
        self._budget = pending_bytes
        self._queued_bytes = 0
        self._room = threading.Condition()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._last: tuple[bytes, Path, str] | None = None  # the file written last: its bytes, path, name
        self.linked = 0  # files written as a hard link to the file before them

    def __enter__(self) -> "OutputTree":
        if self._tmp is not None:  # a share: the owner made the folder
            return self
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.", dir=self.out_dir.parent))
        return self

    def share(self) -> "OutputTree":
        """A tree that writes into this one's temp folder (a second render process's files):
        it has its own writer and hashes, never commits, and leaves the folder to its owner.
        A render in lanes takes it in each forked child (``render._in_lanes``)."""
        other = OutputTree(self.out_dir, self._queue.maxsize, self._budget)
        other._owner, other._tmp, other.background = False, self._tmp, self.background
        return other

    def absorb(self, names: list[str], hashes: dict[str, str]) -> None:
        """Count in the files a ``share`` of this tree wrote (their names and hashes)."""
        clash = self._names.intersection(names)
        if clash:
            raise RuntimeError(f"two output families both write {min(clash)}")
        self._names.update(names)
        self.hashes.update(hashes)

    def add(self, rel: str, text: str | bytes) -> None:
        """Queue one file (``bytes``: already UTF-8, as the largest documents come)."""
        if rel in self._names:
            raise RuntimeError(f"two output families both write {rel}")
        self._raise_if_failed()
        self._names.add(rel)
        if not self.background:
            self._write_one(rel, text if isinstance(text, bytes) else text.encode("utf-8"))
            return
        if self._thread is None:  # started at the first file, not on enter: a fork may come first
            self._thread = threading.Thread(target=self._write_loop, name="modeldash-writer", daemon=True)
            self._thread.start()
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with self._room:
            self._room.wait_for(lambda: self._queued_bytes == 0 or self._queued_bytes + len(data) <= self._budget
                                or self._error is not None)
            self._queued_bytes += len(data)
        self._queue.put((rel, data))

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def flush(self) -> dict[str, str]:
        """Wait until every queued file is on disk; the hashes of all of them."""
        self._queue.join()
        self._raise_if_failed()
        return self.hashes

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    self._write_one(*item)
            except BaseException as exc:  # reported to the renderer on its next add/flush
                self._error = exc
            finally:
                if item is not None:
                    with self._room:
                        self._queued_bytes -= len(item[1])
                        self._room.notify_all()
                self._queue.task_done()

    def _write_one(self, rel: str, data: bytes) -> None:
        path = self._tmp / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        # kept for the next file only when small: a 60 MB document is not held past its write
        last, self._last = self._last, ((data, path, rel) if len(data) <= _LINK_MAX else None)
        if last is not None and last[0] is data and self._link(last[1], path):
            self.hashes[rel] = self.hashes[last[2]]
            return
        with open(path, "wb") as fh:
            fh.write(data)
        self.hashes[rel] = hashlib.sha256(data).hexdigest()

    def _link(self, source: Path, path: Path) -> bool:
        """The same bytes object as the file before (a dashboard's provisioning copy): a hard link
        instead of a second write, no new data pages (1,000 dashboards: 53 MB less to write).
        False where the filesystem has no hard links: the caller writes the copy."""
        try:
            os.link(source, path)
        except OSError:
            return False
        self.linked += 1
        return True

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def commit(self) -> None:
        """Swap the written folder in for ``out_dir`` (the old one, if any, is removed)."""
        if not self._owner:
            raise RuntimeError("a shared output tree is committed by its owner")
        self.flush()
        tmp, self._tmp = self._tmp, None
        if self.out_dir.exists():
            old = self.out_dir.with_name(f".{self.out_dir.name}.old.{os.getpid()}")
            self.out_dir.rename(old)
            tmp.rename(self.out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(self.out_dir)

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._tmp is not None and self._owner:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
