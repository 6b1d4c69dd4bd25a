"""The PostgreSQL state against a real server: same schema, same migrations, same ids, same feeds.

Each scenario runs twice, once on the SQLite file and once on PostgreSQL, with the same pages and the
same clock: the feeds must come out byte for byte the same and the stored rows the same, so a user
who moves loses nothing and a reader notices nothing.
"""

from __future__ import annotations

import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import load_config
from feedbot.errors import StoreError
from feedbot.run import run_once
from feedbot.store import MIGRATIONS, SCHEMA_VERSION, Store

from .helpers import FIXTURES, Clock, check_feed, write_config

pytestmark = pytest.mark.postgresql

FORMATS = ["atom", "rss", "json"]


def _setup(folder: Path, state: str | None, **extra: Any) -> Path:
    """A config in ``folder`` (the same folder for both backends, so page URLs are the same);
    the SQLite run's state and feeds are moved aside first."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("state", "feeds"):
        if (folder / name).exists():
            (folder / name).rename(folder / f"sqlite-{name}")
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", folder / "digest.html")
    settings: dict[str, Any] = {"feeds": {"ukraine": {"formats": FORMATS, **extra}}}
    if state is not None:
        settings["state"] = state
    return write_config(
        folder,
        [{"name": "ukraine", "url": "digest.html", "feed": "ukraine"}],
        **settings,
    )


def _two_days(path: Path) -> dict[str, bytes]:
    config = load_config(path)
    clock = Clock(datetime(2022, 3, 6, 9, 0, tzinfo=UTC))
    assert [(r.ok, r.new) for r in run_once(config, now=clock)] == [(True, 5)]
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", path.parent / "digest.html")
    clock.now += timedelta(days=1)
    results = run_once(config, now=clock)
    assert [(r.ok, r.new, r.updated, r.unchanged) for r in results] == [(True, 1, 1, 3)]
    with Store(config.store_location) as store:
        if store.postgres:
            return {f"ukraine.{f}": _file(store, f"ukraine.{f}") for f in ("atom", "rss", "json")}
    return {
        f"ukraine.{f}": (config.feeds_dir / f"ukraine.{f}").read_bytes()
        for f in ("atom", "rss", "json")
    }


def _file(store: Store, name: str) -> bytes:
    stored = store.feed_file(name)
    assert stored is not None, f"{name} is not in the shared state"
    return stored.body


def _rows(location: Path | str) -> dict[str, list[dict[str, Any]]]:
    """Every stored row of the tables a run writes, in key order, by column name (PostgreSQL's
    explicit ``rowid`` column, implicit in SQLite, left out)."""
    orders = {
        "entries": "id",
        "revisions": "entry, number",
        "appearances": "entry, page_url, source",
        "validators": "source, url",
        "source_runs": "source",
        "index_pages": "source, url",
    }
    with Store(location) as store:
        return {
            table: [
                {k: row[k] for k in row.keys() if k != "rowid"}  # noqa: SIM118 (sqlite3.Row)
                for row in store.db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            ]
            for table, order in orders.items()
        }


def test_the_same_two_days_give_the_same_feeds_and_rows_on_both_backends(
    tmp_path: Path, pg_url: str
) -> None:
    lite_feeds = _two_days(_setup(tmp_path, None))
    pg_feeds = _two_days(_setup(tmp_path, pg_url))
    for name, data in lite_feeds.items():
        check_feed(name.rsplit(".", 1)[1], pg_feeds[name])
        assert pg_feeds[name] == data, f"{name} differs between SQLite and PostgreSQL"
    # with PostgreSQL nothing is written to feeds_dir: the feeds live in the shared state
    assert not (tmp_path / "feeds").exists()
    assert _rows(pg_url) == _rows(tmp_path / "sqlite-state" / "feedbot.sqlite3")


def test_archives_and_pending_marks_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    lite_feeds = _two_days(_setup(tmp_path, None, entries=2, archive=True))
    pg_feeds = _two_days(_setup(tmp_path, pg_url, entries=2, archive=True))
    assert pg_feeds == lite_feeds
    with Store(pg_url) as store:
        names = store.feed_file_names()
        assert not store.is_pending("ukraine")
    lite_names = {p.name for p in (tmp_path / "sqlite-feeds").iterdir()}
    assert names == lite_names
    assert "ukraine.archive-1.atom" in names and "ukraine.archive-2.atom" in names
    with Store(pg_url) as pg_store:
        for name in sorted(lite_names):
            assert _file(pg_store, name) == (tmp_path / "sqlite-feeds" / name).read_bytes()


def test_migrations_are_the_same_list_and_run_once(pg_url: str) -> None:
    with Store(pg_url) as store:
        assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
        tables = {
            r["table_name"]
            for r in store.db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchall()
        }
    # the tables the migrations leave: created, less those a later one dropped
    created = {t for _, sql, *_ in MIGRATIONS for t in re.findall(r"CREATE TABLE (\w+)", sql)}
    dropped = {t for _, sql, *_ in MIGRATIONS for t in re.findall(r"DROP TABLE (\w+)", sql)}
    lite_tables = created - dropped
    assert lite_tables <= tables
    # opening again applies nothing twice
    with Store(pg_url) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    with Store(pg_url) as store, store.transaction() as db:
        db.execute("UPDATE feedbot_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer feedbot"):
        Store(pg_url)


def test_an_unreachable_server_is_a_clear_error_without_the_password(
    postgres: Any,
) -> None:
    from .pg import free_port

    url = f"postgresql://feedbot:s3cret@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert "cannot connect to the state database" in message
    assert "s3cret" not in message and "***" in message


# --- migrate-state ----------------------------------------------------------------------------
_WORDS = (  # noqa: SIM905
    "harbour council budget river school bridge market festival railway library museum "
    "election vaccine drought harvest courthouse airport stadium orchestra glacier factory "
    "hospital treaty pipeline satellite vineyard monastery lighthouse reservoir highway"
).split()


def _story(source: int, j: int) -> str:
    """A body of its own for every story (near-identical bodies would be one story)."""
    import random

    rng = random.Random(source * 1000 + j)
    return " ".join(rng.choice(_WORDS) for _ in range(40))


def _digest(source: int, edition: int, items: int) -> str:
    stories = "".join(
        f"<h2>Story {source}-{j}: a headline of its own</h2>"
        f"<p>{_story(source, j)}.{' It was edited later, with a line more.' if edition and j % 10 == 0 else ''}</p>"
        for j in range(items)
    )
    return f"<html><head><meta charset='utf-8'></head><body><main>{stories}</main></body></html>"


def _table_rows(location: Path | str, table: str) -> list[tuple[Any, ...]]:
    with Store(location) as store:
        # SQLite's rowid, kept for the tables it orders (entries: its id is the rowid)
        extra = "" if table == "entries" else "rowid AS rowid_, "
        rows = store.db.execute(f"SELECT {extra}* FROM {table}").fetchall()
        out = []
        for row in rows:
            values = {k: row[k] for k in row.keys() if k != "rowid"}  # noqa: SIM118 (sqlite3.Row)
            out.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in values.values()))
        return sorted(out, key=repr)


def test_migrate_state_keeps_every_id_timestamp_and_revision_and_readers_see_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    """10,000 entries in 10 feeds (100 digests of 100 stories, then an edition with 1,000 of
    them edited): migrate-state copies every row of every table, the feed documents with their
    validators, and a reader that subscribed before gets 304 Not Modified, then the same entries."""
    import feedparser
    import requests

    from feedbot.cli import main
    from feedbot.serve import FeedServer

    sources = []
    for i in range(100):
        (tmp_path / f"d{i}.html").write_text(_digest(i, 0, 100))
        sources.append({"name": f"d{i}", "url": f"d{i}.html", "feed": f"feed{i % 10}"})
    feeds = {f"feed{k}": {"formats": FORMATS, "entries": 30} for k in range(10)}
    config_path = write_config(tmp_path, sources, feeds=feeds, concurrency=2)
    config = load_config(config_path)
    clock = Clock(datetime(2024, 5, 1, 6, 0, tzinfo=UTC))
    assert all(r.ok for r in run_once(config, now=clock))
    for i in range(100):
        (tmp_path / f"d{i}.html").write_text(_digest(i, 1, 100))
    clock.now += timedelta(hours=6)
    results = run_once(config, now=clock)
    assert sum(r.updated for r in results) == 1000 and sum(r.new for r in results) == 0
    lite = config.db_path
    with Store(lite) as store:
        assert store.count_entries() == 10_000

    # a reader subscribed to every feed before the move, through `feedbot serve` on the files
    server = FeedServer(config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    seen: dict[str, tuple[str, dict[str, tuple[str, str, str]]]] = {}
    try:
        for k in range(10):
            for fmt in ("atom", "json"):
                name = f"feed{k}.{fmt}"
                response = requests.get(server.url + name, timeout=10)
                assert response.status_code == 200
                seen[name] = (response.headers["ETag"], _reader_entries(response.content))
                last_modified = response.headers["Last-Modified"]
                seen[name + " modified"] = (last_modified, {})
    finally:
        server.close()
        thread.join(5)

    assert main(["migrate-state", "-c", str(config_path), "--to", pg_url]) == 0

    tables = ["entries", "revisions", "appearances", "validators", "source_runs", "index_pages"]
    tables += ["pending_feeds"]
    for table in tables:
        assert _table_rows(pg_url, table) == _table_rows(lite, table), f"{table} differs"
    with Store(pg_url) as store:
        assert store.count_entries() == 10_000
        revisions = store.db.execute("SELECT count(*) AS n FROM revisions").fetchone()["n"]
        assert revisions == 11_000
        for name in sorted(p.name for p in config.feeds_dir.iterdir()):
            stored = store.feed_file(name)
            assert stored is not None and stored.body == (config.feeds_dir / name).read_bytes()
            assert stored.modified == int((config.feeds_dir / name).stat().st_mtime)
    # a second copy into the same database is refused: nothing is ever mixed
    assert main(["migrate-state", "-c", str(config_path), "--to", pg_url]) == 1

    # the user switches the config to the shared state; the reader notices nothing
    text = config_path.read_text().replace("[feedbot]\n", f'[feedbot]\nstate = "{pg_url}"\n', 1)
    config_path.write_text(text)
    moved = load_config(config_path)
    assert moved.state == pg_url
    clock.now += timedelta(hours=6)
    results = run_once(moved, now=clock)  # the same pages again: nothing new, nothing updated
    assert all(r.ok for r in results) and not any(r.new or r.updated for r in results)
    server = FeedServer(moved, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for name, (etag, entries) in seen.items():
            if name.endswith(" modified"):
                continue
            again = requests.get(server.url + name, headers={"If-None-Match": etag}, timeout=10)
            assert again.status_code == 304, f"{name}: the reader would see a change"
            since = seen[name + " modified"][0]
            again = requests.get(
                server.url + name, headers={"If-Modified-Since": since}, timeout=10
            )
            assert again.status_code == 304, f"{name}: Last-Modified moved"
            full = requests.get(server.url + name, timeout=10)
            assert full.headers["ETag"] == etag
            assert _reader_entries(full.content) == entries
    finally:
        server.close()
        thread.join(5)
    del feedparser


def _reader_entries(data: bytes) -> dict[str, tuple[str, str, str]]:
    """What a reader keeps of each entry: id -> (title, published, updated)."""
    import feedparser

    parsed = feedparser.parse(data)
    if parsed.entries:
        return {e.id: (e.title, e.get("published", ""), e.updated) for e in parsed.entries}
    import json

    items = json.loads(data)["items"]
    return {i["id"]: (i["title"], i["date_published"], i["date_modified"]) for i in items}


# --- serving from the shared state ------------------------------------------------------------
def test_two_nodes_serve_the_same_bytes_and_validators_and_healthz_lists_workers(
    tmp_path: Path, pg_url: str
) -> None:
    import requests

    from feedbot.model import WorkerRow
    from feedbot.serve import FeedServer

    config = load_config(_setup(tmp_path, pg_url))
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    assert all(r.ok for r in run_once(config, now=clock))
    now = datetime.now(UTC)
    with Store(pg_url) as store:
        store.register_worker(
            WorkerRow("node-a:1", "node-a", 1, now, now, 4, running=("ukraine",), runs=7)
        )
        old = now - timedelta(minutes=5)
        store.register_worker(WorkerRow("node-b:2", "node-b", 2, old, old, 4))
    servers = [FeedServer(config, "127.0.0.1", 0) for _ in range(2)]
    threads = [threading.Thread(target=s.run, daemon=True) for s in servers]
    for t in threads:
        t.start()
    try:
        plain = {"Accept-Encoding": "identity"}
        answers = [requests.get(s.url + "ukraine.atom", headers=plain, timeout=10) for s in servers]
        assert answers[0].content == answers[1].content == _file(Store(pg_url), "ukraine.atom")
        for header in ("ETag", "Last-Modified"):
            assert answers[0].headers[header] == answers[1].headers[header]
        etag = answers[0].headers["ETag"]
        assert (
            requests.get(
                servers[1].url + "ukraine.atom", headers={"If-None-Match": etag}, timeout=10
            ).status_code
            == 304
        )
        zipped = [
            requests.get(s.url + "ukraine.atom", headers={"Accept-Encoding": "gzip"}, timeout=10)
            for s in servers
        ]
        assert zipped[0].headers["ETag"] == zipped[1].headers["ETag"] != etag
        index = requests.get(servers[0].url, timeout=10).text
        assert 'href="ukraine.atom"' in index
        health = requests.get(servers[0].url + "healthz", timeout=10)
        body = health.json()
        assert health.status_code == 200 and body["status"] == "ok"
        workers = {w["node"]: w for w in body["workers"]}
        assert workers["node-a:1"]["alive"] and workers["node-a:1"]["running"] == ["ukraine"]
        assert workers["node-a:1"]["runs"] == 7
        assert not workers["node-b:2"]["alive"]
        assert body["workers_alive"] == 1
        with Store(pg_url) as store:
            store.remove_worker("node-a:1")
        health = requests.get(servers[1].url + "healthz", timeout=10)
        assert health.status_code == 503 and health.json()["status"] == "no worker"
    finally:
        for s in servers:
            s.close()
        for t in threads:
            t.join(5)
