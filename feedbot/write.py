"""Writing feed files: atomically (temp file, fsync, rename, directory fsync) and only when the bytes
changed; and the seam between publishing and where feed documents live.

Owns: the feeds directory, and every atomic file write of feedbot (:func:`write_atomic`: feed files
and the daemon's ``daemon.json``). A reader never sees a half-written file; an unchanged feed keeps
its bytes and its modification time, so HTTP validators and readers' caches stay valid.

Feed files and durability: each new version is written to its temporary file and fsynced before it
is renamed over the old one, so whatever survives a crash or a power cut is a whole version, old or
new. The rename itself is made durable by an fsync of the directory, which :class:`FileSink` does
once for all the documents written since the last :meth:`FileSink.sync` instead of once per file
(two fsyncs per document were most of the time a run spent writing 200 feeds). That is safe
because of who calls ``sync``: :mod:`feedbot.publish` clears a feed's pending mark in the store
only after it, so a rename a power cut took back leaves the feed pending (or its document missing),
and the next run writes it again; and an archive page is recorded as written only after it too.
A process that is killed loses nothing either way: a rename is visible to every other process the
moment it returns, the fsync matters only to what the disk keeps when the machine stops.

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
from concurrent.futures import Future, ThreadPoolExecutor
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

    def sync(self) -> None:
        """Make every document written so far durable (raises RenderError when it cannot)."""
        ...

    def close(self) -> None:
        """End what the sink runs in the background (after :meth:`sync`)."""
        ...

    def version(self, name: str) -> Hashable | None:
        """A cheap stamp of the current version (None when absent), to tell whether a copy read
        before is still current without reading the bytes again."""
        ...

    def read(self, name: str) -> FeedDocument | None:
        """The current document, or None when there is none (or it cannot be read)."""
        ...


class FileSink:
    """Feed documents as files in one directory. A document written is whole at once (file fsync,
    then rename); the directory is fsynced by :meth:`sync`, once for every write before it.

    ``writers`` > 0: new versions are written by that many threads in the background (a run of
    many feeds: the fsync of each file no longer holds the thread that renders the next one, and
    the writes' fsyncs overlap); whether a document changed is still decided at once, and
    :meth:`sync` waits for the writes and raises for those that failed. :meth:`close` ends the
    threads."""

    def __init__(self, directory: Path, *, writers: int = 0) -> None:
        self.directory = directory
        self.writers = writers
        self._unsynced = False
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, Future[None]]] = []

    def path(self, name: str) -> Path:
        return self.directory / name

    def write_if_changed(self, name: str, data: bytes) -> bool:
        path = self.directory / name
        if self.writers <= 0:
            written = write_if_changed(path, data, sync_directory=False)
            self._unsynced = self._unsynced or written
            return written
        changed, previous = _compare(path, data)
        if not changed:
            return False
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.writers, thread_name_prefix="feedbot-write")
        self._pending.append((name, self._pool.submit(_write_version, path, data, previous)))
        return True

    def sync(self) -> None:
        pending, self._pending = self._pending, []
        failed: list[tuple[str, BaseException]] = []
        for name, future in pending:
            try:
                future.result()
                self._unsynced = True
            except RenderError as exc:
                failed.append((name, exc))
        if self._unsynced:
            try:
                fsync_directory(self.directory)
            except OSError as exc:
                raise RenderError(f"{self.directory}: cannot sync: {exc.strerror or exc}") from None
            self._unsynced = False
        if failed:
            raise RenderError(
                "; ".join(str(exc) for _, exc in failed), documents=tuple(n for n, _ in failed)
            )

    def close(self) -> None:
        """Wait for the writes under way and end the writer threads (:meth:`sync` first to know
        how they went)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

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

    def sync(self) -> None:
        """Nothing to do: each document is its own committed transaction."""

    def close(self) -> None:
        """Nothing runs in the background."""

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


def write_if_changed(path: Path, data: bytes, *, sync_directory: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes.
    Returns True when the file was written. ``sync_directory=False``: the caller fsyncs the
    directory later (see the module's docstring)."""
    changed, previous = _compare(path, data)
    if changed:
        _write_version(path, data, previous, sync_directory=sync_directory)
    return changed


def _compare(path: Path, data: bytes) -> tuple[bool, int | None]:
    """Whether ``path`` must be written to hold ``data``, and the modification time (whole
    seconds) of the version it replaces. An unchanged file's leftover temporary file goes."""
    try:
        if path.read_bytes() == data:
            with contextlib.suppress(FileNotFoundError):
                temp_path(path).unlink()  # a version a killed run did not get to rename
            return False, None
        return True, int(path.stat().st_mtime)
    except FileNotFoundError:
        return True, None
    except OSError as exc:
        raise RenderError(f"{path}: cannot read: {exc.strerror}") from None


def _write_version(
    path: Path, data: bytes, previous: int | None, *, sync_directory: bool = False
) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(
            path, data, later_than=previous, temp=temp_path(path), sync_directory=sync_directory
        )
    except OSError as exc:
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o644,
    later_than: int | None = None,
    temp: Path | None = None,
    sync_directory: bool = True,
) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old bytes or the new, never part:
    a temporary file beside it (``temp``, else a new unique name), fsynced, renamed over it, the
    directory fsynced (unless ``sync_directory`` is False: the caller does it later). ``later_than``:
    see :func:`_later_than`. Raises OSError; the temporary file never stays behind."""
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
        if sync_directory:
            fsync_directory(path.parent)
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def fsync_directory(directory: Path) -> None:
    """fsync a directory: the renames done in it survive a power cut."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


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
