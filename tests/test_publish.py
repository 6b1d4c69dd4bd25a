"""Publishing takes the config, the store and a sink for the documents — not the runner — so the
documents can live somewhere else than files without the publishing logic (or the server) knowing."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedbot.config import Config, load_config
from feedbot.publish import Publisher
from feedbot.run import run_once
from feedbot.serve import make_app
from feedbot.store import Store
from feedbot.write import FeedDocument, FeedSink, FileSink

from .helpers import FIXTURES, Clock, write_config


class MemorySink:
    """Feed documents in a dict: what a database-backed sink would do, minus the database."""

    def __init__(self) -> None:
        self.documents: dict[str, FeedDocument] = {}
        self.writes: list[str] = []
        self._versions = itertools.count(1)

    def write_if_changed(self, name: str, data: bytes) -> bool:
        old = self.documents.get(name)
        if old is not None and old.body == data:
            return False
        modified = float(int(old.modified) + 1) if old else 1_646_557_200.0
        self.documents[name] = FeedDocument(data, modified, next(self._versions))
        self.writes.append(name)
        return True

    def exists(self, name: str) -> bool:
        return name in self.documents

    def sync(self) -> None:
        """A dict is as durable as it gets."""

    def close(self) -> None:
        """Nothing runs in the background."""

    def version(self, name: str) -> Hashable | None:
        document = self.documents.get(name)
        return document.version if document else None

    def read(self, name: str) -> FeedDocument | None:
        return self.documents.get(name)


def _config(tmp_path: Path, **feed: Any) -> Config:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "digest.html")
    path = write_config(
        tmp_path,
        [{"name": "ukraine", "url": "digest.html", "feed": "ukraine"}],
        feeds={"ukraine": {"formats": ["atom", "rss", "json"], **feed}},
    )
    return load_config(path)


def _get(app: Any, path: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    replies: list[tuple[str, dict[str, str]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> Any:
        replies.append((status, dict(response_headers)))
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_PROTOCOL": "HTTP/1.1"}
    environ |= {f"HTTP_{k.upper()}": v for k, v in headers.items()}
    body: Iterable[bytes] = app(environ, start_response)
    return replies[0][0], replies[0][1], b"".join(body)


def test_another_sink_gets_the_same_documents_as_the_files(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert all(r.ok for r in run_once(config, now=Clock()))  # files, through the default FileSink
    files = {p.name: p.read_bytes() for p in config.feeds_dir.iterdir()}
    assert sorted(files) == ["ukraine.atom", "ukraine.json", "ukraine.rss"]
    sink = MemorySink()
    sink_: FeedSink = sink  # it is a FeedSink (checked by mypy)
    with Store(config.db_path) as store:
        publisher = Publisher(config, store, sink_)
        # the documents are missing from this sink: the feed is published there
        assert publisher.needs_publishing("ukraine")
        written = publisher.publish_if_needed("ukraine")
        assert written == ["ukraine.atom", "ukraine.rss", "ukraine.json"]
        assert {n: d.body for n, d in sink.documents.items()} == files
        # nothing changed and nothing is missing: nothing to do, nothing rewritten
        assert not publisher.needs_publishing("ukraine")
        assert publisher.publish_if_needed("ukraine") is None
        assert publisher.publish("ukraine") == []
    assert sink.writes == ["ukraine.atom", "ukraine.rss", "ukraine.json"]


def test_the_server_serves_from_the_sink_it_is_given(tmp_path: Path) -> None:
    config = _config(tmp_path)
    sink = MemorySink()
    app = make_app(config, sink=sink, now=lambda: datetime(2022, 3, 6, 9, 0, tzinfo=UTC))
    assert _get(app, "/ukraine.atom")[0].startswith("404")
    assert all(r.ok for r in run_once(config, now=Clock()))
    with Store(config.db_path) as store:
        Publisher(config, store, sink).publish("ukraine")
    shutil.rmtree(config.feeds_dir)  # the files are not what is served
    status, headers, body = _get(app, "/ukraine.atom")
    assert status == "200 OK" and body == sink.documents["ukraine.atom"].body
    assert headers["Last-Modified"] == "Sun, 06 Mar 2022 09:00:00 GMT"
    assert _get(app, "/ukraine.atom", if_none_match=headers["ETag"])[0].startswith("304")
    # a new version in the sink is served at once, with a new ETag
    sink.write_if_changed("ukraine.atom", body.replace(b"</feed>", b"<!-- v2 --></feed>"))
    status, again, new_body = _get(app, "/ukraine.atom", if_none_match=headers["ETag"])
    assert status == "200 OK" and b"<!-- v2 -->" in new_body
    assert again["ETag"] != headers["ETag"]
    assert again["Last-Modified"] == "Sun, 06 Mar 2022 09:00:01 GMT"
    index = _get(app, "/")[2].decode()
    assert 'href="ukraine.atom"' in index and "JSON Feed (not written yet)" not in index


def test_the_file_sink_is_the_feeds_directory(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "documents")  # not "feeds": the autouse check would parse these
    assert not sink.exists("f.atom") and sink.version("f.atom") is None
    assert sink.read("f.atom") is None
    assert sink.write_if_changed("f.atom", b"<feed/>")
    assert not sink.write_if_changed("f.atom", b"<feed/>")
    document = sink.read("f.atom")
    assert document is not None and document.body == b"<feed/>"
    assert document.version == sink.version("f.atom")
    assert document.modified == (tmp_path / "documents" / "f.atom").stat().st_mtime
    assert sink.write_if_changed("f.atom", b"<feed></feed>")
    assert sink.version("f.atom") != document.version


def _many(tmp_path: Path, count: int) -> Config:
    sources = []
    for i in range(count):
        page = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
        (tmp_path / f"d{i}.html").write_bytes(
            page.replace("烏克蘭".encode(), f"烏克蘭{i}".encode())
        )
        sources.append({"name": f"s{i}", "url": f"d{i}.html", "feed": f"f{i // 2}"})
    return load_config(write_config(tmp_path, sources, processes=0))


def test_a_run_is_recorded_only_once_its_feed_is_written_and_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz and `feedbot status` read the run records: a source is never recorded as having
    run well before its feed file exists, and its feed's pending mark is cleared only after the
    feeds directory was synced (so a rename a power cut took back is written again)."""
    config = _many(tmp_path, 70)  # more than one batch of settling
    events: list[tuple[str, Any]] = []
    record_runs, feeds_written, sync = Store.record_runs, Store.feeds_written, FileSink.sync

    def recording(self: Store, records: Any) -> None:
        for r in records:
            assert (config.feeds_dir / f"{config.source(r.source).feed}.atom").is_file(), r
        events.append(("recorded", [r.source for r in records]))
        record_runs(self, records)

    def clearing(self: Store, feeds: Any) -> None:
        events.append(("cleared", list(feeds)))
        feeds_written(self, feeds)

    def syncing(self: FileSink) -> None:
        events.append(("synced", None))
        sync(self)

    monkeypatch.setattr(Store, "record_runs", recording)
    monkeypatch.setattr(Store, "feeds_written", clearing)
    monkeypatch.setattr(FileSink, "sync", syncing)
    results = run_once(config, now=Clock())
    assert all(r.ok for r in results) and sum(r.new for r in results) >= 5 * 35
    recorded = [name for kind, names in events if kind == "recorded" for name in names]
    assert recorded == [f"s{i}" for i in range(70)]
    cleared = [feed for kind, feeds in events if kind == "cleared" for feed in feeds]
    assert cleared == [f"f{i}" for i in range(35)]
    for n, (kind, _) in enumerate(events):
        if kind == "cleared":
            assert events[n - 1][0] == "synced"
    assert 2 <= sum(kind == "synced" for kind, _ in events) <= 4  # batches, not one per feed
    with Store(config.db_path) as store:
        assert not any(store.is_pending(f"f{i}") for i in range(35))
        assert all(run.result == "ok" for run in store.source_runs().values())


def test_a_feed_that_cannot_be_written_records_its_sources_runs_as_errors(tmp_path: Path) -> None:
    """The pages were stored, but the feed file cannot be written (here: the feeds folder is a
    file): the run is an error, recorded as one (not "ok" with no feed to show for it)."""
    config = _config(tmp_path)
    config.feeds_dir.write_text("not a folder")
    (result,) = run_once(config, now=Clock())
    assert not result.ok and result.error_kind == "render"
    with Store(config.db_path) as store:
        run = store.source_runs()["ukraine"]
        assert store.is_pending("ukraine")
    assert run.result == "error" and run.error_kind == "render" and run.failures == 1


def test_a_feed_file_that_cannot_be_written_fails_its_own_sources_only(tmp_path: Path) -> None:
    """In a run of many feeds their files are written in the background: the one that cannot be
    written (here a folder stands where its temporary file goes) makes its sources' runs errors
    and stays pending; every other feed is written, settled and recorded as usual."""
    config = _many(tmp_path, 10)
    config.feeds_dir.mkdir()
    (config.feeds_dir / ".f3.atom.tmp").mkdir()
    results = run_once(config, now=Clock())
    failed = [r.source for r in results if not r.ok]
    assert failed == ["s6", "s7"]  # the sources of f3
    assert all(r.error_kind == "render" and "f3.atom" in (r.error or "") for r in results[6:8])
    with Store(config.db_path) as store:
        assert [f"f{i}" for i in range(5) if store.is_pending(f"f{i}")] == ["f3"]
        runs = store.source_runs()
    assert [name for name, run in sorted(runs.items()) if run.result == "error"] == ["s6", "s7"]
    assert sorted(p.name for p in config.feeds_dir.glob("*.atom")) == [
        f"f{i}.atom" for i in (0, 1, 2, 4)
    ]
    (config.feeds_dir / ".f3.atom.tmp").rmdir()
    assert all(r.ok for r in run_once(config, now=Clock()))  # nothing changed: f3 caught up
    assert (config.feeds_dir / "f3.atom").is_file()
