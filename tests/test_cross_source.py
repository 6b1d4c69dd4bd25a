"""The same story from two sources feeding one feed is one entry that records both sources; a
repost in the other Chinese script with another attribution is the same entry too."""

from __future__ import annotations

import shutil
from pathlib import Path

import opencc

from feedbot.config import load_config
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import FIXTURES, Clock, check_atom, write_config


def test_two_sources_one_story_one_entry(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "a.html")
    simplified = opencc.OpenCC("hk2s").convert(
        (FIXTURES / "ukraine-digest-2022-03-06.html").read_text(encoding="utf-8")
    )
    (tmp_path / "b.html").write_text(
        simplified.replace("新华社、央视新闻等", "人民网"), encoding="utf-8"
    )
    config = load_config(
        write_config(
            tmp_path,
            [
                {"name": "trad", "url": "a.html", "feed": "news"},
                {"name": "simp", "url": "b.html", "feed": "news"},
            ],
        )
    )
    first, second = run_once(config, now=Clock())
    assert (first.new, second.new, second.unchanged) == (5, 0, 5)
    parsed = check_atom((tmp_path / "feeds" / "news.atom").read_bytes())
    assert len(parsed.entries) == 5
    with Store(config.db_path) as store:
        entries = store.feed_entries("news", 10)
    assert all(e.sources == ("simp", "trad") for e in entries)
    assert all(len(e.pages) == 2 for e in entries)
    assert all(e.revisions == 1 for e in entries)
