"""The store's similarity index: a page reads only the entries it may match (issue 17).

Signatures are stored with their entries and their LSH band keys indexed; a page's candidates are
the entries sharing a headline key, a fingerprint or a band with one of its items. Migration 7
builds the index for a state written before it (re-tokenising stored bodies at script boundaries).
"""

from __future__ import annotations

import random
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedbot import signature
from feedbot.decide import DEFAULT, decide
from feedbot.identify import (
    fingerprint,
    fold,
    headline_key,
    identify,
    normalise_body,
    remove_volatile,
    squash,
)
from feedbot.model import Identified, Item, Outcome, Prepared
from feedbot.store import MIGRATIONS, SCHEMA_VERSION, Store

NOW = datetime(2026, 3, 1, tzinfo=UTC)
WORDS = [f"w{i}" for i in range(3000)]


def _story(rng: random.Random, words: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def _store_page(
    store: Store, feed: str, source: str, items: list[Item], now: datetime = NOW
) -> list[Identified]:
    identified = identify(items)
    candidates = store.candidates(
        feed,
        identified,
        same_key=DEFAULT.same_key_candidates,
        same_fingerprint=DEFAULT.same_fingerprint_candidates,
    )
    changes = decide(identified, candidates, source=source)
    store.apply_page(
        feed=feed,
        source=source,
        page_url=f"https://example.org/{source}",
        changes=[
            (c, Prepared(f"<p>{c.item.item.body_text}</p>", "https://example.org/#x", now))
            for c in changes
        ],
        now=now,
        validators=None,
    )
    return identified


def test_a_page_reads_only_the_entries_it_may_match(tmp_path: Path) -> None:
    rng = random.Random(1)
    target = _story(rng)
    with Store(tmp_path / "s.db") as store:
        stories = [Item(f"Story {i}", "", _story(rng), i) for i in range(400)]
        stories.append(Item("Harbour flooded", "", target, 400))
        _store_page(store, "f", "a", stories)
        # a reworded headline over the same body, and a new story
        page = identify(
            [
                Item("Floods hit the harbour", "", target, 0),
                Item("Something else", "", _story(rng), 1),
            ]
        )
        found = store.candidates("f", page, same_key=64, same_fingerprint=8)
        assert [e.headline for e in found] == ["Harbour flooded"]  # not the other 400
        # the decision on those candidates is what it is on the whole feed
        whole = decide(page, store.entries_for("f"), source="a")
        assert [c.outcome for c in decide(page, found, source="a")] == [c.outcome for c in whole]
        assert (whole[0].outcome, whole[0].reason) == (Outcome.UPDATED, "headline reworded")
        assert whole[1].outcome is Outcome.NEW


def test_a_recurring_heading_reads_its_newest_entries_only(tmp_path: Path) -> None:
    rng = random.Random(2)
    with Store(tmp_path / "s.db") as store:
        for day in range(80):
            _store_page(
                store, "f", "a", [Item("Markets", "", _story(rng), 0)], NOW + timedelta(days=day)
            )
        page = identify([Item("Markets", "", _story(rng), 0)])
        found = store.candidates("f", page, same_key=64, same_fingerprint=8)
        assert len(found) == 64
        newest = store.entries_for("f")[-64:]
        assert [e.rowid for e in found] == [e.rowid for e in newest]


def test_each_body_is_stored_once(tmp_path: Path) -> None:
    rng = random.Random(3)
    first = _story(rng)
    second = first + " A paragraph added."
    third = second + " And one more."
    with Store(tmp_path / "s.db") as store:
        for i, body in enumerate((first, second, third)):
            _store_page(store, "f", "a", [Item("Storm", "", body, 0)], NOW + timedelta(hours=i))
        (entry,) = store.feed_entries("f", 10)
        assert entry.revisions == 3 and entry.body_text == third
        assert entry.previous_text == second
        texts = [r.body_text for r in store.revisions("f", entry.entry_id)]
        assert texts == [first, second, third]
        rows = store.db.execute(
            "SELECT number, body_text FROM revisions ORDER BY number"
        ).fetchall()
        # the current revision's text is the entry's; the older ones keep their own
        assert [(r["number"], r["body_text"]) for r in rows] == [(1, first), (2, second), (3, "")]


def test_the_band_index_follows_revisions(tmp_path: Path) -> None:
    rng = random.Random(4)
    before, after = _story(rng), _story(rng)
    with Store(tmp_path / "s.db") as store:
        _store_page(store, "f", "a", [Item("Storm", "", before, 0)])
        (old,) = store.entries_for("f")
        # the same headline over the body with a paragraph added: an edit of the entry
        _store_page(store, "f", "a", [Item("Storm", "", before + " " + after[:200], 0)])
        (entry,) = store.entries_for("f")
        assert entry.rowid == old.rowid and entry.signature != old.signature
        keys = {row[0] for row in store.db.execute("SELECT band_key FROM entry_bands")}
        assert keys == set(signature.band_keys("f", entry.signature))
        assert len(keys) == signature.BANDS


def _old_tokens(text: str) -> list[str]:
    """The tokeniser of schema 4 (a run of letters swallowed the CJK characters after it)."""
    return re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+", text)


def test_migration_7_indexes_a_state_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for _name, sql, *_ in MIGRATIONS[:4]:
        db.executescript(sql)
    db.execute("PRAGMA user_version = 4")
    texts = {
        "苹果发布iPhone手机新品": "苹果今天发布iPhone手机新品，售价5999元起。2024年3月全国GDP增长5%。",
        "Storm hits the coast": "A storm brought heavy rain to the coast on Monday night.",
    }
    stamp = "2026-03-01T00:00:00Z"
    for i, (headline, body) in enumerate(texts.items(), start=1):
        old_norm = " ".join(_old_tokens(remove_volatile(fold(body))))
        db.execute(
            "INSERT INTO entries (id, feed, entry_id, key, fingerprint, headline, norm_headline, "
            "norm_body, body_html, body_text, link, published, first_seen, last_seen, updated, "
            "revisions, position, source) VALUES (?, 'f', ?, ?, ?, ?, ?, ?, ?, ?, 'l', ?, ?, ?, ?, "
            "1, 0, 'a')",
            (
                i,
                f"urn:uuid:{i}",
                headline_key(headline),
                fingerprint(old_norm),
                headline,
                squash(headline),
                old_norm,
                f"<p>{body}</p>",
                body,
                stamp,
                stamp,
                stamp,
                stamp,
            ),
        )
        db.execute(
            "INSERT INTO revisions VALUES (?, 1, ?, ?, ?, ?, ?, 'https://example.org/', 'a')",
            (i, headline, f"<p>{body}</p>", body, fingerprint(old_norm), stamp),
        )
        db.execute(
            "INSERT INTO appearances VALUES (?, 'https://example.org/', 'a', ?, ?)",
            (i, stamp, stamp),
        )
    assert (
        "iphone手机新品" in db.execute("SELECT norm_body FROM entries WHERE id = 1").fetchone()[0]
    )
    db.close()

    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        entries = {e.headline: e for e in store.entries_for("f")}
        for headline, body in texts.items():
            entry = entries[headline]
            assert entry.norm_body == normalise_body(body)  # as if tokenised today
            assert entry.fingerprint == fingerprint(normalise_body(body))
            assert entry.signature == signature.signature(normalise_body(body))
        assert "iphone 手 机" in entries["苹果发布iPhone手机新品"].norm_body
        bands = store.db.execute("SELECT count(*) FROM entry_bands").fetchone()[0]
        assert bands == 2 * signature.BANDS
        # each body once: revision 1 is current, its text is the entry's
        assert store.db.execute("SELECT max(length(body_text)) FROM revisions").fetchone()[0] == 0
        for entry in entries.values():
            (revision,) = store.revisions("f", entry.entry_id)
            assert revision.body_text == texts[entry.headline]
        # the status count of what each source showed is carried over
        assert (
            store.db.execute("SELECT items FROM source_items WHERE source = 'a'").fetchone()[0] == 2
        )
        # the same page read again after the upgrade changes nothing (no spurious update)
        page = identify([Item(h, "", b, n) for n, (h, b) in enumerate(texts.items())])
        found = store.candidates("f", page, same_key=64, same_fingerprint=8)
        assert [c.outcome for c in decide(page, found, source="a")] == [Outcome.UNCHANGED] * 2


def test_signatures_made_another_way_are_made_again_once(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "s.db"
    with Store(path) as store:
        _store_page(store, "f", "a", [Item(f"S{i}", "", _story(rng), i) for i in range(5)])
        store.db.execute("UPDATE store_settings SET value = 'an older algorithm'")
        store.db.execute("UPDATE entries SET signature = NULL")
        store.db.execute("DELETE FROM entry_bands")
    with Store(path) as store:
        setting = store.db.execute("SELECT value FROM store_settings").fetchone()[0]
        assert setting == signature.ALGORITHM
        assert all(e.signature for e in store.entries_for("f"))
        assert store.db.execute("SELECT count(*) FROM entry_bands").fetchone()[0] == 5 * 42


def test_record_run_counts_what_each_source_showed(tmp_path: Path) -> None:
    rng = random.Random(6)
    shared = _story(rng)
    with Store(tmp_path / "s.db") as store:
        _store_page(store, "f", "a", [Item("One", "", shared, 0), Item("Two", "", _story(rng), 1)])
        _store_page(
            store, "f", "b", [Item("One", "", shared, 0), Item("Three", "", _story(rng), 1)]
        )
        _store_page(store, "f", "b", [Item("One", "", shared, 0)])  # seen again: no new item
        for source in ("a", "b"):
            store.record_run(source, now=NOW, ok=True, result="ok")
        runs = store.source_runs()
        assert (runs["a"].items, runs["b"].items) == (2, 2)
        counted = dict(
            store.db.execute(
                "SELECT source, count(DISTINCT entry) FROM appearances GROUP BY source"
            ).fetchall()
        )
        assert counted == {"a": 2, "b": 2}
