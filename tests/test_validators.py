"""HTTP validators (ETag, Last-Modified, the page's hash) belong to a source, not to a URL: a new,
renamed or moved source on a URL fetched before reads the page in full, and so does a source whose
split options changed — none of them is told "not modified" by what another source (or its own
earlier settings) cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedbot.config import load_config
from feedbot.run import run_once

from .helpers import FIXTURES, Clock, Response, Server, check_atom, write_config

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()


def conditional(server: Server) -> None:
    """The page with an ETag; "304 Not Modified" to anyone who sends it back."""

    def answer(handler: Any) -> None:
        server_etag = '"v1"'
        if handler.headers.get("If-None-Match") == server_etag:
            handler.send_response(304)
            handler.send_header("ETag", server_etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("ETag", server_etag)
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.write(PAGE)

    server.routes["/digest"] = Response(handler=answer)


def entries(path: Path) -> int:
    return len(check_atom(path.read_bytes()).entries) if path.exists() else 0


def test_a_new_source_on_a_url_fetched_before_gets_the_page(tmp_path: Path, server: Server) -> None:
    conditional(server)
    first = {"name": "a", "url": server.url("/digest"), "feed": "a"}
    clock = Clock()
    (result,) = run_once(load_config(write_config(tmp_path, [first])), now=clock)
    assert result.ok and result.new == 5
    second = {"name": "b", "url": server.url("/digest"), "feed": "b"}
    # one worker: the requests arrive in config order
    config = load_config(write_config(tmp_path, [first, second], concurrency=1))
    clock.advance(hours=1)
    a, b = run_once(config, now=clock)
    assert a.ok and a.not_modified  # a's own validators still apply to a
    assert b.ok and b.new == 5, b
    assert entries(config.feeds_dir / "b.atom") == 5
    sent = [headers.get("If-None-Match") for _, _, headers in server.requests]
    assert sent == [None, '"v1"', None]


def test_a_renamed_or_moved_source_reads_the_page_again(tmp_path: Path, server: Server) -> None:
    conditional(server)
    clock = Clock()
    old = {"name": "old", "url": server.url("/digest"), "feed": "f"}
    assert run_once(load_config(write_config(tmp_path, [old])), now=clock)[0].new == 5
    for source in (
        {"name": "renamed", "url": server.url("/digest"), "feed": "f"},
        {"name": "renamed", "url": server.url("/digest"), "feed": "elsewhere"},
    ):
        clock.advance(hours=1)
        config = load_config(write_config(tmp_path, [source]))
        (result,) = run_once(config, now=clock)
        assert result.ok and not result.not_modified, result
        assert "If-None-Match" not in server.requests[-1][2]
    assert entries(config.feeds_dir / "elsewhere.atom") == 5


def test_changed_split_options_take_effect_at_the_next_run(tmp_path: Path, server: Server) -> None:
    conditional(server)
    clock = Clock()
    source: dict[str, Any] = {"name": "s", "url": server.url("/digest"), "feed": "f"}
    assert run_once(load_config(write_config(tmp_path, [source])), now=clock)[0].new == 5
    clock.advance(hours=1)
    assert run_once(load_config(write_config(tmp_path, [source])), now=clock)[0].not_modified
    source["split"] = "whole"  # one item now: the page must be read and split again
    clock.advance(hours=1)
    config = load_config(write_config(tmp_path, [source]))
    (result,) = run_once(config, now=clock)
    assert result.ok and not result.not_modified and result.new == 1, result
    assert "If-None-Match" not in server.requests[-1][2]
    clock.advance(hours=1)
    assert run_once(config, now=clock)[0].not_modified  # and then its validators apply again


def test_a_re_poll_answered_304_keeps_its_connections_open(tmp_path: Path, server: Server) -> None:
    """Six sources on one host, polled twice; the second time every page answers "304 Not
    Modified". A 304 has no body, so the connection it came on serves the next request: the
    re-poll opens at most one connection per fetching thread (it opened one per page)."""
    clients: list[tuple[int, int]] = []  # (client port, status) of each page request

    def answer(handler: Any) -> None:
        etag = '"v1"'
        if handler.headers.get("If-None-Match") == etag:
            clients.append((handler.client_address[1], 304))
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        clients.append((handler.client_address[1], 200))
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("ETag", etag)
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.write(PAGE)

    sources = []
    for i in range(6):
        server.routes[f"/d{i}"] = Response(handler=answer)
        sources.append({"name": f"s{i}", "url": server.url(f"/d{i}"), "feed": f"f{i}"})
    config = load_config(write_config(tmp_path, sources, concurrency=2, host_concurrency=2))
    clock = Clock()
    assert all(r.ok and r.new for r in run_once(config, now=clock))
    clients.clear()
    results = run_once(config, now=clock)
    assert all(r.ok and r.not_modified for r in results), [r.error for r in results]
    assert [status for _, status in clients] == [304] * 6
    assert len({port for port, _ in clients}) <= 2, clients


def test_credentials_from_netrc_are_looked_up_once_per_host_and_still_sent(
    tmp_path: Path, server: Server, monkeypatch: Any
) -> None:
    """requests sends what ~/.netrc holds for a host; feedbot's session reads it once per host,
    not on every request, and still sends it on every request to that host (and nothing to a host
    the file does not name)."""
    import base64

    import requests.sessions
    import requests.utils

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login reader password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    lookups: list[str] = []
    real = requests.utils.get_netrc_auth

    def counted(url: str, raise_errors: bool = False) -> Any:
        lookups.append(url)
        return real(url, raise_errors)

    monkeypatch.setattr(requests.utils, "get_netrc_auth", counted)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", counted)
    for i in range(3):
        server.routes[f"/d{i}"] = Response(200, PAGE)
    sources = [{"name": f"s{i}", "url": server.url(f"/d{i}"), "feed": f"f{i}"} for i in range(3)]
    config = load_config(write_config(tmp_path, sources, concurrency=1))
    assert all(r.ok for r in run_once(config, now=Clock()))
    expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    pages = [headers for _, path, headers in server.requests if path.startswith("/d")]
    assert len(pages) == 3 and all(h.get("Authorization") == expected for h in pages)
    assert len(lookups) == 1  # one host, one lookup (robots.txt and the three pages)
