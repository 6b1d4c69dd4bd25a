"""The daemon: ``feedbot daemon`` runs every source on its own schedule until it is stopped.

Owns: the scheduler (APScheduler 3.x, one job per source, each on its :class:`feedbot.schedule.Schedule`
from the config), the bookkeeping of failing sources (backed off as the schedule says), reloading
the config on SIGHUP, the graceful stop on SIGTERM/SIGINT, and ``state_dir/daemon.json`` (its pid and
each source's next run, read by ``feedbot status``). Must not: fetch, split, store or render by
itself — every run is :func:`feedbot.run.run_once` for one source, the code path of ``feedbot run``.

Locking: the daemon holds the state directory's lock (:mod:`feedbot.lock`) for its whole life, so a
``feedbot run`` (cron, a user) can never process a source while the daemon does; it exits at once
with a message naming the daemon's pid. Inside the daemon, APScheduler's ``max_instances=1`` keeps
one run per source, and runs of sources writing the same feed take turns on a per-feed lock so that
a feed is never rendered from a state older than the one another thread just wrote.

Stopping: no new run starts; runs in flight get ``shutdown_timeout`` seconds to finish, then are
abandoned by ending the process (``os._exit``): the store writes one SQLite transaction per page and
feed files are replaced atomically, so an abandoned run leaves the last complete state behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from .clock import format_iso, parse_iso, utcnow_exact
from .config import DEFAULT_CONCURRENCY, Config, SourceConfig, load_config
from .errors import ConfigError, FeedbotError
from .fetch import Fetcher
from .lock import RunLock
from .run import check_state, fetch_settings, run_once
from .schedule import MAX_BACKOFF, Schedule
from .store import Store
from .write import write_atomic

log = logging.getLogger("feedbot")

STATE_FILE = "daemon.json"
REPORT_AFTER = 3  # consecutive failures after which each failure is logged at ERROR
FIRST_SPREAD = 10.0  # seconds


class Service(Protocol):
    """Something that lives as long as the daemon (e.g. the HTTP server of ``daemon --serve``)."""

    def start(self, config: Config) -> None: ...

    def reload(self, config: Config) -> None: ...

    def stop(self) -> None: ...


@dataclass
class SourceState:
    """What the daemon remembers of a source between runs (seeded from the store's source_runs)."""

    failures: int = 0
    last_run: datetime | None = None
    last_error: str | None = None
    runs: int = 0


def _load_the_pipeline() -> None:
    """Import what a run imports on first use (a cron run saves the time when nothing changed):
    a daemon pays it once at start, not inside the first runs of its sources."""
    import importlib

    import feedbot.identify

    for name in ("feedbot.render", "feedbot.split", "feedgen.feed"):  # feedgen: the first document
        importlib.import_module(name)
    feedbot.identify.fold("預熱")  # OpenCC's converter is made on first use too


class Daemon:
    """Run each configured source on its schedule until SIGTERM/SIGINT; reload on SIGHUP."""

    def __init__(
        self,
        config_path: str | Path,
        *,
        workers: int = DEFAULT_CONCURRENCY,
        max_backoff: float = MAX_BACKOFF,
        shutdown_timeout: float = 3.0,
        services: Sequence[Service] = (),
        now: Callable[[], datetime] = utcnow_exact,
    ) -> None:
        self.config_path = Path(config_path).expanduser().resolve()
        self.config = load_config(self.config_path)
        self.workers = workers
        self.max_backoff = max_backoff
        self.shutdown_timeout = shutdown_timeout
        self.services = list(services)
        self.now = now
        self.states: dict[str, SourceState] = {}
        self.started = now()
        self._lock = RunLock(self.config.state_dir, self.config.lock_timeout, role="daemon")
        self._scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=workers)}
        )
        self._mutex = threading.Lock()  # guards states, _inflight, _feed_locks, _fetchers, _dirty
        self._feed_locks: dict[str, threading.Lock] = {}
        self._inflight: dict[str, datetime] = {}  # source -> when its run began
        self._stopping = False
        self._fetchers: list[Fetcher] = []
        self._wake = threading.Event()
        self._started = False
        self._stop_requested = False
        self._reload_requested = False
        self._dirty = True
        self.skipped = 0  # runs not started because the previous run of the source still ran

    def run_now(self) -> datetime:
        """The daemon's clock as a run reads it: to the second, as every stored time is (the
        daemon's own arithmetic keeps the microseconds)."""
        return self.now().replace(microsecond=0)

    # --- life cycle ----------------------------------------------------------------------------
    def run(self) -> int:
        """Take the lock, schedule every source and serve until stopped. Returns the exit status."""
        self.install_signal_handlers()
        self.start()
        try:
            while not self._stop_requested:
                self._wake.wait(0.5)
                self._wake.clear()
                if self._reload_requested and not self._stop_requested:
                    self._reload_requested = False
                    self.reload()
                self.write_state()
        finally:
            status = self.stop()
        return status

    def start(self) -> None:
        self._lock.acquire()
        try:
            _load_the_pipeline()
            self._seed_states()
            self._scheduler.add_listener(
                self._on_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED
            )
            self._scheduler.start()
            for source in self.config.sources:
                self._add_job(source)
            for service in self.services:
                service.start(self.config)
        except BaseException:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._lock.release()
            raise
        self._started = True
        self.write_state(force=True)
        log.info(
            "daemon started: pid=%d sources=%d workers=%d config=%s",
            os.getpid(),
            len(self.config.sources),
            self.workers,
            self.config_path,
        )
        for warning in self.config.warnings():
            log.warning("%s", warning)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_reload_signal)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self._started:
            # still starting (e.g. waiting for the lock): unwind start(), which releases what it took
            raise SystemExit(0)
        self.request_stop()

    def _on_reload_signal(self, signum: int, frame: FrameType | None) -> None:
        self.request_reload()

    def request_stop(self) -> None:
        self._stop_requested = True
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def stop(self) -> int:
        """No new run starts; runs in flight get ``shutdown_timeout`` seconds, then are abandoned."""
        with self._mutex:
            self._stopping = True
        log.info("daemon stopping: no new runs start")
        with contextlib.suppress(Exception):
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.shutdown_timeout
        while True:
            with self._mutex:
                inflight = sorted(self._inflight)
            if not inflight or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        for service in self.services:
            try:
                service.stop()
            except Exception as exc:  # a service failing to stop must not keep the daemon up
                log.warning("stopping %s: %s", type(service).__name__, exc)
        self._remove_state()
        if inflight:
            # Threads cannot be interrupted; end the process. Their store transactions roll back and
            # the feed files keep their last complete version; the kernel releases the lock.
            log.warning(
                "daemon stopped: abandoned %d run(s) in flight after %gs: %s",
                len(inflight),
                self.shutdown_timeout,
                ", ".join(inflight),
            )
            _flush_logs()
            os._exit(0)
        with self._mutex:
            fetchers, self._fetchers = self._fetchers, []
        for fetcher in fetchers:
            fetcher.close()
        self._lock.release()
        log.info("daemon stopped")
        return 0

    # --- jobs -----------------------------------------------------------------------------------
    def _seed_states(self) -> None:
        """Consecutive failures and last runs come from the store, so a restart keeps backing off.
        Opening the store here also creates or migrates it before any run, and a state database
        that cannot be used stops the daemon at once instead of failing every run."""
        check_state(self.config)  # an emptied state beside written feeds is refused
        with Store(self.config.store_location) as store:
            runs = store.source_runs()
        for source in self.config.sources:
            run = runs.get(source.name)
            self.states[source.name] = SourceState(
                failures=run.failures if run else 0,
                last_run=run.last_run if run else None,
                last_error=run.error if run else None,
            )

    def _first_run(self, source: SourceConfig, schedule: Schedule) -> datetime:
        now = self.now()
        state = self.states.setdefault(source.name, SourceState())
        # spread the first runs a little (at most FIRST_SPREAD) so that many sources do not all
        # start in the same instant, without making a new daemon wait minutes for its first run
        spread = timedelta(seconds=random.uniform(0, min(schedule.jitter(now), FIRST_SPREAD)))
        if state.last_run is None:
            return now + spread
        due = schedule.due_after(state.last_run, now)
        if state.failures > 1:
            wait = schedule.backoff(now, state.failures, self.max_backoff)
            due = max(due, state.last_run + timedelta(seconds=wait))
        return max(due, now) + spread

    def _add_job(self, source: SourceConfig) -> None:
        schedule = self.config.schedule_of(source)
        now = self.now()
        self._scheduler.add_job(
            self._run_source,
            trigger=schedule.trigger(now),
            args=(source.name,),
            id=source.name,
            name=f"source {source.name}",
            next_run_time=self._first_run(source, schedule),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(schedule.period(now))),
            replace_existing=True,
        )

    def _on_skipped(self, event: JobEvent) -> None:
        with self._mutex:
            self.skipped += 1
        log.debug(
            "source=%s run skipped: its previous run is still going or was late", event.job_id
        )

    def _feed_lock(self, feed: str) -> threading.Lock:
        with self._mutex:
            return self._feed_locks.setdefault(feed, threading.Lock())

    def _fetcher(self, config: Config) -> Fetcher:
        """One fetcher shared by every worker thread, so per-host limits and the robots.txt cache
        hold across sources run at the same time; renewed when its settings change (SIGHUP)."""
        settings = fetch_settings(config)
        with self._mutex:
            current = self._fetchers[-1] if self._fetchers else None
            if current is not None and current.settings == settings:
                return current
            new = Fetcher(settings, now=self.run_now)
            # the old one is closed at shutdown: runs in flight may still be using it
            self._fetchers.append(new)
            return new

    def _run_source(self, name: str) -> None:
        """One scheduled run of one source: ``run_once`` for it alone, then backoff bookkeeping."""
        with self._mutex:
            if self._stopping:
                return
            self._inflight[name] = self.now()
            self._dirty = True  # status shows the run in progress
        try:
            config = self.config
            try:
                source = config.source(name)
            except KeyError:
                return  # removed by a reload after this run was queued
            error: str | None
            try:
                with self._feed_lock(source.feed):
                    results = run_once(
                        config, names=[name], fetcher=self._fetcher(config), now=self.run_now
                    )
                failed = [r for r in results if not r.ok]
                error = failed[0].error if failed else None
                ok = not failed
            except FeedbotError as exc:  # the state or the feed could not be opened or written
                ok, error = False, f"source {name!r}: {exc}"
                log.error(
                    "source=%s result=error error=%s",
                    name,
                    error,
                    extra={"source": name, "result": "error", "error": error},
                )
            except Exception as exc:  # a bug in one run must not stop the daemon: report it
                ok, error = False, f"source {name!r}: internal error: {type(exc).__name__}: {exc}"
                log.exception(
                    "source=%s result=error (internal error)",
                    name,
                    extra={"source": name, "result": "error", "error": error},
                )
            self._after_run(source, ok, error)
        finally:
            with self._mutex:
                self._inflight.pop(name, None)
                self._dirty = True

    def _after_run(self, source: SourceConfig, ok: bool, error: str | None) -> None:
        now = self.now()
        with self._mutex:
            state = self.states.setdefault(source.name, SourceState())
            state.runs += 1
            state.last_run = now
            previous = state.failures
            if ok:
                state.failures = 0
                state.last_error = None
            else:
                state.failures += 1
                state.last_error = error
            failures = state.failures
        if ok:
            if previous:
                log.info(
                    "source=%s recovered after %d failed run(s)",
                    source.name,
                    previous,
                    extra={"source": source.name, "recovered_after": previous},
                )
            return
        wait = self.config.schedule_of(source).backoff(now, failures, self.max_backoff)
        retry = now + timedelta(seconds=wait)
        with contextlib.suppress(JobLookupError):
            job = self._scheduler.get_job(source.name)
            if job is not None and job.next_run_time is not None:
                if failures > 1 and job.next_run_time < retry:
                    self._scheduler.modify_job(source.name, next_run_time=retry)
                else:
                    retry = job.next_run_time
        log.log(
            logging.ERROR if failures >= REPORT_AFTER else logging.WARNING,
            "source=%s failing: %d failed run(s) in a row; next try in %s at %s; last error: %s",
            source.name,
            failures,
            _seconds(max(0.0, (retry - now).total_seconds())),
            format_iso(retry),
            error,
            extra={
                "source": source.name,
                "result": "error",
                "failures": failures,
                "next_try": format_iso(retry),
                "error": error,
            },
        )

    # --- reload ---------------------------------------------------------------------------------
    def reload(self) -> bool:
        """Read the config again; apply it if valid, else keep the running one. Returns success."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("config reload rejected, the running configuration stays: %s", exc)
            return False
        old = self.config
        if new.state_dir != old.state_dir:
            log.error(
                "config reload rejected, the running configuration stays: %s: state_dir changed "
                "(%s -> %s); restart the daemon to use another state directory",
                self.config_path,
                old.state_dir,
                new.state_dir,
            )
            return False
        before = {s.name: s for s in old.sources}
        after = {s.name: s for s in new.sources}
        removed = [n for n in before if n not in after]
        added = [n for n in after if n not in before]
        changed = [n for n in after if n in before and after[n] != before[n]]
        self.config = new
        for name in removed:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(name)
            with self._mutex:
                self.states.pop(name, None)
        for name in added:
            self._add_job(after[name])
        for name in after:
            if name in before and old.schedule_of(before[name]) != new.schedule_of(after[name]):
                self._add_job(after[name])  # replaces the job with one on the new schedule
        for service in self.services:
            try:
                service.reload(new)
            except Exception as exc:  # a service's trouble must not undo the reload
                log.warning("reloading %s: %s", type(service).__name__, exc)
        with self._mutex:
            self._dirty = True
        log.info(
            "config reloaded: %d source(s); added: %s; removed: %s; changed: %s",
            len(new.sources),
            ", ".join(added) or "-",
            ", ".join(removed) or "-",
            ", ".join(changed) or "-",
        )
        return True

    # --- daemon.json ----------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.config.state_dir / STATE_FILE

    def snapshot(self) -> dict[str, Any]:
        """What ``feedbot status`` shows of the running daemon."""
        next_runs = {
            job.id: job.next_run_time for job in self._scheduler.get_jobs() if job.next_run_time
        }
        with self._mutex:
            sources = {
                name: {
                    "schedule": self.config.schedule_of(self.config.source(name)).text,
                    "next_run": format_iso(next_runs[name]) if name in next_runs else None,
                    "failures": state.failures,
                    "runs": state.runs,
                    "running": name in self._inflight,
                    "running_since": format_iso(self._inflight[name])
                    if name in self._inflight
                    else None,
                }
                for name, state in self.states.items()
                if name in {s.name for s in self.config.sources}
            }
            skipped = self.skipped
        return {
            "pid": os.getpid(),
            "started": format_iso(self.started),
            "updated": format_iso(self.now()),
            "config": str(self.config_path),
            "skipped_runs": skipped,
            "sources": sources,
        }

    def write_state(self, *, force: bool = False) -> None:
        """Write daemon.json atomically when something changed (at most every half second)."""
        with self._mutex:
            if not (self._dirty or force):
                return
            self._dirty = False
        data = json.dumps(self.snapshot(), indent=1).encode()
        try:
            write_atomic(self.state_path, data, mode=0o600)
        except OSError as exc:
            log.warning("%s: cannot write: %s", self.state_path, exc)

    def _remove_state(self) -> None:
        with contextlib.suppress(OSError):
            self.state_path.unlink()


@dataclass(frozen=True)
class DaemonInfo:
    """A running daemon as ``feedbot status`` sees it."""

    pid: int
    started: datetime  # to the second, like every time ``feedbot status`` shows
    next_runs: dict[str, datetime | None]
    failures: dict[str, int]
    running: dict[str, datetime]  # sources whose run is in progress, and since when


def read_daemon_state(state_dir: Path) -> DaemonInfo | None:
    """The running daemon's state, or None when no daemon is up (a stale file is ignored: its pid
    must be alive and be the one that holds the state directory's lock)."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
        pid = int(data["pid"])
        sources = data["sources"]
        started = parse_iso(data["started"]).replace(microsecond=0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    holder, role = RunLock(state_dir, 0).holder()
    if holder != pid or role != "daemon" or not _alive(pid):
        return None
    return DaemonInfo(
        pid=pid,
        started=started,
        next_runs={
            name: parse_iso(s["next_run"]).replace(microsecond=0) if s.get("next_run") else None
            for name, s in sources.items()
        },
        failures={name: int(s.get("failures", 0)) for name, s in sources.items()},
        running={
            name: parse_iso(s["running_since"]).replace(microsecond=0)
            for name, s in sources.items()
            if s.get("running_since")
        },
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _seconds(value: float) -> str:
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}m"
    return f"{value / 3600:.1f}h"


def _flush_logs() -> None:
    for handler in logging.getLogger("feedbot").handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
