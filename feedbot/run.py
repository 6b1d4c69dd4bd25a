"""One run: every selected source once, then every feed that changed rendered and written.

Owns: the order of the pipeline and turning each source's failure into a result value. The daemon
and the CLI both call :func:`run_once`; nothing else drives the pipeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .clock import utcnow
from .config import Config, SourceConfig
from .decide import decide
from .errors import ExtractError, FeedbotError, NotModified, RenderError, SourceError, StoreError
from .fetch import Fetcher, FetchSettings, Validators
from .identify import identify
from .model import Page, RunResult
from .render import EXTENSIONS, RENDERERS, FeedMeta, archive_filename, item_link, render_atom
from .sanitize import clean_html
from .split import SplitOptions, split_page
from .store import Prepared, Store
from .write import write_if_changed

log = logging.getLogger("feedbot")


def split_options(source: SourceConfig) -> SplitOptions:
    return SplitOptions(
        mode=source.split,
        content_selector=source.content_selector,
        exclude_selectors=source.exclude_selectors,
        headline_selector=source.headline_selector,
        headline_regex=source.headline_regex,
    )


@dataclass
class Runner:
    config: Config
    store: Store
    fetcher: Fetcher
    now: Callable[[], datetime] = utcnow

    def process(self, source: SourceConfig) -> RunResult:
        """Fetch, split, identify, decide and store one source. Never raises for a source's fault."""
        started = time.monotonic()
        try:
            result = self._process(source)
        except NotModified:
            result = RunResult(source.name, ok=True, not_modified=True)
        except SourceError as exc:
            if not exc.url:
                exc.url = source.url
            self.store.forget_validators(source.url)
            result = RunResult(source.name, ok=False, error=str(exc))
        except StoreError as exc:
            result = RunResult(source.name, ok=False, error=f"source {source.name!r}: {exc}")
        try:
            self.store.record_run(
                source.name,
                now=self.now(),
                ok=result.ok,
                result="not modified" if result.not_modified else ("ok" if result.ok else "error"),
                error=result.error,
                new=result.new,
                updated=result.updated,
            )
        except Exception as exc:  # recording the run must never hide the run's own result
            log.warning("source %s: cannot record the run: %s", source.name, exc)
        level = logging.ERROR if not result.ok else logging.INFO
        log.log(
            level,
            "source=%s result=%s new=%d updated=%d unchanged=%d duration=%.2fs%s",
            source.name,
            "not-modified" if result.not_modified else ("ok" if result.ok else "error"),
            result.new,
            result.updated,
            result.unchanged,
            time.monotonic() - started,
            f" error={result.error}" if result.error else "",
        )
        return result

    def _process(self, source: SourceConfig) -> RunResult:
        page = self.fetcher.fetch(source, self.store.validators(source.url))
        return self.process_page(source, page)

    def process_page(self, source: SourceConfig, page: Page) -> RunResult:
        split = split_page(page.text, page.content_type, split_options(source))
        if not split.items:
            why = "the page is empty" if not page.text.strip() else "no headline structure found"
            if split.structure == "none" and split.candidates:
                why += f" (best candidate: {split.candidates[0].name}, {'; '.join(split.candidates[0].reasons)})"
            raise ExtractError(source.name, page.url, f"{why}; the feed is left as it was")
        feed = self.config.feed(source.feed)
        items = [replace(i, attribution=i.attribution or split.attribution) for i in split.items]
        identified = identify(items, source.volatile_patterns)
        changes = decide(identified, self.store.entries_for(feed.name), source=source.name)
        now = self.now()
        prepared = []
        for change in changes:
            item = change.item.item
            published = item.published or split.published
            if published is None or published > now:
                published = now
            prepared.append(
                (
                    change,
                    Prepared(
                        body_html=clean_html(item.body_html, page.final_url),
                        link=item_link(page.final_url, item.anchor, item.headline),
                        published=published,
                    ),
                )
            )
        validators = (
            source.url,
            Validators(page.etag, page.last_modified, page.content_hash),
        )
        new, updated, unchanged = self.store.apply_page(
            feed=feed.name,
            source=source.name,
            page_url=page.final_url,
            changes=prepared,
            now=now,
            policy=feed.update_policy,
            validators=validators,
        )
        return RunResult(source.name, ok=True, new=new, updated=updated, unchanged=unchanged)

    def render_feed(self, name: str) -> list[str]:
        """Render one feed in each of its formats; write the files whose bytes changed."""
        feed = self.config.feed(name)
        entries = self.store.feed_entries(name, feed.entries)
        if not entries:
            return []
        link = next(
            (s.url for s in self.config.sources if s.feed == name and s.url.startswith("http")),
            None,
        )
        total = self.store.count_entries(name)
        pages = total // feed.entries if feed.archive and total > feed.entries else 0
        complete = not pages and total <= feed.entries
        written = self.write_archives(name, link, pages)
        if pages:
            # the entries after the last full archive page are in no archive yet: the feed carries
            # them too, so that the feed plus its archives hold every entry
            shown = {e.entry_id for e in entries}
            tail = [
                e
                for e in self.store.archive_entries(name, pages * feed.entries, feed.entries)
                if e.entry_id not in shown
            ]
            entries = sorted([*entries, *tail], key=lambda e: (-e.updated.timestamp(), e.position))
        for fmt in feed.formats:
            filename = f"{name}.{EXTENSIONS[fmt]}"
            self_url = f"{self.config.base_url}{filename}" if self.config.base_url else None
            meta = FeedMeta(
                name,
                feed.title,
                link,
                self_url,
                feed.update_policy,
                feed.show_provenance,
                hub=feed.websub_hub,
                complete=complete,
                prev_archive=self._url(archive_filename(name, pages))
                if pages and fmt == "atom"
                else None,
            )
            data = RENDERERS[fmt](meta, entries)
            if write_if_changed(self.config.feeds_dir / filename, data):
                written.append(filename)
        if written and feed.websub_hub and self.config.base_url:
            written_feeds = [f for f in written if ".archive-" not in f]
            from .websub import publish

            publish(
                feed.websub_hub,
                [f"{self.config.base_url}{filename}" for filename in written_feeds],
                user_agent=self.config.user_agent,
                timeout=self.config.connect_timeout,
            )
        return written

    def _url(self, filename: str) -> str:
        """A feed file's URL: absolute under ``base_url``, else relative to the feed itself."""
        return f"{self.config.base_url}{filename}" if self.config.base_url else filename

    def write_archives(self, name: str, link: str | None, pages: int) -> list[str]:
        """RFC 5005 archive pages 1..``pages``: entries in the order they were first stored,
        ``entries`` per page, each page written once when it is full and never again."""
        feed = self.config.feed(name)
        written = []
        for page in range(1, pages + 1):
            filename = archive_filename(name, page)
            path = self.config.feeds_dir / filename
            if path.exists():
                continue
            rows = self.store.archive_entries(name, (page - 1) * feed.entries, feed.entries)
            meta = FeedMeta(
                name,
                feed.title,
                link,
                self._url(filename),
                feed.update_policy,
                feed.show_provenance,
                archive=True,
                current=self._url(f"{name}.atom"),
                prev_archive=self._url(archive_filename(name, page - 1)) if page > 1 else None,
            )
            if write_if_changed(path, render_atom(meta, rows[::-1])):
                written.append(filename)
        return written


def run_once(
    config: Config,
    *,
    names: Sequence[str] = (),
    fetcher: Fetcher | None = None,
    now: Callable[[], datetime] = utcnow,
    progress: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Process the selected sources (all by default) and write their feeds. Returns one result per
    source; a failing source never stops the others and never rewrites its feed."""
    sources = [s for s in config.sources if not names or s.name in names]
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(
        FetchSettings(
            user_agent=config.user_agent,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )
    )
    results: list[RunResult] = []
    try:
        with Store(config.db_path) as store:
            runner = Runner(config, store, fetcher, now)
            for source in sources:
                result = runner.process(source)
                results.append(result)
                if progress:
                    progress(result)
            feeds = list(dict.fromkeys(s.feed for s in sources))
            for feed in feeds:
                changed = any(
                    r.ok and (r.new or r.updated)
                    for r in results
                    if config.source(r.source).feed == feed
                )
                missing = any(
                    not (config.feeds_dir / f"{feed}.{EXTENSIONS[f]}").exists()
                    for f in config.feed(feed).formats
                )
                if not (changed or missing):
                    continue
                try:
                    written = runner.render_feed(feed)
                except (RenderError, FeedbotError) as exc:
                    log.error("feed %s: %s", feed, exc)
                    results = [
                        RunResult(r.source, ok=False, error=str(exc))
                        if config.source(r.source).feed == feed
                        else r
                        for r in results
                    ]
                    continue
                if written:
                    log.info("feed=%s written=%s", feed, ",".join(written))
            for feed in feeds:
                settings = config.feed(feed)
                if settings.retention_days is not None:
                    pruned = store.prune(
                        feed,
                        before=now() - timedelta(days=settings.retention_days),
                        keep=settings.entries,
                    )
                    if pruned:
                        log.info(
                            "feed=%s pruned=%d (older than %d days)",
                            feed,
                            pruned,
                            settings.retention_days,
                        )
    finally:
        if own_fetcher:
            fetcher.close()
    return results
