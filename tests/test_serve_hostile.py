"""No client can lock others out of ``feedbot serve``: with 500 idle connections or 500 slowloris
connections open (headers sent a line every half second, never finished), another client gets its
feed in under a second; a slowloris connection is closed at the request deadline; past the
connection limit the longest-waiting connections make room for new clients. All on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import Config
from feedbot.serve import FeedServer

from .test_serve import ukraine

ATTACKERS = 500
ANSWER_WITHIN = 1.0  # seconds: the goal for a client while the attackers hold on


class Served:
    def __init__(self, config: Config, **options: Any) -> None:
        self.server = FeedServer(config, "127.0.0.1", 0, poll=0.05, **options)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.port

    def open_connections(self) -> int:
        return sum(1 for d in list(self.server.server._map.values()) if hasattr(d, "requests"))

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return ukraine(tmp_path)


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """The attackers' connections, all closed at the end."""
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def connect(port: int, count: int, into: list[socket.socket]) -> None:
    for _ in range(count):
        into.append(socket.create_connection(("127.0.0.1", port), timeout=5))


def timed_get(port: int, path: str = "/ukraine.atom") -> tuple[float, int, bytes]:
    """How long a well-behaved client waits for its feed (or a failure after 10 s)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return time.monotonic() - started, response.status, body
    finally:
        conn.close()


def settle(served: Served, wanted: int, within: float = 3.0) -> int:
    """Wait until the server has taken ``wanted`` connections (at most ``within`` seconds)."""
    ends = time.monotonic() + within
    while served.open_connections() < wanted and time.monotonic() < ends:
        time.sleep(0.05)
    return served.open_connections()


def test_500_idle_connections_do_not_keep_a_client_waiting(
    config: Config, sockets: list[socket.socket]
) -> None:
    served = Served(config)
    try:
        connect(served.port, ATTACKERS, sockets)
        settle(served, ATTACKERS)
        waits = [timed_get(served.port) for _ in range(5)]
    finally:
        served.close()
    assert all(status == 200 and body.startswith(b"<?xml") for _, status, body in waits)
    assert max(wait for wait, _, _ in waits) < ANSWER_WITHIN, waits


class Slowloris:
    """``count`` connections that each send a request line and then one header line every
    ``every`` seconds, never the blank line that ends the request. Stops by itself after
    ``lasting`` seconds (or at :meth:`stop`)."""

    def __init__(self, port: int, count: int, into: list[socket.socket], *, every: float = 0.5):
        connect(port, count, into)
        for sock in into:
            sock.sendall(b"GET /ukraine.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.sockets = into
        self.every = every
        self.closed = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self, lasting: float = 60.0) -> None:
        ends = time.monotonic() + lasting
        n = 0
        while not self._stop.is_set() and time.monotonic() < ends:
            n += 1
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Slow-{n}: a\r\n".encode())
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def test_500_slowloris_connections_do_not_keep_a_client_waiting(
    config: Config, sockets: list[socket.socket]
) -> None:
    served = Served(config)
    attack = Slowloris(served.port, ATTACKERS, sockets)
    try:
        settle(served, ATTACKERS)
        time.sleep(1.0)  # the attackers are well into their never-ending headers
        waits = [timed_get(served.port) for _ in range(5)]
    finally:
        attack.stop()
        served.close()
    assert all(status == 200 for _, status, _ in waits)
    assert max(wait for wait, _, _ in waits) < ANSWER_WITHIN, waits


def test_a_slowloris_connection_is_closed_at_the_request_deadline(
    config: Config, sockets: list[socket.socket]
) -> None:
    served = Served(config, request_timeout=1.5)
    attack = Slowloris(served.port, 3, sockets, every=0.2)
    try:
        started = time.monotonic()
        sock = sockets[0]
        sock.settimeout(8)
        try:
            ended = sock.recv(1024)  # the server closes it: b"" (or a reset)
        except ConnectionResetError:
            ended = b""
        elapsed = time.monotonic() - started
        wait, status, _ = timed_get(served.port)
    finally:
        attack.stop()
        served.close()
    assert ended == b""
    assert 1.5 <= elapsed < 1.5 + 2.5  # the deadline, one sweep and a margin
    assert status == 200 and wait < ANSWER_WITHIN


def test_an_idle_connection_is_closed_after_the_idle_timeout(
    config: Config, sockets: list[socket.socket]
) -> None:
    served = Served(config, idle_timeout=1)
    try:
        connect(served.port, 1, sockets)
        sockets[0].settimeout(8)
        started = time.monotonic()
        assert sockets[0].recv(1024) == b""
        elapsed = time.monotonic() - started
    finally:
        served.close()
    assert 1.0 <= elapsed < 1 + 2.5


def test_past_the_connection_limit_the_longest_waiting_make_room(
    config: Config, sockets: list[socket.socket]
) -> None:
    """More idle connections than the limit allows: a new client is still answered at once, and
    the connections that were closed for it are the oldest ones."""
    served = Served(config, connection_limit=100)
    try:
        connect(served.port, 150, sockets)
        settle(served, 95)
        wait, status, _ = timed_get(served.port)
        first, last = sockets[0], sockets[-1]
        first.settimeout(0.5)
        try:
            ended = first.recv(1)
        except ConnectionResetError:
            ended = b""
        last.settimeout(0.5)
        with pytest.raises(TimeoutError):
            last.recv(1)  # the newest attacker's connection is still open (for now)
    finally:
        served.close()
    assert status == 200 and wait < ANSWER_WITHIN
    assert served.server.connection_limit == 100
    assert ended == b""  # the very first connection was closed to make room


# --- what a request can make the server say --------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        'evil.example"><outline xmlUrl="http://evil.example/',
        "evil.example/../x?",
        "a b",
        "127.0.0.1:8080@evil.example",
        "",
    ],
)
def test_opml_without_base_url_never_builds_urls_from_a_bad_host_header(
    config: Config, host: str
) -> None:
    from lxml import etree

    served = Served(config)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
        conn.putrequest("GET", "/opml", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        conn.close()
    finally:
        served.close()
    assert response.status in (200, 400)
    if response.status == 200:
        outlines = etree.fromstring(body).findall(".//outline")
        assert outlines
        for outline in outlines:
            url = outline.get("xmlUrl") or ""
            assert url.startswith(f"http://127.0.0.1:{served.port}/"), url
    assert b"evil" not in body


def test_a_control_character_in_a_feed_title_does_not_break_opml(tmp_path: Path) -> None:
    from lxml import etree

    from .test_serve import Client

    config = ukraine(tmp_path, feeds={"ukraine": {"title": "Ukraine\u0001 digest\u001f \ud7ff"}})
    served = Served(config)
    try:
        reply = Client("127.0.0.1", served.port).request("/opml")
        index = Client("127.0.0.1", served.port).request("/")
    finally:
        served.close()
    assert reply.status == 200 and index.status == 200
    (outline,) = etree.fromstring(reply.body).findall(".//outline")
    assert outline.get("title") == "Ukraine digest \ud7ff"
