"""A lock so that two runs (cron, the daemon, a user) never process the same state at once.

The lock file holds the holder's pid and role (``run`` or ``daemon``). The daemon holds the lock for
its whole life, so a ``feedbot run`` that finds the daemon there gives up at once with a message
naming the daemon's pid instead of waiting for a lock that will not be released.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from .errors import LockError

# The descriptors of the locks this process holds. A child forked while one is held (a run's
# worker processes: feedbot.pool) would share the lock with us — flock belongs to the open file,
# which fork duplicates — and keep it after we die until it exits itself: the child closes its
# copies at once (the lock stays ours; it goes when our last descriptor does).
_HELD: set[int] = set()


def _forget_in_child() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class RunLock:
    """An exclusive advisory lock on ``state_dir/feedbot.lock``; released when the process dies."""

    def __init__(self, state_dir: Path, timeout: float, *, role: str = "run") -> None:
        self.path = state_dir / "feedbot.lock"
        self.timeout = timeout
        self.role = role
        self.fd = -1

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockError(f"{self.path}: cannot open the lock file: {exc.strerror}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _HELD.add(self.fd)
                with contextlib.suppress(OSError):  # the pid is a courtesy; on a full disk, skip it
                    os.ftruncate(self.fd, 0)
                    os.write(self.fd, f"{os.getpid()} {self.role}\n".encode())
                return
            except BlockingIOError:
                pid, role = self.holder()
                if role == "daemon":
                    os.close(self.fd)
                    self.fd = -1
                    if self.role == "daemon":
                        raise LockError(
                            f"another feedbot daemon (pid {pid}) is already running with {self.path}"
                        ) from None
                    raise LockError(
                        f"the feedbot daemon (pid {pid}) is running and holds {self.path}; it runs "
                        "every source on its schedule (stop it first to run by hand)"
                    ) from None
                if time.monotonic() >= deadline:
                    holder = f" (pid {pid})" if pid else ""
                    os.close(self.fd)
                    self.fd = -1
                    raise LockError(
                        f"another feedbot run{holder} holds {self.path}; gave up after {self.timeout:g}s"
                    ) from None
                time.sleep(0.1)

    def holder(self) -> tuple[int | None, str]:
        """The pid and role written by the lock's holder (``(None, "")`` when unknown)."""
        try:
            fields = self.path.read_text().split()
        except OSError:
            return None, ""
        if not fields or not fields[0].isdigit():
            return None, ""
        return int(fields[0]), fields[1] if len(fields) > 1 else "run"

    def release(self) -> None:
        if self.fd >= 0:
            _HELD.discard(self.fd)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
