"""The PostgreSQL state against a real server: same schema, same migrations, same ids, same feeds.

Each scenario runs twice, once on the SQLite file and once on PostgreSQL, with the same pages and the
same clock: the feeds must come out byte for byte the same and the stored rows the same, so a user
who moves loses nothing and a reader notices nothing.
"""

from __future__ import annotations

import shutil
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
        "http_cache": "url",
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
    lite_tables = {
        name
        for (name, sql) in MIGRATIONS
        for name in __import__("re").findall(r"CREATE TABLE (\w+)", sql)
    }
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
