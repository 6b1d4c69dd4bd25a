"""A lock so that two runs (cron, the daemon, a user) never process the same state at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from .errors import LockError


class RunLock:
    """An exclusive advisory lock on ``state_dir/feedbot.lock``; released when the process dies."""

    def __init__(self, state_dir: Path, timeout: float) -> None:
        self.path = state_dir / "feedbot.lock"
        self.timeout = timeout
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
                with contextlib.suppress(OSError):  # the pid is a courtesy; on a full disk, skip it
                    os.ftruncate(self.fd, 0)
                    os.write(self.fd, f"{os.getpid()}\n".encode())
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder()
                    os.close(self.fd)
                    self.fd = -1
                    raise LockError(
                        f"another feedbot run{holder} holds {self.path}; gave up after {self.timeout:g}s"
                    ) from None
                time.sleep(0.1)

    def _holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" (pid {pid})" if pid.isdigit() else ""

    def release(self) -> None:
        if self.fd >= 0:
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
