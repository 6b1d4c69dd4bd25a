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

import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .clock import utcnow
from .config import Config, SourceConfig
from .errors import (
    ErrorKind,
    ExtractError,
    FeedbotError,
    FetchError,
    NotModified,
    RenderError,
    SourceError,
    StoreError,
)
from .fetch import Fetcher, FetchSettings
from .index import describe_links, index_links, pages_to_follow
from .model import (
    Identified,
    KnownPage,
    Page,
    PageFormat,
    Prepared,
    RenderMode,
    RunRecord,
    RunResult,
    SourceKind,
    Split,
    Validators,
)
from .pool import MIN_SOURCES, PagePool, wanted
from .publish import Publisher, sink_for
from .redact import SECRET_PARAMS, public_url
from .render import feed_filename, item_link
from .sanitize import clean_html
from .store import Store, clear_state_error, record_state_error
from .write import FeedSink, FileSink

if TYPE_CHECKING:
    from .split import SplitOptions

log = logging.getLogger("feedbot")
# Start-up: a run where nothing changed (every page 304) splits, identifies, decides, sanitises and
# renders nothing, so the modules that do (lxml, BeautifulSoup, OpenCC, nh3, feedgen, decide and
# identify with their patterns, multiprocessing) are imported where they are first needed, not
# when feedbot starts.


def split_options(source: SourceConfig, page: Page | None = None) -> SplitOptions:
    """How ``source`` splits ``page`` (the page brings its Content-Language, a zone hint)."""
    from .split import SplitOptions

    return SplitOptions(
        mode=source.split,
        content_selector=source.content_selector,
        exclude_selectors=source.exclude_selectors,
        headline_selector=source.headline_selector,
        headline_regex=source.headline_regex,
        timezone=source.timezone,
        language=page.language if page is not None else None,
    )


def source_options(source: SourceConfig) -> str:
    """A fingerprint of everything that decides what ``source`` makes of a page: its validators
    hold only while it is the same (changed split options, another feed, other links to follow:
    the page is read and split again even when the server says "not modified")."""
    relevant: tuple[object, ...] = (
        source.feed,
        source.kind,
        source.split,
        source.content_selector,
        source.exclude_selectors,
        source.headline_selector,
        source.headline_regex,
        source.encoding,
        source.volatile_patterns,
        source.link_selector,
        source.link_pattern,
        source.follow,
        source.newest,
    )
    if source.format is not PageFormat.AUTO or source.timezone:
        # added only when set, so that the fingerprints of sources without them stay as they were
        relevant += (source.format, source.timezone)
    if source.render is not RenderMode.STATIC:
        relevant += (source.render,)  # a page rendered is another page than the one served
    return hashlib.sha256(repr(relevant).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Plan:
    """What a worker needs from the store to fetch one source, read beforehand in the main thread."""

    source: SourceConfig
    now: datetime
    validators: Validators | None  # of the source's URL (its page, or its index page)
    known: tuple[KnownPage, ...] = ()  # index: the pages processed before
    page_validators: dict[str, Validators] = field(default_factory=dict)  # index: per known page
    secret_params: tuple[str, ...] = ()  # query parameters kept out of the items' links


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
    from .split import split_page

    split = split_page(page.text, page.content_type, split_options(source, page))
    if not split.items:
        why = "the page is empty" if not page.text.strip() else "no headline structure found"
        if split.structure == "none" and split.candidates:
            why += f" (best candidate: {split.candidates[0].name}, {'; '.join(split.candidates[0].reasons)})"
        raise ExtractError(source.name, page.url, f"{why}; the feed is left as it was")
    return split


def identify_split(
    source: SourceConfig, split: Split, page_url: str | None = None
) -> tuple[Identified, ...]:
    """Keys and fingerprints of a split page's items (pure, so workers do it too); headline links
    are resolved against ``page_url``, the page's final URL."""
    from .identify import identify

    items = [replace(i, attribution=i.attribution or split.attribution) for i in split.items]
    return tuple(identify(items, source.volatile_patterns, feed=source.feed, page_url=page_url))


def sanitise_items(
    identified: Sequence[Identified], page: Page, secret_params: Sequence[str] = SECRET_PARAMS
) -> tuple[str, ...]:
    """Each item's HTML sanitised, its links made absolute against the page — the page's URL as
    a reader may see it, without user-info or secret parameters (pure)."""
    base = public_url(page.final_url, secret_params)
    return tuple(clean_html(i.item.body_html, base) for i in identified)


def fetch_page(
    fetcher: Fetcher,
    source: SourceConfig,
    url: str,
    cached: Validators | None,
    started: float | None = None,
) -> Page:
    """One page of a source, as the splitter will see it: fetched, then (``render = "browser"``)
    rendered by the fetcher's shared headless browser, every request of the page under the
    source's fetch policy. A rendered page is fetched without its validators (the HTML of a
    script-built page rarely changes when its stories do) and is "not modified" when the rendered
    DOM is what it was."""
    if source.render is not RenderMode.BROWSER:
        return fetcher.fetch_url(source, url, cached, started=started)
    from .browser import rendered_page

    document = fetcher.fetch_url(source, url, None, started=started)
    return rendered_page(
        fetcher.browser(),
        source.name,
        document,
        fetcher.context(source),
        cached_hash=cached.content_hash if cached else None,
    )


def process_page(
    source: SourceConfig, page: Page, secret_params: Sequence[str] = SECRET_PARAMS
) -> tuple[Split, tuple[Identified, ...], tuple[str, ...]]:
    """The pure work on a fetched page: split (an ExtractError when it yields nothing), identify,
    sanitise. In a worker process when the run has a :class:`~feedbot.pool.PagePool`."""
    split = split_or_fail(source, page)
    identified = identify_split(source, split, page.final_url)
    return split, identified, sanitise_items(identified, page, secret_params)


def prepare_workers() -> None:
    """What :func:`process_page` needs, loaded in the parent before worker processes are forked
    (they share it and import nothing): the splitter, the identifier with its OpenCC converter,
    the sanitiser."""
    from . import identify, sanitize, split

    del sanitize, split
    identify.prepare()


def _fetch_and_split(
    fetcher: Fetcher,
    source: SourceConfig,
    url: str,
    cached: Validators | None,
    started: float | None = None,
    secret_params: Sequence[str] = SECRET_PARAMS,
    pages: PagePool | None = None,
) -> PageResult:
    try:
        page = fetch_page(fetcher, source, url, cached, started)
        if pages is None:
            split, identified, cleaned = process_page(source, page, secret_params)
        else:
            split, identified, cleaned = pages.run(process_page, source, page, secret_params)
        return PageResult(url, page=page, split=split, identified=identified, cleaned=cleaned)
    except NotModified:
        return PageResult(url, not_modified=True)
    except SourceError as exc:
        return PageResult(url, error=exc)


def collect(fetcher: Fetcher, plan: Plan, pages: PagePool | None = None) -> Fetched:
    """Fetch, decode and split one source (for an index source: the index and the pages it leads
    to). Touches the network only, never the store, so it may run in a worker thread; the pure
    work on each page is done in ``pages``' worker processes when there are any."""
    started = time.monotonic()
    source = plan.source
    if source.kind is not SourceKind.INDEX:
        result = _fetch_and_split(
            fetcher, source, source.url, plan.validators, None, plan.secret_params, pages
        )
        return Fetched(source, pages=(result,), seconds=time.monotonic() - started)
    index: Page | None = None
    begun = fetcher.monotonic()  # one deadline for the index and the pages it leads to
    try:
        index = fetch_page(fetcher, source, source.url, plan.validators, begun)
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
                kind=ErrorKind.NO_LINKS,
            )
            return Fetched(source, error=error, seconds=time.monotonic() - started)
    chosen = pages_to_follow(
        links,
        plan.known,
        follow=source.follow,
        recheck=timedelta(seconds=source.recheck),
        now=plan.now,
    )
    results = tuple(
        _fetch_and_split(
            fetcher, source, url, plan.page_validators.get(url), begun, plan.secret_params, pages
        )
        for url in chosen
    )
    return Fetched(source, pages=results, index=index, seconds=time.monotonic() - started)


@dataclass
class Runner:
    config: Config
    store: Store
    fetcher: Fetcher
    now: Callable[[], datetime] = utcnow

    def plan(self, source: SourceConfig) -> Plan:
        """Read from the store what fetching ``source`` needs (main thread)."""
        now = self.now()
        options = source_options(source)
        validators = self.store.validators(source.name, source.url, options)
        secret = self.config.secret_params
        if source.kind is not SourceKind.INDEX:
            return Plan(source, now, validators, secret_params=secret)
        window = timedelta(seconds=source.recheck)
        known = tuple(self.store.index_pages(source.name))
        page_validators = {}
        for page in known:
            if now - page.first_seen < window:
                cached = self.store.validators(source.name, page.url, options)
                if cached is not None:
                    page_validators[page.url] = cached
        return Plan(source, now, validators, known, page_validators, secret)

    def finish(self, fetched: Fetched) -> RunResult:
        """Identify, decide and store what a worker brought back; log the run (main thread).
        Never raises for a source's fault. The run is recorded once its feed is published
        (:func:`record`)."""
        source = fetched.source
        started = time.monotonic()
        try:
            if source.kind is SourceKind.INDEX:
                result = self._finish_index(fetched)
            else:
                result = self._finish_page(fetched)
        except StoreError as exc:
            if exc.kind is not ErrorKind.STORE:
                raise  # the state itself is damaged: no source can be stored, the run ends
            result = RunResult(
                source.name,
                ok=False,
                error=f"source {source.name!r}: {exc}",
                error_kind=ErrorKind.STORE,
            )
        if result.error:
            # credentials in a URL never reach the log, the state or the CLI's output
            result = replace(result, error=self.config.scrub(result.error))
        level = logging.ERROR if not result.ok else logging.INFO
        values = {
            "source": source.name,
            "result": "not-modified" if result.not_modified else ("ok" if result.ok else "error"),
            "new": result.new,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "duration": round(fetched.seconds + time.monotonic() - started, 3),
            "error": result.error,
        }
        # the values as fields too: a JSON log line carries each as its own (feedbot.logfmt)
        log.log(
            level,
            "source=%s result=%s new=%d updated=%d unchanged=%d duration=%.2fs%s",
            values["source"],
            values["result"],
            result.new,
            result.updated,
            result.unchanged,
            values["duration"],
            f" error={result.error}" if result.error else "",
            extra=values,
        )
        return result

    def _forget_validators(self, source: SourceConfig, url: str) -> None:
        """Drop a failed URL's validators; a store error here (a full disk) is logged and never hides
        the source's own error."""
        try:
            self.store.forget_validators(source.name, url)
        except StoreError as exc:
            if exc.kind is not ErrorKind.STORE:
                raise
            log.warning("%s: %s", self.config.shown(url), exc)

    def _finish_page(self, fetched: Fetched) -> RunResult:
        source = fetched.source
        if fetched.error is not None:  # given up on (see _wait)
            self._forget_validators(source, source.url)
            return RunResult(
                source.name, ok=False, error=str(fetched.error), error_kind=fetched.error.kind
            )
        (outcome,) = fetched.pages
        if outcome.error is not None:
            if not outcome.error.url:
                outcome.error.url = source.url
            self._forget_validators(source, source.url)
            return RunResult(
                source.name, ok=False, error=str(outcome.error), error_kind=outcome.error.kind
            )
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
            self._forget_validators(source, source.url)
            return RunResult(
                source.name, ok=False, error=str(fetched.error), error_kind=fetched.error.kind
            )
        new = updated = unchanged = 0
        errors: list[str] = []
        kinds: list[ErrorKind] = []
        changed = False
        for outcome in fetched.pages:
            if outcome.error is not None:
                self._forget_validators(source, outcome.url)
                errors.append(f"page {outcome.url}: {outcome.error.message}")
                kinds.append(outcome.error.kind)
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
            self._forget_validators(source, source.url)
            error = f"source {source.name!r}: index {source.url}: {'; '.join(errors)}"
            kind = kinds[0] if len(set(kinds)) == 1 else ErrorKind.FETCH
            return RunResult(
                source.name, False, new, updated, unchanged, error=error, error_kind=kind
            )
        if fetched.index is not None:
            index = fetched.index
            self.store.save_validators(
                source.name,
                source.url,
                source_options(source),
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
        from .decide import DEFAULT as DEFAULT_THRESHOLDS
        from .decide import decide

        feed = self.config.feed(source.feed)
        if not identified:
            identified = identify_split(source, split, page.final_url)
        if len(cleaned) != len(identified):
            cleaned = sanitise_items(identified, page, self.config.secret_params)
        sanitised = {id(ident): html for ident, html in zip(identified, cleaned, strict=True)}
        # only the entries the page may match, by index lookups: the cost of a page does not
        # grow with its feed
        candidates = self.store.candidates(
            feed.name,
            identified,
            same_key=DEFAULT_THRESHOLDS.same_key_candidates,
            same_fingerprint=DEFAULT_THRESHOLDS.same_fingerprint_candidates,
        )
        changes = decide(identified, candidates, source=source.name, policy=feed.update_policy)
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
                        link=item_link(
                            self.config.shown(page.final_url), item.anchor, item.headline
                        ),
                        published=published,
                    ),
                )
            )
        validators = (
            linked_as or source.url,
            source_options(source),
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
        written = publisher.publish_if_needed(feed, changed=changed, defer=True)
    except StoreError:
        raise  # the documents are written but the state cannot record it: that ends the run
    except FeedbotError as exc:  # a document could not be rendered or written
        log.error("feed %s: %s", feed, exc)
        for i in mine:
            results[i] = RunResult(
                results[i].source, ok=False, error=str(exc), error_kind=ErrorKind.RENDER
            )
        return
    if written:
        log.info(
            "feed=%s written=%s", feed, ",".join(written), extra={"feed": feed, "written": written}
        )


# Feeds published and runs recorded are settled together every this many sources: one fsync of
# the feeds directory and two transactions for all of them (a directory fsync per feed file and a
# commit per source's run record were a fifth of a run of 200 sources; bench/README.md, issue 17).
# A run killed before its sources are settled loses only their run records (and its feeds stay
# pending, so the next run makes sure of them).
SETTLE_EVERY = 32
# Seconds a thread of a run of many sources holds the interpreter lock before another may take it
# (Python's default: 0.005). The main thread stores and renders with thousands of short SQLite
# calls, each of which lets the lock go and must take it back from a fetching thread (reading a
# body, handing a page to the worker processes, taking their results): with the default each
# return could wait 5 ms. Measured on the 200-page bench (every page new, median of 4, load ~4):
# 3.5-4.7 s with 0.005, 2.9-3.6 s with 0.0005, 3.8 s with 0.001; the run's CPU time the same.
SWITCH_INTERVAL = 0.0005
# Threads that write feed files in a run of many sources (see FileSink): each write ends with an
# fsync of its file, 2-3 ms on the bench machine's disk, and fsyncs of different files overlap.
WRITERS = 4


def _settle(
    publisher: Publisher,
    store: Store,
    ready: list[int],
    results: list[RunResult],
    finished: Sequence[datetime],
) -> None:
    """Make the feeds published so far durable and clear their pending marks, then record the
    runs of their sources (``ready``, emptied); a feed that cannot be written or made durable
    turns the results of its sources into errors (in place)."""
    if not ready:
        return
    config = publisher.config

    def feeds_of(feeds: Sequence[str]) -> set[str]:
        return {s.name for s in config.sources if s.feed in feeds}

    try:
        publisher.settle()
    except StoreError:
        raise  # the documents are written but the state cannot record it: that ends the run
    except RenderError as exc:
        log.error("feeds %s: %s", ", ".join(exc.feeds) or "?", exc)
        for i in ready:
            if not exc.feeds or results[i].source in feeds_of(exc.feeds):
                results[i] = RunResult(
                    results[i].source, ok=False, error=str(exc), error_kind=ErrorKind.RENDER
                )
    indexes = list(ready)
    ready.clear()
    record(store, [run_record(results[i], finished[i]) for i in indexes])


def run_record(result: RunResult, now: datetime) -> RunRecord:
    """What the store records of a source's run (after its feed was published: a feed that could
    not be written makes the run an error)."""
    return RunRecord(
        result.source,
        now=now,
        ok=result.ok,
        result="not modified" if result.not_modified else ("ok" if result.ok else "error"),
        error=result.error,
        error_kind=result.error_kind,
        new=result.new,
        updated=result.updated,
        page_items=None if result.not_modified else result.new + result.updated + result.unchanged,
    )


def record(store: Store, records: Sequence[RunRecord]) -> None:
    """Record the runs; a failure to (a full disk) is logged and never hides the runs' results."""
    try:
        store.record_runs(records)
    except StoreError as exc:
        if exc.kind is not ErrorKind.STORE:
            raise
        log.warning("cannot record the runs of %s: %s", _names(records), exc)
    except Exception as exc:  # recording the run must never hide the run's own result
        log.warning("cannot record the runs of %s: %s", _names(records), exc)


def _names(records: Sequence[RunRecord]) -> str:
    names = [r.source for r in records]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def fetch_settings(config: Config) -> FetchSettings:
    """The fetcher settings a run uses, from the configuration."""
    return FetchSettings(
        user_agent=config.user_agent,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        host_concurrency=config.host_concurrency,
        host_interval=config.host_interval,
        request_timeout=config.request_timeout,
        deadline=config.source_timeout,
        allow_networks=config.allow_networks,
        browser=config.browser,
        render_timeout=config.render_timeout,
    )


# How long storing waits for a source beyond its deadline (the fetch ends at the deadline; this is
# for the work after it: splitting a big page), at most the deadline itself again.
WAIT_GRACE = 10.0


def check_state(config: Config) -> None:
    """Refuse a state database that was emptied (0 bytes) while the feeds still hold entries: it
    would be taken as a new state, every story would get a new id and readers would see them all
    again. Raises StoreError (:attr:`ErrorKind.STATE_EMPTY`) saying how to start afresh on
    purpose. A missing database is a first run (or a fresh start): nothing to refuse."""
    if config.state is not None:
        return  # a PostgreSQL state: no file to find emptied
    path = config.db_path
    try:
        if path.stat().st_size:
            return
    except FileNotFoundError:
        return
    sink = FileSink(config.feeds_dir)
    written = [
        feed_filename(feed.name, fmt)
        for feed in config.feeds
        for fmt in feed.formats
        if sink.exists(feed_filename(feed.name, fmt))
    ]
    if written:
        raise StoreError(
            f"{path}: the state database is empty (0 bytes) while {config.feeds_dir} holds feeds "
            f"with entries ({', '.join(written[:3])}{', ...' if len(written) > 3 else ''}): "
            "their history and entry ids are gone, and readers would get every story again as "
            f"new. Restore the database from a backup; to start afresh on purpose, delete {path} "
            "and run again",
            kind=ErrorKind.STATE_EMPTY,
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
    source; a failing source never stops the others and never rewrites its feed. A damaged or
    emptied state raises StoreError, recorded beside the state for ``status`` and ``/healthz``.
    ``store`` is an open store to use (a worker's pooled connection) instead of opening the
    configured one; ``sink`` where the feed documents go instead of
    :func:`feedbot.publish.sink_for`'s choice."""
    if store is not None:
        return _run(
            config, store, names=names, fetcher=fetcher, now=now, progress=progress, sink=sink
        )
    try:
        check_state(config)
        with Store(config.store_location) as opened:
            if len([s for s in config.sources if not names or s.name in names]) >= MIN_SOURCES:
                opened.checkpoint_in_background()
            clear_state_error(config.state_dir)
            return _run(
                config, opened, names=names, fetcher=fetcher, now=now, progress=progress, sink=sink
            )
    except StoreError as exc:
        if exc.kind is not ErrorKind.STORE:
            record_state_error(config.state_dir, exc, now=now())
        raise


def _run(
    config: Config,
    store: Store,
    *,
    names: Sequence[str],
    fetcher: Fetcher | None,
    now: Callable[[], datetime],
    progress: Callable[[RunResult], None] | None,
    sink: FeedSink | None = None,
) -> list[RunResult]:
    sources = [s for s in config.sources if not names or s.name in names]
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(fetch_settings(config), now=now)
    results: list[RunResult] = []
    feeds = list(dict.fromkeys(s.feed for s in sources))
    # retention counts back from the newest time stored before this run (a clock that jumped
    # forward is not believed: see prune_feeds)
    newest_seen = {
        feed: store.newest_seen(feed, not_after=now())
        for feed in feeds
        if config.feed(feed).retention_days is not None
    }
    try:
        runner = Runner(config, store, fetcher, now)
        own_sink = sink is None
        if sink is None:
            # a run of many feeds writes its files in the background (FileSink: the fsyncs
            # overlap, and the main thread renders the next feed meanwhile)
            sink = sink_for(
                config, store, now, writers=WRITERS if len(sources) >= MIN_SOURCES else 0
            )
        publisher = Publisher(config, store, sink)
        if len(sources) == 1:
            # one source (a scheduled run): no thread to hand it to, the same steps in order
            try:
                result = runner.finish(collect(fetcher, runner.plan(sources[0])))
                results.append(result)
                if progress:
                    progress(result)
                finished_at = now()
                _publish(publisher, sources[0].feed, [0], results)
                _settle(publisher, store, [0], results, [finished_at])
            finally:
                if own_sink:
                    sink.close()
            prune_feeds(config, store, feeds, newest_seen, now())
            return results
        # the pure work on each page in worker processes, forked when the first page needs it
        pages = PagePool(wanted(config.processes, len(sources)), prepare=prepare_workers)
        workers = max(1, min(config.concurrency, len(sources)))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="feedbot-fetch")
        abandoned = False
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL))
        try:
            # A feed is rendered as soon as its last source is stored, while the workers go
            # on fetching: rendering overlaps the network instead of following it.
            members: dict[str, list[int]] = {}  # feed -> indexes of its sources (linear)
            for i, source in enumerate(sources):
                members.setdefault(source.feed, []).append(i)
            complete: dict[int, list[str]] = {}  # source index -> feeds it completes (is last of)
            for feed, indexes in members.items():
                complete.setdefault(indexes[-1], []).append(feed)
            # Sources are handed to the workers at most `window` ahead of the one being
            # stored, so fetched pages wait in memory only that far (handing them all over at
            # once kept every fetched and split page of a big run until its turn came).
            window = max(8 * workers, 32)
            futures: dict[int, Future[Fetched]] = {}
            begun: dict[int, float] = {}  # source index -> when a worker took it (monotonic)
            finished: list[datetime] = []  # source index -> when it was stored
            ready: list[int] = []  # sources whose feed is published, their runs not yet recorded
            submitted = 0
            try:
                for i in range(len(sources)):  # stored in config order, whoever was first
                    while submitted < min(i + window, len(sources)):
                        plan = runner.plan(sources[submitted])
                        futures[submitted] = pool.submit(
                            _timed, fetcher, plan, begun, submitted, pages
                        )
                        submitted += 1
                    fetched = _wait(futures.pop(i), begun, i, sources[i], config)
                    abandoned = abandoned or (fetched.error is not None and fetched.seconds < 0)
                    result = runner.finish(fetched)
                    results.append(result)
                    finished.append(now())
                    if progress:
                        progress(result)
                    for feed in complete.get(i, ()):
                        _publish(publisher, feed, members[feed], results)
                        ready += members[feed]
                    if len(ready) >= SETTLE_EVERY:
                        _settle(publisher, store, ready, results, finished)
            except BaseException:
                # what was published is still settled and recorded, as far as the state allows
                with contextlib.suppress(Exception):
                    _settle(publisher, store, ready, results, finished)
                raise
            _settle(publisher, store, ready, results, finished)
        finally:
            # On an error or Ctrl-C, sources not started yet are dropped, not fetched; a worker
            # given up on is not waited for (it ends at its own fetch deadline).
            pool.shutdown(wait=not abandoned, cancel_futures=True)
            pages.close(wait=not abandoned)
            if own_sink:
                sink.close()
            sys.setswitchinterval(switch)
        prune_feeds(config, store, feeds, newest_seen, now())
    finally:
        if own_fetcher:
            fetcher.close()
    return results


def _timed(
    fetcher: Fetcher, plan: Plan, begun: dict[int, float], index: int, pages: PagePool
) -> Fetched:
    """:func:`collect` in a worker, noting when it began (for the wait in the main thread)."""
    begun[index] = time.monotonic()
    return collect(fetcher, plan, pages)


def _wait(
    future: Future[Fetched],
    begun: dict[int, float],
    index: int,
    source: SourceConfig,
    config: Config,
) -> Fetched:
    """The worker's result for ``source`` — waited for at most its deadline (and a grace for the
    work after the fetch) from when a worker took it up. A source still not done then is a failure
    of its own; the sources after it are stored without waiting longer."""
    limit = config.source_timeout + min(WAIT_GRACE, config.source_timeout)
    while True:
        started = begun.get(index)
        left = 0.5 if started is None else started + limit - time.monotonic()
        try:
            return future.result(timeout=max(0.0, left))
        except FuturesTimeout:
            if started is None:
                continue  # still queued behind other sources: its time has not begun
            if time.monotonic() < started + limit:
                continue
        error = FetchError(
            source.name,
            source.url,
            f"not done within {limit:g}s (the {config.source_timeout:g}s source_timeout and "
            "the time to split what was fetched); the sources after it were stored without it",
            kind=ErrorKind.TIMEOUT,
        )
        return Fetched(source, error=error, seconds=-1.0)  # seconds < 0: given up on


def prune_feeds(
    config: Config,
    store: Store,
    feeds: Sequence[str],
    newest_seen: dict[str, datetime | None],
    now: datetime,
) -> None:
    """Apply each feed's ``retention_days``, counting back from the newest time an entry was seen
    before this run — not from the clock: a clock that jumped forward (and the times this run
    stored with it) would otherwise prune for good entries that are only days old."""
    for feed in feeds:
        settings = config.feed(feed)
        if settings.retention_days is None:
            continue
        reference = min(now, newest_seen.get(feed) or now)
        pruned = store.prune(
            feed,
            before=reference - timedelta(days=settings.retention_days),
            keep=settings.entries,
        )
        if pruned:
            log.info(
                "feed=%s pruned=%d (not seen for %d days before %s)",
                feed,
                pruned,
                settings.retention_days,
                reference.isoformat(),
            )
