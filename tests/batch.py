"""A batch of digest pages for the crash and storage-fault tests: eight sources (HTTP on a local
server and local files) writing three feeds in Atom, RSS and JSON, with a day-1 and a day-2 version of
every page (day 2 edits a story and adds one). Plus the checks those tests share: a feed file is
complete and valid, the database is intact."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lxml.etree as etree

from bench.corpus import digest_page

from .helpers import Response, Server, check_atom, check_feedparser, serve, write_config

ROOT = Path(__file__).resolve().parent.parent

# (source name, feed, HTTP or local file, page seed, KB, Chinese)
SOURCES = [
    ("zh-a", "zh", "http", 101, 36, True),
    ("zh-b", "zh", "http", 102, 24, True),
    ("zh-c", "zh", "file", 103, 30, True),
    ("en-a", "en", "http", 201, 36, False),
    ("en-b", "en", "file", 202, 24, False),
    ("en-c", "en", "http", 203, 30, False),
    ("mix-a", "mix", "http", 304, 20, True),
    ("mix-b", "mix", "file", 305, 20, False),
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


@contextmanager
def serve_batch() -> Iterator[Batch]:
    """Day-1 and day-2 pages of every source, and a local server to serve the HTTP ones."""
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


def build_reference(batch: Batch, base: Path) -> Reference:
    """Uninterrupted runs: day 1 from an empty state, then day 2 on top of it."""
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
