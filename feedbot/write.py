"""Writing feed files: atomically (temp file, fsync, rename) and only when the bytes changed.

Owns: the feeds directory. A reader never sees a half-written file; an unchanged feed keeps its
bytes and its modification time, so HTTP validators and readers' caches stay valid. With a
PostgreSQL state the documents go to the store instead (:class:`StoredFiles`), behind the same
two-method seam (:class:`FeedFiles`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .errors import RenderError


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes.
    Returns True when the file was written. Temporary files of this path left by a run that was
    killed while writing are removed (runs never overlap: the run lock is held)."""
    _remove_leftovers(path)
    previous: int | None = None  # the current version's modification time, whole seconds
    try:
        if path.read_bytes() == data:
            return False
        previous = int(path.stat().st_mtime)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise RenderError(f"{path}: cannot read: {exc.strerror}") from None
    fd = -1
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        _later_than(tmp, previous)
        os.replace(tmp, path)
        tmp = ""
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return True


def _later_than(tmp: str, previous: int | None) -> None:
    """Give the new version a modification time at least one whole second after the version it
    replaces. HTTP's Last-Modified (and what readers send back in If-Modified-Since) counts whole
    seconds: two versions written within one second would share it, and a reader whose HTTP client
    checks the date (libcurl does, so newsboat does) would take the second one for the first."""
    if previous is None:
        return
    mtime = os.stat(tmp).st_mtime
    if int(mtime) <= previous:
        os.utime(tmp, (mtime, previous + 1))


def _remove_leftovers(path: Path) -> None:
    try:
        leftovers = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            leftover.unlink()


class FeedFiles(Protocol):
    """Where rendered feed documents go: files in ``feeds_dir`` (SQLite), or the shared state
    (PostgreSQL), so that every node serves the same bytes. ``name`` is a file name such as
    ``NAME.atom`` or ``NAME.archive-3.atom``."""

    def exists(self, name: str) -> bool: ...

    def write(self, name: str, data: bytes) -> bool:
        """Store ``data`` under ``name`` unless it already holds exactly these bytes; True when
        written."""
        ...


class FolderFiles:
    """Feed documents as files in a folder, written atomically (:func:`write_if_changed`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def exists(self, name: str) -> bool:
        return (self.folder / name).exists()

    def write(self, name: str, data: bytes) -> bool:
        return write_if_changed(self.folder / name, data)


class StoredFiles:
    """Feed documents kept in the shared state (``feed_files``): the same bytes, ETag and
    Last-Modified on every node. The store's clock stamps a new version at least one second after
    the one it replaces, as :func:`write_if_changed` does for files."""

    def __init__(self, store: _FeedFileStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    def exists(self, name: str) -> bool:
        return self.store.feed_file_exists(name)

    def write(self, name: str, data: bytes) -> bool:
        return self.store.save_feed_file(name, data, now=self.now())


class _FeedFileStore(Protocol):
    def feed_file_exists(self, name: str) -> bool: ...

    def save_feed_file(self, name: str, data: bytes, *, now: datetime) -> bool: ...
