"""Index sources: an index page lists digest pages; the newest N are followed, processed pages are
remembered, re-checked for edits during the re-check window and then left alone; an index that
loses its links (or a followed page that fails) never empties the feed or loses stored items."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import Config, load_config
from feedbot.errors import ConfigError
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.index import index_links, pages_to_follow
from feedbot.model import KnownPage, RunResult
from feedbot.run import run_once
from feedbot.store import MIGRATIONS, SCHEMA_VERSION, Store

from .helpers import Clock, Response, Server, check_atom, write_config

STORIES = {
    1: [
        (
            "Harbour bridge reopens after repairs",
            "The harbour bridge reopened on Monday after six weeks of repairs to its deck and cables, the city said.",
        ),
        (
            "Library extends its opening hours",
            "The central library will stay open until nine in the evening from next month, following a survey of readers.",
        ),
    ],
    2: [
        (
            "Rail strike called off",
            "Train drivers called off a planned strike after reaching an agreement on pay and rosters with the operator.",
        ),
        (
            "New bus routes for the east side",
            "Three new bus routes will link the east side with the hospital and the university from the spring.",
        ),
    ],
    3: [
        (
            "Council approves the park budget",
            "The council approved the budget for the riverside park, which will open its first section in June.",
        ),
        (
            "Museum returns a stolen painting",
            "A painting stolen forty years ago was returned to the museum by a collector who bought it in good faith.",
        ),
    ],
    4: [
        (
            "Storm warning for the coast",
            "Forecasters issued a storm warning for the coast, with gusts of up to one hundred kilometres an hour.",
        ),
        (
            "School meals to be free",
            "All primary school pupils will receive free school meals from September, the education office announced.",
        ),
    ],
}


def digest(number: int, extra: str = "") -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in STORIES[number])
    return (
        f"<html><head><title>Digest {number}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<div class='content'>{body}{extra}</div></body></html>"
    ).encode()


def index(*numbers: int, noise: bool = True) -> bytes:
    items = "".join(f"<li><a href='/digest/{n}.html'>Digest {n}</a></li>" for n in numbers)
    nav = (
        "<a href='/about.html'>About</a><a href='https://elsewhere.test/x'>Partner</a>"
        if noise
        else ""
    )
    return f"<html><body>{nav}<ul class='archive'>{items}</ul></body></html>".encode()


def fetcher() -> Fetcher:
    return Fetcher(
        FetchSettings(user_agent="t (+http://127.0.0.1/)", read_timeout=2, tries=1),
        sleep=lambda s: None,
    )


def index_config(tmp_path: Path, server: Server, **source: Any) -> Config:
    settings = {
        "name": "news",
        "kind": "index",
        "url": server.url("/archive"),
        "feed": "f",
        "link_selector": "ul.archive",
        "follow": 2,
        "recheck": "3d",
        **source,
    }
    settings = {key: value for key, value in settings.items() if value is not None}
    return load_config(write_config(tmp_path, [settings]))


def serve_digests(server: Server, *numbers: int) -> None:
    for n in numbers:
        server.routes[f"/digest/{n}.html"] = Response(200, digest(n), {"ETag": f'"d{n}"'})


def paths(server: Server) -> list[str]:
    return [path for _, path, _ in server.requests]


def run(config: Config, clock: Clock) -> RunResult:
    (result,) = run_once(config, now=clock, fetcher=fetcher())
    return result


def titles(config: Config) -> set[str]:
    parsed = check_atom((config.feeds_dir / "f.atom").read_bytes())
    return {e.title for e in parsed.entries}


def test_follows_the_newest_pages_and_remembers_them(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1, 2, 3)
    server.routes["/archive"] = Response(200, index(3, 2, 1), {"ETag": '"i1"'})
    config = index_config(tmp_path, server)
    clock = Clock()
    result = run(config, clock)
    assert result.ok and result.new == 4, result.error
    assert paths(server) == ["/archive", "/digest/2.html", "/digest/3.html"]  # oldest first
    assert titles(config) == {h for n in (2, 3) for h, _ in STORIES[n]}
    with Store(config.db_path) as store:
        assert {p.url for p in store.index_pages("news")} == {
            server.url("/digest/2.html"),
            server.url("/digest/3.html"),
        }
        entry = store.feed_entries("f", 10)[0]
        assert entry.pages and entry.pages[0].startswith(server.url("/digest/"))


def test_recent_pages_are_rechecked_then_left_alone(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1, 2, 3)
    server.routes["/archive"] = Response(200, index(2, 1), {"ETag": '"i1"'})
    config = index_config(tmp_path, server)
    clock = Clock()
    assert run(config, clock).new == 4

    # a day later: the index is unchanged (304), both pages are re-checked with their validators
    server.requests.clear()
    server.routes["/archive"] = Response(304, b"")
    server.routes["/digest/1.html"] = Response(304, b"")
    edited = digest(2, "<p>Correction: the strike was called off on Tuesday, not Monday.</p>")
    server.routes["/digest/2.html"] = Response(200, edited, {"ETag": '"d2b"'})
    clock.advance(days=1)
    result = run(config, clock)
    assert result.ok and (result.new, result.updated) == (0, 1), result
    assert paths(server) == ["/archive", "/digest/1.html", "/digest/2.html"]
    assert server.requests[1][2]["If-None-Match"] == '"d1"'
    assert server.requests[0][2]["If-None-Match"] == '"i1"'

    # four days after they were first seen: a new page appears, the old ones are not asked for
    server.requests.clear()
    server.routes["/archive"] = Response(200, index(3, 2, 1), {"ETag": '"i2"'})
    clock.advance(days=3)
    result = run(config, clock)
    assert result.ok and result.new == 2
    assert paths(server) == ["/archive", "/digest/3.html"]
    assert len(titles(config)) == 6


def test_an_index_whose_links_vanish_keeps_the_feed(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1, 2)
    server.routes["/archive"] = Response(200, index(2, 1))
    config = index_config(tmp_path, server)
    clock = Clock()
    assert run(config, clock).new == 4
    feed = config.feeds_dir / "f.atom"
    before, mtime = feed.read_bytes(), feed.stat().st_mtime_ns

    server.routes["/archive"] = Response(200, index(noise=True))  # redesigned: no archive links
    clock.advance(hours=1)
    result = run(config, clock)
    assert not result.ok and result.error is not None
    assert "source 'news'" in result.error and server.url("/archive") in result.error
    assert "lists no links matching link_selector 'ul.archive'" in result.error
    assert feed.read_bytes() == before and feed.stat().st_mtime_ns == mtime
    with Store(config.db_path) as store:
        assert store.count_entries("f") == 4

    # the links come back, but the old pages have dropped off: their entries stay in the feed
    serve_digests(server, 3)
    server.routes["/archive"] = Response(200, index(3))
    clock.advance(hours=1)
    result = run(config, clock)
    assert result.ok and result.new == 2
    assert len(titles(config)) == 6


def test_a_failing_page_names_source_index_and_page(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1)
    server.routes["/digest/2.html"] = Response(500, b"oops")
    server.routes["/archive"] = Response(200, index(2, 1), {"ETag": '"i1"'})
    config = index_config(tmp_path, server)
    clock = Clock()
    result = run(config, clock)
    assert not result.ok and result.new == 2  # the good page is stored all the same
    assert result.error == (
        f"source 'news': index {server.url('/archive')}: "
        f"page {server.url('/digest/2.html')}: HTTP 500 Internal Server Error (after 1 try)"
    )
    assert titles(config) == {h for h, _ in STORIES[1]}  # the feed shows what did work

    # next run: the index is read again in full (its validators were dropped) and the page retried
    serve_digests(server, 2)
    server.requests.clear()
    clock.advance(hours=1)
    result = run(config, clock)
    assert result.ok and result.new == 2, result.error
    assert "If-None-Match" not in server.requests[0][2]
    assert "/digest/2.html" in paths(server)


def test_unsplittable_page_is_an_error_for_that_page(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1)
    server.routes["/digest/2.html"] = Response(
        200, b"<html><body><p>Coming soon.</p></body></html>"
    )
    server.routes["/archive"] = Response(200, index(2, 1))
    config = index_config(tmp_path, server)
    result = run(config, Clock())
    assert not result.ok and result.new == 2
    assert result.error is not None
    assert f"page {server.url('/digest/2.html')}: no headline structure found" in result.error


def test_robots_txt_forbidding_a_followed_page(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1, 2)
    server.routes["/robots.txt"] = Response(
        200, b"User-agent: *\nDisallow: /digest/2.html\n", {"Content-Type": "text/plain"}
    )
    server.routes["/archive"] = Response(200, index(2, 1))
    config = index_config(tmp_path, server)
    result = run(config, Clock())
    assert not result.ok and result.new == 2
    assert result.error is not None
    assert (
        f"source 'news': index {server.url('/archive')}: page {server.url('/digest/2.html')}: "
        "robots.txt disallows this page"
    ) in result.error
    assert "/digest/2.html" not in paths(server)
    assert len(server.robots_requests) == 1


def test_link_pattern_and_newest_last(tmp_path: Path, server: Server) -> None:
    serve_digests(server, 1, 2, 3, 4)
    server.routes["/archive"] = Response(200, index(1, 2, 3, 4))  # oldest first
    config = index_config(
        tmp_path,
        server,
        link_selector=None,
        link_pattern=r"/digest/\d+\.html$",
        newest="last",
        follow=3,
    )
    result = run(config, Clock())
    assert result.ok and result.new == 6
    assert paths(server) == ["/archive", "/digest/2.html", "/digest/3.html", "/digest/4.html"]


def test_index_not_modified_without_known_pages_fetches_nothing(
    tmp_path: Path, server: Server
) -> None:
    serve_digests(server, 1)
    server.routes["/archive"] = Response(200, index(1), {"ETag": '"i1"'})
    config = index_config(tmp_path, server)
    clock = Clock()
    assert run(config, clock).new == 2
    server.requests.clear()
    server.routes["/archive"] = Response(304, b"")
    server.routes["/digest/1.html"] = Response(304, b"")
    clock.advance(days=5)  # the page is past its re-check window
    result = run(config, clock)
    assert result.ok and result.not_modified
    assert paths(server) == ["/archive"]


def test_local_index_of_local_pages(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for n in (1, 2):
        (pages / f"{n}.html").write_bytes(digest(n))
    (pages / "index.html").write_text(
        "<html><body><a href='2.html'>two</a><a href='1.html'>one</a></body></html>"
    )
    path = write_config(
        tmp_path,
        [
            {
                "name": "local",
                "kind": "index",
                "url": "pages/index.html",
                "feed": "f",
                "link_pattern": r"\d\.html$",
            }
        ],
    )
    config = load_config(path)
    result = run(config, Clock())
    assert result.ok and result.new == 4


# --- pure parts ----------------------------------------------------------------------------------


def test_index_links_resolves_dedupes_and_filters() -> None:
    config = load_config_text(link_selector="main a.story, .more", link_pattern="/20\\d\\d/")
    source = config.sources[0]
    html = """<html><head><base href="https://news.test/archive/"></head><body>
      <main><a class="story" href="2024/05/02.html#top">b</a>
            <a class="story" href="/2024/05/01.html">a</a>
            <a class="story" href="2024/05/02.html">b again</a>
            <a class="story" href="mailto:desk@news.test">mail</a>
            <a href="2024/05/03.html">not a story link</a></main>
      <div class="more"><a href="https://other.test/2023/x.html">x</a><a href="/tags/">tags</a></div>
    </body></html>"""
    assert index_links(html, "https://news.test/archive/", source) == [
        "https://news.test/archive/2024/05/02.html",
        "https://news.test/2024/05/01.html",
        "https://other.test/2023/x.html",
    ]


def test_pages_to_follow() -> None:
    now = datetime(2024, 5, 10, tzinfo=UTC)
    known = [
        KnownPage("u3", now - timedelta(days=1)),
        KnownPage("u2", now - timedelta(days=4)),
    ]
    links = ["u4", "u3", "u2", "u1"]
    chosen = pages_to_follow(links, known, follow=3, recheck=timedelta(days=3), now=now)
    assert chosen == ["u3", "u4"]  # u2 is past its window, u1 is beyond the newest 3


def load_config_text(**source: Any) -> Config:
    from feedbot.config import parse_config

    data = {
        "feedbot": {"user_agent": "feedbot-tests/1 (+http://127.0.0.1/contact)"},
        "sources": [{"name": "s", "url": "https://news.test/archive/", "kind": "index", **source}],
    }
    return parse_config(Path("/nowhere/feedbot.toml"), data)


@pytest.mark.parametrize(
    ("source", "key", "message"),
    [
        ({"kind": "pages"}, "kind", "must be one of page, index"),
        ({"kind": "index"}, "link_selector", "needs link_selector, link_pattern or both"),
        ({"kind": "index", "link_selector": "ul >> a"}, "link_selector", "not a valid CSS"),
        ({"kind": "index", "link_pattern": "("}, "link_pattern", "not a valid regular"),
        ({"kind": "index", "link_pattern": "x", "follow": 0}, "follow", "greater than zero"),
        ({"kind": "index", "link_pattern": "x", "recheck": "3 weeks"}, "recheck", "duration"),
        ({"kind": "index", "link_pattern": "x", "newest": "top"}, "newest", "'first' or 'last'"),
        ({"link_pattern": "x"}, "link_pattern", 'only for index sources (add kind = "index")'),
        ({"robots": "no"}, "robots", "must be true or false"),
    ],
)
def test_config_errors_name_file_and_key(
    tmp_path: Path, source: dict[str, Any], key: str, message: str
) -> None:
    path = write_config(tmp_path, [{"name": "s", "url": "https://news.test/", **source}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert f"sources[0] (s).{key}" in str(info.value)
    assert message in str(info.value)


def test_migration_2_upgrades_a_version_1_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0][1])
    db.execute(
        "INSERT INTO http_cache (url, etag, fetched_at) VALUES ('http://x.test/', '\"e\"', 'now')"
    )
    db.execute("PRAGMA user_version = 1")
    db.close()
    with Store(path) as store:
        assert (
            store.db.execute("PRAGMA user_version").fetchone()[0]
            == SCHEMA_VERSION
            == len(MIGRATIONS)
        )
        assert store.index_pages("any") == []
        # migration 5 keys validators by source: the URL-keyed cache is dropped (it is a cache:
        # each source reads its page in full once)
        assert store.validators("any", "http://x.test/", "options") is None


def test_one_deadline_for_the_index_and_its_pages(tmp_path: Path, server: Server) -> None:
    """The deadline is per source: time spent waiting on one followed page counts for the next."""
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    fetch = Fetcher(
        FetchSettings(user_agent="t (+http://127.0.0.1/)", tries=3, deadline=50),
        sleep=sleep,
        monotonic=lambda: clock[0],
    )
    server.routes["/archive"] = Response(200, index(2, 1))
    busy = Response(503, b"busy", {"Retry-After": "30"})
    server.routes["/digest/1.html"] = [busy, Response(200, digest(1))]
    server.routes["/digest/2.html"] = busy
    config = index_config(tmp_path, server)
    (result,) = run_once(config, now=Clock(), fetcher=fetch)
    assert result.new == 2 and not result.ok
    assert result.error is not None and "page " + server.url("/digest/2.html") in result.error
    assert "the next try would pass the 50s deadline" in result.error
    assert sleeps == [30.0]
