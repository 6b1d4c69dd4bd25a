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
    """Retention counts back from the newest time already stored, not from the clock: a run whose
    clock is 40 days ahead prunes only what a right clock would have pruned."""
    config = load_config(setup(tmp_path, entries=2, retention_days=3))
    clock = Clock()

    def kept() -> list[str]:
        with Store(config.db_path) as store:
            return sorted(e.headline.split(":")[0] for e in store.feed_entries("f", 100))

    for day in range(6):  # one new story a day, each page holding only that day's story
        (tmp_path / "p.html").write_text(page(day), encoding="utf-8")
        assert run_once(config, now=clock)[0].ok
        clock.advance(days=1)
    # day 5's run counts back 3 days from day 4 (the newest time stored before it): story 0 goes
    assert kept() == [f"Story {n}" for n in range(1, 6)]

    jumped = Clock(clock() + timedelta(days=40))
    (tmp_path / "p.html").write_text(page(6), encoding="utf-8")
    assert run_once(config, now=jumped)[0].ok  # the clock is 40 days ahead for one run (day 6)
    # what a right clock prunes on day 6 (story 1), not all but the two newest
    assert kept() == [f"Story {n}" for n in range(2, 7)]

    (tmp_path / "p.html").write_text(page(7), encoding="utf-8")
    assert run_once(config, now=clock)[0].ok  # right again (day 6): nothing more goes
    assert kept() == [f"Story {n}" for n in range(2, 8)]


def test_migration_5_keeps_every_feeds_order(tmp_path: Path) -> None:
    """A state written before entries had a sequence: the migration ranks them by the `updated`
    that ordered them, so each feed shows the same entries in the same order after the upgrade."""
    import sqlite3

    from feedbot.store import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for _name, sql, *_step in MIGRATIONS[:4]:
        db.executescript(sql)
    rows = [  # feed, entry id, updated, position
        ("a", "e1", "2022-03-06T09:00:00+00:00", 0),
        ("a", "e2", "2022-03-06T09:00:00+00:00", 1),
        ("a", "e3", "2022-03-08T09:00:00+00:00", 0),  # updated later: shown first before
        ("a", "e4", "2022-03-07T09:00:00+00:00", 0),
        ("b", "e5", "2022-01-01T00:00:00+00:00", 0),
    ]
    for feed, entry_id, updated, position in rows:
        db.execute(
            "INSERT INTO entries (feed, entry_id, key, fingerprint, headline, norm_headline, "
            "norm_body, body_html, body_text, link, published, first_seen, last_seen, updated, "
            "position, source) VALUES (?, ?, ?, 'f', ?, 'h', 'b', '<p>b</p>', 'b', 'l', ?, ?, ?, ?, "
            "?, 's')",
            (feed, entry_id, entry_id, entry_id, updated, updated, updated, updated, position),
        )
    db.execute("PRAGMA user_version = 4")
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [e.entry_id for e in store.feed_entries("a", 10)] == ["e3", "e4", "e1", "e2"]
        assert [e.entry_id for e in store.feed_entries("b", 10)] == ["e5"]
