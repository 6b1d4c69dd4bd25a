"""RFC 5005 paged archives: a reader walks prev-archive links from the feed and finds every entry;
full archive pages never change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import lxml.etree as etree
import pytest

from feedbot.config import Config, load_config
from feedbot.errors import ConfigError
from feedbot.render import FH_NS
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import ATOM, FIXTURES, Clock, check_atom, write_config
from .test_serve import running


def _config(tmp_path: Path, **feed: Any) -> Config:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "digest.html")
    table = {"formats": ["atom", "rss"], "entries": 2, "archive": True, **feed}
    return load_config(
        write_config(
            tmp_path,
            [{"name": "ukraine", "url": "digest.html"}],
            feeds={"ukraine": table},
        )
    )


def _links(data: bytes) -> dict[str, str]:
    root = etree.fromstring(data)
    return {link.get("rel", ""): link.get("href", "") for link in root.findall(f"{ATOM}link")}


def _walk(config: Config) -> tuple[list[str], list[str]]:
    """Follow prev-archive links from the subscription document like a reader backfilling.
    Returns the documents visited and every entry id seen."""
    name = "ukraine.atom"
    visited: list[str] = []
    ids: list[str] = []
    while name:
        data = (config.feeds_dir / name).read_bytes()
        parsed = check_atom(data)
        visited.append(name)
        ids.extend(e.id for e in parsed.entries)
        name = _links(data).get("prev-archive", "")
        assert name not in visited, "a prev-archive loop"
    return visited, ids


def test_a_reader_backfills_every_entry_through_prev_archive_links(tmp_path: Path) -> None:
    config = _config(tmp_path)
    clock = Clock()
    run_once(config, now=clock)
    # 5 entries, 2 per page: pages 1 (oldest two) and 2 are full; the feed shows the newest 2
    visited, ids = _walk(config)
    assert visited == ["ukraine.atom", "ukraine.archive-2.atom", "ukraine.archive-1.atom"]
    with Store(config.db_path) as store:
        stored = [e.entry_id for e in store.archive_entries("ukraine", 0, 100)]
    assert len(stored) == 5 and set(ids) == set(stored)
    feed = (config.feeds_dir / "ukraine.atom").read_bytes()
    page1 = (config.feeds_dir / "ukraine.archive-1.atom").read_bytes()
    page2 = (config.feeds_dir / "ukraine.archive-2.atom").read_bytes()
    assert etree.fromstring(feed).find(f"{{{FH_NS}}}complete") is None
    assert etree.fromstring(feed).find(f"{{{FH_NS}}}archive") is None
    for page in (page1, page2):
        assert etree.fromstring(page).find(f"{{{FH_NS}}}archive") is not None
        assert _links(page)["current"] == "ukraine.atom"
    assert "prev-archive" not in _links(page1)
    assert _links(page2)["self"] == "ukraine.archive-2.atom"
    # page 1 holds the first two entries stored, page 2 the next two
    assert {e.id for e in check_atom(page1).entries} == set(stored[:2])
    assert {e.id for e in check_atom(page2).entries} == set(stored[2:4])
    # the RSS feed is unchanged by archiving (archives are Atom documents)
    assert b"prev-archive" not in (config.feeds_dir / "ukraine.rss").read_bytes()

    # day 2: one new story (6 entries: page 3 is full) and one update
    mtimes = {p: (config.feeds_dir / p).stat().st_mtime_ns for p in visited[1:]}
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "digest.html")
    clock.advance(days=1)
    assert [(r.new, r.updated) for r in run_once(config, now=clock)] == [(1, 1)]
    assert (config.feeds_dir / "ukraine.archive-1.atom").read_bytes() == page1
    assert (config.feeds_dir / "ukraine.archive-2.atom").read_bytes() == page2
    for name, mtime in mtimes.items():
        assert (config.feeds_dir / name).stat().st_mtime_ns == mtime
    visited, ids = _walk(config)
    assert visited == [
        "ukraine.atom",
        "ukraine.archive-3.atom",
        "ukraine.archive-2.atom",
        "ukraine.archive-1.atom",
    ]
    assert len(set(ids)) == 6


def test_archive_pages_are_served_as_immutable(tmp_path: Path) -> None:
    config = _config(tmp_path, entries=2)
    run_once(config, now=Clock())
    with running(config) as client:
        reply = client.request("/ukraine.archive-1.atom")
        assert reply.status == 200
        assert reply.header("Content-Type") == "application/atom+xml; charset=utf-8"
        assert reply.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert reply.body == (config.feeds_dir / "ukraine.archive-1.atom").read_bytes()
        assert (
            client.request(
                "/ukraine.archive-1.atom", If_None_Match=reply.header("ETag") or ""
            ).status
            == 304
        )
        for path in (
            "/ukraine.archive-9.atom",
            "/ukraine.archive-0.atom",
            "/ukraine.archive-1.rss",
            "/other.archive-1.atom",
            "/ukraine.archive-1.atom/..",
            "/../ukraine.archive-1.atom",
        ):
            assert client.request(path).status == 404, path


def test_small_feed_is_complete_not_archived(tmp_path: Path) -> None:
    config = _config(tmp_path, entries=50)
    run_once(config, now=Clock())
    assert sorted(p.name for p in config.feeds_dir.iterdir()) == ["ukraine.atom", "ukraine.rss"]
    feed = (config.feeds_dir / "ukraine.atom").read_bytes()
    check_atom(feed)
    assert etree.fromstring(feed).find(f"{{{FH_NS}}}complete") is not None
    assert "prev-archive" not in _links(feed)


def test_archive_links_are_absolute_under_base_url(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "digest.html")
    config = load_config(
        write_config(
            tmp_path,
            [{"name": "ukraine", "url": "digest.html"}],
            base_url="https://feeds.example.org/",
            feeds={"ukraine": {"entries": 2, "archive": True}},
        )
    )
    run_once(config, now=Clock())
    feed = _links((config.feeds_dir / "ukraine.atom").read_bytes())
    assert feed["prev-archive"] == "https://feeds.example.org/ukraine.archive-2.atom"
    page = _links((config.feeds_dir / "ukraine.archive-2.atom").read_bytes())
    assert page["current"] == "https://feeds.example.org/ukraine.atom"
    assert page["prev-archive"] == "https://feeds.example.org/ukraine.archive-1.atom"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"formats": ["rss"], "archive": True}, "add 'atom' to formats"),
        ({"archive": True, "retention_days": 30}, "retention_days"),
        ({"archive": "yes"}, "true or false"),
    ],
)
def test_archive_config_errors(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    path = write_config(
        tmp_path, [{"name": "ukraine", "url": "digest.html"}], feeds={"ukraine": table}
    )
    with pytest.raises(ConfigError, match=message):
        load_config(path)
