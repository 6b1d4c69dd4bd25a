"""The three formats against their specifications, hostile content through all of them, WebSub and
fh:complete. Every document produced here is validated: Atom with the RFC 4287 RELAX NG schema and
feedparser, RSS with feedparser, JSON Feed with our JSON Feed 1.1 schema."""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lxml.etree as etree
import lxml.html
import pytest

from feedbot.config import load_config
from feedbot.model import EntryRow
from feedbot.render import (
    FH_NS,
    MAX_CONTENT,
    RENDERERS,
    FeedMeta,
    render_atom,
    render_json,
    render_rss,
)
from feedbot.run import run_once
from feedbot.sanitize import clean_html, truncate_html

from .helpers import ATOM, Clock, check_atom, check_feed, check_feedparser, check_json_feed
from .helpers import write_config as _write_config

FORMATS = ("atom", "rss", "json")
T0 = datetime(2022, 3, 6, 9, 0, tzinfo=UTC)


def entry(n: int = 1, **changes: Any) -> EntryRow:
    base = EntryRow(
        entry_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        headline=f"Story {n}",
        body_html=f"<p>Body of story {n}.</p>",
        body_text=f"Body of story {n}.",
        link=f"https://example.org/digest.html#s{n}",
        attribution=None,
        published=T0,
        updated=T0 + timedelta(minutes=n),
        first_seen=T0,
        last_seen=T0,
        revisions=1,
        position=n,
        replaces=None,
        previous_text=None,
        previous_headline=None,
        sources=("src",),
        pages=("https://example.org/digest.html",),
    )
    return replace(base, **changes)


META = FeedMeta("digest", "Digest", "https://example.org/digest.html", None)


def render_all(meta: FeedMeta, entries: list[EntryRow]) -> dict[str, bytes]:
    data = {fmt: RENDERERS[fmt](meta, entries) for fmt in FORMATS}
    for fmt, document in data.items():
        check_feed(fmt, document)
    return data


def contents(data: dict[str, bytes]) -> dict[str, list[str]]:
    """Each format's item HTML, as a reader gets it after parsing."""
    atom = check_atom(data["atom"])
    rss = check_feedparser(data["rss"])
    js = check_json_feed(data["json"])
    return {
        "atom": [e.content[0].value for e in atom.entries],
        "rss": [e.description for e in rss.entries],
        "json": [i["content_html"] for i in js["items"]],
    }


# --- specification details ------------------------------------------------------------------------


def test_rss_guid_is_not_a_permalink_and_dates_are_rfc822() -> None:
    data = render_rss(META, [entry(2), entry(1)])
    root = etree.fromstring(data)
    guids = root.findall("channel/item/guid")
    assert [g.get("isPermaLink") for g in guids] == ["false", "false"]
    assert [g.text for g in guids] == [entry(2).entry_id, entry(1).entry_id]
    pub = root.findtext("channel/item/pubDate") or ""
    assert pub == "Sun, 06 Mar 2022 09:00:00 +0000"
    assert parsedate_to_datetime(pub) == T0
    build = root.findtext("channel/lastBuildDate") or ""
    assert parsedate_to_datetime(build) == T0 + timedelta(minutes=2)  # the newest entry, not now
    parsed = check_feedparser(data)
    assert [e.id for e in parsed.entries] == [entry(2).entry_id, entry(1).entry_id]
    assert all(not e.guidislink for e in parsed.entries)


def test_json_feed_members() -> None:
    meta = replace(META, self_url="https://feeds.example.org/digest.json")
    doc = check_json_feed(render_json(meta, [entry(1, attribution="Agency")]))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["home_page_url"] == "https://example.org/digest.html"
    assert doc["feed_url"] == "https://feeds.example.org/digest.json"
    assert doc["authors"] == [{"name": "Digest"}]
    (item,) = doc["items"]
    assert item["id"] == entry(1).entry_id
    assert item["date_published"] == "2022-03-06T09:00:00+00:00"
    assert item["date_modified"] == "2022-03-06T09:01:00+00:00"
    assert item["_feedbot"]["source"] == "Agency"


def test_the_json_schema_rejects_what_the_spec_forbids() -> None:
    good = render_json(META, [entry(1)])
    check_json_feed(good)
    for broken in (
        good.replace(b'"version": "https://jsonfeed.org/version/1.1"', b'"version": "1.1"'),
        good.replace(b'"id":', b'"identifier":'),
        good.replace(b'"content_html":', b'"body":'),
        good.replace(
            b'"date_published": "2022-03-06T09:00:00+00:00"', b'"date_published": "6 March"'
        ),
        good.replace(b'"title": "Digest"', b'"titel": "Digest"'),
        good.replace(b'"url": "https://example.org/digest.html#s1"', b'"url": 7'),
    ):
        assert broken != good
        with pytest.raises(AssertionError):
            check_json_feed(broken)


# --- hostile content ----------------------------------------------------------------------------

HOSTILE = """
<p>Before<script>alert('script')</script>after.</p>
<p><a href="javascript:alert('js')">js link</a> <a href="JaVaScRiPt:alert(1)">mixed case</a>
<a href="&#106;avascript:alert(2)">entity</a> <a href=" javascript:alert(3)">space</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="data:text/html,&lt;script&gt;alert(4)&lt;/script&gt;">data</a></p>
<p onclick="alert('click')" onmouseover="alert(5)">handlers</p>
<img src="/img/a.png" onerror="alert('img')" alt="pic">
<svg onload="alert(6)"><circle r="1"/></svg>
<style>body { background: url(javascript:alert(7)) }</style>
<iframe src="https://evil.example/frame">frame text</iframe>
<object data="https://evil.example/x.swf"><embed src="https://evil.example/y.swf"></object>
<form action="https://evil.example/steal"><input name="password"></form>
<p style="position:fixed;top:0">styled</p>
<a href="relative/page.html">relative</a> <a href="#frag">fragment</a>
<math><mi xlink:href="javascript:alert(8)">x</mi></math>
<p>Control\x00chars\x01here\x08and\x0b\x0c\x1f; also \ufffe and \uffff.</p>
"""
FORBIDDEN = (
    "<script",
    "alert(",
    "javascript:",
    "vbscript:",
    "data:text",
    "onclick",
    "onerror",
    "onload",
    "onmouseover",
    "<style",
    "<iframe",
    "<object",
    "<embed",
    "<svg",
    "<form",
    "<input",
    "style=",
)


def _check_safe(html: str) -> None:
    lowered = html.lower()
    for needle in FORBIDDEN:
        assert needle not in lowered, (needle, html)
    for char in "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff":
        assert char not in html


def test_hostile_html_is_sanitised_in_every_format() -> None:
    body = clean_html(HOSTILE, "https://example.org/news/digest.html")
    _check_safe(body)
    doc = lxml.html.fragment_fromstring(body, create_parent="div")
    hrefs = {a.text_content(): a.get("href") for a in doc.iter("a")}
    assert hrefs["relative"] == "https://example.org/news/relative/page.html"
    assert hrefs["fragment"] == "#frag"
    assert all(hrefs[k] is None for k in ("js link", "mixed case", "entity", "space", "vb", "data"))
    assert doc.find(".//img").get("src") == "https://example.org/img/a.png"
    data = render_all(META, [entry(1, body_html=body)])
    for fmt, htmls in contents(data).items():
        for html in htmls:
            _check_safe(html)
            assert "handlers" in html and "Before" in html and "after." in html, fmt


def test_hostile_page_through_the_pipeline(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Hostile digest</title></head><body><div class='content'>"
        + "".join(
            f"<h2>Headline {n} <script>alert({n})</script></h2>{HOSTILE}<p>Story {n} text "
            + "and some more words to make it a story. " * 5
            + "</p>"
            for n in range(1, 4)
        )
        + "</div></body></html>"
    )
    (tmp_path / "digest.html").write_text(page, encoding="utf-8")
    config = load_config(
        _write_config(
            tmp_path,
            [{"name": "hostile", "url": "digest.html", "headline_selector": "h2"}],
            feeds={"hostile": {"formats": list(FORMATS)}},
        )
    )
    results = run_once(config, now=Clock())
    assert [(r.ok, r.new) for r in results] == [(True, 3)], results
    data = {fmt: (config.feeds_dir / f"hostile.{fmt}").read_bytes() for fmt in FORMATS}
    for fmt, document in data.items():
        check_feed(fmt, document)
        assert b"alert(" not in document, fmt
    for htmls in contents(data).values():
        assert len(htmls) == 3
        for html in htmls:
            _check_safe(html)


def test_control_characters_and_lone_surrogates_in_titles_and_bodies() -> None:
    nasty = "Bad\x00title\x07with\x1b[31m escapes\ud800 and\udfff surrogates\ufffe"
    row = entry(
        1,
        headline=nasty,
        body_html="<p>body\x00\x0b\ud83d</p>",
        attribution="src\x01\udc00",
    )
    meta = replace(META, title="Feed\x02\ud800 title")
    data = render_all(meta, [row])
    for document in data.values():
        document.decode("utf-8")  # encodable at all: no lone surrogate survived
    atom = check_atom(data["atom"])
    rss = check_feedparser(data["rss"])
    js = check_json_feed(data["json"])
    expected = "Badtitlewith[31m escapes and surrogates"
    assert atom.entries[0].title == rss.entries[0].title == js["items"][0]["title"] == expected
    assert atom.feed.title == rss.feed.title == js["title"] == "Feed title"


def test_a_one_megabyte_item_is_capped_with_a_link_to_the_page() -> None:
    paragraph = (
        "<p>" + "Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing elit. " * 20 + "</p>"
    )
    body = paragraph * (1_048_576 // len(paragraph) + 1)
    assert len(body) > 1_000_000
    row = entry(1, body_html=body, link="https://example.org/long.html#:~:text=Long")
    data = render_all(META, [row])
    for fmt, (html,) in contents(data).items():
        assert MAX_CONTENT - 2000 < len(html) < MAX_CONTENT + 1000, (fmt, len(html))
        tail = lxml.html.fragment_fromstring(html, create_parent="div")
        last_link = list(tail.iter("a"))[-1]
        assert last_link.get("href") == row.link
        assert "Continue reading" in last_link.text_content()
    for document in data.values():
        assert len(document) < 400_000


@pytest.mark.parametrize(
    ("html", "limit", "expected"),
    [
        ("<p>one two three four</p>", 12, "<p>one two </p>"),
        ('<p>text <a href="https://example.org/long">link</a></p>', 16, "<p>text </p>"),
        ("<p><b>bold <i>and italic text here</i></b></p>", 20, "<p><b>bold <i>and </i></b></p>"),
        ("<p>fish &amp; chips</p>", 11, "<p>fish </p>"),
        ("<p>short</p>", 100, "<p>short</p>"),
    ],
)
def test_truncate_html_closes_elements_and_drops_broken_tags(
    html: str, limit: int, expected: str
) -> None:
    assert truncate_html(html, limit) == expected


# --- WebSub and fh:complete -----------------------------------------------------------------------


class Hub:
    """A WebSub hub on 127.0.0.1 that records publish pings."""

    def __init__(self, status: int = 204) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("ascii")
                assert self.headers.get("Content-Type") == "application/x-www-form-urlencoded"
                outer.pings.append(urllib.parse.parse_qs(body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hub"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.stop()


def _ukraine(tmp_path: Path, hub_url: str, **feed: Any) -> Any:
    from .helpers import FIXTURES

    (tmp_path / "digest.html").write_bytes(
        (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
    )
    return load_config(
        _write_config(
            tmp_path,
            [{"name": "ukraine", "url": "digest.html"}],
            base_url="https://feeds.example.org/",
            feeds={"ukraine": {"formats": list(FORMATS), "websub_hub": hub_url, **feed}},
        )
    )


def test_websub_hub_links_and_a_publish_ping_when_the_feed_changes(
    tmp_path: Path, hub: Hub
) -> None:
    config = _ukraine(tmp_path, hub.url)
    clock = Clock()
    assert run_once(config, now=clock)[0].ok
    assert hub.pings == [
        {
            "hub.mode": ["publish"],
            "hub.url": [
                "https://feeds.example.org/ukraine.atom",
                "https://feeds.example.org/ukraine.rss",
                "https://feeds.example.org/ukraine.json",
            ],
        }
    ]
    atom = (config.feeds_dir / "ukraine.atom").read_bytes()
    check_atom(atom)
    links = {
        link.get("rel"): link.get("href") for link in etree.fromstring(atom).findall(f"{ATOM}link")
    }
    assert links["hub"] == hub.url
    assert links["self"] == "https://feeds.example.org/ukraine.atom"
    rss = (config.feeds_dir / "ukraine.rss").read_bytes()
    check_feedparser(rss)
    rss_links = {
        link.get("rel"): link.get("href")
        for link in etree.fromstring(rss).findall(f"channel/{ATOM}link")
    }
    assert rss_links == {"self": "https://feeds.example.org/ukraine.rss", "hub": hub.url}
    js = check_json_feed((config.feeds_dir / "ukraine.json").read_bytes())
    assert js["hubs"] == [{"type": "WebSub", "url": hub.url}]
    # nothing changed: no ping
    clock.advance(hours=1)
    run_once(config, now=clock)
    assert len(hub.pings) == 1
    # the page changed: one more ping
    from .helpers import FIXTURES

    (tmp_path / "digest.html").write_bytes(
        (FIXTURES / "ukraine-digest-2022-03-07.html").read_bytes()
    )
    clock.advance(hours=1)
    assert run_once(config, now=clock)[0].updated == 1
    assert len(hub.pings) == 2


@pytest.mark.parametrize("failure", ["500", "unreachable"])
def test_a_failed_ping_warns_and_never_fails_the_run(
    tmp_path: Path, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    if failure == "500":
        hub = Hub(status=500)
        url = hub.url
    else:
        hub = Hub()
        url = hub.url
        hub.stop()  # nothing listens there any more
    try:
        config = _ukraine(tmp_path, url)
        with caplog.at_level(logging.WARNING, logger="feedbot"):
            results = run_once(config, now=Clock())
        assert [(r.ok, r.new) for r in results] == [(True, 5)]
        assert (config.feeds_dir / "ukraine.atom").exists()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("websub" in w and url in w for w in warnings), warnings
    finally:
        if failure == "500":
            hub.stop()


def test_websub_hub_needs_base_url(tmp_path: Path) -> None:
    from feedbot.errors import ConfigError

    (tmp_path / "digest.html").write_text("<p>x</p>", encoding="utf-8")
    path = _write_config(
        tmp_path,
        [{"name": "a", "url": "digest.html"}],
        feeds={"a": {"websub_hub": "https://hub.example.org/"}},
    )
    with pytest.raises(ConfigError, match="base_url"):
        load_config(path)


@pytest.mark.parametrize(("limit", "complete"), [(50, True), (3, False)])
def test_fh_complete_only_when_the_feed_holds_every_entry(
    tmp_path: Path, hub: Hub, limit: int, complete: bool
) -> None:
    config = _ukraine(tmp_path, hub.url, entries=limit)
    run_once(config, now=Clock())
    for fmt in ("atom", "rss"):
        data = (config.feeds_dir / f"ukraine.{fmt}").read_bytes()
        check_feed(fmt, data)
        found = etree.fromstring(data).find(f".//{{{FH_NS}}}complete")
        assert (found is not None) is complete, fmt
    assert len(check_atom((config.feeds_dir / "ukraine.atom").read_bytes()).entries) == min(
        limit, 5
    )


def test_render_is_deterministic_with_extras() -> None:
    meta = replace(META, hub="https://hub.example.org/", complete=True, self_url="https://f/x")
    rows = [entry(2), entry(1)]
    assert render_atom(meta, rows) == render_atom(meta, rows)
    assert render_rss(meta, rows) == render_rss(meta, rows)
    assert render_json(meta, rows) == render_json(meta, rows)


def test_a_one_megabyte_item_through_the_pipeline(tmp_path: Path) -> None:
    words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
    long_body = "".join(f"<p>{n}: {words * 10}</p>" for n in range(1_048_576 // (len(words) * 10)))
    page = (
        "<html><head><title>Long digest</title></head><body><div class='content'>"
        f"<h2>The long story</h2>{long_body}"
        "<h2>The short story</h2><p>Short and sweet, with a few more words in it.</p>"
        "</div></body></html>"
    )
    assert len(page) > 1_000_000
    (tmp_path / "digest.html").write_text(page, encoding="utf-8")
    config = load_config(
        _write_config(
            tmp_path,
            [{"name": "long", "url": "digest.html", "headline_selector": "h2"}],
            feeds={"long": {"formats": list(FORMATS)}},
        )
    )
    assert [(r.ok, r.new) for r in run_once(config, now=Clock())] == [(True, 2)]
    data = {fmt: (config.feeds_dir / f"long.{fmt}").read_bytes() for fmt in FORMATS}
    for fmt, htmls in contents(data).items():
        by_size = sorted(htmls, key=len)
        assert "Short and sweet" in by_size[0]
        assert MAX_CONTENT - 2000 < len(by_size[1]) < MAX_CONTENT + 1000, fmt
        assert "Continue reading on the page" in by_size[1]
        assert "#:~:text=The%20long%20story" in by_size[1]
