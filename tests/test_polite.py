"""Politeness and concurrency: robots.txt, per-host concurrency and interval, the global limit, HTTP
proxies from the environment, the User-Agent — and a parallel run storing exactly what a serial one
stores."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import Config, load_config
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.polite import HostGate, host_key
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import FIXTURES, Clock, Response, Server, serve, write_config
from .test_index import digest

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
UA = "feedbot-tests/1 (+http://127.0.0.1/contact)"


def robots(text: str) -> Response:
    return Response(200, text.encode(), {"Content-Type": "text/plain"})


def test_robots_txt_forbidding_the_page(tmp_path: Path, server: Server) -> None:
    server.routes["/digest"] = Response(200, PAGE)
    server.routes["/mine"] = Response(200, PAGE)
    config = load_config(
        write_config(
            tmp_path,
            [
                {"name": "theirs", "url": server.url("/digest"), "feed": "a"},
                {"name": "mine", "url": server.url("/mine"), "feed": "b", "robots": False},
            ],
        )
    )
    clock = Clock()
    assert all(r.ok for r in run_once(config, now=clock))
    feed = config.feeds_dir / "a.atom"
    before, mtime = feed.read_bytes(), feed.stat().st_mtime_ns

    server.routes["/robots.txt"] = robots("User-agent: *\nDisallow: /digest\nDisallow: /mine\n")
    server.routes["/digest"] = Response(200, PAGE.replace(b"</body>", b"<p>More.</p></body>"))
    server.requests.clear()
    clock.advance(hours=1)
    theirs, mine = run_once(config, now=clock)
    assert not theirs.ok and theirs.error is not None
    assert theirs.error.startswith(f"source 'theirs': {server.url('/digest')}: ")
    assert "robots.txt disallows this page" in theirs.error
    assert mine.ok  # robots = false: the user's own page
    assert [path for _, path, _ in server.requests] == ["/mine"]  # /digest was never asked for
    assert feed.read_bytes() == before and feed.stat().st_mtime_ns == mtime
    with Store(config.db_path) as store:
        assert store.count_entries("a") == 5


def test_robots_txt_is_read_once_per_host_and_run(tmp_path: Path, server: Server) -> None:
    server.routes["/robots.txt"] = robots(
        "User-agent: feedbot-tests\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n"
    )
    sources = []
    for n in range(3):
        server.routes[f"/d{n}"] = Response(200, PAGE)
        sources.append({"name": f"s{n}", "url": server.url(f"/d{n}"), "feed": f"f{n}"})
    server.routes["/private/d"] = Response(200, PAGE)
    sources.append({"name": "p", "url": server.url("/private/d"), "feed": "p"})
    config = load_config(write_config(tmp_path, sources, user_agent=UA))
    results = run_once(config, now=Clock())
    assert [r.ok for r in results] == [True, True, True, False]  # our own group of rules applies
    assert len(server.robots_requests) == 1
    assert server.robots_requests[0][2]["User-Agent"] == UA


@pytest.mark.parametrize(
    ("status", "allowed", "message"),
    [
        (404, True, ""),
        (403, True, ""),  # RFC 9309: any 4xx means "no rules"
        (503, False, "robots.txt unreachable (HTTP 503)"),
        (429, False, "robots.txt unreachable (HTTP 429)"),
    ],
)
def test_robots_txt_status(
    tmp_path: Path, server: Server, status: int, allowed: bool, message: str
) -> None:
    server.routes["/robots.txt"] = Response(status, b"")
    server.routes["/digest"] = Response(200, PAGE)
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/digest"), "feed": "f"}])
    )
    (result,) = run_once(config, now=Clock())
    assert result.ok is allowed
    if not allowed:
        assert result.error is not None and message in result.error
        assert "disallows every page until it answers" in result.error
        assert server.requests == []


def test_local_files_skip_robots(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(PAGE)
    config = load_config(write_config(tmp_path, [{"name": "s", "url": "page.html", "feed": "f"}]))
    fetcher = Fetcher(FetchSettings(user_agent=UA))

    def refuse(url: str) -> Any:
        raise AssertionError(f"robots.txt asked for {url}")

    fetcher.robots._retrieve = refuse
    (result,) = run_once(config, now=Clock(), fetcher=fetcher)
    assert result.ok and result.new == 5


# --- per-host limits and the global limit ----------------------------------------------------------


class InFlight:
    """Counts requests being served at the same time (over one or several servers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.per_host: dict[int, int] = {}
        self.peak_per_host: dict[int, int] = {}
        self.starts: list[float] = []

    def handler(self, body: bytes, delay: float) -> Callable[[BaseHTTPRequestHandler], None]:
        def handle(request: BaseHTTPRequestHandler) -> None:
            port: int = request.server.server_address[1]  # type: ignore[index,assignment]
            with self.lock:
                self.starts.append(time.monotonic())
                self.now += 1
                self.peak = max(self.peak, self.now)
                self.per_host[port] = self.per_host.get(port, 0) + 1
                self.peak_per_host[port] = max(self.peak_per_host.get(port, 0), self.per_host[port])
            time.sleep(delay)
            with self.lock:
                self.now -= 1
                self.per_host[port] -= 1
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return handle


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    with serve() as a, serve() as b, serve() as c:
        yield [a, b, c]


def spread(
    tmp_path: Path, servers: list[Server], count: int, delay: float, **settings: Any
) -> tuple[Config, InFlight]:
    """``count`` sources spread round-robin over the servers, each page answering after ``delay``."""
    meter = InFlight()
    sources = []
    for n in range(count):
        server = servers[n % len(servers)]
        server.routes[f"/d{n}"] = Response(handler=meter.handler(digest(n % 4 + 1), delay))
        sources.append({"name": f"s{n}", "url": server.url(f"/d{n}"), "feed": f"f{n}"})
    return load_config(write_config(tmp_path, sources, **settings)), meter


def test_per_host_concurrency_holds_under_a_higher_global_limit(
    tmp_path: Path, servers: list[Server]
) -> None:
    config, meter = spread(tmp_path, servers[:1], 6, 0.15, concurrency=4, host_concurrency=2)
    results = run_once(config, now=Clock())
    assert all(r.ok for r in results)
    assert meter.peak == 2


def test_global_limit_across_hosts(tmp_path: Path, servers: list[Server]) -> None:
    config, meter = spread(tmp_path, servers, 9, 0.15, concurrency=2, host_concurrency=2)
    assert all(r.ok for r in run_once(config, now=Clock()))
    assert meter.peak == 2


def test_hosts_are_fetched_in_parallel(tmp_path: Path, servers: list[Server]) -> None:
    config, meter = spread(tmp_path, servers, 6, 0.3, concurrency=4, host_concurrency=1)
    assert all(r.ok for r in run_once(config, now=Clock()))
    assert max(meter.peak_per_host.values()) == 1
    assert meter.peak == 3  # one per host, three hosts


def test_host_interval_spaces_request_starts(tmp_path: Path, servers: list[Server]) -> None:
    config, meter = spread(
        tmp_path, servers[:1], 3, 0.0, concurrency=3, host_concurrency=3, host_interval=0.5
    )
    assert config.host_interval == 0.5
    assert all(r.ok for r in run_once(config, now=Clock()))
    starts = sorted(meter.starts)
    assert len(starts) == 3
    # the gate spaces the starts of sending by 0.5 s; arrivals are seen by the server thread,
    # which a loaded machine may schedule late for one request and not the next: 0.15 s of slack
    assert all(b - a >= 0.35 for a, b in itertools.pairwise(starts)), starts


def test_host_gate_reserves_slots_without_real_time() -> None:
    clock = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    gate = HostGate(concurrency=1, interval=2.0, sleep=sleep, monotonic=lambda: clock[0])
    for _ in range(3):
        with gate.slot("http://a.test/x"):
            pass
    with gate.slot("http://b.test/x"):  # another host: no wait
        pass
    with gate.slot("http://a.test:8080/x"):  # another port is another host
        pass
    assert waits == [2.0, 2.0]
    assert host_key("HTTP://A.test/x") == host_key("http://a.test:80/y") == "http://a.test:80"


def test_parallel_run_stores_what_a_serial_run_stores(
    tmp_path: Path, servers: list[Server]
) -> None:
    """Several sources feed one feed and share stories; pages answer in a different order than
    the config lists them. The feed is byte-identical with concurrency 1 and 4."""
    delays = [0.3, 0.0, 0.2, 0.05, 0.1, 0.0]
    outputs = []
    for concurrency in (1, 4):
        sources = []
        for n, delay in enumerate(delays):
            server = servers[n % len(servers)]
            body = digest(
                n % 3 + 1,
                f"<h2>Notice {n}</h2><p>Source number {n} publishes this notice about local road works.</p>",
            )
            server.routes[f"/d{n}"] = Response(200, body, delay=delay)
            sources.append({"name": f"s{n}", "url": server.url(f"/d{n}"), "feed": "all"})
        directory = tmp_path / f"c{concurrency}"
        directory.mkdir()
        config = load_config(write_config(directory, sources, concurrency=concurrency))
        results = run_once(config, now=Clock())
        assert [r.source for r in results] == [f"s{n}" for n in range(6)]
        assert all(r.ok for r in results)
        outputs.append((config.feeds_dir / "all.atom").read_bytes())
    assert outputs[0] == outputs[1]


# --- proxies and User-Agent --------------------------------------------------------------------------


def test_http_proxy_from_the_environment(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is honoured: the page of a host that does not exist comes through the proxy."""
    proxy = server
    proxy.routes["http://digest.invalid/today"] = Response(200, PAGE)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.base)
    monkeypatch.setenv("http_proxy", proxy.base)
    config = load_config(
        write_config(
            tmp_path,
            [{"name": "s", "url": "http://digest.invalid/today", "feed": "f"}],
            user_agent=UA,
        )
    )
    (result,) = run_once(config, now=Clock())
    assert result.ok and result.new == 5, result.error
    seen = [path for _, path, _ in proxy.requests]
    assert seen == ["http://digest.invalid/robots.txt", "http://digest.invalid/today"]
    assert all(headers["User-Agent"] == UA for _, _, headers in proxy.requests)


def test_defaults_identify_us_and_pace_requests(tmp_path: Path, server: Server) -> None:
    """With [feedbot] holding only the (required) user agent: it is sent, to robots.txt too, and the
    default one-second host interval separates the robots.txt request from the page request."""
    server.routes["/digest"] = Response(200, PAGE)
    path = tmp_path / "feedbot.toml"
    agent = "mybot/1.0 (+https://example.org/contact)"
    path.write_text(
        f'[feedbot]\nuser_agent = "{agent}"\n[[sources]]\nname = "s"\nurl = "{server.url("/digest")}"\n'
    )
    config = load_config(path)
    assert (config.concurrency, config.host_concurrency, config.host_interval) == (4, 2, 1.0)
    started = time.monotonic()
    (result,) = run_once(config, now=Clock())
    assert result.ok
    assert time.monotonic() - started >= 0.9
    assert server.robots_requests[0][2]["User-Agent"] == agent
    assert server.requests[0][2]["User-Agent"] == agent


def test_fetched_pages_wait_in_memory_only_a_bounded_window_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of many sources hands them to the workers at most a window ahead of the one being
    stored, so a big run does not hold every fetched and split page at once."""
    import feedbot.run as run

    page = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
    sources = []
    for i in range(100):
        (tmp_path / f"p{i}.html").write_bytes(
            page.replace("烏克蘭".encode(), f"烏克蘭{i}".encode())
        )
        sources.append({"name": f"s{i}", "url": f"p{i}.html", "feed": f"f{i}"})
    config = load_config(write_config(tmp_path, sources, concurrency=4))
    lock = threading.Lock()
    ahead = [0, 0]  # collected but not yet stored; the most seen
    collect, finish = run.collect, run.Runner.finish

    def counting_collect(*args: Any) -> Any:
        fetched = collect(*args)
        with lock:
            ahead[0] += 1
            ahead[1] = max(ahead[1], ahead[0])
        return fetched

    def counting_finish(self: Any, fetched: Any) -> Any:
        with lock:
            ahead[0] -= 1
        return finish(self, fetched)

    monkeypatch.setattr(run, "collect", counting_collect)
    monkeypatch.setattr(run.Runner, "finish", counting_finish)
    results = run_once(config)
    assert [r.new for r in results] == [5] * 100
    assert ahead[1] <= 32, ahead  # window = max(8 x concurrency, 32)


def test_a_large_robots_txt_is_read_to_its_first_500_kib(tmp_path: Path, server: Server) -> None:
    """RFC 9309 2.5: a robots.txt over 500 KiB is parsed up to that size, not refused; a rule past
    the limit is not seen, and the line the limit cuts through is dropped whole."""
    rules = "User-agent: *\nDisallow: /private\n" + "# padding line\n" * 80_000
    cut = "Disallow: /digest-beyond-the-limit\n"
    body = (rules + cut).encode()
    assert len(body) > 1024 * 1024
    server.routes["/robots.txt"] = robots(rules + cut)
    server.routes["/digest"] = Response(200, PAGE)
    server.routes["/private/d"] = Response(200, PAGE)
    config = load_config(
        write_config(
            tmp_path,
            [
                {"name": "open", "url": server.url("/digest"), "feed": "a"},
                {"name": "closed", "url": server.url("/private/d"), "feed": "b"},
            ],
        )
    )
    opened, closed = run_once(config, now=Clock())
    assert opened.ok, opened.error
    assert not closed.ok and closed.error is not None
    assert "robots.txt disallows this page" in closed.error


def test_robots_rules_cut_at_the_last_whole_line() -> None:
    """The line the 500 KiB limit cuts through is dropped, not read in part: half of
    "Allow: /public-area" is "Allow: /pub", which would open /publisher too."""
    from feedbot.polite import ROBOTS_MAX_BYTES, RobotsFile, interpret

    head = b"User-agent: *\nDisallow: /p\n"
    pad = b"#" * (ROBOTS_MAX_BYTES - len(head) - len(b"Allow: /pub") - 1) + b"\n"
    body = head + pad + b"Allow: /public-area\n"
    assert body[:ROBOTS_MAX_BYTES].endswith(b"Allow: /pub")
    answer = interpret(RobotsFile(200, body))
    assert not answer.allows("http://h/publisher", "bot")
    assert not answer.allows("http://h/public-area", "bot")  # past the limit: not seen
    assert answer.allows("http://h/other", "bot")
