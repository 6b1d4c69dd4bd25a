"""The same story from two sources feeding one feed is one entry that records both sources; a
repost in the other Chinese script with another attribution is the same entry too."""

from __future__ import annotations

import shutil
from pathlib import Path

import opencc
import pytest

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


STORM_A = (
    "A storm brought heavy rain to the northern coast on Monday night. "
    "Fishing boats stayed in port and two ferry lines were cancelled. "
    "The weather service expects the wind to ease by Wednesday morning."
)
# the other paper's story under the same headline: it shares a sentence with the first (enough for
# the same-headline edit rule), the rest is its own
STORM_B = (
    "A storm brought heavy rain to the northern coast on Monday night. "
    "In the harbour town of Kessel the river burst its banks and a school was closed. "
    "Volunteers filled sandbags through the night while the mayor asked for army help."
)
BUDGET = (
    "The city council approved the new budget on Tuesday after a long debate. "
    "Spending on schools rises by four percent and the tram line gets new funding. "
    "The opposition voted against it and called the plan too expensive for the city."
)


def _page(title: str, stories: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{h}</h2><p>{b}</p>" for h, b in stories)
    return f"<html><head><title>{title}</title></head><body><article>{body}</article></body></html>"


def _touch(path: Path, run: int) -> None:
    """New bytes, same stories (a comment): the page is read again instead of skipped as unchanged."""
    text = path.read_text().split("<!--")[0]
    path.write_text(f"{text}<!-- run {run} -->")


@pytest.mark.parametrize("order", ["a-first", "b-first"])
def test_same_headline_from_two_sources_keeps_each_story_and_never_flips(
    tmp_path: Path, order: str
) -> None:
    (tmp_path / "a.html").write_text(
        _page("Paper A", [("Storm hits the coast", STORM_A), ("Council passes budget", BUDGET)])
    )
    # paper B prints the budget story near-identically (one word changed): the same story
    (tmp_path / "b.html").write_text(
        _page(
            "Paper B",
            [
                ("Storm hits the coast", STORM_B),
                ("Council passes budget", BUDGET.replace("long debate", "lengthy debate")),
            ],
        )
    )
    sources = [
        {"name": "a", "url": "a.html", "feed": "news"},
        {"name": "b", "url": "b.html", "feed": "news"},
    ]
    if order == "b-first":
        sources.reverse()
    config = load_config(write_config(tmp_path, sources))
    clock = Clock()
    feed_file = tmp_path / "feeds" / "news.atom"
    snapshots = []
    for run in range(4):
        for name in ("a.html", "b.html"):
            _touch(tmp_path / name, run)
        results = run_once(config, now=clock)
        assert all(not r.not_modified for r in results)
        assert all(r.ok for r in results)
        snapshots.append(feed_file.read_bytes())
        clock.advance(hours=1)
    # the first run makes the entries; nothing changes after it
    assert all(r.new == 0 and r.updated == 0 for r in results)
    assert snapshots[1] == snapshots[2] == snapshots[3] == snapshots[0]
    parsed = check_atom(snapshots[-1])
    titles = sorted(e.title for e in parsed.entries)
    assert titles == ["Council passes budget", "Storm hits the coast", "Storm hits the coast"]
    bodies = {e.summary if "summary" in e else e.content[0].value for e in parsed.entries}
    assert any("Kessel" in b for b in bodies) and any("Fishing boats" in b for b in bodies)
    with Store(config.db_path) as store:
        entries = store.feed_entries("news", 10)
    assert all(e.revisions == 1 for e in entries)
    budget = next(e for e in entries if e.headline == "Council passes budget")
    assert budget.sources == ("a", "b")
    first = sources[0]["name"]
    assert ("long debate" if first == "a" else "lengthy debate") in budget.body_text
