"""End to end: the two ukraine pages into one feed, as ukraine-digest.expected.json describes."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree as etree
import pytest

from feedbot.config import load_config
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import (
    ATOM,
    FIXTURES,
    Clock,
    check_atom,
    check_feedparser,
    check_json_feed,
    write_config,
)

EXPECTED = json.loads((FIXTURES / "ukraine-digest.expected.json").read_text(encoding="utf-8"))
DAY2 = EXPECTED["2022-03-07 after 2022-03-06, same feed"]


def _setup(tmp_path: Path, policy: str = "mark") -> Path:
    page = tmp_path / "digest.html"
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", page)
    return write_config(
        tmp_path,
        [
            {
                "name": "ukraine",
                "url": "digest.html",
                "feed": "ukraine",
                "feed_title": "Ukraine digest",
            }
        ],
        feeds={"ukraine": {"update_policy": policy, "formats": ["atom", "rss", "json"]}},
    )


def _entries(atom: bytes) -> dict[str, dict[str, str]]:
    parsed = check_atom(atom)
    return {
        e.id: {"title": e.title, "updated": e.updated, "published": e.published}
        for e in parsed.entries
    }


def test_two_days_into_one_feed(tmp_path: Path) -> None:
    config = load_config(_setup(tmp_path))
    clock = Clock(datetime(2022, 3, 6, 9, 0, tzinfo=UTC))
    results = run_once(config, now=clock)
    assert [(r.ok, r.new) for r in results] == [(True, 5)]
    atom_path = config.feeds_dir / "ukraine.atom"
    day1 = _entries(atom_path.read_bytes())
    assert len(day1) == 5
    titles1 = {v["title"]: k for k, v in day1.items()}

    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "digest.html")
    clock.now = datetime(2022, 3, 7, 9, 0, tzinfo=UTC)
    results = run_once(config, now=clock)
    assert [(r.ok, r.new, r.updated, r.unchanged) for r in results] == [(True, 1, 1, 3)]
    day2 = _entries(atom_path.read_bytes())
    assert len(day2) == DAY2["entries_in_feed"] == 6
    # every id issued on day 1 is still there, unchanged
    assert set(day1) <= set(day2)
    by_id = {k: v for k, v in day2.items()}
    updated = DAY2["updated_entries"][0]
    updated_id = titles1[updated]
    assert by_id[updated_id]["title"] == f"{updated} [updated]"
    assert by_id[updated_id]["updated"] == "2022-03-07T09:00:00+00:00"
    for title in DAY2["unchanged_entries"]:
        entry = by_id[titles1[title]]
        assert entry["title"] == title
        assert entry["updated"] == "2022-03-06T09:00:00+00:00"
    new = [v for k, v in day2.items() if k not in day1]
    assert [v["title"] for v in new] == DAY2["new_entries"]
    assert new[0]["updated"] == "2022-03-07T09:00:00+00:00"
    # published: the date the page states (2022-03-06 08:12) for day-1 entries, in the page's own
    # zone: <html lang="zh-Hant"> is Taiwan's UTC+8, so 08:12 there is 00:12 UTC
    assert by_id[updated_id]["published"] == "2022-03-06T00:12:00+00:00"
    # the other formats carry the same entries
    rss = check_feedparser((config.feeds_dir / "ukraine.rss").read_bytes())
    assert {e.id for e in rss.entries} == set(day2)
    js = check_json_feed((config.feeds_dir / "ukraine.json").read_bytes())
    assert {i["id"] for i in js["items"]} == set(day2)
    # the state: revisions and pages
    with Store(config.db_path) as store:
        revisions = store.revisions("ukraine", updated_id)
        assert [r.number for r in revisions] == [1, 2]
        assert "【更新】" in revisions[1].body_text and "【更新】" not in revisions[0].body_text


def test_feed_updated_is_newest_entry_and_order_is_newest_first(tmp_path: Path) -> None:
    config = load_config(_setup(tmp_path))
    clock = Clock(datetime(2022, 3, 6, 9, 0, tzinfo=UTC))
    run_once(config, now=clock)
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "digest.html")
    clock.now = datetime(2022, 3, 7, 9, 0, tzinfo=UTC)
    run_once(config, now=clock)
    parsed = check_atom((config.feeds_dir / "ukraine.atom").read_bytes())
    assert parsed.feed.updated == "2022-03-07T09:00:00+00:00"
    # entries in the order they were first stored, newest first (issue 13: never by a clock
    # reading): the new story of the 7th first, then the 6th's five in their page's order — the one
    # updated on the 7th keeps its place
    published = [e.published for e in parsed.entries]
    assert published == sorted(published, reverse=True)
    assert parsed.entries[0].published.startswith("2022-03-07")
    assert any(e.updated.startswith("2022-03-07") for e in parsed.entries[1:])


def test_same_state_renders_the_same_bytes_and_no_rewrite(tmp_path: Path) -> None:
    config = load_config(_setup(tmp_path))
    clock = Clock()
    run_once(config, now=clock)
    atom = config.feeds_dir / "ukraine.atom"
    before = atom.read_bytes()
    os.utime(atom, (1_000_000_000, 1_000_000_000))
    clock.advance(hours=1)
    results = run_once(config, now=clock)
    assert results[0].ok and results[0].not_modified
    assert atom.read_bytes() == before
    assert atom.stat().st_mtime == 1_000_000_000
    # even when the page is parsed again (cache forgotten), identical state gives identical bytes
    with Store(config.db_path) as store:
        store.forget_validators(config.sources[0].name, config.sources[0].url)
    clock.advance(hours=1)
    results = run_once(config, now=clock)
    assert results[0].ok and results[0].unchanged == 5
    assert atom.read_bytes() == before
    assert atom.stat().st_mtime == 1_000_000_000


def test_atom_entries_link_to_the_item_and_content_is_safe(tmp_path: Path) -> None:
    config = load_config(_setup(tmp_path))
    run_once(config, now=Clock())
    data = (config.feeds_dir / "ukraine.atom").read_bytes()
    parsed = check_atom(data)
    links = [a.get("href") for a in etree.fromstring(data).iter(f"{ATOM}link")]
    assert len(links) == 5
    for link in links:
        assert link is not None and link.startswith(
            (tmp_path / "digest.html").as_uri() + "#:~:text="
        )
    for entry in parsed.entries:
        html = entry.content[0].value
        assert "<script" not in html
        assert "來源:新華社、央視新聞等" in html  # attribution kept


@pytest.mark.parametrize("policy", ["silent", "new-entry"])
def test_update_policies(tmp_path: Path, policy: str) -> None:
    config = load_config(_setup(tmp_path, policy))
    clock = Clock()
    run_once(config, now=clock)
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "digest.html")
    clock.advance(days=1)
    run_once(config, now=clock)
    parsed = check_atom((config.feeds_dir / "ukraine.atom").read_bytes())
    titles = [e.title for e in parsed.entries]
    assert not any("[updated]" in t for t in titles)
    count = titles.count("普京説打擊烏境內軍事基礎設施已接近尾聲")
    assert count == (1 if policy == "silent" else 2)
    assert len(parsed.entries) == (6 if policy == "silent" else 7)
