"""One run: every selected source once, then every feed that changed published.

Owns: the order of the pipeline and turning each source's failure into a result value. The daemon
and the CLI both call :func:`run_once`; nothing else drives the pipeline. Writing the feeds is
:mod:`feedbot.publish`'s (the pipeline and the module map: docs/architecture.md).

Threads: worker threads (at most ``[feedbot] concurrency``) fetch, decode, split, identify and
sanitise (:func:`collect`); the calling thread alone touches the store — it reads what the workers
need beforehand (:meth:`Runner.plan`), decides and stores their results in config order, one page per
transaction (:meth:`Runner.finish`), and publishes. So the SQLite connection is only ever used by
the thread that opened it, and the result does not depend on which source answered first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .clock import utcnow
from .config import Config, SourceConfig
from .decide import decide
from .errors import ExtractError, FeedbotError, NotModified, SourceError, StoreError
from .fetch import Fetcher, FetchSettings
from .identify import identify
from .index import describe_links, index_links, pages_to_follow
from .model import (
    Identified,
    KnownPage,
    Page,
    Prepared,
    RunResult,
    SourceKind,
    Split,
    Validators,
)
from .publish import Publisher, sink_for
from .render import item_link
from .sanitize import clean_html
from .split import SplitOptions, split_page
from .store import Store
from .write import FeedSink

log = logging.getLogger("feedbot")


def split_options(source: SourceConfig) -> SplitOptions:
    return SplitOptions(
        mode=source.split,
        content_selector=source.content_selector,
        exclude_selectors=source.exclude_selectors,
        headline_selector=source.headline_selector,
        headline_regex=source.headline_regex,
    )


@dataclass(frozen=True)
class Plan:
    """What a worker needs from the store to fetch one source, read beforehand in the main thread."""

    source: SourceConfig
    now: datetime
    validators: Validators | None  # of the source's URL (its page, or its index page)
    known: tuple[KnownPage, ...] = ()  # index: the pages processed before
    page_validators: dict[str, Validators] = field(default_factory=dict)  # index: per known page


@dataclass(frozen=True)
class PageResult:
    """One page of a source after the worker: split, not modified, or failed."""

    url: str  # as configured or as the index links it
    page: Page | None = None
    split: Split | None = None
    identified: tuple[Identified, ...] = ()  # the split's items with their keys and fingerprints
    cleaned: tuple[str, ...] = ()  # each identified item's sanitised HTML (pure, so workers do it)
    not_modified: bool = False
    error: SourceError | None = None


@dataclass(frozen=True)
class Fetched:
    """Everything a worker brings back for one source."""

    source: SourceConfig
    pages: tuple[PageResult, ...] = ()
    index: Page | None = None  # an index source's index page, when it was (re)read
    error: SourceError | None = None  # the source's own URL failed: nothing else was tried
    seconds: float = 0.0


def split_or_fail(source: SourceConfig, page: Page) -> Split:
    """Split a page; a page that yields no items is an ExtractError naming the page."""
    split = split_page(page.text, page.content_type, split_options(source))
    if not split.items:
        why = "the page is empty" if not page.text.strip() else "no headline structure found"
        if split.structure == "none" and split.candidates:
            why += f" (best candidate: {split.candidates[0].name}, {'; '.join(split.candidates[0].reasons)})"
        raise ExtractError(source.name, page.url, f"{why}; the feed is left as it was")
    return split


def identify_split(source: SourceConfig, split: Split) -> tuple[Identified, ...]:
    """Keys and fingerprints of a split page's items (pure, so workers do it too)."""
    items = [replace(i, attribution=i.attribution or split.attribution) for i in split.items]
    return tuple(identify(items, source.volatile_patterns))


def sanitise_items(identified: Sequence[Identified], page: Page) -> tuple[str, ...]:
    """Each item's HTML sanitised, its links made absolute against the page (pure)."""
    return tuple(clean_html(i.item.body_html, page.final_url) for i in identified)


def _fetch_and_split(
    fetcher: Fetcher,
    source: SourceConfig,
    url: str,
    cached: Validators | None,
    started: float | None = None,
) -> PageResult:
    try:
        page = fetcher.fetch_url(source, url, cached, started=started)
        split = split_or_fail(source, page)
        identified = identify_split(source, split)
        cleaned = sanitise_items(identified, page)
        return PageResult(url, page=page, split=split, identified=identified, cleaned=cleaned)
    except NotModified:
        return PageResult(url, not_modified=True)
    except SourceError as exc:
        return PageResult(url, error=exc)


def collect(fetcher: Fetcher, plan: Plan) -> Fetched:
    """Fetch, decode and split one source (for an index source: the index and the pages it leads
    to). Touches the network only, never the store, so it may run in a worker thread."""
    started = time.monotonic()
    source = plan.source
    if source.kind is not SourceKind.INDEX:
        result = _fetch_and_split(fetcher, source, source.url, plan.validators)
        return Fetched(source, pages=(result,), seconds=time.monotonic() - started)
    index: Page | None = None
    begun = fetcher.monotonic()  # one deadline for the index and the pages it leads to
    try:
        index = fetcher.fetch_url(source, source.url, plan.validators, started=begun)
    except NotModified:
        # The index did not change: re-check the pages it listed that are still in the window.
        links = [page.url for page in plan.known]
    except SourceError as exc:
        return Fetched(source, error=exc, seconds=time.monotonic() - started)
    if index is not None:
        links = index_links(index.text, index.final_url, source)
        if not links:
            error = ExtractError(
                source.name,
                source.url,
                f"the index lists no links matching {describe_links(source)}; nothing was "
                "followed and the feed is left as it was",
            )
            return Fetched(source, error=error, seconds=time.monotonic() - started)
    chosen = pages_to_follow(
        links,
        plan.known,
        follow=source.follow,
        recheck=timedelta(seconds=source.recheck),
        now=plan.now,
    )
    pages = tuple(
        _fetch_and_split(fetcher, source, url, plan.page_validators.get(url), begun)
        for url in chosen
    )
    return Fetched(source, pages=pages, index=index, seconds=time.monotonic() - started)


@dataclass
class Runner:
    config: Config
    store: Store
    fetcher: Fetcher
    now: Callable[[], datetime] = utcnow

    def plan(self, source: SourceConfig) -> Plan:
        """Read from the store what fetching ``source`` needs (main thread)."""
        now = self.now()
        validators = self.store.validators(source.url)
        if source.kind is not SourceKind.INDEX:
            return Plan(source, now, validators)
        window = timedelta(seconds=source.recheck)
        known = tuple(self.store.index_pages(source.name))
        page_validators = {}
        for page in known:
            if now - page.first_seen < window:
                cached = self.store.validators(page.url)
                if cached is not None:
                    page_validators[page.url] = cached
        return Plan(source, now, validators, known, page_validators)

    def finish(self, fetched: Fetched) -> RunResult:
        """Identify, decide and store what a worker brought back; record and log the run (main
        thread). Never raises for a source's fault."""
        source = fetched.source
        started = time.monotonic()
        try:
            if source.kind is SourceKind.INDEX:
                result = self._finish_index(fetched)
            else:
                result = self._finish_page(fetched)
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
                items_unchanged=result.not_modified,
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
            fetched.seconds + time.monotonic() - started,
            f" error={result.error}" if result.error else "",
        )
        return result

    def _forget_validators(self, url: str) -> None:
        """Drop a failed URL's validators; a store error here (a full disk) is logged and never hides
        the source's own error."""
        try:
            self.store.forget_validators(url)
        except StoreError as exc:
            log.warning("%s: %s", url, exc)

    def _finish_page(self, fetched: Fetched) -> RunResult:
        source = fetched.source
        (outcome,) = fetched.pages
        if outcome.error is not None:
            if not outcome.error.url:
                outcome.error.url = source.url
            self._forget_validators(source.url)
            return RunResult(source.name, ok=False, error=str(outcome.error))
        if outcome.not_modified:
            return RunResult(source.name, ok=True, not_modified=True)
        assert outcome.page is not None and outcome.split is not None
        return self.store_page(
            source, outcome.page, outcome.split, outcome.identified, cleaned=outcome.cleaned
        )

    def _finish_index(self, fetched: Fetched) -> RunResult:
        """Store each followed page in its own transaction. A page that fails is reported (naming
        the source, the index and the page) and does not stop the others; the index's validators
        are kept only when every page went well, so that a failed page is tried again next run."""
        source = fetched.source
        if fetched.error is not None:
            self._forget_validators(source.url)
            return RunResult(source.name, ok=False, error=str(fetched.error))
        new = updated = unchanged = 0
        errors: list[str] = []
        changed = False
        for outcome in fetched.pages:
            if outcome.error is not None:
                self._forget_validators(outcome.url)
                errors.append(f"page {outcome.url}: {outcome.error.message}")
                continue
            if outcome.not_modified:
                self.store.remember_index_page(source.name, source.url, outcome.url, now=self.now())
                continue
            assert outcome.page is not None and outcome.split is not None
            result = self.store_page(
                source,
                outcome.page,
                outcome.split,
                outcome.identified,
                cleaned=outcome.cleaned,
                linked_as=outcome.url,
            )
            changed = True
            new, updated, unchanged = (
                new + result.new,
                updated + result.updated,
                unchanged + result.unchanged,
            )
        if errors:
            self._forget_validators(source.url)
            error = f"source {source.name!r}: index {source.url}: {'; '.join(errors)}"
            return RunResult(source.name, False, new, updated, unchanged, error=error)
        if fetched.index is not None:
            index = fetched.index
            self.store.save_validators(
                source.url,
                Validators(index.etag, index.last_modified, index.content_hash),
                now=self.now(),
            )
        return RunResult(source.name, True, new, updated, unchanged, not_modified=not changed)

    def store_page(
        self,
        source: SourceConfig,
        page: Page,
        split: Split,
        identified: Sequence[Identified] = (),
        *,
        cleaned: Sequence[str] = (),
        linked_as: str | None = None,
    ) -> RunResult:
        """Decide and store one split page in one transaction (identifying and sanitising its items
        first unless a worker did: ``cleaned`` is each identified item's sanitised HTML).
        ``linked_as`` is the URL an index source linked the page by: the page is then remembered as
        processed."""
        feed = self.config.feed(source.feed)
        if not identified:
            identified = identify_split(source, split)
        if len(cleaned) != len(identified):
            cleaned = sanitise_items(identified, page)
        sanitised = {id(ident): html for ident, html in zip(identified, cleaned, strict=True)}
        changes = decide(
            identified,
            self.store.entries_for(feed.name),
            source=source.name,
            policy=feed.update_policy,
        )
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
                        body_html=sanitised[id(change.item)],
                        link=item_link(page.final_url, item.anchor, item.headline),
                        published=published,
                    ),
                )
            )
        validators = (
            linked_as or source.url,
            Validators(page.etag, page.last_modified, page.content_hash),
        )
        new, updated, unchanged = self.store.apply_page(
            feed=feed.name,
            source=source.name,
            page_url=page.final_url,
            changes=prepared,
            now=now,
            validators=validators,
            index_page=(source.url, linked_as) if linked_as else None,
        )
        return RunResult(source.name, ok=True, new=new, updated=updated, unchanged=unchanged)


def _publish(
    publisher: Publisher, feed: str, mine: Sequence[int], results: list[RunResult]
) -> None:
    """Publish ``feed`` if one of its sources (``results[i]`` for ``i`` in ``mine``) changed it, or
    it needs it anyway (pending, a document missing). A failure turns the results of the feed's
    sources into errors (in place)."""
    changed = any(results[i].new or results[i].updated for i in mine)
    try:
        written = publisher.publish_if_needed(feed, changed=changed)
    except StoreError:
        raise  # the documents are written but the state cannot record it: that ends the run
    except FeedbotError as exc:  # a document could not be rendered or written
        log.error("feed %s: %s", feed, exc)
        for i in mine:
            results[i] = RunResult(results[i].source, ok=False, error=str(exc))
        return
    if written:
        log.info("feed=%s written=%s", feed, ",".join(written))


@contextmanager
def _opened(config: Config, store: Store | None) -> Iterator[Store]:
    """The store handed in (left open), or the configured one, opened for the run and closed."""
    if store is not None:
        yield store
        return
    with Store(config.store_location) as opened:
        yield opened


def _prune(config: Config, store: Store, feeds: Sequence[str], now: Callable[[], datetime]) -> None:
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
                    "feed=%s pruned=%d (older than %d days)", feed, pruned, settings.retention_days
                )


def fetch_settings(config: Config) -> FetchSettings:
    """The fetcher settings a run uses, from the configuration."""
    return FetchSettings(
        user_agent=config.user_agent,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        host_concurrency=config.host_concurrency,
        host_interval=config.host_interval,
    )


def run_once(
    config: Config,
    *,
    names: Sequence[str] = (),
    fetcher: Fetcher | None = None,
    now: Callable[[], datetime] = utcnow,
    progress: Callable[[RunResult], None] | None = None,
    store: Store | None = None,
    sink: FeedSink | None = None,
) -> list[RunResult]:
    """Process the selected sources (all by default) and write their feeds. Returns one result per
    source; a failing source never stops the others and never rewrites its feed. ``store`` is an
    open store to use (a worker's pooled connection) instead of opening the configured one;
    ``sink`` where the feed documents go instead of :func:`feedbot.publish.sink_for`'s choice."""
    sources = [s for s in config.sources if not names or s.name in names]
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(fetch_settings(config), now=now)
    results: list[RunResult] = []
    try:
        with _opened(config, store) as store:
            runner = Runner(config, store, fetcher, now)
            publisher = Publisher(config, store, sink or sink_for(config, store, now))
            if len(sources) == 1:
                # one source (a scheduled run): no thread to hand it to, the same steps in order
                result = runner.finish(collect(fetcher, runner.plan(sources[0])))
                results.append(result)
                if progress:
                    progress(result)
                _publish(publisher, sources[0].feed, [0], results)
                _prune(config, store, [sources[0].feed], now)
                return results
            workers = max(1, min(config.concurrency, len(sources)))
            pool = ThreadPoolExecutor(workers, thread_name_prefix="feedbot-fetch")
            try:
                # A feed is rendered as soon as its last source is stored, while the workers go
                # on fetching: rendering overlaps the network instead of following it.
                members: dict[str, list[int]] = {}  # feed -> indexes of its sources (linear)
                for i, source in enumerate(sources):
                    members.setdefault(source.feed, []).append(i)
                complete: dict[
                    int, list[str]
                ] = {}  # source index -> feeds it completes (is last of)
                for feed, indexes in members.items():
                    complete.setdefault(indexes[-1], []).append(feed)
                # Sources are handed to the workers at most `window` ahead of the one being
                # stored, so fetched pages wait in memory only that far (handing them all over at
                # once kept every fetched and split page of a big run until its turn came).
                window = max(8 * workers, 32)
                futures: dict[int, Future[Fetched]] = {}
                submitted = 0
                for i in range(len(sources)):  # stored in config order, whoever was first
                    while submitted < min(i + window, len(sources)):
                        plan = runner.plan(sources[submitted])
                        futures[submitted] = pool.submit(collect, fetcher, plan)
                        submitted += 1
                    result = runner.finish(futures.pop(i).result())
                    results.append(result)
                    if progress:
                        progress(result)
                    for feed in complete.get(i, ()):
                        _publish(publisher, feed, members[feed], results)
            finally:
                # On an error or Ctrl-C, sources not started yet are dropped, not fetched.
                pool.shutdown(wait=True, cancel_futures=True)
            _prune(config, store, list(dict.fromkeys(s.feed for s in sources)), now)
    finally:
        if own_fetcher:
            fetcher.close()
    return results
