"""Being a good citizen towards each host: how many requests at once, how often, and robots.txt.

Owns: the per-host gate (maximum concurrency and minimum interval between request starts) and the
robots.txt verdicts, cached in memory for the life of a :class:`~feedbot.fetch.Fetcher`. Must not:
retrieve pages (the fetcher hands in a function that retrieves robots.txt) or decide anything about
items. Thread-safe: the worker threads of a run share one gate and one robots cache.

A *host* is ``scheme://host:port`` — the unit robots.txt applies to (RFC 9309, section 2.3) — so two
servers on one machine but on different ports are two hosts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from .errors import ErrorKind

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB


def host_key(url: str) -> str:
    """``https://Example.org/a`` -> ``https://example.org:443``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class Gate(Protocol):
    """What the fetcher asks before each request: a slot for the URL's host, held while the
    request runs (:class:`HostGate` in one process; the workers of a cluster share one in the
    state, :class:`feedbot.store.SharedHostGate`)."""

    def slot(self, url: str, *, timeout: float | None = None) -> AbstractContextManager[None]:
        """Hold one of the host's slots for the block; with a ``timeout`` (seconds), raise
        :class:`SlotTimeout` instead of waiting longer for one."""
        ...


class HostGate:
    """At most ``concurrency`` requests at once per host, and request starts at least ``interval``
    seconds apart per host. Slots are reserved under a lock, so threads never race for one."""

    def __init__(
        self,
        *,
        concurrency: int,
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, url: str, *, timeout: float | None = None) -> Iterator[None]:
        """Hold one of the host's slots for the block. With a ``timeout`` (seconds, the caller's
        deadline), raises :class:`SlotTimeout` instead of waiting longer for a free slot."""
        key = host_key(url)
        with self._lock:
            semaphore = self._slots.setdefault(key, threading.BoundedSemaphore(self.concurrency))
        if not semaphore.acquire(timeout=None if timeout is None else max(0.0, timeout)):
            raise SlotTimeout(key, timeout or 0.0)
        try:
            with self._lock:
                now = self._monotonic()
                start = max(now, self._next_start.get(key, now))
                self._next_start[key] = start + self.interval
            if start > now:
                self._sleep(start - now)
            yield
        finally:
            semaphore.release()


class SlotTimeout(Exception):
    """Every slot of a host stayed busy for longer than the caller could wait."""

    def __init__(self, host: str, waited: float) -> None:
        super().__init__(
            f"{host} stayed busy with other requests for {waited:g}s (host_concurrency)"
        )
        self.host = host
        self.waited = waited


@dataclass(frozen=True)
class RobotsAnswer:
    """What a host's /robots.txt said, reduced to what we need."""

    status: (
        str  # "rules" (parsed), "allow" (no usable file: 4xx), "unreachable" (5xx, 429, network)
    )
    rules: Protego | None = None
    detail: str = ""
    network: bool = False  # unreachable because the host did not answer at all
    kind: ErrorKind | None = None  # for a network failure: what kind

    def allows(self, url: str, user_agent: str) -> bool:
        if self.status == "allow":
            return True
        if self.status == "unreachable" or self.rules is None:
            return False
        return bool(self.rules.can_fetch(url, user_agent))


@dataclass(frozen=True)
class RobotsFile:
    """A raw answer for /robots.txt: the HTTP status (0 for a network failure) and the body."""

    status: int
    body: bytes
    error: str = ""
    kind: ErrorKind | None = None  # what kind of failure ``error`` is (status 0)


def interpret(answer: RobotsFile) -> RobotsAnswer:
    """RFC 9309 2.3.1: 2xx = the rules; 4xx = no rules (allow all); 5xx or unreachable = disallow
    everything for now. A 429 ("slow down") is read as unreachable, as the big crawlers do."""
    if answer.status == 0:
        return RobotsAnswer(
            "unreachable", detail=answer.error or "cannot connect", network=True, kind=answer.kind
        )
    if 200 <= answer.status < 300:
        body = answer.body
        if len(body) > ROBOTS_MAX_BYTES:
            # the first 500 KiB, cut at a line break: half a rule ("Allow: /pri" of "/private")
            # would say more than the file does
            body = body[:ROBOTS_MAX_BYTES]
            body = body[: body.rfind(b"\n") + 1] or body
        text = body.decode("utf-8", "replace")
        return RobotsAnswer("rules", Protego.parse(text))
    if answer.status == 429 or answer.status >= 500:
        return RobotsAnswer("unreachable", detail=f"HTTP {answer.status}")
    return RobotsAnswer("allow", detail=f"HTTP {answer.status}")


class RobotsCache:
    """robots.txt verdicts per host, kept ``ttl`` seconds (``failure_ttl`` for an unreachable file).
    One retrieval per host even when several threads ask at once."""

    def __init__(
        self,
        retrieve: Callable[[str], RobotsFile],
        *,
        ttl: float = 3600.0,
        failure_ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retrieve = retrieve
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._answers: dict[str, tuple[float, RobotsAnswer]] = {}

    def answer(self, url: str) -> RobotsAnswer:
        key = host_key(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            cached = self._answers.get(key)
            if cached is not None and cached[0] > self._monotonic():
                return cached[1]
            parts = urlsplit(url)
            answer = interpret(self._retrieve(f"{parts.scheme}://{parts.netloc}/robots.txt"))
            ttl = self.failure_ttl if answer.status == "unreachable" else self.ttl
            self._answers[key] = (self._monotonic() + ttl, answer)
            return answer
