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
import stat
import tempfile
import threading
from pathlib import Path


_LINK_MAX = 4 << 20  # files up to this size may be hard-linked to (a dashboard is ~50 KB)
_CHUNK = 1 << 20  # a previous file is compared with the new bytes this much at a time
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_READ_OLD = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class OutputTree:
    """A temp folder beside ``out_dir`` that becomes ``out_dir`` on ``commit``.

    Use as a context manager: leaving it without ``commit`` (an exception, lint problems)
    deletes everything written so far. Files are written and hashed by a background thread
    (file I/O and SHA-256 release the GIL; with ``background`` off, in ``add`` itself), so a
    one-process render's 500 MB of writes overlap with
    building the next files instead of adding to them. At most ``pending`` files and
    ``pending_bytes`` bytes wait (one larger file waits alone), so the queue never holds a
    second copy of the largest documents while the next one is being built.

    A file whose bytes equal the same path's file in the current ``out_dir`` (a re-render, most
    of whose files do not change) becomes a hard link to that file instead of a new one: no new
    inode or data pages, its mtime kept, and removing the old folder frees nothing but names.
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
        self.reused = 0  # files that are the previous output's unchanged file (hard-linked)
        self._previous: Path | None = None  # the output folder being replaced, when it is a folder
        self._previous_dirs: dict[Path, bool] = {}  # its folders: inside it (no symlink on the way)?
        self._previous_real = ""
        self._mode = 0o644

    def __enter__(self) -> "OutputTree":
        if self._tmp is not None:  # a share: the owner made the folder
            return self
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.", dir=self.out_dir.parent))
        if self.out_dir.is_dir() and not self.out_dir.is_symlink():
            self._previous, self._previous_real = self.out_dir, os.path.realpath(self.out_dir)
            self._mode = 0o666 & ~_umask()  # what a new file gets: a reused one must have the same
        return self

    def share(self) -> "OutputTree":
        """A tree that writes into this one's temp folder (a second render process's files):
        it has its own writer and hashes, never commits, and leaves the folder to its owner.
        A render in lanes takes it in each forked child (``render._in_lanes``)."""
        other = OutputTree(self.out_dir, self._queue.maxsize, self._budget)
        other._owner, other._tmp, other.background = False, self._tmp, self.background
        other._previous, other._previous_real, other._mode = self._previous, self._previous_real, self._mode
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
        self.hashes[rel] = hashlib.sha256(data).hexdigest()
        if self._previous is not None and self._reuse(rel, path, data):
            return
        fd = os.open(path, _CREATE, 0o666)  # not open(): no buffer, isatty or seek (10,000 files)
        try:
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.write(fd, view[done:])
        finally:
            os.close(fd)

    def _reuse(self, rel: str, path: Path, data: bytes) -> bool:
        """Link ``path`` to the previous output's ``rel`` if that is a regular file of ours with
        the mode a new file gets and exactly ``data`` (compared, never assumed from the
        manifest), reached through no symlink; False (the caller writes the file) otherwise or
        where links fail."""
        old = self._previous / rel
        if not self._inside_previous(old.parent):
            return False
        try:
            fd = os.open(old, _READ_OLD)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            if (not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != self._mode or st.st_uid != os.geteuid()
                    or st.st_size != len(data) or not _same_bytes(fd, data)):
                return False
        except OSError:
            return False
        finally:
            os.close(fd)
        try:
            os.link(old, path, follow_symlinks=False)
            now = os.stat(path, follow_symlinks=False)
        except OSError:
            return False
        if (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev):  # replaced since it was compared
            os.unlink(path)
            return False
        self.reused += 1
        return True

    def _inside_previous(self, folder: Path) -> bool:
        """``folder`` is a real folder of the previous output (no symlink on the way), once per folder."""
        known = self._previous_dirs.get(folder)
        if known is None:
            rel = folder.relative_to(self._previous)
            known = self._previous_dirs[folder] = (
                folder.is_dir() and os.path.realpath(folder) == os.path.join(self._previous_real, rel)
                if rel.parts else True)
        return known

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


def _same_bytes(fd: int, data: bytes) -> bool:
    """The open file's bytes (of the same size) are ``data``: read and compared a chunk at a time."""
    view, at = memoryview(data), 0
    while at < len(data):
        chunk = os.read(fd, min(_CHUNK, len(data) - at))
        if not chunk or chunk != view[at:at + len(chunk)]:
            return False
        at += len(chunk)
    return True


def _umask() -> int:
    """This process's umask, read without changing it where Linux tells it (``os.umask`` sets
    it for every thread while it asks)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o22)
    os.umask(mask)
    return mask
