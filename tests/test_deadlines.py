"""No slow site holds a run: a server that sends one byte at a time, or never finishes its answer,
is cut off at the wall-clock deadline (per request and per source) while feedbot is reading, with a
clear error; the healthy sources around it are stored and their feeds written on time."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import load_config
from feedbot.errors import FetchError
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.model import RunResult
from feedbot.run import run_once

from .helpers import FIXTURES, Clock, Response, Server, write_config

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
UA = "t (+http://127.0.0.1/)"
DRIP_FOR = 30.0  # seconds a slow handler goes on at most, so that it always ends by itself


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set at the end of the test: every slow handler still sending stops."""
    event = threading.Event()
    yield event
    event.set()


def drip(stop: threading.Event, *, every: float = 0.1) -> Callable[[BaseHTTPRequestHandler], None]:
    """Headers at once with the page's length, then the body one byte every ``every`` seconds —
    each byte arrives well within any read timeout, so only a wall-clock deadline ends it."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.flush()
        ends = time.monotonic() + DRIP_FOR
        try:
            for byte in PAGE:
                if stop.is_set() or time.monotonic() > ends:
                    break
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # feedbot hung up: that is the point
        handler.close_connection = True

    return handle


def never_closes(stop: threading.Event) -> Callable[[BaseHTTPRequestHandler], None]:
    """The whole page without a length, then the connection held open (a space every 0.2 s keeps
    it alive): the body never ends, so a reader that waits for the end waits for ever."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        ends = time.monotonic() + DRIP_FOR
        try:
            handler.wfile.write(PAGE)
            handler.wfile.flush()
            while not stop.is_set() and time.monotonic() < ends:
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass
        handler.close_connection = True

    return handle


def slow_headers(stop: threading.Event) -> Callable[[BaseHTTPRequestHandler], None]:
    """The status line and headers a byte at a time (slowloris, from the server's side)."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Pad: y\r\n" * 200 + b"\r\n"
        ends = time.monotonic() + DRIP_FOR
        try:
            for byte in head:
                if stop.is_set() or time.monotonic() > ends:
                    break
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
        handler.close_connection = True

    return handle


def in_thread(target: Callable[[], Any], timeout: float) -> tuple[Any, float]:
    """Run ``target`` in a thread; its result and how long it took — or fail after ``timeout``
    (the run would hang: the thread is left to the slow handlers' own end)."""
    box: list[Any] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: box.append(target()), daemon=True)
    thread.start()
    thread.join(timeout)
    elapsed = time.monotonic() - started
    assert box, f"still running after {timeout:g}s: the slow server holds it"
    return box[0], elapsed


@pytest.mark.parametrize("kind", ["drip", "never_closes", "slow_headers"])
def test_a_slow_server_is_cut_off_at_the_sources_deadline(
    tmp_path: Path, server: Server, stop: threading.Event, kind: str
) -> None:
    handler = {"drip": drip, "never_closes": never_closes, "slow_headers": slow_headers}[kind]
    server.routes["/digest"] = Response(handler=handler(stop))
    fetch = Fetcher(FetchSettings(user_agent=UA, read_timeout=2, tries=3, deadline=1.5))
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/digest"), "feed": "f"}])
    )
    source = config.sources[0]

    def attempt() -> str:
        try:
            fetch.fetch(source)
        except FetchError as exc:
            return str(exc)
        return "no error"

    message, elapsed = in_thread(attempt, timeout=10)
    assert "source's 1.5s deadline passed" in message, message
    assert elapsed < 1.5 + 1.0
    assert len(server.requests) == 1  # no try after the deadline


def test_one_request_is_cut_off_at_the_request_timeout(
    tmp_path: Path, server: Server, stop: threading.Event
) -> None:
    """A request over ``request_timeout`` is retried while the source's deadline leaves time."""
    server.routes["/digest"] = [Response(handler=drip(stop)), Response(200, PAGE)]
    fetch = Fetcher(
        FetchSettings(
            user_agent=UA, read_timeout=5, tries=2, backoff=0.01, request_timeout=1, deadline=20
        )
    )
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/digest"), "feed": "f"}])
    )
    started = time.monotonic()
    page = fetch.fetch(config.sources[0])
    assert page.text.startswith("<!DOCTYPE") or "<html" in page.text
    assert 1.0 <= time.monotonic() - started < 3.0
    assert len(server.requests) == 2


def test_slow_sources_never_hold_the_healthy_ones(
    tmp_path: Path, server: Server, stop: threading.Event
) -> None:
    """Five sources, two of them slow (a drip and a never-closing server), on two workers: the run
    ends soon after the 2 s deadline, the slow ones fail saying so, and every healthy feed is
    written — those before the slow sources in the config and those after them."""
    server.routes["/slow"] = Response(handler=drip(stop))
    server.routes["/open"] = Response(handler=never_closes(stop))
    for n in (1, 2, 3):
        server.routes[f"/good{n}"] = Response(200, PAGE)
    names = ["good1", "slow", "open", "good2", "good3"]
    sources = [{"name": n, "url": server.url(f"/{n}"), "feed": n} for n in names]
    config = load_config(write_config(tmp_path, sources, concurrency=2, host_concurrency=5))
    fetch = Fetcher(FetchSettings(user_agent=UA, read_timeout=2, tries=2, deadline=2))

    results, elapsed = in_thread(
        lambda: run_once(config, now=Clock(), fetcher=fetch), timeout=DRIP_FOR / 2
    )

    by_name: dict[str, RunResult] = {r.source: r for r in results}
    for name in ("slow", "open"):
        error = by_name[name].error or ""
        assert not by_name[name].ok and "2s deadline passed" in error, error
    for name in ("good1", "good2", "good3"):
        assert by_name[name].ok and by_name[name].new == 5, by_name[name].error
        assert (config.feeds_dir / f"{name}.atom").is_file()
    assert not (config.feeds_dir / "slow.atom").exists()
    assert not (config.feeds_dir / "open.atom").exists()
    assert elapsed < 2 + 3.0  # the deadline, and a margin for a loaded machine


def test_the_daemon_shows_a_run_in_progress_and_its_slow_source_ends_at_the_deadline(
    tmp_path: Path,
    server: Server,
    stop: threading.Event,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from feedbot.cli import main

    from .test_daemon import DaemonProcess, wait_for

    server.routes["/slow"] = Response(handler=drip(stop))
    server.routes["/good"] = Response(200, PAGE)
    sources = [
        {"name": "slow", "url": server.url("/slow"), "feed": "slow", "schedule": "1s"},
        {"name": "good", "url": server.url("/good"), "feed": "good", "schedule": "1s"},
    ]
    config = write_config(tmp_path, sources, source_timeout=3, read_timeout=2)
    daemon = DaemonProcess(config)
    try:

        def slow() -> str:
            main(["status", "-c", str(config)])
            out = capsys.readouterr().out
            return next(row for row in out.splitlines() if row.startswith("slow "))

        wait_for("the slow run shown in progress", lambda: "running" in slow(), timeout=10)
        wait_for(
            "how long it has run", lambda: bool(re.search(r"running [1-9]s ", slow())), timeout=3
        )
        wait_for("the good feed", lambda: (tmp_path / "feeds" / "good.atom").exists(), timeout=5)
        wait_for("the slow source's deadline", lambda: "3s deadline passed" in slow(), timeout=10)
    finally:
        daemon.close()


def test_storing_waits_for_a_stuck_source_no_longer_than_its_deadline(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the fetch (which the deadline ends), a worker can still take long — splitting a huge
    page, say. Storing, in config order, waits for it only up to the deadline and a grace (here
    1 s + 1 s), then stores the sources after it."""
    import feedbot.run as run_module

    real = run_module.split_or_fail

    def stuck_split(source: Any, page: Any) -> Any:
        if source.name == "stuck":
            time.sleep(6)
        return real(source, page)

    monkeypatch.setattr(run_module, "split_or_fail", stuck_split)
    server.routes["/stuck"] = Response(200, PAGE)
    server.routes["/after"] = Response(200, PAGE)
    sources = [{"name": n, "url": server.url(f"/{n}"), "feed": n} for n in ("stuck", "after")]
    config = load_config(write_config(tmp_path, sources, source_timeout=1))
    stored: dict[str, float] = {}

    def progress(result: RunResult) -> None:
        stored[result.source] = time.monotonic()

    started = time.monotonic()
    results = run_once(config, now=Clock(), progress=progress)
    stuck, after = results
    assert not stuck.ok and stuck.error is not None and "not done within 2s" in stuck.error
    assert after.ok and after.new == 5
    assert stored["after"] - started < 2 + 2.0  # not the 6 s the stuck worker took
    assert (config.feeds_dir / "after.atom").exists()
