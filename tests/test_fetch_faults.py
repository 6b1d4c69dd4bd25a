"""A server that misbehaves on purpose: each fault gives a clear error naming the source and the page,
or the right recovery; a failure never rewrites the feed (same bytes, same mtime) and never loses a
stored item. (404, 500, timeouts before the headers, PDFs, images, empty and unsplittable pages are
covered in test_bad_input.py.)"""

from __future__ import annotations

import gzip
import socket
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import pytest

from feedbot.config import Config, load_config
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.model import RunResult
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import FIXTURES, Clock, Response, Server, write_config

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()


class Sleeps(list[float]):
    """An injected sleep that records how long it was asked to wait and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetcher(sleep: Callable[[float], None] | None = None, **settings: float) -> Fetcher:
    values: dict[str, float] = {"read_timeout": 0.3, "tries": 2, "backoff": 0.01}
    values.update(settings)
    return Fetcher(
        FetchSettings(user_agent="t (+http://127.0.0.1/)", **values),  # type: ignore[arg-type]
        sleep=sleep if sleep is not None else (lambda s: None),
    )


@dataclass
class Site:
    """One source on the test server with a good first run behind it."""

    config: Config
    clock: Clock
    feed: Path
    before: bytes
    mtime: int

    def run(self, fetch: Fetcher | None = None) -> RunResult:
        self.clock.advance(hours=1)
        (result,) = run_once(self.config, now=self.clock, fetcher=fetch or fetcher())
        return result

    def assert_untouched(self) -> None:
        assert self.feed.read_bytes() == self.before
        assert self.feed.stat().st_mtime_ns == self.mtime
        with Store(self.config.db_path) as store:
            assert store.count_entries("f") == 5


def good_site(tmp_path: Path, server: Server, **source: object) -> Site:
    server.routes["/digest"] = Response(200, PAGE, {"ETag": '"v1"'})
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/digest"), "feed": "f", **source}])
    )
    clock = Clock()
    (first,) = run_once(config, now=clock, fetcher=fetcher())
    assert first.ok and first.new == 5, first.error
    feed = config.feeds_dir / "f.atom"
    return Site(config, clock, feed, feed.read_bytes(), feed.stat().st_mtime_ns)


def assert_failed(result: RunResult, *fragments: str) -> None:
    assert not result.ok
    assert result.error is not None and "\n" not in result.error
    assert "source 's'" in result.error and "/digest" in result.error
    for fragment in fragments:
        assert fragment in result.error, result.error


# --- raw handlers: full control over what goes on the wire -------------------------------------


def slow_body(handler: BaseHTTPRequestHandler) -> None:
    """Headers at once, then half the body, then nothing for longer than the read timeout."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(PAGE)))
    handler.end_headers()
    handler.wfile.write(PAGE[: len(PAGE) // 2])
    handler.wfile.flush()
    time.sleep(1.0)
    handler.close_connection = True


def reset_mid_body(handler: BaseHTTPRequestHandler) -> None:
    """Half the promised body, then a TCP reset (SO_LINGER 0 makes close() send RST)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(PAGE)))
    handler.end_headers()
    handler.wfile.write(PAGE[: len(PAGE) // 2])
    handler.wfile.flush()
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def unbounded(size: int) -> Callable[[BaseHTTPRequestHandler], None]:
    """A body of ``size`` bytes with no Content-Length (ends when the connection closes)."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65533
        sent = 0
        try:
            while sent < size:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the client hung up once it had seen enough: that is the point
        handler.close_connection = True

    return handle


# --- the faults ----------------------------------------------------------------------------------


def test_slow_body_is_a_read_timeout(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(handler=slow_body)
    result = site.run()
    assert_failed(result, "body not received within 0.3s", "after 2 tries")
    assert len(server.requests) == 1 + 2
    site.assert_untouched()


def test_connection_reset_mid_body(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(handler=reset_mid_body)
    result = site.run()
    assert_failed(result, "connection lost while reading the body", "after 2 tries")
    site.assert_untouched()


def test_reset_then_good_answer_recovers(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    edited = PAGE.replace(b"</body>", b"<p>Updated at 10:00.</p></body>")
    server.routes["/digest"] = [Response(handler=reset_mid_body), Response(200, edited)]
    result = site.run()
    assert result.ok, result.error
    assert len(server.requests) == 1 + 2


def test_500_then_200_backs_off_with_jitter(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = [Response(500, b"x"), Response(502, b"x"), Response(200, PAGE)]
    sleeps = Sleeps()
    result = site.run(fetcher(sleeps, tries=3, backoff=1.0))
    assert result.ok and result.not_modified  # same bytes as the first run: nothing to parse
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # doubled, jittered down by <= 50%


def test_429_with_retry_after_seconds_is_honoured(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = [
        Response(429, b"slow down", {"Retry-After": "7"}),
        Response(200, PAGE.replace(b"</body>", b"<p>Late addition.</p></body>")),
    ]
    sleeps = Sleeps()
    result = site.run(fetcher(sleeps, tries=3))
    assert result.ok, result.error
    assert sleeps == [7.0]


def test_429_with_retry_after_date_is_honoured(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    from feedbot.clock import utcnow

    when = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
    server.routes["/digest"] = [Response(429, b"", {"Retry-After": when}), Response(200, PAGE)]
    sleeps = Sleeps()
    result = site.run(fetcher(sleeps, tries=3))
    assert result.ok
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_retry_after_past_the_deadline_gives_up_at_once(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(503, b"", {"Retry-After": "3600"})
    sleeps = Sleeps()
    result = site.run(fetcher(sleeps, tries=5, deadline=60))
    assert_failed(result, "HTTP 503", "60s deadline", "after 1 try")
    assert sleeps == []
    assert len(server.requests) == 1 + 1
    site.assert_untouched()


def test_304_skips_parsing_and_keeps_the_feed(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(304, b"")
    result = site.run()
    assert result.ok and result.not_modified
    assert server.requests[-1][2].get("If-None-Match") == '"v1"'
    site.assert_untouched()


def test_last_modified_round_trips(tmp_path: Path, server: Server) -> None:
    stamp = "Sun, 06 Mar 2022 08:00:00 GMT"
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(200, PAGE + b"\n", {"Last-Modified": stamp})
    assert site.run().ok
    server.routes["/digest"] = Response(304, b"")
    assert site.run().not_modified
    headers = server.requests[-1][2]
    assert headers.get("If-Modified-Since") == stamp and "If-None-Match" not in headers


def test_validators_are_dropped_after_a_failure(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(404, b"gone")
    assert not site.run().ok
    server.routes["/digest"] = Response(200, PAGE, {"ETag": '"v1"'})
    result = site.run()
    assert "If-None-Match" not in server.requests[-1][2]
    assert result.ok and result.unchanged == 5 and not result.not_modified  # parsed again


def test_redirect_loop(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(302, b"", {"Location": "/digest-b"})
    server.routes["/digest-b"] = Response(302, b"", {"Location": "/digest"})
    result = site.run()
    assert_failed(result, "more than 10 redirects")
    assert len(server.requests) <= 1 + 11
    site.assert_untouched()


def test_redirect_is_followed(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(301, b"", {"Location": "/moved"})
    server.routes["/moved"] = Response(200, PAGE.replace(b"</body>", b"<p>Moved.</p></body>"))
    result = site.run()
    assert result.ok, result.error
    with Store(site.config.db_path) as store:
        pages = {p for e in store.feed_entries("f", 10) for p in e.pages}
    assert server.url("/moved") in pages


def test_body_over_the_limit_with_content_length(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    result = site.run(fetcher(max_bytes=len(PAGE) - 1))
    assert_failed(result, f"response of {len(PAGE)} bytes is over the {len(PAGE) - 1}-byte limit")
    site.assert_untouched()


def test_body_over_the_limit_while_streaming(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(handler=unbounded(50 * 1024 * 1024))
    result = site.run(fetcher(max_bytes=1024 * 1024))
    assert_failed(result, "body is over the 1048576-byte limit")
    site.assert_untouched()


def test_gzip_bomb_is_stopped(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    bomb = gzip.compress(b"<p>" + b" " * (16 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024  # 16 MB that travel as well under 100 KB
    server.routes["/digest"] = Response(200, bomb, {"Content-Encoding": "gzip"})
    result = site.run(fetcher())  # the default 10 MB limit
    assert_failed(result, "decompressed body is over the 10485760-byte limit")
    site.assert_untouched()


def test_gzip_page_within_the_limit_is_read(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    edited = PAGE.replace(b"</body>", b"<p>Compressed edition.</p></body>")
    server.routes["/digest"] = Response(200, gzip.compress(edited), {"Content-Encoding": "gzip"})
    assert site.run().ok


def test_corrupt_gzip(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    packed = bytearray(gzip.compress(PAGE))
    packed[40:60] = b"\xff" * 20
    server.routes["/digest"] = Response(200, bytes(packed), {"Content-Encoding": "gzip"})
    assert_failed(site.run(), "corrupt gzip body")
    site.assert_untouched()


def test_truncated_gzip(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    packed = gzip.compress(PAGE.replace(b"</body>", b"<p>Cut short.</p></body>"))
    server.routes["/digest"] = Response(
        200, packed[: len(packed) // 2], {"Content-Encoding": "gzip"}
    )
    assert_failed(site.run(), "truncated gzip body")
    site.assert_untouched()


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [("application/json", "application/json"), ("", "(none)"), ("video/mp4", "video/mp4")],
)
def test_wrong_content_type(tmp_path: Path, server: Server, content_type: str, shown: str) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest.json"] = Response(200, b'{"a": 1}', {"Content-Type": content_type})
    server.routes["/digest"] = Response(302, b"", {"Location": "/digest.json"})
    assert_failed(site.run(), f"content type {shown} is not HTML or text")
    site.assert_untouched()


def test_empty_body_with_304_like_headers(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(200, b"\n \n", {"ETag": '"v2"'})
    assert_failed(site.run(), "empty page")
    site.assert_untouched()


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_unknown_charset_label_is_read_by_other_means(
    tmp_path: Path, server: Server, codec: str
) -> None:
    """An unknown label in the header (and no <meta>) is ignored and the encoding detected: the
    same five stories come out, not five mojibake "new" ones."""
    site = good_site(tmp_path, server)
    text = PAGE.decode("utf-8").replace('<meta charset="utf-8">', "")
    server.routes["/digest"] = Response(
        200, text.encode(codec), {"Content-Type": "text/html; charset=x-no-such-charset"}
    )
    result = site.run()
    assert result.ok, result.error
    assert (result.new, result.updated, result.unchanged) == (0, 0, 5)
    site.assert_untouched()  # nothing changed, so the feed is not rewritten


# --- content codings: gzip (above), deflate in both forms, brotli; anything else is an error -----


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


EDITED = PAGE.replace(b"</body>", b"<p>Compressed edition, with a new closing line.</p></body>")


@pytest.mark.parametrize(
    ("coding", "pack"),
    [
        ("deflate", zlib.compress),  # RFC 9110: zlib-wrapped
        ("deflate", _raw_deflate),  # what many servers send: raw RFC 1951
        ("br", brotli.compress),
        ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),  # applied in the listed order
    ],
    ids=["deflate-zlib", "deflate-raw", "br", "gzip-then-br"],
)
def test_compressed_pages_are_read(
    tmp_path: Path, server: Server, coding: str, pack: Callable[[bytes], bytes]
) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(200, pack(EDITED), {"Content-Encoding": coding})
    result = site.run()
    assert result.ok and not result.not_modified, result.error  # other bytes, decoded, parsed
    assert (result.new, result.updated, result.unchanged) == (0, 0, 5)  # the same five stories
    assert "br" in server.requests[-1][2]["Accept-Encoding"]


def test_brotli_bomb_is_stopped(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    bomb = brotli.compress(b"<p>" + b" " * (64 * 1024 * 1024))
    assert len(bomb) < 10 * 1024  # 64 MB that travel in under 10 KB
    server.routes["/digest"] = Response(200, bomb, {"Content-Encoding": "br"})
    assert_failed(site.run(), "decompressed body is over the 10485760-byte limit")
    site.assert_untouched()


def test_truncated_and_corrupt_brotli(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    packed = brotli.compress(EDITED)
    server.routes["/digest"] = Response(200, packed[: len(packed) // 2], {"Content-Encoding": "br"})
    assert_failed(site.run(), "truncated br body")
    server.routes["/digest"] = Response(200, b"\xff" * 200, {"Content-Encoding": "br"})
    assert_failed(site.run(), "corrupt br body")
    site.assert_untouched()


def test_an_unknown_content_coding_is_an_error_not_a_page(tmp_path: Path, server: Server) -> None:
    site = good_site(tmp_path, server)
    server.routes["/digest"] = Response(
        200, b"\x28\xb5\x2f\xfd" + b"x" * 100, {"Content-Encoding": "zstd"}
    )
    assert_failed(site.run(), "unsupported content encoding 'zstd'")
    site.assert_untouched()
