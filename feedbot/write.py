"""Writing feed files: atomically (temp file, fsync, rename) and only when the bytes changed.

Owns: the feeds directory. A reader never sees a half-written file; an unchanged feed keeps its
bytes and its modification time, so HTTP validators and readers' caches stay valid.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .errors import RenderError


def temp_path(path: Path) -> Path:
    """Where a new version of ``path`` is written before it replaces it: one fixed name per file,
    so that a version a killed run left half-written is overwritten (or removed) by the next write
    of that file, and no write has to look through the folder for leftovers. Two writes of one file
    never overlap: runs hold the run lock, and sources writing the same feed take turns."""
    return path.with_name(f".{path.name}.tmp")


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
    fd = -1
    written = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        os.fchmod(fd, 0o644)  # whatever the umask, as the file it replaces
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        _later_than(tmp, previous)
        os.replace(tmp, path)
        written = True
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
        if not written:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return True


def _later_than(tmp: Path, previous: int | None) -> None:
    """Give the new version a modification time at least one whole second after the version it
    replaces. HTTP's Last-Modified (and what readers send back in If-Modified-Since) counts whole
    seconds: two versions written within one second would share it, and a reader whose HTTP client
    checks the date (libcurl does, so newsboat does) would take the second one for the first."""
    if previous is None:
        return
    mtime = os.stat(tmp).st_mtime
    if int(mtime) <= previous:
        os.utime(tmp, (mtime, previous + 1))
