"""Writing feed files: atomically (temp file, fsync, rename, directory fsync) and only when the bytes
changed; and the seam between publishing and where feed documents live.

Owns: the feeds directory, and every atomic file write of feedbot (:func:`write_atomic`: feed files
and the daemon's ``daemon.json``). A reader never sees a half-written file; an unchanged feed keeps
its bytes and its modification time, so HTTP validators and readers' caches stay valid.

The seam: :class:`FeedSink` is what publishing writes through and what the server reads from — a
document by name (``ukraine.atom``), its bytes and when it last changed. :class:`FileSink` keeps
them as files in ``feeds_dir``; :class:`StateSink` keeps them in the shared state (a PostgreSQL
``state``: every node serves the same bytes with the same validators), and neither
:mod:`feedbot.publish` nor :mod:`feedbot.serve` knows which.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .errors import RenderError, StoreError
from .model import StoredFile


@dataclass(frozen=True)
class FeedDocument:
    """A stored feed document as the server serves it."""

    body: bytes
    modified: float  # seconds since the epoch: when these bytes were written (Last-Modified)
    version: Hashable  # changes whenever the document does (see FeedSink.version)


class FeedSink(Protocol):
    """Where feed documents live. Thread-safe: the server reads from several threads while a run
    writes. Names are file names (``NAME.EXT``, ``NAME.archive-N.atom``), never paths from a request."""

    def write_if_changed(self, name: str, data: bytes) -> bool:
        """Store ``data`` under ``name`` unless it already holds exactly these bytes; True when
        written. A new version's ``modified`` is at least one whole second after the old one's.
        Raises RenderError naming the document when it cannot."""
        ...

    def exists(self, name: str) -> bool: ...

    def version(self, name: str) -> Hashable | None:
        """A cheap stamp of the current version (None when absent), to tell whether a copy read
        before is still current without reading the bytes again."""
        ...

    def read(self, name: str) -> FeedDocument | None:
        """The current document, or None when there is none (or it cannot be read)."""
        ...


class FileSink:
    """Feed documents as files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        return self.directory / name

    def write_if_changed(self, name: str, data: bytes) -> bool:
        return write_if_changed(self.directory / name, data)

    def exists(self, name: str) -> bool:
        return (self.directory / name).is_file()

    def version(self, name: str) -> Hashable | None:
        try:
            st = (self.directory / name).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def read(self, name: str) -> FeedDocument | None:
        try:
            with (self.directory / name).open("rb") as handle:
                st = os.fstat(handle.fileno())  # the file we actually read (renames are atomic)
                body = handle.read()
        except OSError:
            return None
        return FeedDocument(body, st.st_mtime, (st.st_ino, st.st_size, st.st_mtime_ns))


def temp_path(path: Path) -> Path:
    """Where a new version of the feed file ``path`` is written before it replaces it: one fixed
    name per file, so that a version a killed run left half-written is overwritten (or removed) by
    the next write of that file, and no write has to look through the folder for leftovers (a glob
    of the whole feeds folder per file written made writing quadratic in the feeds). Two writes of
    one feed file never overlap: runs hold the run lock, and sources writing one feed take turns."""
    return path.with_name(f".{path.name}.tmp")


class DocumentStore(Protocol):
    """The part of :class:`feedbot.store.Store` that keeps feed documents (table ``feed_files``)."""

    def feed_file_stamp(self, name: str) -> tuple[str, int] | None: ...

    def feed_file(self, name: str) -> StoredFile | None: ...

    def save_feed_file(self, name: str, data: bytes, *, now: datetime) -> bool: ...


class StateSink:
    """Feed documents kept in the shared state: the same bytes, ETag and Last-Modified on every
    node. ``open_store`` gives a store for one operation — the run's own store (publishing, in the
    thread that owns it) or one on a pooled connection (the server's threads). A new version is
    stamped by ``now``, at least one second after the version it replaces (the store sees to it).
    A document once stored is never removed, so the names seen to exist are remembered (a worker
    keeps one sink for all its runs: whether a feed has its documents costs no query then)."""

    def __init__(
        self,
        open_store: Callable[[], AbstractContextManager[DocumentStore]],
        now: Callable[[], datetime],
    ) -> None:
        self.open_store = open_store
        self.now = now
        self._existing: set[str] = set()

    def write_if_changed(self, name: str, data: bytes) -> bool:
        try:
            with self.open_store() as store:
                written = store.save_feed_file(name, data, now=self.now())
        except StoreError as exc:
            raise RenderError(f"{name}: cannot write it into the shared state: {exc}") from None
        self._existing.add(name)
        return written

    def exists(self, name: str) -> bool:
        if name in self._existing:
            return True
        if self.version(name) is None:
            return False
        self._existing.add(name)
        return True

    def version(self, name: str) -> Hashable | None:
        with self.open_store() as store:
            return store.feed_file_stamp(name)

    def read(self, name: str) -> FeedDocument | None:
        with self.open_store() as store:
            stored = store.feed_file(name)
        if stored is None:
            return None
        return FeedDocument(stored.body, stored.modified, (stored.sha256, stored.modified))


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes.
    Returns True when the file was written."""
    tmp = temp_path(path)
    previous: int | None = None  # the current version's modification time, whole seconds
    try:
        if path.read_bytes() == data:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()  # a version a killed run did not get to rename
            return False
        previous = int(path.stat().st_mtime)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise RenderError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, later_than=previous, temp=tmp)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return True


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o644,
    later_than: int | None = None,
    temp: Path | None = None,
) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old bytes or the new, never part:
    a temporary file beside it (``temp``, else a new unique name), fsynced, renamed over it, the
    directory fsynced. ``later_than``: see :func:`_later_than`. Raises OSError; the temporary file
    never stays behind."""
    fd = -1
    tmp = ""
    try:
        if temp is None:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        else:
            tmp = str(temp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        _later_than(tmp, later_than)
        os.replace(tmp, path)
        tmp = ""
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


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
