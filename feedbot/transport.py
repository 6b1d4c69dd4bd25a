"""Where the fetch policy and the wall-clock deadline meet the wire: a requests adapter whose urllib3
connections check every address they connect to, and a watchdog that ends a request on time.

Owns: :class:`GuardedAdapter` (mount it on a :class:`requests.Session`), :func:`scope` (the policy
context and deadline of the requests the calling thread makes) and :class:`Deadline`. The rule
itself is :mod:`feedbot.netpolicy`'s; this module only applies it. Must not: decide anything about
pages, read the state or the clock of the pipeline (the watchdog keeps real, monotonic time).

- **At connect time**: a new connection resolves its host once, drops every address the policy
  refuses (:func:`feedbot.netpolicy.resolve`) and connects only to the rest, so a name that resolves
  to a public address when checked and to ``127.0.0.1`` when connected (DNS rebinding) cannot
  happen: there is one resolution. A kept-alive connection is judged again, on the address it is
  connected to, before each request made on it (another source may have opened it).
- **Through a proxy** from the environment (``HTTP_PROXY``...), the proxy — named by the user — is
  connected to as it is, and it resolves the page's host: feedbot can then check only the URL
  (:func:`feedbot.netpolicy.check_url`); a proxy for the open internet refuses internal names itself.
- **Deadline**: when it passes, the watchdog shuts the request's sockets down, so a read blocked on
  a server that sends one byte a second (or nothing, but keeps the connection open) returns at once;
  the fetcher sees ``deadline.expired`` and says so. A socket read timeout alone cannot do that: each
  byte restarts it.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from . import netpolicy
from .netpolicy import STRICT, Context, Origin


class Deadline:
    """A wall-clock limit (``time.monotonic()`` seconds) for the requests of one :func:`scope`."""

    def __init__(self, seconds: float, what: str = "request") -> None:
        self.expires = time.monotonic() + max(0.0, seconds)
        self.seconds = seconds
        self.what = what  # for the message: "request", "source"
        self.expired = False
        self._done = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def watch(self, connection: Any) -> None:
        """Shut ``connection``'s socket down if the deadline passes while this scope uses it. The
        socket itself is kept: a response read until the server closes takes it over from the
        connection (http.client then sets ``connection.sock`` to None)."""
        sock = getattr(connection, "sock", None)
        if sock is None:
            return
        with _owners_lock:
            _owners[sock] = self  # a kept-alive socket belongs to its latest user only
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock)
            if self.expired:
                _shut(sock, self)

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock, self)

    def close(self) -> None:
        with self._lock:
            self._done = True
            self._sockets.clear()

    @property
    def done(self) -> bool:
        return self._done


# which deadline each socket in use belongs to (weakly: a closed socket leaves by itself)
_owners: weakref.WeakKeyDictionary[socket.socket, Deadline] = weakref.WeakKeyDictionary()
_owners_lock = threading.Lock()


def _shut(sock: socket.socket, owner: Deadline) -> None:
    """Wake a thread blocked reading ``sock`` (unless another scope uses it now)."""
    with _owners_lock:
        if _owners.get(sock) is not owner:
            return
    try:
        if sock.fileno() != -1:
            # socket.socket's own shutdown: on a TLS socket it only shuts the file descriptor,
            # without touching the TLS state the reading thread is using
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One thread that fires deadlines when they pass."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.expires, next(self._count), deadline))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="feedbot-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)[2].fire()


_WATCHDOG = _Watchdog()
_local = threading.local()


@contextmanager
def scope(context: Context, deadline: Deadline | None = None) -> Iterator[None]:
    """Requests the calling thread makes inside this block are checked against ``context`` and, with
    a ``deadline``, ended when it passes (the response must be read inside the block too)."""
    previous = (getattr(_local, "context", None), getattr(_local, "deadline", None))
    _local.context, _local.deadline = context, deadline
    if deadline is not None:
        _WATCHDOG.add(deadline)
    try:
        yield
    finally:
        if deadline is not None:
            deadline.close()
        _local.context, _local.deadline = previous


def current_context() -> Context:
    return getattr(_local, "context", None) or STRICT


def _current_deadline() -> Deadline | None:
    return getattr(_local, "deadline", None)


class _Guarded:
    """What the two connection classes add to urllib3's: the address check and the deadline."""

    scheme_name = "http"
    host: str
    port: int
    timeout: Any
    socket_options: Any
    source_address: Any
    proxy: Any
    sock: Any
    _feedbot_address: netpolicy.IPAddress | None = None

    def _origin(self) -> Origin:
        return Origin(self.scheme_name, netpolicy.normal_host(self.host), self.port)

    def _guarded_conn(self) -> socket.socket:
        context = current_context()
        try:
            choices = netpolicy.resolve(self.host, self.port, context, scheme=self.scheme_name)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for choice in choices:
            sock = socket.socket(choice.family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is None or isinstance(self.timeout, int | float):
                    sock.settimeout(self.timeout)  # else urllib3's "default" marker: leave it
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(choice.sockaddr)
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    self,
                    f"Connection to {self.host} timed out. (connect timeout={self.timeout})",
                ) from exc
            except OSError as exc:
                sock.close()
                error = exc
                continue
            self._feedbot_address = choice.address
            return sock
        raise NewConnectionError(
            self,  # type: ignore[arg-type]
            f"Failed to establish a new connection: {error or 'no address'}",
        )

    def _judge_kept_alive(self) -> None:
        """Before a request on a connection opened earlier (perhaps for another source)."""
        if self.proxy is not None or self._feedbot_address is None:
            return
        netpolicy.check_address(self._feedbot_address, current_context(), origin=self._origin())

    def _watch(self) -> None:
        deadline = _current_deadline()
        if deadline is not None:
            deadline.watch(self)

    # urllib3's hooks (the mixin comes first in the method order, so super() is urllib3's class)
    def _new_conn(self) -> socket.socket:
        if self.proxy is not None:  # connecting to the environment's proxy: the user named it
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        else:
            sock = self._guarded_conn()
        self.sock = sock
        self._watch()  # from the first byte of the connect phase (a TLS handshake included)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._watch()  # the TLS socket that replaced the plain one

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # kept alive from an earlier request
            self._judge_kept_alive()
            self._watch()
        super().request(*args, **kwargs)  # type: ignore[misc]


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    scheme_name = "http"


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    scheme_name = "https"


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter whose connections (direct or through a proxy) are the guarded ones."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def guarded_session(
    *,
    pool_connections: int = 10,
    pool_maxsize: int = 10,
    session: requests.Session | None = None,
) -> requests.Session:
    """A requests session whose every connection obeys the fetch policy of the current
    :func:`scope` (the strict policy outside one); ``session``: the session to mount the guarded
    adapter on (default: a new one)."""
    session = session if session is not None else requests.Session()
    adapter = GuardedAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
