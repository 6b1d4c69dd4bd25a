"""Crash safety: `feedbot run` killed with SIGKILL at a random moment loses and breaks nothing.

Each trial starts `python -m feedbot run` on a batch of digest pages (HTTP sources on a local server
and local files, three feeds in Atom, RSS and JSON) and kills it after a random delay drawn uniformly
from [0, the time an uninterrupted run takes]. Half the trials start from an empty state (day 1), half
from a finished day-1 state with day-2 pages (new stories and edited ones, so feeds get rewritten).
After each kill:

- the database passes ``PRAGMA integrity_check`` and ``foreign_key_check``;
- every feed file present is a complete, valid feed, and it is either the feed as it was before the
  run or the complete feed of the whole batch — never half-written, never half a batch;
- the next run (not killed) succeeds and gives exactly the feeds of an uninterrupted run (the same
  entry ids and titles in every format), with no duplicate ids, no duplicate stored entries and no
  temporary files left behind.

Trials: FEEDBOT_KILL_TRIALS (default 8; the full proof is FEEDBOT_KILL_TRIALS=50). The delays come from
FEEDBOT_KILL_SEED (random by default); the seed is printed and named in every failure, so a failing
trial can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.etree as etree
import pytest

from bench.corpus import digest_page
from feedbot.cli import main

from .helpers import Response, Server, check_atom, check_feedparser, serve, write_config

TRIALS = int(os.environ.get("FEEDBOT_KILL_TRIALS", "8"))
SEED = int(os.environ.get("FEEDBOT_KILL_SEED", str(random.SystemRandom().randrange(2**32))))
ROOT = Path(__file__).resolve().parent.parent

# (source name, feed, HTTP or local file, page seed, KB, Chinese)
SOURCES = [
    ("zh-a", "zh", "http", 101, 60, True),
    ("zh-b", "zh", "http", 102, 40, True),
    ("zh-c", "zh", "file", 103, 50, True),
    ("en-a", "en", "http", 201, 60, False),
    ("en-b", "en", "file", 202, 40, False),
    ("en-c", "en", "http", 203, 50, False),
    ("mix-a", "mix", "http", 304, 30, True),
    ("mix-b", "mix", "file", 305, 30, False),
]
FEEDS = {
    "zh": {"formats": ["atom", "rss", "json"]},
    "en": {"formats": ["atom", "rss", "json"]},
    "mix": {"formats": ["atom", "json"]},
}
EXT = {"atom": "atom", "rss": "rss", "json": "json"}
_HEADLINE = re.compile(r"<p><strong>.*?</strong></p>|<h3>.*?</h3>|<p><b>\d+\. .*?</b></p>")
_END = "<p>(Source: feedbot bench)</p>"


def day2(page: str, seed: int, zh: bool) -> str:
    """The next day's page: the second story gets a sentence more (an update) and a new story is
    added at the end, in the page's own headline style."""
    end = page.index(_END)
    heads = list(_HEADLINE.finditer(page, 0, end))
    assert len(heads) >= 3, "the generated page has too few stories"
    para_end = page.index("</p>", heads[1].end() + 3)
    extra = " 最新消息称，有关部门已经作出回应。" if zh else " Officials added more details today."
    page = page[:para_end] + extra + page[para_end:]
    end = page.index(_END)
    title = (
        f"气象台发布第{seed}号暴雨预警"
        if zh
        else f"Storm warning number {seed} issued for the coast"
    )
    last = heads[-1].group(0)
    if last.startswith("<h3>"):
        head = f"<h3>{title}</h3>"
    elif last.startswith("<p><b>"):
        head = f"<p><b>{len(heads) + 1}. {title}</b></p>"
    else:
        head = f"<p><strong>{title}</strong></p>"
    body = (
        "<p>气象台今天下午发布暴雨预警，提醒沿海地区居民注意防范。预计强降雨将持续到周末。</p>"
        "<p>交通运输部表示，部分铁路和航班可能受到影响，旅客出行前请查询最新信息。</p>"
        if zh
        else "<p>The weather service issued a storm warning this afternoon for the coastal areas, "
        "with heavy rain expected to last until the weekend.</p><p>The transport ministry said some "
        "rail services and flights may be affected and asked passengers to check before travelling.</p>"
    )
    return page[:end] + head + body + page[end:]


@dataclass
class Batch:
    server: Server
    day1: dict[str, bytes]
    day2: dict[str, bytes]


@pytest.fixture(scope="module")
def batch() -> Iterator[Batch]:
    one = {}
    two = {}
    for name, _feed, _kind, seed, kb, zh in SOURCES:
        page = digest_page(seed, kb, zh)
        one[name] = page.encode("utf-8")
        two[name] = day2(page, seed, zh).encode("utf-8")
    with serve() as server:
        yield Batch(server, one, two)


def make_workdir(directory: Path, batch: Batch, pages: dict[str, bytes]) -> Path:
    """A config with the batch's sources; local pages written into ``directory/pages``; the server
    set to serve ``pages``."""
    (directory / "pages").mkdir(parents=True, exist_ok=True)
    sources = []
    for name, feed, kind, *_ in SOURCES:
        if kind == "http":
            batch.server.routes[f"/{name}.html"] = Response(200, pages[name])
            url = batch.server.url(f"/{name}.html")
        else:
            (directory / "pages" / f"{name}.html").write_bytes(pages[name])
            url = f"pages/{name}.html"
        sources.append({"name": name, "url": url, "feed": feed})
    return write_config(directory, sources, feeds=FEEDS, lock_timeout=30, entries_per_feed=1000)


def feedbot_argv(config: Path) -> list[str]:
    return [sys.executable, "-m", "feedbot", "run", "-c", str(config)]


def run_to_end(config: Path) -> float:
    start = time.monotonic()
    proc = subprocess.run(feedbot_argv(config), cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return time.monotonic() - start


def read_feed(path: Path) -> list[tuple[str, str]]:
    """A feed file's (entry id, title) pairs, after checking it is a complete, valid feed."""
    data = path.read_bytes()
    if path.suffix == ".atom":
        parsed = check_atom(data)
        return [(e.id, e.title) for e in parsed.entries]
    if path.suffix == ".rss":
        etree.fromstring(data)  # well-formed XML, to the last byte
        parsed = check_feedparser(data)
        return [(e.id, e.title) for e in parsed.entries]
    feed = json.loads(data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1", path
    return [(item["id"], item["title"]) for item in feed["items"]]


def snapshot(feeds_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """Each feed file's entries, sorted: the order of entries from several sources depends on the
    second each source was processed in, which a crash (or a slow second) moves."""
    if not feeds_dir.exists():
        return {}
    return {
        p.name: sorted(read_feed(p))
        for p in sorted(feeds_dir.iterdir())
        if not p.name.startswith(".")
    }


def difference(
    got: dict[str, list[tuple[str, str]]], want: dict[str, list[tuple[str, str]]]
) -> str:
    lines = []
    for name in sorted(set(got) | set(want)):
        if name not in got or name not in want:
            lines.append(f"{name}: {'missing' if name not in got else 'unexpected'}")
            continue
        g, w = Counter(got[name]), Counter(want[name])
        if g != w:
            lines.append(f"{name}: missing {sorted(w - g)}; unexpected {sorted(g - w)}")
    return "\n".join(lines)


def check_database(db_path: Path) -> int:
    """Integrity and foreign keys; returns the number of stored entries (0 when there is no database)."""
    if not db_path.exists():
        return 0
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "entries" not in tables:
            return 0
        dupes = db.execute(
            "SELECT feed, key, fingerprint, count(*) FROM entries GROUP BY feed, key, fingerprint "
            "HAVING count(*) > 1"
        ).fetchall()
        assert dupes == [], f"the same story stored twice: {dupes}"
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        db.close()


def sources_done(db_path: Path, since: str) -> int:
    """How many sources the killed run had recorded as done (-1: no schema yet)."""
    if not db_path.exists():
        return -1
    db = sqlite3.connect(db_path)
    try:
        try:
            query = "SELECT count(*) FROM source_runs WHERE last_run > ?"
            return int(db.execute(query, (since,)).fetchone()[0])
        except sqlite3.OperationalError:
            return -1  # killed before the schema was created
    finally:
        db.close()


@dataclass
class Reference:
    before: Path  # a finished day-1 working directory (the starting point of day-2 trials)
    day1: dict[str, list[tuple[str, str]]]
    day2: dict[str, list[tuple[str, str]]]
    entries1: int
    entries2: int
    seconds1: float
    seconds2: float
    last_run: str  # when day 1 recorded its last source


@pytest.fixture(scope="module")
def reference(batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """Uninterrupted runs: day 1 from an empty state, then day 2 on top of it."""
    base = tmp_path_factory.mktemp("reference")
    seconds1 = run_to_end(make_workdir(base / "day1", batch, batch.day1))
    day1 = snapshot(base / "day1" / "feeds")
    entries1 = check_database(base / "day1" / "state" / "feedbot.sqlite3")
    shutil.copytree(base / "day1", base / "day2")
    seconds2 = run_to_end(make_workdir(base / "day2", batch, batch.day2))
    day2_feeds = snapshot(base / "day2" / "feeds")
    entries2 = check_database(base / "day2" / "state" / "feedbot.sqlite3")
    expected = {f"{feed}.{EXT[fmt]}" for feed, t in FEEDS.items() for fmt in t["formats"]}
    assert set(day1) == set(day2_feeds) == expected
    assert entries2 > entries1 > 0
    updated = [t for entries in day2_feeds.values() for _, t in entries if t.endswith("[updated]")]
    assert updated, "day 2 should mark the edited stories as updated"
    db = sqlite3.connect(base / "day1" / "state" / "feedbot.sqlite3")
    last_run = str(db.execute("SELECT max(last_run) FROM source_runs").fetchone()[0])
    db.close()
    return Reference(
        base / "day1", day1, day2_feeds, entries1, entries2, seconds1, seconds2, last_run
    )


def test_kill_at_random_moments_loses_and_breaks_nothing(
    batch: Batch, reference: Reference, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    with capsys.disabled():
        print(f"\nkill test: {TRIALS} trials, FEEDBOT_KILL_SEED={SEED}")
    for trial in range(TRIALS):
        second_day = trial % 2 == 1
        work = tmp_path / f"trial{trial}"
        if second_day:
            shutil.copytree(reference.before, work)
            before = reference.day1
            expected, entries = reference.day2, reference.entries2
            pages, limit = batch.day2, reference.seconds2
        else:
            work.mkdir()
            before, expected, entries = {}, reference.day1, reference.entries1
            pages, limit = batch.day1, reference.seconds1
        config = make_workdir(work, batch, pages)
        delay = rng.uniform(0, limit)
        where = f"trial {trial} (day {2 if second_day else 1}, kill after {delay:.3f}s, FEEDBOT_KILL_SEED={SEED})"

        proc = subprocess.Popen(
            feedbot_argv(config), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        finished = proc.returncode == 0
        assert finished or proc.returncode == -signal.SIGKILL, f"{where}: {err.decode()}"

        db_path = work / "state" / "feedbot.sqlite3"
        done = sources_done(db_path, reference.last_run if second_day else "")
        try:
            check_database(db_path)
            now = snapshot(work / "feeds")
        except AssertionError as exc:
            raise AssertionError(f"{where}: after the kill: {exc}") from exc
        for name, feed_entries in now.items():
            assert feed_entries in (before.get(name), expected[name]), (
                f"{where}: {name} is neither the feed before the run nor the complete new feed"
            )
        changed = sum(now.get(n) == expected[n] != before.get(n) for n in expected)
        landed[
            "finished"
            if finished
            else "before the database"
            if done < 0
            else f"{min(done, len(SOURCES))}/{len(SOURCES)} sources, {changed} feed files new"
        ] += 1

        assert main(["run", "-c", str(config)]) == 0, f"{where}: the run after the kill failed"
        after = snapshot(work / "feeds")
        assert after == expected, (
            f"{where}: the feeds after the next run differ from a clean run: "
            + difference(after, expected)
        )
        for name, feed_entries in after.items():
            ids = [entry_id for entry_id, _ in feed_entries]
            assert len(ids) == len(set(ids)), f"{where}: duplicate ids in {name}"
        assert check_database(db_path) == entries, f"{where}: stored entries differ"
        leftovers = [p.name for p in (work / "feeds").iterdir() if p.name.startswith(".")]
        assert not leftovers, f"{where}: temporary files left behind: {leftovers}"
        shutil.rmtree(work)
    with capsys.disabled():
        print("kills landed: " + "; ".join(f"{k}: {n}" for k, n in sorted(landed.items())))
