"""feedbot serve: a real waitress server on 127.0.0.1 over feeds made from the ukraine fixtures."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.etree as etree
import lxml.html
import pytest

from feedbot.cli import main
from feedbot.config import Config, load_config
from feedbot.run import run_once
from feedbot.schedule import Periods, Schedule
from feedbot.serve import FeedServer, accepts_gzip, make_app
from feedbot.write import write_if_changed

from .helpers import FIXTURES, Clock, check_feed, write_config

FORMATS = ["atom", "rss", "json"]
TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def ukraine(tmp_path: Path, run: bool = True, **settings: Any) -> Config:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "digest.html")
    sources = settings.pop(
        "sources",
        [{"name": "ukraine", "url": "digest.html", "feed_title": "Ukraine digest"}],
    )
    settings.setdefault("feeds", {"ukraine": {"formats": FORMATS}})
    config = load_config(write_config(tmp_path, sources, **settings))
    if run:
        assert all(r.ok for r in run_once(config, now=Clock()))
    return config


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Client:
    """Raw HTTP/1.1 over http.client: paths are sent exactly as given (no normalising)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def request(self, path: str, method: str = "GET", **headers: str) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key.replace("_", "-"), value)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Config, Client]]:
    config = ukraine(tmp_path)
    with running(config) as client:
        yield config, client


@dataclass
class Running:
    server: FeedServer
    thread: threading.Thread


def start(config: Config) -> Running:
    server = FeedServer(config, "127.0.0.1", 0, poll=0.02)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return Running(server, thread)


class running:
    def __init__(self, config: Config) -> None:
        self.config = config

    def __enter__(self) -> Client:
        self.run = start(self.config)
        return Client("127.0.0.1", self.run.server.port)

    def __exit__(self, *exc: object) -> None:
        self.run.server.close()
        self.run.thread.join(5)
        assert not self.run.thread.is_alive(), "the server did not stop"


# --- feeds, validators, compression ----------------------------------------------------------------


def test_each_feed_is_served_with_its_type_a_strong_etag_and_the_file_time(
    served: tuple[Config, Client],
) -> None:
    config, client = served
    for fmt in FORMATS:
        path = config.feeds_dir / f"ukraine.{fmt}"
        reply = client.request(f"/ukraine.{fmt}")
        assert reply.status == 200
        assert reply.header("Content-Type") == TYPES[fmt]
        assert reply.body == path.read_bytes()
        check_feed(fmt, reply.body)
        etag = reply.header("ETag")
        assert etag and etag.startswith('"') and not etag.startswith("W/")
        assert etag.strip('"') == hashlib.sha256(reply.body).hexdigest()[:32]
        modified = parsedate_to_datetime(reply.header("Last-Modified") or "")
        assert modified.timestamp() == int(path.stat().st_mtime)
        assert reply.header("Cache-Control") == "public, max-age=3600"  # the default "1h"
        assert reply.header("Vary") == "Accept-Encoding"
        assert reply.header("Content-Length") == str(len(reply.body))


def test_validators_move_only_when_the_bytes_change(served: tuple[Config, Client]) -> None:
    config, client = served
    path = config.feeds_dir / "ukraine.atom"
    os.utime(path, (1_600_000_000, 1_600_000_000))
    first = client.request("/ukraine.atom")
    # the same bytes written again: write_if_changed leaves the file alone, validators stay
    assert not write_if_changed(path, path.read_bytes())
    again = client.request("/ukraine.atom")
    assert (again.header("ETag"), again.header("Last-Modified")) == (
        first.header("ETag"),
        first.header("Last-Modified"),
    )
    assert first.header("Last-Modified") == "Sun, 13 Sep 2020 12:26:40 GMT"
    # new bytes: a new ETag and a new Last-Modified
    assert write_if_changed(path, path.read_bytes().replace(b"Ukraine digest", b"Ukraine news"))
    changed = client.request("/ukraine.atom")
    assert changed.header("ETag") != first.header("ETag")
    assert changed.header("Last-Modified") != first.header("Last-Modified")
    assert b"Ukraine news" in changed.body
    stale = client.request("/ukraine.atom", If_None_Match=first.header("ETag") or "")
    assert stale.status == 200 and stale.body == changed.body


def test_two_versions_within_one_second_have_different_last_modified(
    served: tuple[Config, Client],
) -> None:
    """Last-Modified counts whole seconds, and libcurl-based readers (newsboat) drop a 200 whose
    Last-Modified is not later than their If-Modified-Since: each version must move it."""
    config, client = served
    path = config.feeds_dir / "ukraine.atom"
    seen = [client.request("/ukraine.atom").header("Last-Modified")]
    for n in range(3):  # three rewrites in well under a second
        assert write_if_changed(
            path, path.read_bytes().replace(b"</feed>", b"<!-- %d --></feed>" % n)
        )
        reply = client.request("/ukraine.atom", If_Modified_Since=seen[-1] or "")
        assert reply.status == 200, f"version {n + 2} was answered as not modified"
        seen.append(reply.header("Last-Modified"))
    stamps = [parsedate_to_datetime(v or "").timestamp() for v in seen]
    assert stamps == sorted(set(stamps)), seen


def test_conditional_requests_get_304(served: tuple[Config, Client]) -> None:
    _, client = served
    first = client.request("/ukraine.rss")
    etag = first.header("ETag") or ""
    modified = first.header("Last-Modified") or ""
    for headers in (
        {"If_None_Match": etag},
        {"If_None_Match": f'"other", {etag}'},
        {"If_None_Match": f"W/{etag}"},  # If-None-Match uses the weak comparison
        {"If_None_Match": "*"},
        {"If_Modified_Since": modified},
        {
            "If_Modified_Since": format_datetime(
                parsedate_to_datetime(modified) + timedelta(days=1), usegmt=True
            )
        },
    ):
        reply = client.request("/ukraine.rss", **headers)
        assert reply.status == 304, headers
        assert reply.body == b""
        assert reply.header("ETag") == etag
        assert reply.header("Cache-Control") == "public, max-age=3600"
    for headers in (
        {"If_None_Match": '"something-else"'},
        # If-None-Match decides when both are sent (RFC 9110 section 13.2.2)
        {"If_None_Match": '"something-else"', "If_Modified_Since": modified},
        {
            "If_Modified_Since": format_datetime(
                parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True
            )
        },
        {"If_Modified_Since": "not a date"},
    ):
        reply = client.request("/ukraine.rss", **headers)
        assert reply.status == 200, headers
        assert reply.body == first.body


def test_gzip_when_accepted_with_its_own_etag(served: tuple[Config, Client]) -> None:
    config, client = served
    plain = client.request("/ukraine.atom")
    zipped = client.request("/ukraine.atom", Accept_Encoding="gzip, deflate")
    assert zipped.status == 200
    assert zipped.header("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == (config.feeds_dir / "ukraine.atom").read_bytes()
    assert len(zipped.body) < len(plain.body) / 2
    assert zipped.header("ETag") != plain.header("ETag")
    assert zipped.header("Vary") == "Accept-Encoding"
    assert plain.header("Content-Encoding") is None
    # the same bytes every time (gzip without a timestamp): the ETag holds
    assert client.request("/ukraine.atom", Accept_Encoding="gzip").body == zipped.body
    revalidated = client.request(
        "/ukraine.atom", Accept_Encoding="gzip", If_None_Match=zipped.header("ETag") or ""
    )
    assert revalidated.status == 304
    refused = client.request("/ukraine.atom", Accept_Encoding="gzip;q=0, identity")
    assert refused.header("Content-Encoding") is None and refused.body == plain.body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("*;q=0", False),
        ("deflate, br", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_head_has_the_headers_of_get_and_no_body(served: tuple[Config, Client]) -> None:
    _, client = served
    get = client.request("/ukraine.json")
    head = client.request("/ukraine.json", method="HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Length"):
        assert head.header(name) == get.header(name), name


def test_post_is_not_allowed(served: tuple[Config, Client]) -> None:
    _, client = served
    reply = client.request("/ukraine.atom", method="POST", Content_Length="0")
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD"


def test_max_age_is_the_shortest_schedule_of_the_feeds_sources(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "other.html")
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "third.html")
    config = ukraine(
        tmp_path,
        schedule="2h",
        sources=[
            {"name": "a", "url": "digest.html", "feed": "ukraine"},
            {"name": "b", "url": "other.html", "feed": "ukraine", "schedule": "*/20 * * * *"},
            {"name": "c", "url": "third.html", "feed": "daily", "schedule": "30 6 * * *"},
        ],
        feeds={"ukraine": {"formats": ["atom"]}},
    )
    with running(config) as client:
        assert client.request("/ukraine.atom").header("Cache-Control") == "public, max-age=1200"
        assert client.request("/daily.atom").header("Cache-Control") == "public, max-age=86400"


def schedule_periods(text: str) -> Periods:
    return Schedule.parse(text).periods()


def test_schedule_periods() -> None:
    assert schedule_periods("30m") == schedule_periods("1800s")
    assert (schedule_periods("30m").shortest, schedule_periods("30m").longest) == (1800, 1800)
    hourly = schedule_periods("7 * * * *")
    assert (hourly.shortest, hourly.longest) == (3600, 3600)
    weekdays = schedule_periods("0 9 * * 1-5")  # a day apart, three days over the weekend
    assert (weekdays.shortest, weekdays.longest) == (86400, 3 * 86400)
    twice = schedule_periods("0 8,20 * * *")
    assert (twice.shortest, twice.longest) == (12 * 3600, 12 * 3600)
    # weekdays as crontab reads them (the config accepts these): 7 and 0 are Sunday, 6 Saturday
    assert schedule_periods("0 9 * * 7") == schedule_periods("0 9 * * 0")
    weekend = schedule_periods("0 9 * * 6,7")  # Saturday then Sunday: a day, then six days
    assert (weekend.shortest, weekend.longest) == (86400, 6 * 86400)


def test_a_feed_not_written_yet_is_404_and_not_advertised(tmp_path: Path) -> None:
    config = ukraine(tmp_path, run=False)
    with running(config) as client:
        reply = client.request("/ukraine.atom")
        assert reply.status == 404
        assert b"not been written yet" in reply.body
        body = client.request("/").body
        index = lxml.html.fromstring(body)
        assert [e for e in index.iter("link") if e.get("rel") == "alternate"] == []
        assert b"not written yet" in body


# --- index, OPML ------------------------------------------------------------------------------


def test_index_page_autodiscovers_every_feed(served: tuple[Config, Client]) -> None:
    _, client = served
    reply = client.request("/")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    page = lxml.html.fromstring(reply.body)
    links = [e for e in page.findall("head/link") if e.get("rel") == "alternate"]
    found = {link.get("type"): link.get("href") for link in links}
    assert found == {
        "application/atom+xml": "ukraine.atom",
        "application/rss+xml": "ukraine.rss",
        "application/feed+json": "ukraine.json",
    }
    for link in links:
        assert "Ukraine digest" in (link.get("title") or "")
        feed = client.request("/" + (link.get("href") or ""))
        assert feed.status == 200
        assert (feed.header("Content-Type") or "").split(";")[0] == link.get("type")
    assert client.request("/index.html").body == reply.body
    revalidated = client.request("/", If_None_Match=reply.header("ETag") or "")
    assert revalidated.status == 304


def test_opml_lists_every_feed_with_absolute_urls(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "other.html")
    config = ukraine(
        tmp_path,
        sources=[
            {"name": "a", "url": "digest.html", "feed": "ukraine", "feed_title": "Ukraine & co"},
            {"name": "b", "url": "other.html", "feed": "second"},
        ],
        feeds={"ukraine": {"formats": ["rss", "atom"]}},
    )
    with running(config) as client:
        reply = client.request("/opml")
        assert reply.status == 200
        assert reply.header("Content-Type") == "text/x-opml; charset=utf-8"
        root = etree.fromstring(reply.body)
        assert root.tag == "opml" and root.get("version") == "2.0"
        outlines = root.findall("body/outline")
        assert [(o.get("text"), o.get("type")) for o in outlines] == [
            ("Ukraine & co", "rss"),
            ("second", "rss"),
        ]
        base = f"http://127.0.0.1:{client.port}/"
        # one outline per feed, its first format, so importing subscribes once per feed
        assert [o.get("xmlUrl") for o in outlines] == [base + "ukraine.rss", base + "second.atom"]
        for outline in outlines:
            assert client.request(outline.get("xmlUrl", "")[len(base) - 1 :]).status == 200


def test_opml_uses_base_url_when_configured(tmp_path: Path) -> None:
    config = ukraine(tmp_path, base_url="https://feeds.example.org/digests/")
    with running(config) as client:
        root = etree.fromstring(client.request("/opml").body)
        assert [o.get("xmlUrl") for o in root.iter("outline")] == [
            "https://feeds.example.org/digests/ukraine.atom"
        ]


# --- 404 and path traversal -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/ukraine.xml",
        "/ukraine.atom/",
        "/ukraine",
        "/feeds/ukraine.atom",
        "/../feedbot.toml",
        "/../../../etc/passwd",
        "/%2e%2e/feedbot.toml",
        "/%2E%2E%2Ffeedbot.toml",
        "/..%2ffeedbot.toml",
        "/..%5cfeedbot.toml",
        "/.%2e/state/feedbot.sqlite3",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/./ukraine.atom/../../feedbot.toml",
        "/ukraine.atom%00.txt",
        "/secret.txt",
        "/../secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/.ukraine.atom.tmp",
    ],
)
def test_anything_else_is_404_and_nothing_outside_is_reachable(
    served: tuple[Config, Client], path: str
) -> None:
    config, client = served
    (config.feeds_dir / "secret.txt").write_text("SECRET-IN-FEEDS", encoding="utf-8")
    (config.path.parent / "secret.txt").write_text("SECRET-OUTSIDE", encoding="utf-8")
    reply = client.request(path)
    assert reply.status in (400, 404), (path, reply.status)
    assert b"SECRET" not in reply.body
    assert b"[feedbot]" not in reply.body and b"root:" not in reply.body


def test_an_absolute_uri_request_target_is_not_a_file_path(served: tuple[Config, Client]) -> None:
    _, client = served
    assert client.request("http://127.0.0.1/etc/passwd").status == 404
    assert client.request(f"http://127.0.0.1:{client.port}/ukraine.atom").status == 200


# --- health ----------------------------------------------------------------------------------


def call(app: Any, path: str) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app in-process."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, dict(headers)
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "127.0.0.1",
    }
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def test_healthz_ok_then_stale_after_three_periods(tmp_path: Path) -> None:
    config = ukraine(tmp_path)  # ran at Clock()'s 2022-03-06 09:00 UTC, schedule 1h
    clock = Clock()
    app = make_app(config, now=clock)
    clock.advance(hours=2, minutes=59)
    status, headers, body = call(app, "/healthz")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    report = json.loads(body)
    assert report["status"] == "ok" and report["stale"] == []
    (source,) = report["sources"]
    assert source["source"] == "ukraine" and source["feed"] == "ukraine"
    assert source["period_seconds"] == 3600
    assert source["last_success"] == "2022-03-06T09:00:00+00:00"
    assert source["seconds_since_success"] == 2 * 3600 + 59 * 60
    clock.advance(minutes=2)
    status, _, body = call(app, "/healthz")
    assert status == "503 Service Unavailable"
    report = json.loads(body)
    assert report["status"] == "stale" and report["stale"] == ["ukraine"]
    assert report["sources"][0]["stale"] is True


def test_healthz_failing_source_goes_stale_and_names_the_error(tmp_path: Path) -> None:
    config = ukraine(tmp_path)
    clock = Clock()
    (tmp_path / "digest.html").write_text("", encoding="utf-8")  # an empty page: an error
    for _ in range(4):
        clock.advance(hours=1)
        assert not run_once(config, now=clock)[0].ok
    status, _, body = call(make_app(config, now=clock), "/healthz")
    assert status == "503 Service Unavailable"
    source = json.loads(body)["sources"][0]
    assert source["result"] == "error" and source["failures"] == 4
    assert source["error_kind"] == "empty"  # a kind, never the message (issue 13)
    assert "last_error" not in source
    assert source["last_success"] == "2022-03-06T09:00:00+00:00"


def test_healthz_cron_schedule_uses_its_longest_gap(tmp_path: Path) -> None:
    config = ukraine(
        tmp_path,
        sources=[{"name": "ukraine", "url": "digest.html", "schedule": "0 9 * * 1-5"}],
    )
    clock = Clock()  # Sunday 2022-03-06: weekday runs are up to three days apart
    clock.advance(days=8)
    status, _, body = call(make_app(config, now=clock), "/healthz")
    assert status == "200 OK", body
    clock.advance(days=1, seconds=1)
    status, _, _ = call(make_app(config, now=clock), "/healthz")
    assert status == "503 Service Unavailable"


def test_healthz_before_any_run_is_503_and_never_writes(tmp_path: Path) -> None:
    config = ukraine(tmp_path, run=False)
    status, _, body = call(make_app(config, now=Clock()), "/healthz")
    assert status == "503 Service Unavailable"
    assert json.loads(body)["sources"][0]["result"] == "never run"
    assert not config.state_dir.exists()
    # after a run, /healthz reads the database without changing a byte of it
    run_once(config, now=Clock())
    db = config.db_path
    files = sorted(p.name for p in config.state_dir.iterdir())
    before = db.read_bytes()
    mtime = db.stat().st_mtime_ns
    assert call(make_app(config, now=Clock()), "/healthz")[0] == "200 OK"
    assert db.read_bytes() == before and db.stat().st_mtime_ns == mtime
    # (a reader of a WAL database may create the -wal and -shm files SQLite needs; nothing else)
    assert {p.name for p in config.state_dir.iterdir()} - {
        db.name + "-wal",
        db.name + "-shm",
    } == set(files)


# --- access log, server lifecycle, CLI ----------------------------------------------------------


def test_access_log_in_combined_log_format(
    served: tuple[Config, Client], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = served
    with caplog.at_level(logging.INFO, logger="feedbot.access"):
        client.request("/ukraine.atom", User_Agent='reader/1.0 "quoted"')
        etag = client.request("/ukraine.atom").header("ETag") or ""
        client.request("/ukraine.atom", If_None_Match=etag)
        client.request("/%2e%2e/x")
    lines = [r.getMessage() for r in caplog.records if r.name == "feedbot.access"]
    assert len(lines) == 4
    assert lines[0].startswith("127.0.0.1 - - [")
    assert '"GET /ukraine.atom HTTP/1.1" 200 ' in lines[0]
    assert 'reader/1.0 \\x22quoted\\x22"' in lines[0]
    assert '"GET /ukraine.atom HTTP/1.1" 304 -' in lines[2]
    assert '"GET /%2e%2e/x HTTP/1.1" 404' in lines[3]
    stamp = lines[0].split("[", 1)[1].split("]", 1)[0]
    parsed = datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z")
    assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=5)


def test_server_stops_on_close_with_a_connection_open(tmp_path: Path) -> None:
    config = ukraine(tmp_path)
    run = start(config)
    conn = http.client.HTTPConnection("127.0.0.1", run.server.port, timeout=5)
    conn.request("GET", "/ukraine.atom")
    assert conn.getresponse().read()  # keep-alive: the connection stays open
    run.server.close()
    run.thread.join(5)
    assert not run.thread.is_alive()
    conn.close()
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", run.server.port, timeout=2).request("GET", "/")


def test_serve_config_table_and_errors(tmp_path: Path) -> None:
    config = ukraine(tmp_path, run=False)
    assert (config.serve.host, config.serve.port) == ("127.0.0.1", 8080)
    path = tmp_path / "feedbot.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '[serve]\nhost = "0.0.0.0"\nport = 9000\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.serve.host, config.serve.port) == ("0.0.0.0", 9000)
    path.write_text(path.read_text(encoding="utf-8").replace("9000", "70000"), encoding="utf-8")
    assert main(["serve", "-c", str(path)]) == 2
    path.write_text(
        path.read_text(encoding="utf-8").replace("port = 70000", "prot = 1"), encoding="utf-8"
    )
    assert main(["serve", "-c", str(path)]) == 2
