"""A wrong clock hides nothing and prunes nothing: entries are ordered by when they were first
stored (a sequence, not a time), stored times never go back, and retention never prunes on a clock
that jumped forward (it compares with the newest time already stored)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from feedbot.config import load_config
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import Clock, check_atom, write_config


def page(*stories: int) -> str:
    body = "".join(
        f"<h2>Story {n}: the council votes on plan {n}</h2><p>The council met and voted on "
        f"proposal number {n}, which concerns district {n % 7} and the budget of year "
        f"{2000 + n}. Residents spoke for hours about it.</p>"
        for n in stories
    )
    return f"<html><body><h1>Council digest</h1><div>{body}</div></body></html>"


def setup(tmp_path: Path, **feed: Any) -> Path:
    return write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}], feeds={"f": feed})


def shown(tmp_path: Path) -> list[str]:
    parsed = check_atom((tmp_path / "feeds" / "f.atom").read_bytes())
    return [entry.title.split(":")[0] for entry in parsed.entries]


def test_a_story_found_while_the_clock_is_behind_is_shown_first(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path, entries=3))
    clock = Clock()
    for day, stories in enumerate([(1, 2), (3, 4), (5, 6)]):
        (tmp_path / "p.html").write_text(page(*stories), encoding="utf-8")
        assert run_once(config, now=clock)[0].ok
        if day < 2:
            clock.advance(days=1)
    newest_before = clock()
    clock.advance(days=-2)  # the clock falls two days behind
    (tmp_path / "p.html").write_text(page(7), encoding="utf-8")
    (result,) = run_once(config, now=clock)
    assert result.new == 1
    assert shown(tmp_path) == ["Story 7", "Story 5", "Story 6"]
    with Store(config.db_path) as store:
        latest = store.feed_entries("f", 1)[0]
    assert latest.headline.startswith("Story 7")
    assert latest.published >= newest_before and latest.updated >= newest_before

    clock.advance(days=3)  # the clock is right again: the story stays where it is
    (tmp_path / "p.html").write_text(page(8), encoding="utf-8")
    run_once(config, now=clock)
    assert shown(tmp_path) == ["Story 8", "Story 7", "Story 5"]


def test_an_update_while_the_clock_is_behind_never_moves_updated_back(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    clock = Clock()
    (tmp_path / "p.html").write_text(page(1), encoding="utf-8")
    run_once(config, now=clock)
    clock.advance(days=1)
    edited = page(1).replace("Residents spoke", "Residents, many of them angry, spoke")
    (tmp_path / "p.html").write_text(edited, encoding="utf-8")
    assert run_once(config, now=clock)[0].updated == 1
    with Store(config.db_path) as store:
        first = store.feed_entries("f", 1)[0].updated
    clock.advance(days=-3)
    (tmp_path / "p.html").write_text(
        edited.replace("angry, spoke", "angry, spoke loudly"), encoding="utf-8"
    )
    assert run_once(config, now=clock)[0].updated == 1
    with Store(config.db_path) as store:
        again = store.feed_entries("f", 1)[0]
    assert again.updated >= first and again.published <= again.updated


def test_retention_never_prunes_on_a_clock_that_jumped_forward(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path, entries=2, retention_days=3))
    clock = Clock()
    for day in range(5):  # one new story a day, each page holding only that day's story
        (tmp_path / "p.html").write_text(page(day), encoding="utf-8")
        assert run_once(config, now=clock)[0].ok
        clock.advance(days=1)
    with Store(config.db_path) as store:
        before = store.count_entries("f")
    assert before == 4  # day 0's story was last seen more than 3 days before day 4: pruned

    jumped = Clock(clock() + timedelta(days=40))
    (tmp_path / "p.html").write_text(page(5), encoding="utf-8")
    assert run_once(config, now=jumped)[0].ok  # the clock is 40 days ahead for one run
    with Store(config.db_path) as store:
        assert store.count_entries("f") == before + 1  # nothing was pruned on that clock

    (tmp_path / "p.html").write_text(page(6), encoding="utf-8")
    assert run_once(config, now=clock)[0].ok  # right again (day 5): day 1 is now 4 days old
    with Store(config.db_path) as store:
        kept = sorted(e.headline.split(":")[0] for e in store.feed_entries("f", 100))
    assert kept == ["Story 2", "Story 3", "Story 4", "Story 5", "Story 6"]
