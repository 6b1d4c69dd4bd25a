"""The state: SQLite, one file. Every SQL statement of feedbot lives in this module.

Owns: the schema and its migrations, entries and their revisions, where each entry appeared, per-URL
cache validators, per-source run records. One transaction per page. Must not: fetch, split, decide
or render — it stores what it is told and answers queries.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .clock import format_iso, parse_iso
from .errors import StoreError
from .fetch import Validators
from .index import KnownPage
from .model import Change, Outcome, StoredEntry

ID_NAMESPACE = uuid.UUID("6f1c5c1e-3d2a-4b8e-9a57-0f6e2f1b7a11")

MIGRATIONS: list[tuple[str, str]] = [
    (
        "initial schema",
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            feed TEXT NOT NULL,
            entry_id TEXT NOT NULL UNIQUE,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            headline TEXT NOT NULL,
            norm_headline TEXT NOT NULL,
            norm_body TEXT NOT NULL,
            body_html TEXT NOT NULL,
            body_text TEXT NOT NULL,
            link TEXT NOT NULL,
            attribution TEXT,
            published TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            updated TEXT NOT NULL,
            revisions INTEGER NOT NULL DEFAULT 1,
            position INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            replaces TEXT
        );
        CREATE INDEX entries_feed_key ON entries (feed, key);
        CREATE INDEX entries_feed_updated ON entries (feed, updated);
        CREATE TABLE revisions (
            entry INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            headline TEXT NOT NULL,
            body_html TEXT NOT NULL,
            body_text TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            page_url TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (entry, number)
        );
        CREATE TABLE appearances (
            entry INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            page_url TEXT NOT NULL,
            source TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (entry, page_url, source)
        );
        CREATE TABLE http_cache (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            fetched_at TEXT NOT NULL
        );
        CREATE TABLE source_runs (
            source TEXT PRIMARY KEY,
            last_run TEXT NOT NULL,
            last_success TEXT,
            result TEXT NOT NULL,
            error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            items INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    (
        "pages followed from index sources",
        """
        CREATE TABLE index_pages (
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            index_url TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_checked TEXT NOT NULL,
            PRIMARY KEY (source, url)
        );
        """,
    ),
    (
        "feeds waiting to be written",
        # A feed is marked in the transaction that changes its entries and unmarked once every
        # format is written, so a run killed (or failing to write) in between is caught up by the
        # next run even when none of its pages changed again.
        """
        CREATE TABLE pending_feeds (
            feed TEXT PRIMARY KEY,
            since TEXT NOT NULL
        );
        """,
    ),
    (
        "appearances by source",
        # record_run counts a source's entries after every run: without this index that is a scan
        # of every appearance per source, so an unchanged run grew with the square of the sources.
        """
        CREATE INDEX appearances_source ON appearances (source, entry);
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class EntryRow:
    """An entry as the renderer needs it."""

    entry_id: str
    headline: str
    body_html: str
    body_text: str
    link: str
    attribution: str | None
    published: datetime
    updated: datetime
    first_seen: datetime
    last_seen: datetime
    revisions: int
    position: int
    replaces: str | None
    previous_text: str | None  # the body of the revision before the last, for "what changed"
    previous_headline: str | None
    sources: tuple[str, ...]
    pages: tuple[str, ...]


@dataclass(frozen=True)
class Revision:
    number: int
    headline: str
    body_text: str
    seen_at: datetime
    page_url: str
    source: str


@dataclass(frozen=True)
class SourceRun:
    source: str
    last_run: datetime
    last_success: datetime | None
    result: str
    error: str | None
    failures: int
    new: int
    updated: int
    items: int


@dataclass(frozen=True)
class Prepared:
    """What the store writes for one item besides the decision: its safe HTML and its link."""

    body_html: str
    link: str
    published: datetime


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{path}: cannot open the state database: {_problem(path, exc)}"
            ) from None
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 30000")
            _set_wal(self.db)
            # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a process killed
            # at any moment (the kill test) or a failing disk (the storage-fault suite) still
            # leaves the last committed state; a power cut may lose the last commits, never the
            # database's consistency. FULL made every source's run record an fsync (1.4-1.9 ms, a
            # fifth of an unchanged run).
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{path}: {_problem(path, exc)}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a database error (a full disk, a read-only file) becomes a StoreError
        naming the database, after the transaction is rolled back."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write: {_problem(self.path, exc)}") from None
        try:
            yield self.db
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"{self.path}: cannot write: {_problem(self.path, exc)}") from None
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(
                    f"{self.path}: cannot commit: {_problem(self.path, exc)}"
                ) from None

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR)
        if self.db.in_transaction:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: the state was written by a newer feedbot (schema version {version}, "
                f"this feedbot knows up to {SCHEMA_VERSION}); upgrade feedbot or use another state_dir"
            )
        for number in range(version, SCHEMA_VERSION):
            name, sql = MIGRATIONS[number]
            try:
                self.db.execute("BEGIN IMMEDIATE")
                if self.db.execute("PRAGMA user_version").fetchone()[0] > number:
                    self.db.execute("COMMIT")  # another connection applied it meanwhile
                    continue
                for statement in sql.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(
                    f"{self.path}: migration {number + 1} ({name}) failed: {exc}"
                ) from None

    # --- HTTP cache -------------------------------------------------------------------------
    def validators(self, url: str) -> Validators | None:
        row = self.db.execute(
            "SELECT etag, last_modified, content_hash FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        return Validators(row["etag"], row["last_modified"], row["content_hash"])

    def forget_validators(self, url: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM http_cache WHERE url = ?", (url,))

    def save_validators(self, url: str, value: Validators, *, now: datetime) -> None:
        with self.transaction() as db:
            self._save_validators(db, url, value, format_iso(now))

    @staticmethod
    def _save_validators(db: sqlite3.Connection, url: str, value: Validators, stamp: str) -> None:
        db.execute(
            """INSERT INTO http_cache (url, etag, last_modified, content_hash, fetched_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
                   last_modified = excluded.last_modified, content_hash = excluded.content_hash,
                   fetched_at = excluded.fetched_at""",
            (url, value.etag, value.last_modified, value.content_hash, stamp),
        )

    # --- index sources ----------------------------------------------------------------------
    def index_pages(self, source: str) -> list[KnownPage]:
        """The pages of an index source processed before, newest first."""
        rows = self.db.execute(
            "SELECT url, first_seen FROM index_pages WHERE source = ? ORDER BY first_seen DESC, rowid DESC",
            (source,),
        ).fetchall()
        return [KnownPage(row["url"], parse_iso(row["first_seen"])) for row in rows]

    def remember_index_page(self, source: str, index_url: str, url: str, *, now: datetime) -> None:
        with self.transaction() as db:
            self._remember_index_page(db, source, index_url, url, format_iso(now))

    @staticmethod
    def _remember_index_page(
        db: sqlite3.Connection, source: str, index_url: str, url: str, stamp: str
    ) -> None:
        db.execute(
            """INSERT INTO index_pages (source, url, index_url, first_seen, last_checked)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (source, url) DO UPDATE SET last_checked = excluded.last_checked""",
            (source, url, index_url, stamp, stamp),
        )

    # --- entries --------------------------------------------------------------------------
    def entries_for(self, feed: str) -> list[StoredEntry]:
        rows = self.db.execute(
            """SELECT e.id, e.entry_id, e.key, e.fingerprint, e.headline, e.norm_headline, e.norm_body,
                      e.source,
                      (SELECT group_concat(DISTINCT a.source) FROM appearances a WHERE a.entry = e.id) AS sources
               FROM entries e WHERE e.feed = ? ORDER BY e.id""",
            (feed,),
        ).fetchall()
        return [
            StoredEntry(
                rowid=row["id"],
                entry_id=row["entry_id"],
                key=row["key"],
                fingerprint=row["fingerprint"],
                headline=row["headline"],
                norm_headline=row["norm_headline"],
                norm_body=row["norm_body"],
                sources=_sources(row["sources"]),
                owner=row["source"],
            )
            for row in rows
        ]

    def _new_entry_id(self, feed: str, key: str, fingerprint: str) -> str:
        base = uuid.uuid5(ID_NAMESPACE, f"{feed}\x00{key}\x00{fingerprint}")
        candidate = f"urn:uuid:{base}"
        n = 1
        while self.db.execute("SELECT 1 FROM entries WHERE entry_id = ?", (candidate,)).fetchone():
            candidate = f"urn:uuid:{uuid.uuid5(base, str(n))}"
            n += 1
        return candidate

    def apply_page(
        self,
        *,
        feed: str,
        source: str,
        page_url: str,
        changes: Sequence[tuple[Change, Prepared]],
        now: datetime,
        policy: str,
        validators: tuple[str, Validators] | None,
        index_page: tuple[str, str] | None = None,
    ) -> tuple[int, int, int]:
        """Write the outcome of one page in one transaction. Returns (new, updated, unchanged).
        ``index_page`` is (index URL, page URL as linked) for a page followed from an index source:
        it is remembered as processed in the same transaction."""
        stamp = format_iso(now)
        counts = {Outcome.NEW: 0, Outcome.UPDATED: 0, Outcome.UNCHANGED: 0}
        with self.transaction() as db:
            for change, prepared in changes:
                item = change.item
                counts[change.outcome] += 1
                if change.outcome is Outcome.NEW or (
                    change.outcome is Outcome.UPDATED and policy == "new-entry"
                ):
                    replaces = change.entry.entry_id if change.entry is not None else None
                    rowid = self._insert_entry(
                        db, feed, source, page_url, change, prepared, stamp, replaces
                    )
                elif change.outcome is Outcome.UPDATED:
                    assert change.entry is not None
                    rowid = change.entry.rowid
                    db.execute(
                        """UPDATE entries SET key = ?, fingerprint = ?, headline = ?, norm_headline = ?,
                               norm_body = ?, body_html = ?, body_text = ?, link = ?, attribution = ?,
                               last_seen = ?, updated = ?, revisions = revisions + 1, position = ?
                           WHERE id = ?""",
                        (
                            item.key,
                            item.fingerprint,
                            item.item.headline,
                            item.norm_headline,
                            item.norm_body,
                            prepared.body_html,
                            item.item.body_text,
                            prepared.link,
                            item.item.attribution,
                            stamp,
                            stamp,
                            item.item.position,
                            rowid,
                        ),
                    )
                    self._insert_revision(
                        db,
                        rowid,
                        item.item.headline,
                        prepared.body_html,
                        item.item.body_text,
                        item.fingerprint,
                        stamp,
                        page_url,
                        source,
                    )
                else:
                    assert change.entry is not None
                    rowid = change.entry.rowid
                    db.execute("UPDATE entries SET last_seen = ? WHERE id = ?", (stamp, rowid))
                db.execute(
                    """INSERT INTO appearances (entry, page_url, source, first_seen, last_seen)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT (entry, page_url, source) DO UPDATE SET last_seen = excluded.last_seen""",
                    (rowid, page_url, source, stamp, stamp),
                )
            if counts[Outcome.NEW] or counts[Outcome.UPDATED]:
                db.execute(
                    "INSERT OR IGNORE INTO pending_feeds (feed, since) VALUES (?, ?)",
                    (feed, stamp),
                )
            if validators is not None:
                url, value = validators
                self._save_validators(db, url, value, stamp)
            if index_page is not None:
                self._remember_index_page(db, source, index_page[0], index_page[1], stamp)
        return counts[Outcome.NEW], counts[Outcome.UPDATED], counts[Outcome.UNCHANGED]

    def _insert_entry(
        self,
        db: sqlite3.Connection,
        feed: str,
        source: str,
        page_url: str,
        change: Change,
        prepared: Prepared,
        stamp: str,
        replaces: str | None,
    ) -> int:
        item = change.item
        entry_id = self._new_entry_id(feed, item.key, item.fingerprint)
        published = format_iso(prepared.published)
        cursor = db.execute(
            """INSERT INTO entries (feed, entry_id, key, fingerprint, headline, norm_headline, norm_body,
                   body_html, body_text, link, attribution, published, first_seen, last_seen, updated,
                   revisions, position, source, replaces)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
            (
                feed,
                entry_id,
                item.key,
                item.fingerprint,
                item.item.headline,
                item.norm_headline,
                item.norm_body,
                prepared.body_html,
                item.item.body_text,
                prepared.link,
                item.item.attribution,
                published,
                stamp,
                stamp,
                stamp,
                item.item.position,
                source,
                replaces,
            ),
        )
        rowid = int(cursor.lastrowid or 0)
        self._insert_revision(
            db,
            rowid,
            item.item.headline,
            prepared.body_html,
            item.item.body_text,
            item.fingerprint,
            stamp,
            page_url,
            source,
        )
        return rowid

    @staticmethod
    def _insert_revision(
        db: sqlite3.Connection,
        rowid: int,
        headline: str,
        body_html: str,
        body_text: str,
        fingerprint: str,
        stamp: str,
        page_url: str,
        source: str,
    ) -> None:
        db.execute(
            """INSERT INTO revisions (entry, number, headline, body_html, body_text, fingerprint, seen_at,
                   page_url, source)
               VALUES (?, (SELECT coalesce(max(number), 0) + 1 FROM revisions WHERE entry = ?),
                       ?, ?, ?, ?, ?, ?, ?)""",
            (rowid, rowid, headline, body_html, body_text, fingerprint, stamp, page_url, source),
        )

    def is_pending(self, feed: str) -> bool:
        """Whether ``feed``'s entries changed since its files were last written in full."""
        row = self.db.execute("SELECT 1 FROM pending_feeds WHERE feed = ?", (feed,)).fetchone()
        return row is not None

    def feed_written(self, feed: str) -> None:
        """Every format of ``feed`` is written: it no longer needs to be caught up."""
        with self.transaction() as db:
            db.execute("DELETE FROM pending_feeds WHERE feed = ?", (feed,))

    def feed_entries(self, feed: str, limit: int) -> list[EntryRow]:
        """The newest ``limit`` entries of a feed, most recently updated first."""
        return self._entry_rows(feed, "e.updated DESC, e.position ASC, e.id ASC", limit, 0)

    def archive_entries(self, feed: str, offset: int, limit: int) -> list[EntryRow]:
        """Entries in the order they were first stored (a stable order for RFC 5005 archive
        pages): ``limit`` of them from ``offset``."""
        return self._entry_rows(feed, "e.id ASC", limit, offset)

    def _entry_rows(self, feed: str, order: str, limit: int, offset: int) -> list[EntryRow]:
        rows = self.db.execute(
            """SELECT e.*,
                  (SELECT r.body_text FROM revisions r WHERE r.entry = e.id AND r.number = e.revisions - 1)
                      AS previous_text,
                  (SELECT r.headline FROM revisions r WHERE r.entry = e.id AND r.number = e.revisions - 1)
                      AS previous_headline,
                  (SELECT group_concat(DISTINCT a.source) FROM appearances a WHERE a.entry = e.id) AS sources,
                  (SELECT group_concat(a.page_url, char(10)) FROM appearances a WHERE a.entry = e.id) AS pages
               FROM entries e WHERE e.feed = ?
               ORDER BY """
            + order
            + " LIMIT ? OFFSET ?",
            (feed, limit, offset),
        ).fetchall()
        return [
            EntryRow(
                entry_id=row["entry_id"],
                headline=row["headline"],
                body_html=row["body_html"],
                body_text=row["body_text"],
                link=row["link"],
                attribution=row["attribution"],
                published=parse_iso(row["published"]),
                updated=parse_iso(row["updated"]),
                first_seen=parse_iso(row["first_seen"]),
                last_seen=parse_iso(row["last_seen"]),
                revisions=row["revisions"],
                position=row["position"],
                replaces=row["replaces"],
                previous_text=row["previous_text"],
                previous_headline=row["previous_headline"],
                sources=_sources(row["sources"]),
                pages=tuple(dict.fromkeys((row["pages"] or "").split("\n")))
                if row["pages"]
                else (),
            )
            for row in rows
        ]

    def prune(self, feed: str, *, before: datetime, keep: int) -> int:
        """Delete entries of ``feed`` last seen before ``before``, except the ``keep`` newest (the ones
        the feed shows). Revisions and appearances go with them. Returns the number deleted."""
        with self.transaction() as db:
            cursor = db.execute(
                """DELETE FROM entries WHERE feed = ? AND last_seen < ? AND id NOT IN (
                       SELECT id FROM entries WHERE feed = ?
                       ORDER BY updated DESC, position ASC, id ASC LIMIT ?)""",
                (feed, format_iso(before), feed, keep),
            )
            return int(cursor.rowcount)

    def count_entries(self, feed: str | None = None) -> int:
        if feed is None:
            return int(self.db.execute("SELECT count(*) FROM entries").fetchone()[0])
        return int(
            self.db.execute("SELECT count(*) FROM entries WHERE feed = ?", (feed,)).fetchone()[0]
        )

    def revisions(self, feed: str, entry_id: str) -> list[Revision]:
        rows = self.db.execute(
            """SELECT r.* FROM revisions r JOIN entries e ON e.id = r.entry
               WHERE e.feed = ? AND e.entry_id = ? ORDER BY r.number""",
            (feed, entry_id),
        ).fetchall()
        return [
            Revision(
                row["number"],
                row["headline"],
                row["body_text"],
                parse_iso(row["seen_at"]),
                row["page_url"],
                row["source"],
            )
            for row in rows
        ]

    # --- runs ------------------------------------------------------------------------------
    def record_run(
        self,
        source: str,
        *,
        now: datetime,
        ok: bool,
        result: str,
        error: str | None = None,
        new: int = 0,
        updated: int = 0,
    ) -> None:
        stamp = format_iso(now)
        with self.transaction() as db:
            items = db.execute(
                "SELECT count(DISTINCT entry) FROM appearances WHERE source = ?", (source,)
            ).fetchone()[0]
            db.execute(
                """INSERT INTO source_runs (source, last_run, last_success, result, error, failures, new,
                       updated, items)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (source) DO UPDATE SET last_run = excluded.last_run,
                       last_success = coalesce(excluded.last_success, source_runs.last_success),
                       result = excluded.result, error = excluded.error,
                       failures = CASE WHEN excluded.failures = 0 THEN 0 ELSE source_runs.failures + 1 END,
                       new = excluded.new, updated = excluded.updated, items = excluded.items""",
                (
                    source,
                    stamp,
                    stamp if ok else None,
                    result,
                    error,
                    0 if ok else 1,
                    new,
                    updated,
                    items,
                ),
            )

    def source_runs(self) -> dict[str, SourceRun]:
        return _source_runs(self.db)


def read_source_runs(path: Path) -> dict[str, SourceRun]:
    """The run records, read without writing anything (no migration, no journal change): for
    ``/healthz`` while runs go on. An absent database means no source has run yet."""
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the state database: {exc}") from None
    try:
        db.row_factory = sqlite3.Row
        return _source_runs(db)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot read the run records: {exc}") from None
    finally:
        db.close()


def _source_runs(db: sqlite3.Connection) -> dict[str, SourceRun]:
    rows = db.execute("SELECT * FROM source_runs").fetchall()
    return {
        row["source"]: SourceRun(
            source=row["source"],
            last_run=parse_iso(row["last_run"]),
            last_success=parse_iso(row["last_success"]) if row["last_success"] else None,
            result=row["result"],
            error=row["error"],
            failures=row["failures"],
            new=row["new"],
            updated=row["updated"],
            items=row["items"],
        )
        for row in rows
    }


def _set_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. On a new database opened by several connections at once, the switch can
    report "database is locked" without waiting (SQLite's busy handler does not cover it): retry."""
    for attempt in range(100):
        try:
            db.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.01)


def _problem(path: Path, exc: BaseException) -> str:
    """SQLite's message, plus what is wrong with the place the database lives when that explains it
    (SQLite says "disk I/O error" for a full disk as often as "database or disk is full")."""
    directory = path.parent
    hints = []
    try:
        fs = os.statvfs(directory)
        if fs.f_flag & os.ST_RDONLY:
            hints.append(f"{directory} is on a read-only file system")
        elif fs.f_bavail * fs.f_frsize < 1024 * 1024:
            hints.append(
                f"the disk holding {directory} is full ({fs.f_bavail * fs.f_frsize} bytes free)"
            )
    except OSError:
        pass
    if not hints and directory.exists() and not os.access(directory, os.W_OK):
        hints.append(f"{directory} is not writable")
    if not hints and path.exists() and not os.access(path, os.W_OK):
        hints.append(f"{path.name} is read-only")
    return f"{exc} ({'; '.join(hints)})" if hints else str(exc)


def _sources(value: str | None) -> tuple[str, ...]:
    """The distinct source names of a ``group_concat(DISTINCT a.source)`` column, sorted."""
    return tuple(sorted(set((value or "").split(",")) - {""}))
