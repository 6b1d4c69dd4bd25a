"""The fetch policy: a page reached from the network leads only to public http(s) addresses, to the
source's own origin, or to networks the config names — never to a local file or another internal
address, whatever the spelling, the redirect or the DNS answer. (The rule, then a run against
hostile index pages, redirects and names, with every server on 127.0.0.1.)"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import Config, load_config
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.model import RunResult
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import Clock, Response, Server, serve, write_config

UA = "t (+http://127.0.0.1/)"


def story_page(marker: str) -> bytes:
    """A digest of three stories whose every headline and paragraph carries ``marker``."""
    body = "".join(
        f"<h2>{marker} headline number {n}</h2><p>{marker} story {n}: a paragraph long enough "
        f"to be a story, with several words about {marker} and what happened next.</p>"
        for n in range(1, 4)
    )
    return f"<html><head><title>{marker}</title></head><body>{body}</body></html>".encode()


GOOD = story_page("Harbourgood")
SECRET = story_page("Secretmarker")
INTERNAL = story_page("Internalmarker")

# --- a run against hostile pages ----------------------------------------------------------------


@pytest.fixture
def internal() -> Iterator[Server]:
    """Another service on this machine, on another port: nothing a page says may reach it."""
    with serve() as srv:
        srv.routes["/robots.txt"] = Response(200, b"User-agent: *\nAllow: /\n")
        for n in range(1, 10):
            srv.routes[f"/digest/2024-01-0{n}.html"] = Response(200, INTERNAL)
        srv.routes["/"] = Response(200, INTERNAL)
        yield srv


def fetcher(**settings: Any) -> Fetcher:
    return Fetcher(
        FetchSettings(user_agent=UA, read_timeout=2, tries=1, **settings), sleep=lambda s: None
    )


def index_source(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "news",
        "kind": "index",
        "url": url,
        "feed": "f",
        "link_pattern": r"/digest/\d{4}-\d\d-\d\d\.html",
        "follow": 60,
        **extra,
    }


def published(config: Config) -> str:
    """Everything a reader or the server could show: the feed files and every stored revision."""
    texts = [p.read_text("utf-8") for p in sorted(config.feeds_dir.glob("*"))]
    with Store(config.db_path) as store:
        for entry in store.feed_entries("f", 1000):
            texts.append(entry.headline + entry.body_html + " ".join(entry.pages))
    return "\n".join(texts)


def internal_links(port: int) -> list[str]:
    """The internal service's page in every loopback spelling (never another address: tests only
    ever talk to 127.0.0.1 and ::1)."""
    hosts = [
        "127.0.0.1",
        "localhost",
        "LocalHost",
        "127.1",
        "127.0.0.1.",
        "2130706433",
        "017700000001",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "0.0.0.0",
        "0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ]
    return [f"http://{h}:{port}/digest/2024-01-0{1 + i % 9}.html" for i, h in enumerate(hosts)]


def file_links(directory: Path) -> list[str]:
    secret = directory / "secret.html"
    bare = directory / "secret"
    trick = "?/digest/2024-01-01.html"
    return [
        secret.as_uri() + trick,
        bare.as_uri() + trick,
        "FILE://" + secret.as_uri()[len("file://") :] + trick,
        "file://localhost" + secret.as_uri()[len("file://") :] + trick,
        "file:" + str(secret) + trick,
        " \tfile://" + str(secret) + trick,
        secret.as_uri() + "#/digest/2024-01-01.html",
    ]


def hostile_index(links: list[str]) -> bytes:
    items = "".join(f"<li><a href='{link}'>{i}</a></li>" for i, link in enumerate(links))
    return f"<html><body><ul>{items}</ul></body></html>".encode()


def run(config: Config, fetch: Fetcher | None = None) -> RunResult:
    (result,) = run_once(config, now=Clock(), fetcher=fetch or fetcher())
    return result


def test_a_hostile_index_reaches_no_local_file_and_no_internal_service(
    tmp_path: Path, server: Server, internal: Server
) -> None:
    (tmp_path / "secret.html").write_bytes(SECRET)
    (tmp_path / "secret").write_bytes(SECRET)
    port = internal.httpd.server_address[1]
    redirects = {
        "/digest/2024-02-01.html": f"http://127.0.0.1:{port}/digest/2024-01-01.html",
        "/digest/2024-02-02.html": f"http://localhost:{port}/",
        "/digest/2024-02-03.html": f"http://2130706433:{port}/",
        "/digest/2024-02-04.html": (tmp_path / "secret.html").as_uri(),
        "/digest/2024-02-05.html": f"//[::1]:{port}/digest/2024-01-01.html",
    }
    for path, target in redirects.items():
        server.routes[path] = Response(302, b"", {"Location": target})
    server.routes["/digest/2024-03-01.html"] = Response(200, GOOD)
    links = [
        *file_links(tmp_path),
        *internal_links(port),
        *(server.url(path) for path in redirects),
        server.url("/digest/2024-03-01.html"),
    ]
    server.routes["/archive"] = Response(200, hostile_index(links))
    config = load_config(write_config(tmp_path, [index_source(server.url("/archive"))]))

    result = run(config)

    assert internal.requests == [] and internal.robots_requests == []
    shown = published(config)
    assert "Harbourgood" in shown  # the good page went through
    assert "Secretmarker" not in shown and "Internalmarker" not in shown
    assert not result.ok and result.error is not None
    # every refused link is reported by its URL, with why
    for link in [*internal_links(port), *(server.url(path) for path in redirects)]:
        assert f"page {link}: refused: " in result.error, link
    for path in redirects:
        assert f"{path}: refused: redirect to " in result.error
    assert result.error.count("may not lead to a local file") >= 5


def test_a_local_index_reads_only_files_beside_it(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (tmp_path / "secret.html").write_bytes(SECRET)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "secret.html").write_bytes(SECRET)
    (pages / "2024-01-01.html").write_bytes(GOOD)
    (pages / "escape.html").symlink_to(tmp_path / "secret.html")
    links = [
        "2024-01-01.html",
        "../secret.html",
        (tmp_path / "other" / "secret.html").as_uri(),
        "escape.html",
        "2024-01-01.html?x=../../secret.html",
    ]
    (pages / "index.html").write_bytes(hostile_index(links))
    source = index_source("pages/index.html", link_pattern=r"\.html")
    config = load_config(write_config(tmp_path, [source]))

    result = run(config)

    shown = published(config)
    assert "Harbourgood" in shown and "Secretmarker" not in shown
    assert result.error is not None and result.error.count("refused") == 4, result.error


def test_redirects_of_a_page_and_of_robots_txt_obey_the_policy(
    tmp_path: Path, server: Server, internal: Server
) -> None:
    port = internal.httpd.server_address[1]
    server.routes["/robots.txt"] = Response(
        301, b"", {"Location": f"http://127.0.0.1:{port}/robots.txt"}
    )
    server.routes["/digest"] = Response(200, GOOD)
    page = {"name": "page", "url": server.url("/digest"), "feed": "f"}
    config = load_config(write_config(tmp_path, [page]))
    result = run(config)
    assert not result.ok and result.error is not None
    assert "redirect to http://127.0.0.1:" in result.error and "robots.txt" in result.error
    assert internal.requests == [] and internal.robots_requests == []

    server.routes["/robots.txt"] = Response(404, b"")
    server.routes["/digest"] = Response(302, b"", {"Location": f"http://[::1]:{port}/"})
    result = run(config, fetcher())
    assert not result.ok and result.error is not None and "refused" in result.error
    assert internal.requests == [] and "Internalmarker" not in published(config)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver where ``intranet.test`` is this machine (as a DNS answer can make any name)."""
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "intranet.test":
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.usefixtures("names")
def test_a_name_is_judged_on_the_address_it_resolves_to_at_connect_time(
    tmp_path: Path, server: Server, internal: Server
) -> None:
    port = internal.httpd.server_address[1]
    link = f"http://intranet.test:{port}/digest/2024-01-01.html"
    server.routes["/archive"] = Response(200, hostile_index([link]))
    config = load_config(write_config(tmp_path, [index_source(server.url("/archive"))]))
    result = run(config)
    assert not result.ok and result.error is not None
    assert "intranet.test is 127.0.0.1, 127.0.0.1 is a loopback address" in result.error
    assert internal.requests == [] and internal.robots_requests == []

    # a network the config names is reachable
    from feedbot import netpolicy

    opened = fetcher(allow_networks=netpolicy.parse_networks(["127.0.0.0/8"]))
    result = run(config, opened)
    assert result.ok, result.error
    assert [path for _, path, _ in internal.requests] == ["/digest/2024-01-01.html"]
    assert "Internalmarker" in published(config)


def test_a_kept_alive_connection_is_judged_again_for_another_source(
    tmp_path: Path, server: Server, internal: Server
) -> None:
    """Source A is configured on the internal service (its origin: allowed); source B's index links
    there too. The connection A left in the pool does not carry B's link past the policy."""
    port = internal.httpd.server_address[1]
    internal.routes["/own.html"] = Response(200, GOOD)
    server.routes["/archive"] = Response(
        200, hostile_index([f"http://127.0.0.1:{port}/digest/2024-01-01.html"])
    )
    sources = [
        {"name": "a", "url": internal.url("/own.html"), "feed": "a"},
        {**index_source(server.url("/archive")), "name": "b"},
    ]
    config = load_config(write_config(tmp_path, sources, concurrency=1))
    a, b = run_once(config, now=Clock(), fetcher=fetcher())
    assert a.ok, a.error
    assert not b.ok and b.error is not None and "loopback" in b.error
    assert [path for _, path, _ in internal.requests] == ["/own.html"]
