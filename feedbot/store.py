"""The state: SQLite, one file (the embedded default), or PostgreSQL (``state = "postgresql://…"``,
shared by several machines). Every SQL statement of feedbot lives in this module.

Owns: the schema and its migrations, entries and their revisions, where each entry appeared, per-URL
cache validators, per-source run records. One transaction per page. Must not: fetch, split, decide
or render — it stores what it is told (each change says how: :class:`feedbot.model.Write`) and
answers queries with the values of :mod:`feedbot.model`.

How the SQL is kept: each table's columns are listed once and each kind of row becomes its value in
one function (the "tables" section at the end); statements are module constants built from those
lists, run only through ``Store._one`` / ``_all`` / ``_scalar`` / ``_run`` / ``_insert`` / ``_statement``. The SQL is
standard where SQLite allows it; what is SQLite's own is named there, so that another backend is a
matter of those few places. Thread: one connection, used by the thread that opened it.

Both backends run the same statements and the same migrations (:data:`MIGRATIONS`), written in
SQLite's dialect: :class:`Database` is the connection the helpers run them on, and its
:class:`PostgresDialect` the thin layer that adapts them (placeholders, the list aggregates, 64-bit
integers, identity columns, byte-wise text, and a ``rowid`` column for the tables SQLite gives one
implicitly), so ids, orderings and timestamps (ISO 8601 text in both) are the same. A migration is
written in that subset: types INTEGER / TEXT / BLOB / REAL, no PRAGMA.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from . import signature as sig
from .clock import format_iso, parse_iso
from .errors import ErrorKind, StoreError
from .model import (
    Change,
    EntryRow,
    Identified,
    KnownPage,
    Outcome,
    Prepared,
    Revision,
    RunRecord,
    SourceRun,
    StoredEntry,
    StoredFile,
    Validators,
    WorkerRow,
    Write,
)
from .write import write_atomic

T = TypeVar("T")

ID_NAMESPACE = uuid.UUID("6f1c5c1e-3d2a-4b8e-9a57-0f6e2f1b7a11")

# A migration is (name, SQL) or (name, SQL, step): a step is Python run after the SQL in the same
# transaction, for data the SQL cannot compute (signatures).
Migration = tuple[str, str] | tuple[str, str, Callable[["Database"], None]]

MIGRATIONS: list[Migration] = [
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
    (
        "validators by source, entries in the order first stored, error kinds",
        # Validators were keyed by URL: a new, renamed or moved source on a URL fetched before was
        # told "not modified" and its feed never written. They are a cache, so the old ones go
        # (each source reads its page in full once). Entries were ordered by `updated`, a clock
        # reading: a story stored while the clock was behind sorted below older ones for good; `seq`
        # numbers the pages' transactions instead, the existing entries ranked by their `updated`
        # so that every feed keeps its order. `error_kind` says what failed in one word, for
        # /healthz (which shows no message).
        """
        DROP TABLE http_cache;
        CREATE TABLE validators (
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            options TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (source, url)
        );
        ALTER TABLE entries ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
        UPDATE entries SET seq = ranked.rank FROM (
            SELECT id, DENSE_RANK() OVER (PARTITION BY feed ORDER BY updated) AS rank FROM entries
        ) AS ranked WHERE ranked.id = entries.id;
        CREATE INDEX entries_feed_seq ON entries (feed, seq);
        CREATE INDEX entries_feed_last_seen ON entries (feed, last_seen);
        ALTER TABLE source_runs ADD COLUMN error_kind TEXT;
        """,
    ),
    (
        "the items of each source's recent runs",
        # the status page's chart: how many items each of a source's last runs gave (a page that
        # suddenly splits into one item shows), kept in the run record itself, bounded
        """
        ALTER TABLE source_runs ADD COLUMN recent TEXT NOT NULL DEFAULT '';
        """,
    ),
    (
        "similarity index",
        # Issue 17: the cost of a page no longer grows with its feed. Each entry keeps its MinHash
        # signature (feedbot.signature) and entry_bands indexes its LSH band keys, so a page reads
        # only the entries that share a band, a headline key or a fingerprint with one of its
        # items (Store.candidates). source_items counts what each source has shown as it grows
        # (record_run counted every appearance of the source after every run). archive_pages
        # remembers where each written archive page ends, so the next page and the feed's tail
        # are read from there (an OFFSET read every entry before them). entries_feed_shown is the
        # whole order a feed shows, so the newest entries come straight out of it (entries_feed_seq
        # left the ties of one `seq`, a page's items, to a sort of every one of them with its
        # bodies: 50 MB for a page of 5,000); it serves the next `seq` too. The current revision's
        # bodies are the entry's own: its revision row no longer repeats them. The step
        # re-tokenises stored bodies (tokens now split at script boundaries), recomputes keys and
        # fingerprints, and computes every signature once.
        """
        ALTER TABLE entries ADD COLUMN signature BLOB;
        CREATE TABLE entry_bands (
            band_key BIGINT NOT NULL,
            entry INTEGER NOT NULL,
            PRIMARY KEY (band_key, entry)
        ) WITHOUT ROWID;
        CREATE INDEX entries_feed_fingerprint ON entries (feed, fingerprint);
        DROP INDEX entries_feed_seq;
        CREATE INDEX entries_feed_shown ON entries (feed, seq DESC, position, id);
        CREATE TABLE source_items (
            source TEXT PRIMARY KEY,
            items INTEGER NOT NULL
        );
        INSERT INTO source_items (source, items)
            SELECT source, count(DISTINCT entry) FROM appearances GROUP BY source;
        CREATE TABLE archive_pages (
            feed TEXT NOT NULL,
            page INTEGER NOT NULL,
            last_entry INTEGER NOT NULL,
            PRIMARY KEY (feed, page)
        );
        CREATE TABLE store_settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        UPDATE revisions SET body_html = '', body_text = ''
            WHERE number = (SELECT e.revisions FROM entries e WHERE e.id = revisions.entry);
        """,
        lambda db: _reindex(db, retokenise=True),
    ),
    (
        "feeds and workers in the shared state",
        # With a PostgreSQL state every node serves the feeds: the rendered documents live here
        # (sha256 of the bytes for the ETag, modified = Last-Modified in seconds since the epoch),
        # and each `feedbot worker` keeps its row up to date for /healthz; host_gates holds each
        # host's next allowed request start for the whole cluster. A SQLite state keeps writing
        # files in feeds_dir and leaves these tables empty.
        """
        CREATE TABLE feed_files (
            name TEXT PRIMARY KEY,
            body BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            modified INTEGER NOT NULL
        );
        CREATE TABLE workers (
            node TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started TEXT NOT NULL,
            heartbeat TEXT NOT NULL,
            concurrency INTEGER NOT NULL,
            running TEXT NOT NULL DEFAULT '',
            runs INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE host_gates (
            host TEXT PRIMARY KEY,
            next_start REAL NOT NULL
        );
        """,
    ),
    (
        "headline link targets",
        # Issue 12: where an entry's headline linked to (Identified.target), so that an item under
        # the same headline and the same link is the same story even when its text was rewritten
        # (a repository's description on a trending page); entries stored before have none
        """
        ALTER TABLE entries ADD COLUMN target TEXT NOT NULL DEFAULT '';
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
MIGRATION_BATCH = 2_000  # entries read and rewritten at a time by a migration step


# --- backends -----------------------------------------------------------------------------------
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_PG_MIGRATION_LOCK = 0x66656564  # "feed": the advisory lock that serialises migrations


def is_postgres(location: str | Path) -> bool:
    """Whether a state location is a PostgreSQL URL (else it is a SQLite file)."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def display_location(location: str | Path) -> str:
    """A state location for messages: a PostgreSQL URL without its password."""
    if not is_postgres(location):
        return str(location)
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", str(location))


class Row(Protocol):
    """A result row, read by column name or position (``sqlite3.Row``; :class:`_PgRow`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses."""

    rowcount: int

    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Dialect:
    """SQLite's SQL as written in this module, as the backend needs it: the identity for SQLite."""

    name = "sqlite"

    def statement(self, sql: str) -> str:
        return sql

    def ddl(self, sql: str) -> str | None:
        """A migration statement for this backend (None: nothing to do here)."""
        return sql

    def returning_id(self, sql: str) -> str:
        """An INSERT that hands back the new row's ``id`` (SQLite: ``lastrowid``)."""
        return sql

    def in_list(
        self, template: str, name: str, values: Sequence[object]
    ) -> tuple[str, list[object]]:
        """``template``'s ``IN ({name})`` for ``values``, and the parameters it takes: SQLite's
        ``IN (?, ?, …)``, one parameter each."""
        return template.format(**{name: _placeholders(values)}), list(values)


class PostgresDialect(Dialect):
    """SQLite's SQL for PostgreSQL: ``?`` placeholders become ``%s``; the list aggregates of
    :func:`_distinct_list` and :func:`_lines` become ``string_agg`` (pages in the order SQLite's
    primary-key index gives them); in migrations, ``INTEGER`` is 64-bit as in SQLite, ``INTEGER
    PRIMARY KEY`` an identity column that also takes the ids given (``migrate-state`` keeps them),
    ``TEXT`` compares byte by byte (``COLLATE "C"``, SQLite's BINARY), and a table without an
    integer key gets the ``rowid`` SQLite gives it."""

    name = "postgresql"

    @staticmethod
    @lru_cache(maxsize=512)
    def _statement(sql: str) -> str:
        sql = sql.replace("%", "%%").replace("?", "%s")
        sql = re.sub(r"group_concat\(DISTINCT ([\w.]+)\)", r"string_agg(DISTINCT \1, ',')", sql)
        return re.sub(
            r"group_concat\(([\w.]+), char\((\d+)\)\)",
            r'string_agg(\1, chr(\2) ORDER BY \1 COLLATE "C")',
            sql,
        )

    def statement(self, sql: str) -> str:
        return self._statement(sql)

    def returning_id(self, sql: str) -> str:
        return sql + " RETURNING id"

    def in_list(
        self, template: str, name: str, values: Sequence[object]
    ) -> tuple[str, list[object]]:
        """``= ANY(?)`` with one array parameter: the same statement text whatever the number of
        values, so psycopg prepares it once (an IN list of a new length is a new statement). The
        store's IN lists are all of ids and band keys: the array is BIGINT[], so the index on the
        column serves it."""
        return template.replace(f"IN ({{{name}}})", "= ANY(CAST(? AS BIGINT[]))"), [list(values)]

    def ddl(self, sql: str) -> str | None:
        text = sql.strip()
        if text.upper().startswith("PRAGMA"):
            return None
        if re.match(r"(?is)^(CREATE TABLE|ALTER TABLE)", text):
            # a table SQLite keeps without a rowid has none here either
            keyed = re.search(r"(?i)\bINTEGER PRIMARY KEY\b|\bWITHOUT ROWID\b", text) is not None
            text = re.sub(r"(?i)\)\s*WITHOUT ROWID\s*$", ")", text)
            text = re.sub(
                r"(?i)\bINTEGER PRIMARY KEY\b",
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                text,
            )
            text = re.sub(r"(?i)\bINTEGER\b", "BIGINT", text)
            text = re.sub(r"(?i)\bREAL\b", "DOUBLE PRECISION", text)
            text = re.sub(r"(?i)\bBLOB\b", "BYTEA", text)
            text = re.sub(r"(?i)\bTEXT\b", 'TEXT COLLATE "C"', text)
            if text.upper().startswith("CREATE TABLE") and not keyed:
                text = re.sub(
                    r"\(",
                    "(\n    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,",
                    text,
                    count=1,
                )
        return self.statement(text)


class _PgRow(dict[str, Any]):
    """A PostgreSQL row readable as ``sqlite3.Row`` is: by column name or by position."""

    __slots__ = ("_values",)

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        super().__init__(zip(names, values, strict=True))
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self._values[key]
        return dict.__getitem__(self, key)

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(dict.keys(self))


def _pg_rows(cursor: Any) -> Callable[[Sequence[Any]], _PgRow]:
    """psycopg's row factory for :class:`_PgRow`."""
    names = [column.name for column in cursor.description or ()]

    def make(values: Sequence[Any]) -> _PgRow:
        return _PgRow(names, values)

    return make


class Database:
    """One connection to the state, whichever the backend: the statements as written in this
    module (SQLite's dialect, ``?`` placeholders) go in, rows readable by name or position come
    out. Every statement of the store runs through :meth:`execute` or :meth:`insert`."""

    def __init__(self, location: str | Path, raw: Any) -> None:
        self.location = location
        self.display = display_location(location)
        self.postgres = is_postgres(location)
        self.dialect: Dialect = PostgresDialect() if self.postgres else Dialect()
        self.raw: Any = raw
        if self.postgres:
            import psycopg

            self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        else:
            self.errors = (sqlite3.Error,)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self.raw.execute(self.dialect.statement(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            with self.raw.cursor() as cursor:
                cursor.executemany(self.dialect.statement(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """An INSERT into a table with an ``id`` key; the new row's id."""
        cursor = self.raw.execute(self.dialect.statement(self.dialect.returning_id(sql)), params)
        if self.postgres:
            return int(cursor.fetchone()[0])
        return int(cursor.lastrowid or 0)

    @property
    def in_transaction(self) -> bool:
        if self.postgres:
            from psycopg.pq import TransactionStatus

            return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)
        return bool(self.raw.in_transaction)

    def begin(self) -> None:
        self.raw.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR)
        if self.in_transaction:
            with suppress(*self.errors):
                self.raw.execute("ROLLBACK")

    def close(self) -> None:
        with suppress(*self.errors):
            self.raw.close()


def _pg_connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, row_factory=_pg_rows, connect_timeout=30)
    except psycopg.Error as exc:
        raise StoreError(
            f"{display_location(url)}: cannot connect to the state database: {_pg_message(exc)}"
        ) from None


def _pg_message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Store:
    def __init__(
        self, location: str | Path, *, connection: Any = None, migrate: bool = True
    ) -> None:
        """Open the state: a SQLite file (a path) or a PostgreSQL database (a ``postgresql://``
        URL). SQLite takes a file of 0 bytes for a new database: callers that can tell an emptied
        state from a new one (feeds written from it exist) check first —
        :func:`feedbot.run.check_state`. ``connection`` is an open PostgreSQL connection to use (from a pool: see
        :class:`StorePool`) instead of a new one; it is not closed by :meth:`close` then.
        ``migrate=False`` (a pooled store, after the process migrated at start) skips the schema
        check."""
        self.location = location
        self._owns_connection = connection is None
        self._checkpointer: _Checkpointer | None = None
        if is_postgres(location):
            self.path: Path | None = None
            self.name = display_location(location)
            raw = connection if connection is not None else _pg_connect(str(location))
            self.db = Database(location, raw)
            try:
                if migrate:
                    self._migrate()
            except StoreError:
                if self._owns_connection:
                    self.db.close()
                raise
            return
        path = Path(location)
        self.path = path
        self.name = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = sqlite3.connect(path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{path}: cannot open the state database: {_problem(path, exc)}"
            ) from None
        try:
            raw.row_factory = sqlite3.Row
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA busy_timeout = 30000")
            _set_wal(raw)
            # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a process killed
            # at any moment (the kill test) or a failing disk (the storage-fault suite) still
            # leaves the last committed state; a power cut may lose the last commits, never the
            # database's consistency. FULL made every source's run record an fsync (1.4-1.9 ms, a
            # fifth of an unchanged run).
            raw.execute("PRAGMA synchronous = NORMAL")
            self.db = Database(path, raw)
            self._migrate()
        except StoreError:
            raw.close()
            raise
        except sqlite3.DatabaseError as exc:
            raw.close()
            raise _store_error(path, "", exc) from None

    @property
    def postgres(self) -> bool:
        return self.db.postgres

    def checkpoint_in_background(self) -> None:
        """SQLite: from now on the write-ahead log is copied into the database by a thread of its
        own (:class:`_Checkpointer`) instead of by the commit that fills it: for a run that writes
        many pages, whose commits would otherwise stop for a checkpoint (and its fsyncs) every
        4 MB of log. Ends with :meth:`close`. PostgreSQL checkpoints by itself: nothing to do."""
        if self._checkpointer is None and self.path is not None:
            self._checkpointer = _Checkpointer(self.path)
            self.db.execute("PRAGMA wal_autocheckpoint = 0")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._owns_connection:
            self.db.close()
        else:
            self.db.rollback()  # hand the pooled connection back idle

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _problem(self, exc: BaseException) -> str:
        if self.path is None:
            return _pg_message(exc)
        return _problem(self.path, exc)

    def _error(self, what: str, exc: BaseException) -> StoreError:
        """The StoreError for a database error: SQLite's says when the file is damaged."""
        if self.path is None:
            return StoreError(f"{self.name}: {what}{_pg_message(exc)}")
        return _store_error(self.path, what, exc)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One transaction; a database error (a full disk, a read-only file, a lost connection)
        becomes a StoreError naming the database, after the transaction is rolled back."""
        errors = self.db.errors
        try:
            self.db.begin()
        except errors as exc:
            raise self._error("cannot write: ", exc) from None
        try:
            yield self.db
        except errors as exc:
            self.db.rollback()
            raise self._error("cannot write: ", exc) from None
        except BaseException:
            self.db.rollback()
            raise
        else:
            try:
                self.db.commit()
            except errors as exc:
                self.db.rollback()
                raise self._error("cannot commit: ", exc) from None
            if self._checkpointer is not None:
                self._checkpointer.nudge()

    def has_table(self, name: str) -> bool:
        if self.postgres:
            return _pg_has_table(self.db, name)
        return self._one(_SQLITE_HAS_TABLE, (name,)) is not None

    def with_migration_lock(self, action: Callable[[], T]) -> T:
        """Run ``action`` while holding the lock migrations take (PostgreSQL: so that workers
        starting together create procrastinate's schema once); SQLite: just run it."""
        if not self.postgres:
            return action()
        try:
            self.db.begin()
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            result = action()
            self.db.commit()
            return result
        except self.db.errors as exc:
            self.db.rollback()
            raise StoreError(f"{self.name}: {self._problem(exc)}") from None
        except BaseException:
            self.db.rollback()
            raise

    def schema_version(self) -> int:
        """The number of migrations applied (SQLite: ``user_version``; PostgreSQL: a table)."""
        if not self.postgres:
            return self._scalar("PRAGMA user_version")
        self.db.execute("CREATE TABLE IF NOT EXISTS feedbot_schema (version INTEGER NOT NULL)")
        return self._scalar("SELECT max(version) FROM feedbot_schema")

    def _set_version(self, version: int) -> None:
        if self.postgres:
            self.db.execute("DELETE FROM feedbot_schema")
            self.db.execute("INSERT INTO feedbot_schema (version) VALUES (?)", (version,))
        else:
            self.db.execute(f"PRAGMA user_version = {version}")

    def _migrate(self) -> None:
        try:
            if self.postgres:
                # several workers starting at once: one migrates, the others wait and find it done
                self.db.begin()
                self.db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            version = self.schema_version()
            if self.postgres:
                self.db.commit()
        except self.db.errors as exc:
            self.db.rollback()
            raise StoreError(
                f"{self.name}: cannot read the schema version: {self._problem(exc)}"
            ) from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.name}: the state was written by a newer feedbot (schema version {version}, "
                f"this feedbot knows up to {SCHEMA_VERSION}); upgrade feedbot or use another state"
            )
        for number in range(version, SCHEMA_VERSION):
            name, sql, *step = MIGRATIONS[number]
            try:
                self.db.begin()
                if self.postgres:
                    self.db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
                if self.schema_version() > number:
                    self.db.commit()  # another connection applied it meanwhile
                    continue
                for statement in sql.split(";"):
                    if statement.strip():
                        translated = self.db.dialect.ddl(statement)
                        if translated is not None:
                            self.db.raw.execute(translated)
                for run in step:
                    run(self.db)
                self._set_version(number + 1)
                self.db.commit()
            except self.db.errors as exc:
                self.db.rollback()
                if _is_corrupt(exc):
                    raise self._error("", exc) from None
                raise StoreError(
                    f"{self.name}: migration {number + 1} ({name}) failed: {exc}"
                ) from None
        self._check_signatures()

    def _check_signatures(self) -> None:
        """Signatures are compared across runs: when they were made another way (another rensa
        algorithm, other parameters), every stored one is made again, once."""
        row = self._one(_SELECT_SETTING, ("signature",))
        if row is not None and row["value"] == sig.ALGORITHM:
            return
        try:
            self.db.begin()
            if self.postgres:
                self.db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            row = self._one(_SELECT_SETTING, ("signature",))
            if row is None or row["value"] != sig.ALGORITHM:
                _reindex(self.db, retokenise=False)
            self.db.commit()
        except self.db.errors as exc:
            self.db.rollback()
            raise StoreError(f"{self.name}: cannot rebuild the similarity index: {exc}") from None

    # --- running statements: every statement goes through these ------------------------------
    def _one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        try:
            row: Row | None = self.db.execute(sql, params).fetchone()
        except self.db.errors as exc:
            raise self._error("cannot read: ", exc) from None
        return row

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        try:
            return self.db.execute(sql, params).fetchall()
        except self.db.errors as exc:
            raise self._error("cannot read: ", exc) from None

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> int:  # through _one
        row = self._one(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    def _statement(self, sql: str, params: Sequence[object] = ()) -> int:
        """One statement as its own transaction (no BEGIN / COMMIT round trips); the number of
        rows it changed. A database error becomes a StoreError naming the database."""
        try:
            return int(self.db.execute(sql, params).rowcount)
        except self.db.errors as exc:
            raise self._error("cannot write: ", exc) from None

    @staticmethod
    def _run(db: Database, sql: str, params: Sequence[object] = ()) -> int:
        """A statement inside a transaction; the number of rows it changed."""
        return int(db.execute(sql, params).rowcount)

    @staticmethod
    def _insert(db: Database, sql: str, params: Sequence[object]) -> int:
        """An INSERT into a table with an ``id`` key; the new row's id."""
        return db.insert(sql, params)

    # --- HTTP cache: validators belong to a source and to what it makes of a page ---------------
    def validators(self, source: str, url: str, options: str) -> Validators | None:
        """What ``source`` remembers of its last good fetch of ``url`` — None when there is none,
        or when it was fetched under other ``options`` (a fingerprint of the source's split
        settings and feed: with other settings the page must be read again)."""
        row = self._one(_SELECT_VALIDATORS, (source, url))
        if row is None or row["options"] != options:
            return None
        return _validators(row)

    def forget_validators(self, source: str, url: str) -> None:
        with self.transaction() as db:
            self._run(db, "DELETE FROM validators WHERE source = ? AND url = ?", (source, url))

    def save_validators(
        self, source: str, url: str, options: str, value: Validators, *, now: datetime
    ) -> None:
        with self.transaction() as db:
            self._save_validators(db, (source, url, options), value, format_iso(now))

    @classmethod
    def _save_validators(
        cls, db: Database, key: tuple[str, str, str], value: Validators, stamp: str
    ) -> None:
        cls._run(
            db,
            _UPSERT_VALIDATORS,
            (*key, value.etag, value.last_modified, value.content_hash, stamp),
        )

    # --- index sources ----------------------------------------------------------------------
    def index_pages(self, source: str) -> list[KnownPage]:
        """The pages of an index source processed before, newest first."""
        return [_known_page(row) for row in self._all(_SELECT_INDEX_PAGES, (source,))]

    def remember_index_page(self, source: str, index_url: str, url: str, *, now: datetime) -> None:
        with self.transaction() as db:
            self._remember_index_page(db, source, index_url, url, format_iso(now))

    @classmethod
    def _remember_index_page(
        cls, db: Database, source: str, index_url: str, url: str, stamp: str
    ) -> None:
        cls._run(db, _UPSERT_INDEX_PAGE, (source, url, index_url, stamp, stamp))

    # --- entries --------------------------------------------------------------------------
    def entries_for(self, feed: str) -> list[StoredEntry]:
        """Every entry of ``feed`` as the decider compares with them, oldest first (for tools and
        tests: a run reads only :meth:`candidates`)."""
        return [_stored_entry(row) for row in self._all(_SELECT_STORED_ENTRIES, (feed,))]

    def candidates(
        self,
        feed: str,
        items: Sequence[Identified],
        *,
        same_key: int,
        same_fingerprint: int,
    ) -> list[StoredEntry]:
        """The entries of ``feed`` the items of one page may match, by index lookups only: the
        ``same_key`` newest under each item's headline key, the ``same_fingerprint`` newest with
        each item's fingerprint, and every entry sharing a band of an item's
        signature. Each entry once, oldest first."""
        found: dict[int, Row] = {}
        for key in dict.fromkeys(item.key for item in items):
            for row in self._all(_SELECT_BY_KEY, (feed, key, same_key)):
                found[row["id"]] = row
        for value in dict.fromkeys(item.fingerprint for item in items):
            for row in self._all(_SELECT_BY_FINGERPRINT, (feed, value, same_fingerprint)):
                found[row["id"]] = row
        bands = list(dict.fromkeys(key for item in items for key in _bands(feed, item)))
        ids: list[int] = []
        in_list = self.db.dialect.in_list
        for chunk in _chunks(bands, _MAX_PARAMETERS):
            query, params = in_list(_SELECT_BANDED, "keys", chunk)
            ids += [row[0] for row in self._all(query, params) if row[0] not in found]
        for chunk in _chunks(list(dict.fromkeys(ids)), _MAX_PARAMETERS - 1):
            query, params = in_list(_SELECT_STORED_BY_ID, "ids", chunk)
            for row in self._all(query, (feed, *params)):
                found[row["id"]] = row
        return [_stored_entry(found[rowid]) for rowid in sorted(found)]

    def _new_entry_id(self, feed: str, key: str, fingerprint: str) -> str:
        base = uuid.uuid5(ID_NAMESPACE, f"{feed}\x00{key}\x00{fingerprint}")
        candidate = f"urn:uuid:{base}"
        n = 1
        while self._one("SELECT 1 FROM entries WHERE entry_id = ?", (candidate,)):
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
        validators: tuple[str, str, Validators] | None,
        index_page: tuple[str, str] | None = None,
    ) -> tuple[int, int, int]:
        """Write the outcome of one page in one transaction, each change as its ``write`` says (the
        decider applied the update policy). Returns (new, updated, unchanged) by outcome.
        ``validators`` is (URL, options fingerprint, validators) of the page for ``source``.
        ``index_page`` is (index URL, page URL as linked) for a page followed from an index source:
        it is remembered as processed in the same transaction.

        Times: ``now`` is when the page was seen (first and last seen); ``published`` and
        ``updated`` are never earlier than the newest ``updated`` already in the feed (a clock
        that fell behind cannot date a new story or an edit before what readers already have).
        New entries get the next ``seq``: feeds are ordered by it, not by a clock reading."""
        stamp = format_iso(now)
        counts = {Outcome.NEW: 0, Outcome.UPDATED: 0, Outcome.UNCHANGED: 0}
        shown = 0  # entries this source shows for the first time
        with self.transaction() as db:
            newest = self._one(_NEWEST_UPDATED, (feed,))
            floor = parse_iso(newest[0]) if newest is not None and newest[0] else now
            dated = format_iso(max(now, floor))  # published/updated: never back in time
            seq = self._scalar(_NEXT_SEQ, (feed,))
            for change, prepared in changes:
                counts[change.outcome] += 1
                if change.write is Write.INSERT:
                    if prepared.published >= now and floor > now:  # dated by the clock
                        prepared = replace(prepared, published=floor)
                    times = (stamp, dated, seq)
                    rowid = self._insert_entry(db, feed, source, page_url, change, prepared, times)
                    shown += 1
                elif change.write is Write.REVISE:
                    assert change.entry is not None
                    rowid = change.entry.rowid
                    old = self._one(_SELECT_SIGNATURE, (rowid,))
                    # the revision that was current gets its bodies: they leave the entry now
                    self._run(db, _KEEP_CURRENT_REVISION, (rowid, rowid, rowid, rowid))
                    self._run(db, _REVISE_ENTRY, (*_content(change, prepared), stamp, dated, rowid))
                    self._run(
                        db,
                        _INSERT_REVISION,
                        _revision(rowid, change, prepared, stamp, page_url, source),
                    )
                    _replace_bands(db, feed, rowid, old["signature"] if old else None, change.item)
                else:
                    assert change.entry is not None
                    rowid = change.entry.rowid
                    self._run(db, "UPDATE entries SET last_seen = ? WHERE id = ?", (stamp, rowid))
                if change.write is not Write.INSERT:
                    assert change.entry is not None
                    shown += source not in change.entry.sources
                self._run(db, _UPSERT_APPEARANCE, (rowid, page_url, source, stamp, stamp))
            if shown:
                self._run(db, _ADD_SOURCE_ITEMS, (source, shown))
            if counts[Outcome.NEW] or counts[Outcome.UPDATED]:
                self._run(db, _MARK_PENDING, (feed, stamp))
            if validators is not None:
                url, options, value = validators
                self._save_validators(db, (source, url, options), value, stamp)
            if index_page is not None:
                self._remember_index_page(db, source, index_page[0], index_page[1], stamp)
        return counts[Outcome.NEW], counts[Outcome.UPDATED], counts[Outcome.UNCHANGED]

    def _insert_entry(
        self,
        db: Database,
        feed: str,
        source: str,
        page_url: str,
        change: Change,
        prepared: Prepared,
        times: tuple[str, str, int],
    ) -> int:
        """A new entry with its first revision and its band keys; under "new-entry" an update
        names the entry it replaces (``change.entry``). ``times`` is (seen, dated: its
        ``updated``, seq)."""
        item = change.item
        replaces = change.entry.entry_id if change.entry is not None else None
        stamp, dated, seq = times
        values = (
            feed,
            self._new_entry_id(feed, item.key, item.fingerprint),
            *_content(change, prepared),
            format_iso(prepared.published),
            stamp,
            stamp,
            dated,
            1,
            source,
            replaces,
            seq,
        )
        rowid = self._insert(db, _INSERT_ENTRY, values)
        self._run(db, _INSERT_REVISION, _revision(rowid, change, prepared, stamp, page_url, source))
        _replace_bands(db, feed, rowid, None, item)
        return rowid

    def is_pending(self, feed: str) -> bool:
        """Whether ``feed``'s entries changed since its files were last written in full."""
        return self._one("SELECT 1 FROM pending_feeds WHERE feed = ?", (feed,)) is not None

    def feed_written(self, feed: str) -> None:
        """Every format of ``feed`` is written: it no longer needs to be caught up."""
        self.feeds_written([feed])

    def feeds_written(self, feeds: Sequence[str]) -> None:
        """:meth:`feed_written` for each of ``feeds``, in one transaction."""
        if not feeds:
            return
        with self.transaction() as db:
            for feed in feeds:
                self._run(db, "DELETE FROM pending_feeds WHERE feed = ?", (feed,))

    def feed_entries(self, feed: str, limit: int) -> list[EntryRow]:
        """The newest ``limit`` entries of a feed, most recently updated first."""
        rows = self._all(_SELECT_ENTRY_ROWS.format(order=_SHOWN_ORDER), (feed, limit, 0))
        return [_entry_row(row) for row in rows]

    def has_more_than(self, feed: str, count: int) -> bool:
        """Whether ``feed`` holds more than ``count`` entries (reads at most ``count + 1``)."""
        return self._one(_MORE_THAN, (feed, count)) is not None

    def archive_entries(self, feed: str, offset: int, limit: int) -> list[EntryRow]:
        """Entries in the order they were first stored: ``limit`` of them from ``offset`` (reads
        every entry before them; publishing reads archive pages with :meth:`entries_after`)."""
        rows = self._all(_SELECT_ENTRY_ROWS.format(order="e.id ASC"), (feed, limit, offset))
        return [_entry_row(row) for row in rows]

    def entries_after(self, feed: str, after: int, limit: int) -> tuple[list[EntryRow], int]:
        """The first ``limit`` entries stored after the entry ``after`` (0: from the first), in
        the order they were stored, and the id of the last of them (``after`` when none)."""
        rows = self._all(_SELECT_ENTRY_ROWS_AFTER, (feed, after, limit))
        return [_entry_row(row) for row in rows], (rows[-1]["id"] if rows else after)

    def archive_pages(self, feed: str) -> tuple[int, int]:
        """(the number of the newest archive page recorded as written, the id of its last entry);
        (0, 0) when none is."""
        row = self._one(_SELECT_LAST_ARCHIVE_PAGE, (feed,))
        return (row["page"], row["last_entry"]) if row is not None else (0, 0)

    def archive_page_written(self, feed: str, page: int, last_entry: int) -> None:
        with self.transaction() as db:
            self._run(db, _UPSERT_ARCHIVE_PAGE, (feed, page, last_entry))

    def newest_seen(self, feed: str, *, not_after: datetime) -> datetime | None:
        """The newest time an entry of ``feed`` was seen, ignoring times after ``not_after`` (they
        were written by a clock that ran ahead): what retention counts back from."""
        row = self._one(_NEWEST_SEEN, (feed, format_iso(not_after)))
        return parse_iso(row[0]) if row is not None and row[0] else None

    def prune(self, feed: str, *, before: datetime, keep: int) -> int:
        """Delete entries of ``feed`` last seen before ``before``, except the ``keep`` newest (the ones
        the feed shows). Revisions, appearances and band keys go with them. Returns the number
        deleted."""
        with self.transaction() as db:
            doomed = self._all(_SELECT_PRUNABLE, (feed, format_iso(before), feed, keep))
            for row in doomed:
                _replace_bands(db, feed, row["id"], row["signature"], None)
            for chunk in _chunks([row["id"] for row in doomed], _MAX_PARAMETERS):
                query, params = self.db.dialect.in_list(_DELETE_ENTRIES, "ids", chunk)
                self._run(db, query, params)
            if doomed:
                self._run(db, "DELETE FROM source_items")
                self._run(db, _COUNT_SOURCE_ITEMS)
            return len(doomed)

    def count_entries(self, feed: str | None = None) -> int:
        """Entries stored (in ``feed``): reads them all — for status and tools, not for a run."""
        if feed is None:
            return self._scalar("SELECT count(*) FROM entries")
        return self._scalar("SELECT count(*) FROM entries WHERE feed = ?", (feed,))

    def revisions(self, feed: str, entry_id: str) -> list[Revision]:
        return [_revision_row(row) for row in self._all(_SELECT_REVISIONS, (feed, entry_id))]

    # --- runs ------------------------------------------------------------------------------
    def record_run(
        self,
        source: str,
        *,
        now: datetime,
        ok: bool,
        result: str,
        error: str | None = None,
        error_kind: str | None = None,
        new: int = 0,
        updated: int = 0,
        page_items: int | None = None,
    ) -> None:
        """Record a run of ``source`` (see :class:`feedbot.model.RunRecord`)."""
        self.record_runs(
            [RunRecord(source, now, ok, result, error, error_kind, new, updated, page_items)]
        )

    def record_runs(self, records: Sequence[RunRecord]) -> None:
        """Record runs of sources, all in one transaction (a run records its sources in batches:
        a commit per source was a fifth of a run where nothing changed)."""
        if not records:
            return
        with self.transaction() as db:
            for record in records:
                self._record_run(db, record)

    def _record_run(self, db: Database, record: RunRecord) -> None:
        source = record.source
        stamp = format_iso(record.now)
        items = self._scalar("SELECT items FROM source_items WHERE source = ?", (source,))
        row = self._one(_SELECT_RECENT, (source,))
        previous = parse_recent(row["recent"]) if row is not None else ()
        if not record.ok:
            count: int | None = None
        elif record.page_items is None:
            count = next((n for n in reversed(previous) if n is not None), 0)
        else:
            count = record.page_items
        recent = format_recent((*previous, count)[-RECENT_RUNS:])
        self._run(
            db,
            _UPSERT_SOURCE_RUN,
            (
                source,
                stamp,
                stamp if record.ok else None,
                record.result,
                record.error,
                0 if record.ok else 1,
                record.new,
                record.updated,
                items,
                record.error_kind,
                recent,
            ),
        )

    def source_runs(self) -> dict[str, SourceRun]:
        try:
            return _source_runs(self.db)
        except self.db.errors as exc:
            raise self._error("cannot read the run records: ", exc) from None

    def source_run(self, source: str) -> SourceRun | None:
        """One source's run record (the shared backoff state of a worker's run)."""
        row = self._one(_SELECT_SOURCE_RUN, (source,))
        return _source_run(row) if row is not None else None

    # --- feed documents (PostgreSQL: served by every node) ---------------------------------
    def feed_file_stamp(self, name: str) -> tuple[str, int] | None:
        """A stored feed document's (sha256, modified), without its bytes."""
        row = self._one(_SELECT_FEED_FILE_STAMP, (name,))
        return (str(row["sha256"]), int(row["modified"])) if row is not None else None

    def feed_file(self, name: str) -> StoredFile | None:
        row = self._one(_SELECT_FEED_FILE, (name,))
        return _stored_file(row) if row is not None else None

    def save_feed_file(self, name: str, data: bytes, *, now: datetime) -> bool:
        """Keep a rendered feed document unless it holds these bytes already. A new version's
        ``modified`` is at least a second after the one it replaces, so Last-Modified moves with
        every change (HTTP dates count whole seconds). Returns True when written."""
        digest = hashlib.sha256(data).hexdigest()
        with self.transaction() as db:
            row = self._one(_SELECT_FEED_FILE_STAMP, (name,))
            if row is not None and row["sha256"] == digest:
                return False
            modified = int(now.timestamp())
            if row is not None:
                modified = max(modified, int(row["modified"]) + 1)
            self._run(db, _UPSERT_FEED_FILE, (name, data, digest, modified))
        return True

    def feed_file_names(self) -> set[str]:
        return {row["name"] for row in self._all("SELECT name FROM feed_files")}

    # --- workers (feedbot worker on each node) ---------------------------------------------
    def register_worker(self, worker: WorkerRow) -> None:
        with self.transaction() as db:
            self._run(
                db,
                _UPSERT_WORKER,
                (
                    worker.node,
                    worker.host,
                    worker.pid,
                    format_iso(worker.started),
                    format_iso(worker.heartbeat),
                    worker.concurrency,
                    ",".join(worker.running),
                    worker.runs,
                ),
            )

    def worker_heartbeat(
        self, node: str, *, now: datetime, running: Sequence[str], runs: int
    ) -> None:
        with self.transaction() as db:
            self._run(db, _WORKER_HEARTBEAT, (format_iso(now), ",".join(running), runs, node))

    def remove_worker(self, node: str) -> None:
        with self.transaction() as db:
            self._run(db, "DELETE FROM workers WHERE node = ?", (node,))

    def forget_workers(self, *, silent_since: datetime) -> int:
        """Remove the workers whose last heartbeat is older than ``silent_since``."""
        with self.transaction() as db:
            return self._run(
                db, "DELETE FROM workers WHERE heartbeat < ?", (format_iso(silent_since),)
            )

    def refresh_statistics(self) -> list[str]:
        """PostgreSQL: ANALYZE the tables that changed by a tenth (and a thousand rows) since
        their statistics were taken, now rather than at autovacuum's next round (a minute or
        more). A table that grew from nothing without statistics is planned as if every row
        matched: the band lookups of the similarity index (``band_key = ANY(…)``) ran as full
        scans, 30 ms instead of under one. Returns the tables analysed (SQLite: none)."""
        if not self.postgres:
            return []
        stale = [str(row[0]) for row in self._all(_PG_STALE_STATISTICS)]
        for table in stale:
            self._statement(f"ANALYZE {table}")
        return stale

    def workers(self) -> list[WorkerRow]:
        return [_worker_row(row) for row in self._all(_SELECT_WORKERS)]


class _Checkpointer:
    """A thread with its own connection that copies the write-ahead log into the database
    (``PRAGMA wal_checkpoint(PASSIVE)``: it never holds up the writer) once the writer has
    committed, at most every :data:`CHECKPOINT_PAUSE` seconds. A checkpoint that fails (a full
    disk) is left for the next one, or for the last connection's close, which checkpoints what
    is left as SQLite always does; the log keeps every commit meanwhile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedbot-checkpoint", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while True:
                self._wake.wait()
                if self._halt.is_set():
                    return
                self._wake.clear()
                with suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if self._halt.wait(CHECKPOINT_PAUSE):  # the pause ends with stop()
                    return
        finally:
            db.close()


# Seconds between two background checkpoints: a checkpoint costs two fsyncs (the log, then the
# database), so the log is copied in a few large steps rather than after every page.
CHECKPOINT_PAUSE = 0.25
STATE_ERROR_FILE = "state-error.json"


@dataclass(frozen=True)
class StateError:
    """Why the state could not be used at the last try (a damaged or emptied database), kept
    beside it — the database itself cannot hold it — for ``feedbot status`` and ``/healthz``."""

    kind: str  # an ErrorKind's value
    message: str  # names the database file: for the operator (status), never for /healthz
    at: datetime


def record_state_error(state_dir: Path, error: StoreError, *, now: datetime) -> None:
    """Remember ``error`` (a damaged state) until a run opens the state again; an error writing it
    (a full disk) is left to the caller's own report."""
    data = {"kind": str(error.kind), "message": str(error), "at": format_iso(now)}
    with suppress(OSError):
        write_atomic(state_dir / STATE_ERROR_FILE, json.dumps(data).encode("utf-8"), mode=0o600)


def clear_state_error(state_dir: Path) -> None:
    with suppress(FileNotFoundError):
        (state_dir / STATE_ERROR_FILE).unlink()


def read_state_error(state_dir: Path) -> StateError | None:
    try:
        data = json.loads((state_dir / STATE_ERROR_FILE).read_text("utf-8"))
        return StateError(str(data["kind"]), str(data["message"]), parse_iso(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_source_runs(location: Path | str) -> dict[str, SourceRun]:
    """The run records, read without writing anything (no migration, no journal change): for
    ``/healthz`` while runs go on. An absent database means no source has run yet."""
    if is_postgres(location):
        shared = Database(location, _pg_connect(str(location)))
        try:
            if not _pg_has_table(shared, "source_runs"):
                return {}
            return _source_runs(shared)
        except shared.errors as exc:
            raise StoreError(
                f"{shared.display}: cannot read the run records: {_pg_message(exc)}"
            ) from None
        finally:
            shared.close()
    path = Path(location)
    if not path.exists():
        return {}
    try:
        raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise _store_error(path, "cannot open the state database: ", exc) from None
    try:
        raw.row_factory = sqlite3.Row
        return _source_runs(Database(path, raw))
    except sqlite3.Error as exc:
        raise _store_error(path, "cannot read the run records: ", exc) from None
    finally:
        raw.close()


def _source_runs(db: Database) -> dict[str, SourceRun]:
    rows = db.execute(_SELECT_SOURCE_RUNS).fetchall()
    return {row["source"]: _source_run(row) for row in rows}


def _pg_has_table(db: Database, table: str) -> bool:
    row = db.execute("SELECT to_regclass(?) IS NOT NULL", (table,)).fetchone()
    return bool(row[0])


# --- tables: each one's columns, and its rows as values, once ------------------------------------
# SQL here is standard where SQLite allows it (upserts with ON CONFLICT, which PostgreSQL also
# speaks). What is SQLite's own is named: the migrations' DDL, the PRAGMAs, ``rowid``, ``?``
# parameters, ``lastrowid`` (in Database.insert) and the list aggregates below; PostgresDialect
# adapts each of them for PostgreSQL.


def _columns(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + name for name in names)


def _placeholders(names: Sequence[object]) -> str:
    return ", ".join("?" for _ in names)


def _upsert(table: str, columns: Sequence[str], key: Sequence[str], update: str) -> str:
    return (
        f"INSERT INTO {table} ({_columns(columns)}) VALUES ({_placeholders(columns)}) "
        f"ON CONFLICT ({_columns(key)}) DO {update}"
    )


def _set_excluded(columns: Sequence[str]) -> str:
    return "UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in columns)


# SQLite's aggregates of a column into one string (PostgreSQL: string_agg(DISTINCT x, ','),
# string_agg(x, chr(10)))
def _distinct_list(column: str) -> str:
    return f"group_concat(DISTINCT {column})"


def _lines(column: str) -> str:
    return f"group_concat({column}, char(10))"


# validators
VALIDATORS = (
    "source",
    "url",
    "options",
    "etag",
    "last_modified",
    "content_hash",
    "fetched_at",
)
_SELECT_VALIDATORS = (
    "SELECT options, etag, last_modified, content_hash FROM validators WHERE source = ? AND url = ?"
)
_UPSERT_VALIDATORS = _upsert(
    "validators", VALIDATORS, ("source", "url"), _set_excluded(VALIDATORS[2:])
)


def _validators(row: Row) -> Validators:
    return Validators(row["etag"], row["last_modified"], row["content_hash"])


# index_pages
INDEX_PAGES = ("source", "url", "index_url", "first_seen", "last_checked")
_SELECT_INDEX_PAGES = (
    "SELECT url, first_seen FROM index_pages WHERE source = ? ORDER BY first_seen DESC, rowid DESC"
)
_UPSERT_INDEX_PAGE = _upsert(
    "index_pages", INDEX_PAGES, ("source", "url"), _set_excluded(("last_checked",))
)


def _known_page(row: Row) -> KnownPage:
    return KnownPage(row["url"], parse_iso(row["first_seen"]))


# entries: what an item's content sets (on insert and on each revision), then the rest
ENTRY_CONTENT = (
    "key",
    "fingerprint",
    "headline",
    "norm_headline",
    "norm_body",
    "body_html",
    "body_text",
    "link",
    "attribution",
    "position",
    "signature",
    "target",
)
ENTRIES = (
    "feed",
    "entry_id",
    *ENTRY_CONTENT,
    "published",
    "first_seen",
    "last_seen",
    "updated",
    "revisions",
    "source",
    "replaces",
    "seq",
)
_INSERT_ENTRY = f"INSERT INTO entries ({_columns(ENTRIES)}) VALUES ({_placeholders(ENTRIES)})"
_REVISE_ENTRY = (
    "UPDATE entries SET "
    + ", ".join(f"{name} = ?" for name in ENTRY_CONTENT)
    + ", last_seen = ?, updated = ?, revisions = revisions + 1 WHERE id = ?"
)
# the entries a feed shows, in order: the newest page first (the order first stored, never a clock
# reading), each page's items in the page's order
_SHOWN_ORDER = "e.seq DESC, e.position ASC, e.id ASC"
_NEXT_SEQ = "SELECT coalesce(max(seq), 0) + 1 FROM entries WHERE feed = ?"
_NEWEST_UPDATED = "SELECT max(updated) FROM entries WHERE feed = ?"
_NEWEST_SEEN = "SELECT max(last_seen) FROM entries WHERE feed = ? AND last_seen <= ?"
_SELECT_PRUNABLE = (
    "SELECT id, signature FROM entries WHERE feed = ? AND last_seen < ? AND id NOT IN ("
    "SELECT id FROM entries e WHERE e.feed = ? ORDER BY " + _SHOWN_ORDER + " LIMIT ?)"
)
_DELETE_ENTRIES = "DELETE FROM entries WHERE id IN ({ids})"
_SOURCES = (
    f"(SELECT {_distinct_list('a.source')} FROM appearances a WHERE a.entry = e.id) AS sources"
)
STORED_ENTRY = (
    "id",
    "entry_id",
    "key",
    "fingerprint",
    "headline",
    "norm_headline",
    "norm_body",
    "source",
    "signature",
    "target",
)
_SELECT_STORED = f"SELECT {_columns(STORED_ENTRY, 'e.')}, {_SOURCES} FROM entries e"
_SELECT_STORED_ENTRIES = f"{_SELECT_STORED} WHERE e.feed = ? ORDER BY e.id"
# the candidates of a page (Store.candidates): each an index lookup, the newest first
_SELECT_BY_KEY = f"{_SELECT_STORED} WHERE e.feed = ? AND e.key = ? ORDER BY e.id DESC LIMIT ?"
_SELECT_BY_FINGERPRINT = (
    f"{_SELECT_STORED} WHERE e.feed = ? AND e.fingerprint = ? ORDER BY e.id DESC LIMIT ?"
)
_SELECT_BANDED = "SELECT DISTINCT entry FROM entry_bands WHERE band_key IN ({keys})"
_SELECT_STORED_BY_ID = f"{_SELECT_STORED} WHERE e.feed = ? AND e.id IN ({{ids}})"
_SELECT_SIGNATURE = "SELECT signature FROM entries WHERE id = ?"
_MORE_THAN = "SELECT 1 FROM entries WHERE feed = ? LIMIT 1 OFFSET ?"
# SQLite's default limit of parameters in one statement is 32,766; lists go in chunks well below
_MAX_PARAMETERS = 900
ENTRY_ROW = (
    "entry_id",
    "headline",
    "body_html",
    "body_text",
    "link",
    "attribution",
    "published",
    "updated",
    "first_seen",
    "last_seen",
    "revisions",
    "position",
    "replaces",
    "seq",
)
_PREVIOUS = "(SELECT r.{0} FROM revisions r WHERE r.entry = e.id AND r.number = e.revisions - 1)"
_SELECT_ENTRY_ROWS = (
    f"SELECT {_columns(ENTRY_ROW, 'e.')}, "
    f"{_PREVIOUS.format('body_text')} AS previous_text, "
    f"{_PREVIOUS.format('headline')} AS previous_headline, {_SOURCES}, "
    f"(SELECT {_lines('a.page_url')} FROM appearances a WHERE a.entry = e.id) AS pages "
    "FROM entries e WHERE e.feed = ? ORDER BY {order} LIMIT ? OFFSET ?"
)
_SELECT_ENTRY_ROWS_AFTER = _SELECT_ENTRY_ROWS.replace("SELECT ", "SELECT e.id, ", 1).replace(
    "ORDER BY {order} LIMIT ? OFFSET ?", "AND e.id > ? ORDER BY e.id LIMIT ?"
)


def _content(change: Change, prepared: Prepared) -> tuple[object, ...]:
    """The values of ENTRY_CONTENT for an item."""
    item = change.item
    return (
        item.key,
        item.fingerprint,
        item.item.headline,
        item.norm_headline,
        item.norm_body,
        prepared.body_html,
        item.item.body_text,
        prepared.link,
        item.item.attribution,
        item.item.position,
        item.signature or None,
        item.target,
    )


def _stored_entry(row: Row) -> StoredEntry:
    return StoredEntry(
        rowid=row["id"],
        entry_id=row["entry_id"],
        key=row["key"],
        fingerprint=row["fingerprint"],
        headline=row["headline"],
        norm_headline=row["norm_headline"],
        norm_body=row["norm_body"],
        sources=_sources(row["sources"]),
        owner=row["source"],
        signature=row["signature"] or b"",
        target=row["target"],
    )


def _entry_row(row: Row) -> EntryRow:
    return EntryRow(
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
        pages=tuple(dict.fromkeys(row["pages"].split("\n"))) if row["pages"] else (),
        seq=row["seq"],
    )


def _sources(value: str | None) -> tuple[str, ...]:
    """The distinct source names of a ``_distinct_list`` column, sorted."""
    return tuple(sorted(set((value or "").split(",")) - {""}))


# revisions
REVISIONS = (
    "entry",
    "number",
    "headline",
    "body_html",
    "body_text",
    "fingerprint",
    "seen_at",
    "page_url",
    "source",
)
# the next number of the entry's revisions, computed in the statement (the entry is its first value)
_INSERT_REVISION = (
    f"INSERT INTO revisions ({_columns(REVISIONS)}) VALUES (?, "
    "(SELECT coalesce(max(number), 0) + 1 FROM revisions WHERE entry = ?), "
    f"{_placeholders(REVISIONS[2:])})"
)
REVISION = ("number", "headline", "body_text", "seen_at", "page_url", "source")
# The current revision's bodies are the entry's: its row holds empty strings (each body is stored
# once). When an entry is revised, the revision that was current gets them back first.
_CURRENT_BODY = (
    "CASE WHEN r.number = e.revisions THEN e.body_text ELSE r.body_text END AS body_text"
)
_SELECT_REVISIONS = (
    "SELECT "
    + ", ".join(_CURRENT_BODY if name == "body_text" else f"r.{name}" for name in REVISION)
    + " FROM revisions r JOIN entries e ON e.id = r.entry "
    "WHERE e.feed = ? AND e.entry_id = ? ORDER BY r.number"
)
_KEEP_CURRENT_REVISION = (
    "UPDATE revisions SET body_html = (SELECT body_html FROM entries WHERE id = ?), "
    "body_text = (SELECT body_text FROM entries WHERE id = ?) "
    "WHERE entry = ? AND number = (SELECT revisions FROM entries WHERE id = ?)"
)


def _revision(
    rowid: int, change: Change, prepared: Prepared, stamp: str, page_url: str, source: str
) -> tuple[object, ...]:
    """The parameters of _INSERT_REVISION for an item seen at ``stamp``."""
    item = change.item
    return (
        rowid,
        rowid,
        item.item.headline,
        "",  # the current revision's bodies are the entry's (see _SELECT_REVISIONS)
        "",
        item.fingerprint,
        stamp,
        page_url,
        source,
    )


def _revision_row(row: Row) -> Revision:
    return Revision(
        row["number"],
        row["headline"],
        row["body_text"],
        parse_iso(row["seen_at"]),
        row["page_url"],
        row["source"],
    )


# appearances
APPEARANCES = ("entry", "page_url", "source", "first_seen", "last_seen")
_UPSERT_APPEARANCE = _upsert(
    "appearances", APPEARANCES, ("entry", "page_url", "source"), _set_excluded(("last_seen",))
)

# pending_feeds
_MARK_PENDING = _upsert("pending_feeds", ("feed", "since"), ("feed",), "NOTHING")

# source_runs
SOURCE_RUNS = (
    "source",
    "last_run",
    "last_success",
    "result",
    "error",
    "failures",
    "new",
    "updated",
    "items",
    "error_kind",
    "recent",
)
_UPSERT_SOURCE_RUN = _upsert(
    "source_runs",
    SOURCE_RUNS,
    ("source",),
    "UPDATE SET last_run = excluded.last_run, "
    "last_success = coalesce(excluded.last_success, source_runs.last_success), "
    "result = excluded.result, error = excluded.error, "
    "failures = CASE WHEN excluded.failures = 0 THEN 0 ELSE source_runs.failures + 1 END, "
    "new = excluded.new, updated = excluded.updated, items = excluded.items, "
    "error_kind = excluded.error_kind, recent = excluded.recent",
)
_SELECT_RECENT = "SELECT recent FROM source_runs WHERE source = ?"
_SELECT_SOURCE_RUNS = f"SELECT {_columns(SOURCE_RUNS)} FROM source_runs"
_SELECT_SOURCE_RUN = f"{_SELECT_SOURCE_RUNS} WHERE source = ?"


def _source_run(row: Row) -> SourceRun:
    return SourceRun(
        source=row["source"],
        last_run=parse_iso(row["last_run"]),
        last_success=parse_iso(row["last_success"]) if row["last_success"] else None,
        result=row["result"],
        error=row["error"],
        failures=row["failures"],
        new=row["new"],
        updated=row["updated"],
        items=row["items"],
        error_kind=row["error_kind"],
        recent=parse_recent(row["recent"]),
    )


# entry_bands: the LSH band keys of each entry's signature (feedbot.signature), scoped to its feed
_INSERT_BAND = "INSERT INTO entry_bands (band_key, entry) VALUES (?, ?) ON CONFLICT DO NOTHING"
_DELETE_BAND = "DELETE FROM entry_bands WHERE band_key = ? AND entry = ?"


def _bands(feed: str, item: Identified) -> Sequence[int]:
    """An item's band keys in ``feed`` (computed by the worker that identified it, when it could)."""
    return item.bands or sig.band_keys(feed, item.signature)


def _replace_bands(
    db: Database, feed: str, rowid: int, old: bytes | None, new: Identified | None
) -> None:
    """The band keys of entry ``rowid`` go from those of signature ``old`` to those of item
    ``new``'s (None: to none). The keys are computed from the signatures, so no index by entry is
    needed to find them."""
    before = set(sig.band_keys(feed, old or b""))
    after = set(_bands(feed, new)) if new is not None else set()
    if before - after:
        db.executemany(_DELETE_BAND, [(key, rowid) for key in before - after])
    if after - before:
        db.executemany(_INSERT_BAND, [(key, rowid) for key in after - before])


# source_items: how many entries each source has shown (record_run reads it)
_ADD_SOURCE_ITEMS = _upsert(
    "source_items",
    ("source", "items"),
    ("source",),
    "UPDATE SET items = source_items.items + excluded.items",
)
_COUNT_SOURCE_ITEMS = (
    "INSERT INTO source_items (source, items) "
    "SELECT source, count(DISTINCT entry) FROM appearances GROUP BY source"
)

# archive_pages: where each written RFC 5005 archive page ends
_SELECT_LAST_ARCHIVE_PAGE = (
    "SELECT page, last_entry FROM archive_pages WHERE feed = ? ORDER BY page DESC LIMIT 1"
)
_UPSERT_ARCHIVE_PAGE = _upsert(
    "archive_pages",
    ("feed", "page", "last_entry"),
    ("feed", "page"),
    "UPDATE SET last_entry = excluded.last_entry",
)

# store_settings
_SELECT_SETTING = "SELECT value FROM store_settings WHERE name = ?"
_UPSERT_SETTING = _upsert("store_settings", ("name", "value"), ("name",), _set_excluded(("value",)))
_SELECT_TO_INDEX = (
    "SELECT id, feed, headline, norm_body FROM entries WHERE id > ? ORDER BY id LIMIT ?"
)
_RETOKENISED = (
    "UPDATE entries SET norm_body = ?, fingerprint = ?, key = ?, norm_headline = ?, signature = ? "
    "WHERE id = ?"
)
_SIGNED = "UPDATE entries SET signature = ? WHERE id = ?"


def _reindex(db: Database, *, retokenise: bool) -> None:
    """Every entry's signature and band keys made from its stored body, in batches (inside the
    caller's transaction). ``retokenise``: first split the stored body at script boundaries and
    recompute its fingerprint, and the headline's key and folded form (the similarity-index
    migration; re-tokenising a stored body equals tokenising its text afresh, see
    tests/test_identify.py)."""
    from .identify import fingerprint, headline_key, squash, tokens

    db.execute("DELETE FROM entry_bands")
    last = 0
    while True:
        rows = db.execute(_SELECT_TO_INDEX, (last, MIGRATION_BATCH)).fetchall()
        if not rows:
            break
        bands: list[tuple[int, int]] = []
        updates: list[tuple[object, ...]] = []
        for row in rows:
            norm_body = row["norm_body"]
            if retokenise:
                norm_body = " ".join(tokens(norm_body))
            signature = sig.signature(norm_body)
            bands += [(key, row["id"]) for key in sig.band_keys(row["feed"], signature)]
            if retokenise:
                updates.append(
                    (
                        norm_body,
                        fingerprint(norm_body),
                        headline_key(row["headline"]),
                        squash(row["headline"]),
                        signature or None,
                        row["id"],
                    )
                )
            else:
                updates.append((signature or None, row["id"]))
        db.executemany(_RETOKENISED if retokenise else _SIGNED, updates)
        db.executemany(_INSERT_BAND, bands)
        last = rows[-1]["id"]
    db.execute(_UPSERT_SETTING, ("signature", sig.ALGORITHM))


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


RECENT_RUNS = 20  # runs per source whose item counts are kept (the status page's chart)


def parse_recent(text: str) -> tuple[int | None, ...]:
    """``"5 5 x 6"`` -> ``(5, 5, None, 6)``: the items of a source's recent runs, oldest first
    (``x``: a failed run)."""
    return tuple(None if token == "x" else int(token) for token in text.split() if token)


def format_recent(counts: Sequence[int | None]) -> str:
    return " ".join("x" if n is None else str(n) for n in counts)


# feed_files (PostgreSQL: the feed documents every node serves)
FEED_FILES = ("name", "body", "sha256", "modified")
_SELECT_FEED_FILE_STAMP = "SELECT sha256, modified FROM feed_files WHERE name = ?"
_SELECT_FEED_FILE = f"SELECT {_columns(FEED_FILES)} FROM feed_files WHERE name = ?"
_UPSERT_FEED_FILE = _upsert("feed_files", FEED_FILES, ("name",), _set_excluded(FEED_FILES[1:]))


def _stored_file(row: Row) -> StoredFile:
    return StoredFile(row["name"], bytes(row["body"]), str(row["sha256"]), int(row["modified"]))


# workers (PostgreSQL: each `feedbot worker` process, for /healthz)
WORKERS = ("node", "host", "pid", "started", "heartbeat", "concurrency", "running", "runs")
_UPSERT_WORKER = _upsert(
    "workers",
    WORKERS,
    ("node",),
    _set_excluded(("started", "heartbeat", "concurrency", "running", "runs")),
)
_WORKER_HEARTBEAT = "UPDATE workers SET heartbeat = ?, running = ?, runs = ? WHERE node = ?"
_SELECT_WORKERS = f"SELECT {_columns(WORKERS)} FROM workers ORDER BY node"


def _worker_row(row: Row) -> WorkerRow:
    return WorkerRow(
        node=row["node"],
        host=row["host"],
        pid=int(row["pid"]),
        started=parse_iso(row["started"]),
        heartbeat=parse_iso(row["heartbeat"]),
        concurrency=int(row["concurrency"]),
        running=tuple(n for n in row["running"].split(",") if n),
        runs=int(row["runs"]),
    )


# host_gates (PostgreSQL: SharedHostGate)
HOST_GATES = ("host", "next_start")

# PostgreSQL: the state's tables whose statistics lag their changes (see Store.refresh_statistics)
_PG_STALE_STATISTICS = (
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
    "AND relname NOT LIKE 'procrastinate%' "
    "AND n_mod_since_analyze > greatest(1000, n_live_tup / 10)"
)

_SQLITE_HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"


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


def _is_corrupt(exc: BaseException) -> bool:
    """Whether SQLite says the file is damaged (or is no database at all)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    )


def _store_error(path: Path, what: str, exc: BaseException) -> StoreError:
    """The StoreError for SQLite's ``exc``: a damaged database says so in one line, naming the
    file and what to do."""
    if _is_corrupt(exc):
        return StoreError(
            f"{path}: the state database is corrupt ({exc}); restore it from a backup, or move it "
            "away to start afresh (every story then gets a new id, and readers see them again)",
            kind=ErrorKind.STATE_CORRUPT,
        )
    return StoreError(f"{path}: {what}{_problem(path, exc)}")


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


# --- politeness across nodes ----------------------------------------------------------------------
class SharedHostGate:
    """``host_concurrency`` and ``host_interval`` for the whole cluster, kept in PostgreSQL.

    Concurrency: a request holds one of ``concurrency`` advisory locks of its host (the two-key
    form: a hash of ``scheme://host:port``, and the slot number) on a connection of ``pool`` for as
    long as it runs; PostgreSQL releases them when a node dies (its connections close), so a
    killed worker never holds a host. Interval: ``host_gates`` keeps each host's next allowed start
    on the database's clock (one clock for every node), reserved atomically by an upsert; the
    request waits until then. Waiting for a free slot polls every ``poll`` seconds."""

    def __init__(
        self,
        pool: Any,
        *,
        concurrency: int,
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 0.02,
    ) -> None:
        self.pool = pool
        self.concurrency = concurrency
        self.interval = interval
        self._sleep = sleep
        self.poll = poll

    @contextmanager
    def slot(self, url: str, *, timeout: float | None = None) -> Iterator[None]:
        """As :meth:`feedbot.polite.HostGate.slot`, for the cluster: with a ``timeout``, raises
        :class:`feedbot.polite.SlotTimeout` instead of waiting longer for a free slot."""
        from .polite import host_key

        key = host_key(url)
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
        with self.pool.connection() as conn:
            slot = self._acquire(conn, lock, key, timeout)
            try:
                if self.interval > 0:
                    row = conn.execute(
                        """INSERT INTO host_gates (host, next_start)
                           VALUES (%s, extract(epoch FROM clock_timestamp()) + %s)
                           ON CONFLICT (host) DO UPDATE SET next_start = greatest(
                               host_gates.next_start, extract(epoch FROM clock_timestamp())) + %s
                           RETURNING next_start - %s - extract(epoch FROM clock_timestamp()) AS wait""",
                        (key, self.interval, self.interval, self.interval),
                    ).fetchone()
                    wait = float(row["wait"])
                    if wait > 0:
                        self._sleep(wait)
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (lock, slot))

    def _acquire(self, conn: Any, lock: int, key: str, timeout: float | None) -> int:
        from .polite import SlotTimeout

        delay = self.poll
        waited = 0.0
        while True:
            for slot in range(self.concurrency):
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, %s) AS got", (lock, slot)
                ).fetchone()
                if row["got"]:
                    return slot
            if timeout is not None and waited + delay > timeout:
                raise SlotTimeout(key, timeout)
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.25)


def connection_pool(url: str, *, size: int, name: str = "feedbot") -> Any:
    """A pool of PostgreSQL connections as the store uses them (autocommit, rows by name), for the
    threads of one worker process. A connection the server dropped fails the run that had it
    (reported like any store error) and the pool replaces it."""
    from psycopg_pool import ConnectionPool

    return ConnectionPool(
        url,
        min_size=min(2, size),
        max_size=size,
        kwargs={"autocommit": True, "row_factory": _pg_rows},
        name=name,
        open=True,
    )


def engine_pool(url: str, *, name: str, size: int = 8) -> Any:
    """The asynchronous pool procrastinate runs its queries on (a worker's event loop): like the
    one procrastinate makes, but a connection lent is checked without a round trip — one the
    server closed is known broken after its first failed query and then replaced — and each
    statement commits by itself."""
    from psycopg_pool import AsyncConnectionPool

    async def check(conn: Any) -> None:
        if conn.closed or conn.broken:
            raise StoreError(f"{display_location(url)}: connection lost")

    return AsyncConnectionPool(
        url,
        min_size=2,
        max_size=size,
        # procrastinate's statements are single calls of its functions: autocommit spares a
        # COMMIT round trip after each (the loop runs them one after the other)
        kwargs={"application_name": name, "autocommit": True},
        check=check,
        name=name,
        open=False,
    )


class StorePool:
    """Stores on pooled connections to a PostgreSQL state, for the threads of one process (a
    worker's jobs, the server's requests): :meth:`store` lends one for a ``with`` block. The
    process migrates the schema once before (``Store(url)``); pooled stores skip the check."""

    def __init__(self, url: str, *, size: int, name: str = "feedbot") -> None:
        self.url = url
        self.pool = connection_pool(url, size=size, name=name)

    @contextmanager
    def store(self) -> Iterator[Store]:
        with (
            self.pool.connection() as conn,
            Store(self.url, connection=conn, migrate=False) as store,
        ):
            yield store

    def close(self) -> None:
        self.pool.close()


# --- moving a state ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int


def copy_state(
    source: Store, target: Store, *, documents: Sequence[tuple[str, bytes, int]] = ()
) -> list[CopiedTable]:
    """Copy every row of a SQLite state into an empty PostgreSQL state, in one transaction: every
    table the migrations made, column for column, with SQLite's row ids (entry ids, and the
    ``rowid`` that orders a table without an integer key) kept, so ids, ``published`` and
    ``updated`` (stored as the same text) are unchanged; identity counters then continue after
    the copied ids. ``documents`` are the feed files already written, as (name, bytes, mtime in
    whole seconds): they become the served documents with the same ETag and Last-Modified.
    Refuses a target that holds anything, and checks each table's count after copying."""
    if source.postgres or not target.postgres:
        raise StoreError("copy_state copies a SQLite state into a PostgreSQL state")
    if source.schema_version() != target.schema_version():
        raise StoreError(
            f"{source.name} is at schema version {source.schema_version()} and {target.name} at "
            f"{target.schema_version()}"
        )
    tables = _sqlite_tables(source)
    for table in tables:
        if table in _OPENING_WRITES:
            continue
        row = target.db.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
        if row["n"]:
            raise StoreError(
                f"{target.name} already holds a state ({row['n']} rows in {table}); "
                "migrate-state copies into an empty database only"
            )
    copied = []
    with target.transaction() as db:
        for table in _OPENING_WRITES:
            db.execute(f"DELETE FROM {table}")  # what opening the target wrote, copied again
        for table in tables:
            columns = [
                r["name"] for r in source.db.execute(f"PRAGMA table_info({table})").fetchall()
            ]
            keyed = _integer_key(source, table)
            rowless = _without_rowid(source, table)  # no rowid in SQLite: none to keep
            names = columns if keyed or rowless else ["rowid", *columns]
            select = ", ".join(names)
            count = 0
            order = ", ".join(_primary_key(source, table)) if rowless else "rowid"
            cursor = source.db.execute(f"SELECT {select} FROM {table} ORDER BY {order}")
            with db.raw.cursor().copy(f"COPY {table} ({select}) FROM STDIN") as copy:
                while True:
                    rows = cursor.fetchmany(1000)  # type: ignore[attr-defined]
                    if not rows:
                        break
                    for row in rows:
                        copy.write_row(tuple(row))
                    count += len(rows)
            copied.append(CopiedTable(table, count))
            for column in [keyed] if keyed else [] if rowless else ["rowid"]:
                db.raw.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"coalesce(max({column}), 0) + 1, false) FROM {table}"
                )
        for done in copied:
            row = db.execute(f"SELECT count(*) AS n FROM {done.table}").fetchone()
            if row["n"] != done.rows:
                raise StoreError(
                    f"{target.name}: {done.table} holds {row['n']} rows after copying {done.rows}"
                )
        for name, body, modified in documents:
            db.execute(
                "INSERT INTO feed_files (name, body, sha256, modified) VALUES (?, ?, ?, ?)",
                (name, body, hashlib.sha256(body).hexdigest(), modified),
            )
    return copied


# tables a state writes as soon as it is opened (store_settings: the signature algorithm)
_OPENING_WRITES = ("store_settings",)


def _sqlite_tables(store: Store) -> list[str]:
    """The state's tables in the order the migrations created them (parents before children)."""
    rows = store.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid"
    ).fetchall()
    return [row["name"] for row in rows]


def _without_rowid(store: Store, table: str) -> bool:
    row = store.db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None and "WITHOUT ROWID" in str(row["sql"]).upper()


def _primary_key(store: Store, table: str) -> list[str]:
    keys = [r for r in store.db.execute(f"PRAGMA table_info({table})").fetchall() if r["pk"]]
    return [str(r["name"]) for r in sorted(keys, key=lambda r: int(r["pk"]))]


def _integer_key(store: Store, table: str) -> str | None:
    """The column that is SQLite's rowid under its own name (``id INTEGER PRIMARY KEY``)."""
    keys = [r for r in store.db.execute(f"PRAGMA table_info({table})").fetchall() if r["pk"]]
    if len(keys) == 1 and keys[0]["type"].upper() == "INTEGER":
        return str(keys[0]["name"])
    return None
