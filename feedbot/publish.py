"""Publishing a feed: its stored entries rendered in each of its formats, its RFC 5005 archive
pages, and the WebSub ping after a change.

Owns: when a feed is (re)written — its entries changed (now, or in a run that died before it could
write them: the store's pending mark) or one of its documents is missing — what goes into each
document, and telling the hub. Takes the configuration, the store (read: entries; written: only
the pending mark, cleared once every format is written) and a :class:`feedbot.write.FeedSink` for
the documents; knows nothing of sources, pages or the runner. Must not: fetch pages, decide or
store entries. Main thread only (it uses the store's connection).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime

from . import websub
from .config import Config
from .errors import RenderError
from .model import EntryRow
from .render import RENDERERS, FeedMeta, archive_filename, feed_filename, render_atom
from .store import Store
from .write import FeedSink, FileSink, StateSink

log = logging.getLogger("feedbot")

Ping = Callable[..., bool]  # websub.publish's signature: (hub, topics, *, user_agent, timeout)


def sink_for(
    config: Config, store: Store, now: Callable[[], datetime], *, writers: int = 0
) -> FeedSink:
    """Where a run publishes: into the shared state when it is PostgreSQL (every node serves the
    same bytes, stamped by the run's clock ``now``), else the files in ``feeds_dir`` (written by
    ``writers`` background threads: see :class:`feedbot.write.FileSink`)."""
    if store.postgres:
        return StateSink(lambda: nullcontext(store), now)
    return FileSink(config.feeds_dir, writers=writers)


class Publisher:
    """Writes the feeds of one configuration from one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        sink: FeedSink | None = None,
        *,
        ping: Ping | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.sink: FeedSink = sink if sink is not None else FileSink(config.feeds_dir)
        self.ping = ping  # None: websub.publish
        self._unsettled: list[str] = []  # feeds written, not yet durable and still pending
        self._documents: dict[str, str] = {}  # document -> feed, of the unsettled feeds
        self._pings: list[tuple[str, list[str]]] = []  # (hub, URLs) to tell once durable

    def needs_publishing(self, feed: str, *, changed: bool = False) -> bool:
        """Whether ``feed`` must be written: ``changed`` (its entries changed in this run), pending
        in the store (changed by a run that could not finish writing it), or a document missing."""
        if changed or self.store.is_pending(feed):
            return True
        return any(
            not self.sink.exists(feed_filename(feed, fmt)) for fmt in self.config.feed(feed).formats
        )

    def publish_if_needed(
        self, feed: str, *, changed: bool = False, defer: bool = False
    ) -> list[str] | None:
        """Write ``feed`` when :meth:`needs_publishing`; the documents written (None: not needed).
        Its pending mark is cleared once the documents are durable: at once, or with ``defer`` at
        the next :meth:`settle` (one directory fsync and one transaction for many feeds). Raises
        RenderError when a document cannot be rendered or written (the feed stays pending, for
        the next run), StoreError when the pending mark cannot be cleared."""
        if not self.needs_publishing(feed, changed=changed):
            return None
        written = self.publish(feed)
        self._unsettled.append(feed)
        self._documents.update((document, feed) for document in written)
        if not defer:
            self.settle()
        return written

    def settle(self) -> None:
        """Make the documents written so far durable, then clear the pending marks of their feeds
        (in that order: see :mod:`feedbot.write`) and tell their hubs. Raises RenderError naming
        the feeds whose documents could not be written (they stay pending; the others are
        settled), StoreError when the marks cannot be cleared."""
        if not self._unsettled:
            return
        feeds, self._unsettled = self._unsettled, []
        documents, self._documents = self._documents, {}
        pings, self._pings = self._pings, []
        try:
            self.sink.sync()
        except RenderError as exc:
            failed = (
                {documents.get(name, "") for name in exc.documents}
                if exc.documents
                else set(feeds)  # the folder could not be synced: nothing is durable
            )
            self.store.feeds_written([feed for feed in feeds if feed not in failed])
            raise RenderError(
                str(exc), documents=exc.documents, feeds=tuple(sorted(failed))
            ) from None
        self.store.feeds_written(feeds)
        for hub, urls in pings:
            (self.ping or websub.publish)(
                hub, urls, user_agent=self.config.user_agent, timeout=self.config.connect_timeout
            )

    def publish(self, name: str) -> list[str]:
        """Render one feed in each of its formats and its full archive pages; write the documents
        whose bytes changed (the feed's hub is told when any did, at :meth:`settle`). Returns the
        names written."""
        from .decide import marks_updates  # imported when a feed is written, not at start-up

        feed = self.config.feed(name)
        entries = self._public(self.store.feed_entries(name, feed.entries))
        if not entries:
            return []
        link = self.config.site_link(name)
        pages, tail, written = self.write_archives(name, link) if feed.archive else (0, [], [])
        complete = not pages and not self.store.has_more_than(name, feed.entries)
        if pages:
            # the entries after the last full archive page are in no archive yet: the feed carries
            # them too, so that the feed plus its archives hold every entry
            shown = {e.entry_id for e in entries}
            entries = sorted(
                [*entries, *(e for e in self._public(tail) if e.entry_id not in shown)],
                key=lambda e: (-e.seq, e.position),
            )
        for fmt in feed.formats:
            filename = feed_filename(name, fmt)
            meta = FeedMeta(
                name,
                feed.title,
                link,
                self.config.public_url(filename),
                mark_updates=marks_updates(feed.update_policy),
                show_provenance=feed.show_provenance,
                hub=self.config.shown(feed.websub_hub) if feed.websub_hub else None,
                complete=complete,
                prev_archive=self._url(archive_filename(name, pages))
                if pages and fmt == "atom"
                else None,
            )
            if self.sink.write_if_changed(filename, RENDERERS[fmt](meta, entries)):
                written.append(filename)
        if written and feed.websub_hub and self.config.base_url:
            # the hub is told at :meth:`settle`, once the documents are durable: it fetches them
            self._pings.append(
                (feed.websub_hub, [self._url(f) for f in written if ".archive-" not in f])
            )
        return written

    def _public(self, entries: Sequence[EntryRow]) -> list[EntryRow]:
        """Entries as a reader may see them: their links and pages without credentials (stored
        before feedbot kept them out, or put there by the page itself)."""
        shown = self.config.shown
        return [
            replace(e, link=shown(e.link), pages=tuple(shown(p) for p in e.pages)) for e in entries
        ]

    def _url(self, filename: str) -> str:
        """A feed document's URL: absolute under ``base_url``, else relative to the feed itself."""
        return self.config.public_url(filename) or filename

    def write_archives(self, name: str, link: str | None) -> tuple[int, list[EntryRow], list[str]]:
        """RFC 5005 archive pages: entries in the order they were first stored, ``entries`` per
        page, each page written once when it is full and never again. Reads from where the last
        page written ends (the store remembers it), not from the first entry. Returns the number of
        full pages, the entries after the last of them (fewer than ``entries``) and the names of
        the pages written now."""
        from .decide import marks_updates

        feed = self.config.feed(name)
        written: list[str] = []
        page, last = self.store.archive_pages(name)
        while True:
            rows, end = self.store.entries_after(name, last, feed.entries)
            if len(rows) < feed.entries:
                return page, rows, written
            page += 1
            filename = archive_filename(name, page)
            if not self.sink.exists(filename):
                meta = FeedMeta(
                    name,
                    feed.title,
                    link,
                    self._url(filename),
                    mark_updates=marks_updates(feed.update_policy),
                    show_provenance=feed.show_provenance,
                    archive=True,
                    current=self._url(feed_filename(name, "atom")),
                    prev_archive=self._url(archive_filename(name, page - 1)) if page > 1 else None,
                )
                if self.sink.write_if_changed(
                    filename, render_atom(meta, self._public(rows)[::-1])
                ):
                    written.append(filename)
                    self.sink.sync()  # recorded as written for good only once it is durable
            self.store.archive_page_written(name, page, end)
            last = end
