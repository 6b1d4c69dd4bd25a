"""``feedbot worker``: the sources of a PostgreSQL state, run on their schedules by procrastinate, on
as many nodes as there are workers.

Owns: the cluster's timetable (which sources are due at each second, the same on every node), the
tick that defers their jobs, the job that runs one source (``run_once`` for that source alone, the
code path of ``feedbot run --source``), the shared backoff of failing sources, taking back the jobs
of a worker that died, and this process's row in the ``workers`` table (for ``/healthz``). Must
not: fetch, split, store or render by itself, or speak SQL: the store does that, procrastinate keeps
its own tables.

How the engine gives the guarantees (procrastinate keeps everything in the same PostgreSQL):
- **Every period, once**: one periodic task, the *tick*, every second. Every worker's periodic
  deferrer offers it, and the database accepts one job per second for the whole cluster
  (procrastinate's periodic defers are unique per task and timestamp). The tick job, on whichever
  worker takes it first (it outranks runs), reads the run records once, picks the sources whose
  schedule falls on its second (:class:`Timetable`), and defers their runs in one batch (one
  statement). So the engine's own work grows with the runs, not with sources × workers × seconds.
- **Never twice at once**: a run's ``lock`` is its feed (``feed:NAME``): procrastinate starts no job
  while another with the same lock is running, on any node. Sources writing the same feed take
  turns, as in the daemon. Its ``queueing_lock`` (``source:NAME``) keeps at most one run of a
  source waiting: a run that outlasts its period makes the next one wait, not pile up (the tick
  leaves out the sources that already have one waiting).
- **A node that dies**: its worker stops updating its heartbeat (every :data:`HEARTBEAT` seconds);
  the recovery task, itself periodic (every :data:`RECOVER_EVERY` seconds, on whichever worker
  takes it; it outranks runs too), hands the running jobs of a worker silent for
  :data:`STALLED_AFTER` seconds back to the queue, or ends them when the source's next run is
  already waiting, which frees the feed's lock. So a killed node's sources run again elsewhere
  within about STALLED_AFTER + RECOVER_EVERY + one period. A run cut short leaves the last complete
  state: the store writes one transaction per page and a feed document in one statement.
- **Backoff, shared**: consecutive failures are in ``source_runs``; the tick leaves out a source
  that failed twice or more in a row until its backoff (as the daemon computes it) has passed.
- **Politeness for the cluster**: ``host_concurrency`` and ``host_interval`` are held in the state
  (:class:`feedbot.store.SharedHostGate`), not per node.

Jobs are fetched by polling every :data:`POLL` seconds while a worker is idle, not by LISTEN/NOTIFY:
procrastinate notifies every listening worker of every job inserted, which at one batch a second is
hundreds of wake-ups per worker per second for nothing; a worker that is busy fetches the next job
as soon as a run ends anyway.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import utcnow_exact
from .config import Config, SourceConfig
from .daemon import REPORT_AFTER
from .errors import FeedbotError, StoreError
from .fetch import Fetcher
from .model import SourceRun, WorkerRow
from .run import fetch_settings, run_once
from .schedule import Schedule
from .store import SharedHostGate, Store, StorePool, display_location, engine_pool
from .write import StateSink

log = logging.getLogger("feedbot")

TASK = "feedbot.run_source"
TICK_TASK = "feedbot.tick"
RECOVER_TASK = "feedbot.recover_stalled"
HEARTBEAT = 2.0  # seconds between heartbeats (procrastinate's, and this process's workers row)
STALLED_AFTER = (
    10.0  # seconds without a heartbeat after which a worker's running jobs are taken back
)
RECOVER_EVERY = 2  # seconds between two looks for stalled jobs
FORGET_WORKERS_AFTER = 3600.0  # seconds: a worker silent this long leaves /healthz
MAX_CRON_OFFSET = 60  # seconds: a cron schedule's runs start up to this much after their minute
MAX_PHASE = 300  # seconds: an interval's runs are spread over a tenth of it, at most this
TICK_MAX_DELAY = 3  # seconds: a tick that starts later than this defers nothing (the next one will)
CATCH_UP = 1.5  # periods: a source whose last run is older than this is due at the next tick
POLL = 0.1  # seconds between two looks for a job while a worker is idle
SWITCH_INTERVAL = 0.0005  # seconds a thread holds the GIL before another may take it
# procrastinate runs the higher priority first: the tick and the recovery never wait behind runs
PRIORITY_TICK = 20
PRIORITY_RECOVER = 10
PRIORITY_RUN = 0


# --- the timetable (pure) ----------------------------------------------------------------------
def stable_offset(name: str, span: int) -> int:
    """The same offset in [0, span) for a source on every node (so that sources do not all fire
    in the same second, as the daemon's jitter does, but the cluster agrees on when)."""
    if span <= 1:
        return 0
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % span


@dataclass(frozen=True)
class Slot:
    """When one source runs in the cluster, in whole seconds since the epoch: an interval of N
    seconds at the seconds ``t`` with ``(t - offset) % N == 0`` (the offset, at most a tenth of the
    period and :data:`MAX_PHASE`, spreads the sources); a cron expression at its minutes plus a
    stable ``offset`` of 0-59 seconds."""

    source: str
    schedule: Schedule
    offset: int

    def fires_at(self, t: int) -> bool:
        interval = self.schedule.interval
        if interval is not None:
            return (t - self.offset) % max(1, int(interval)) == 0
        minute = t - self.offset
        if minute % 60:
            return False
        assert self.schedule.cron is not None
        at = datetime.fromtimestamp(minute, UTC)
        fire = self.schedule.cron.get_next_fire_time(None, at - timedelta(seconds=1))
        return fire is not None and int(fire.timestamp()) == minute


def slot_for(name: str, schedule: Schedule) -> Slot:
    if schedule.interval is not None:
        span = min(max(1, int(schedule.interval) // 10), MAX_PHASE)
        return Slot(name, schedule, stable_offset(name, span))
    return Slot(name, schedule, stable_offset(name, MAX_CRON_OFFSET))


class Timetable:
    """Which sources are due at a second of the cluster's clock (:meth:`due`): pure, the same
    answer on every node."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.slots = [slot_for(s.name, config.schedule_of(s)) for s in config.sources]

    def due(
        self,
        t: int,
        *,
        now: datetime,
        runs: dict[str, SourceRun],
        waiting: Iterable[str] = (),
    ) -> list[str]:
        """The sources to run for second ``t``: those whose schedule falls on it, and those whose
        last run is more than :data:`CATCH_UP` periods old (never run, or the cluster was down);
        but not a source with a run already waiting, nor one still in its backoff (two or more
        failures in a row: :meth:`feedbot.schedule.Schedule.backoff`)."""
        skip = set(waiting)
        due = []
        for slot in self.slots:
            if slot.source in skip:
                continue
            run = runs.get(slot.source)
            period = slot.schedule.period(now)
            if run is not None and run.failures >= 2:
                wait = slot.schedule.backoff(now, run.failures)
                # a tick lands on the period's grid, the last run a little after one: a tenth of slack
                if now < run.last_run + timedelta(seconds=wait - period / 10):
                    continue
                due.append(slot.source)
                continue
            overdue = run is None or now - run.last_run > timedelta(seconds=CATCH_UP * period)
            if overdue or slot.fires_at(t):
                due.append(slot.source)
        return due


# --- this process ------------------------------------------------------------------------------
@dataclass
class WorkerState:
    """What the jobs of this process share: the config, the pooled stores, the fetcher, the
    timetable, the counters."""

    config: Config
    stores: StorePool
    fetcher: Fetcher
    node: str
    concurrency: int
    now: Callable[[], datetime] = utcnow_exact  # the worker's clock (the one clock, handed in)
    timetable: Timetable = field(init=False)
    sink: StateSink = field(init=False)  # the feed documents, for every run of this process
    running: set[str] = field(default_factory=set)
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.timetable = Timetable(self.config)
        self.sink = StateSink(self.stores.store, self.run_now)

    def run_now(self) -> datetime:
        """The clock as a run reads it: to the second, as every stored time is."""
        return self.now().replace(microsecond=0)


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_app(state: WorkerState, url: str) -> Any:
    """The procrastinate app of this process: the run task, the tick, and the recovery task."""
    import procrastinate
    from procrastinate import exceptions, jobs

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=url),
        periodic_defaults={"max_delay": TICK_MAX_DELAY},
    )

    async def run_source(tick: int, source: str) -> None:
        # the run in a thread of this process's pool, straight (procrastinate's own way for sync
        # tasks goes through asgiref, a good part of a short run's CPU); a cancelled job (the
        # worker shutting down) still waits for its run, which cannot be interrupted, so the
        # job — and the feed's lock — lasts as long as the run
        future = asyncio.get_running_loop().run_in_executor(None, run_tick, state, source, tick)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            await future
            raise

    run_task = app.task(name=TASK, pass_context=False)(run_source)

    async def tick(timestamp: int) -> None:
        await defer_due(app, run_task, state, timestamp)

    tick_task = app.task(name=TICK_TASK, pass_context=False, priority=PRIORITY_TICK)(tick)
    app.periodic(cron="* * * * * *", periodic_id="tick", priority=PRIORITY_TICK)(tick_task)

    async def recover_stalled(timestamp: int) -> None:
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            assert job.id is not None
            what = job.task_kwargs.get("source", job.task_name)
            if job.task_name != TASK:
                # a tick or a recovery cut short: its moment has passed, the next one does its work
                with contextlib.suppress(exceptions.ConnectorException):
                    await manager.finish_job_by_id_async(
                        job.id, status=jobs.Status.FAILED, delete_job=False
                    )
                continue
            try:
                await manager.retry_job(job)
                log.warning(
                    "job %d (%s, lock %s) of a silent worker handed back to the queue",
                    job.id,
                    what,
                    job.lock,
                )
            except exceptions.ConnectorException:
                # the source's next run is already waiting (its queueing lock): end this one,
                # which frees the feed's lock for it
                with contextlib.suppress(exceptions.ConnectorException):
                    await manager.finish_job_by_id_async(
                        job.id, status=jobs.Status.FAILED, delete_job=False
                    )
                log.warning(
                    "job %d (%s, lock %s) of a silent worker ended; its next run is queued",
                    job.id,
                    what,
                    job.lock,
                )
        await asyncio.to_thread(_forget_workers, state)

    recover = app.task(
        name=RECOVER_TASK,
        pass_context=False,
        queueing_lock=RECOVER_TASK,
        priority=PRIORITY_RECOVER,
    )(recover_stalled)
    app.periodic(
        cron=f"* * * * * */{RECOVER_EVERY}", periodic_id="recover", priority=PRIORITY_RECOVER
    )(recover)
    return app


async def defer_due(app: Any, run_task: Any, state: WorkerState, timestamp: int) -> None:
    """The tick of second ``timestamp``: defer, in one batch, a run of every source due then."""
    from procrastinate import exceptions

    now = state.now()
    late = now.timestamp() - timestamp
    if late > TICK_MAX_DELAY:
        log.warning(
            "tick %d started %.1fs late: skipped (the next tick runs what is due)", timestamp, late
        )
        return
    runs = await asyncio.to_thread(_read_runs, state)
    for attempt in range(3):
        waiting = {
            job.task_kwargs.get("source", "")
            for job in await app.job_manager.list_jobs_async(task=TASK, status="todo")
        }
        due = state.timetable.due(timestamp, now=now, runs=runs, waiting=waiting)
        if not due:
            return
        batch = [
            run_task.configure(
                lock=f"feed:{state.config.source(name).feed}",
                queueing_lock=f"source:{name}",
                priority=PRIORITY_RUN,
                task_kwargs={"tick": timestamp, "source": name},
            ).job
            for name in due
        ]
        try:
            await app.job_manager.batch_defer_jobs_async(batch)
            log.debug("tick %d: %d runs deferred", timestamp, len(batch))
            return
        except exceptions.AlreadyEnqueued:
            # a run became waiting since we looked (another tick, or a stalled run handed back)
            log.debug("tick %d: a source got a waiting run meanwhile (try %d)", timestamp, attempt)
    log.warning("tick %d: could not defer its runs (sources kept getting waiting runs)", timestamp)


def _read_runs(state: WorkerState) -> dict[str, SourceRun]:
    with state.stores.store() as store:
        return store.source_runs()


def _forget_workers(state: WorkerState) -> None:
    """The recovery task's chores in the state: workers long silent leave /healthz, and tables
    that grew get fresh statistics (their lookups are planned on them)."""
    with state.stores.store() as store:
        store.forget_workers(silent_since=state.now() - timedelta(seconds=FORGET_WORKERS_AFTER))
        for table in store.refresh_statistics():
            log.debug("statistics of %s refreshed", table)


def run_tick(state: WorkerState, name: str, tick: int) -> None:
    """The run of one source for one tick on this worker. Never raises for a source's fault
    (errors are values, and the next tick is the retry)."""
    try:
        source = state.config.source(name)
    except KeyError:
        log.warning("source=%s is not in this worker's config; its job is dropped", name)
        return
    _run(state, source, tick)


def _run(state: WorkerState, source: SourceConfig, tick: int) -> None:
    config, name = state.config, source.name
    with state.lock:
        state.running.add(name)
    log.info(
        "source=%s run=start node=%s tick=%d at=%.3f",
        name,
        state.node,
        tick,
        state.now().timestamp(),
    )
    ok, error = False, None
    try:
        with state.stores.store() as store:
            results = run_once(
                config,
                names=[name],
                fetcher=state.fetcher,
                store=store,
                sink=state.sink,
                now=state.run_now,
            )
        failed = [r for r in results if not r.ok]
        ok, error = not failed, failed[0].error if failed else None
    except FeedbotError as exc:  # the state could not be read or written
        error = f"source {name!r}: {exc}"
        log.error("source=%s result=error error=%s", name, error)
    except Exception as exc:  # a bug in one run must not stop the worker: report it
        error = f"source {name!r}: internal error: {type(exc).__name__}: {exc}"
        log.exception("source=%s result=error (internal error)", name)
    finally:
        with state.lock:
            state.running.discard(name)
            state.runs += 1
        log.info(
            "source=%s run=end node=%s tick=%d at=%.3f ok=%s",
            name,
            state.node,
            tick,
            state.now().timestamp(),
            ok,
        )
    if not ok:
        _report_failure(state, source)


def _report_failure(state: WorkerState, source: SourceConfig) -> None:
    try:
        with state.stores.store() as store:
            run = store.source_run(source.name)
    except StoreError:
        return
    if run is None:
        return
    wait = state.config.schedule_of(source).backoff(state.now(), run.failures)
    log.log(
        logging.ERROR if run.failures >= REPORT_AFTER else logging.WARNING,
        "source=%s failing: %d failed run(s) in a row; next try in about %.0fs; last error: %s",
        source.name,
        run.failures,
        wait,
        run.error,
    )


def _heartbeat(state: WorkerState, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT):
        with state.lock:
            running, runs = sorted(state.running), state.runs
        try:
            with state.stores.store() as store:
                store.worker_heartbeat(state.node, now=state.now(), running=running, runs=runs)
        except (StoreError, OSError) as exc:
            log.warning("worker heartbeat: %s", exc)
        except Exception as exc:  # the pool's own errors (a server restart): try again later
            log.warning("worker heartbeat: %s: %s", type(exc).__name__, exc)


def prepare_state(url: str) -> None:
    """Create or migrate feedbot's schema and procrastinate's, once for the cluster (workers
    starting together wait for the first: the store's migration lock)."""
    with Store(url) as store:
        store.with_migration_lock(lambda: _procrastinate_schema(url, store))


def _procrastinate_schema(url: str, store: Store) -> None:
    if store.has_table("procrastinate_jobs"):
        return
    import procrastinate

    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=url))
    with app.open():
        app.schema_manager.apply_schema()
    log.info("procrastinate's schema created in %s", display_location(url))


def run_worker(
    config: Config,
    *,
    concurrency: int,
    shutdown_timeout: float = 10.0,
    install_signal_handlers: bool = True,
    now: Callable[[], datetime] = utcnow_exact,
) -> int:
    """Run this node's worker until SIGTERM/SIGINT. Returns the exit status."""
    if config.state is None:
        raise FeedbotError(
            f"{config.path}: feedbot worker shares a PostgreSQL state between nodes; set "
            '`state = "postgresql://…"` in [feedbot] (with the SQLite state use feedbot daemon)'
        )
    url = config.state
    prepare_state(url)
    # procrastinate's loop fetches one job at a time; with dozens of run threads ready, each of its
    # steps can wait a whole switch interval (5 ms) for the GIL, which caps a worker's job rate
    sys.setswitchinterval(SWITCH_INTERVAL)
    # connections: one per running job, one per request holding a host slot, and a few spare
    stores = StorePool(url, size=2 * concurrency + 4, name="feedbot-worker")
    settings = fetch_settings(config)
    gate = SharedHostGate(
        stores.pool, concurrency=config.host_concurrency, interval=config.host_interval
    )
    fetcher = Fetcher(settings, gate=gate, now=lambda: now().replace(microsecond=0))
    node = node_name()
    state = WorkerState(config, stores, fetcher, node, concurrency, now)
    started = now()
    stop = threading.Event()
    try:
        with stores.store() as store:
            store.register_worker(
                WorkerRow(
                    node=node,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started=started,
                    heartbeat=started,
                    concurrency=concurrency,
                )
            )
        beat = threading.Thread(target=_heartbeat, args=(state, stop), daemon=True)
        beat.start()
        app = build_app(state, url)
        log.info(
            "worker started: node=%s sources=%d concurrency=%d state=%s",
            node,
            len(config.sources),
            concurrency,
            display_location(url),
        )
        asyncio.run(_work(app, state, shutdown_timeout, install_signal_handlers))
    finally:
        stop.set()
        with contextlib.suppress(Exception), stores.store() as store:
            store.remove_worker(node)
        fetcher.close()
        stores.close()
    log.info("worker stopped: node=%s runs=%d", node, state.runs)
    return 0


async def _work(
    app: Any, state: WorkerState, shutdown_timeout: float, install_signal_handlers: bool
) -> None:
    # sync jobs run in the loop's default executor: give it a thread per job (asyncio's default,
    # min(32, cores + 4), would cap a 2-core node at 6 runs at once whatever the concurrency)
    loop = asyncio.get_running_loop()
    loop.set_default_executor(
        concurrent.futures.ThreadPoolExecutor(
            state.concurrency + 4, thread_name_prefix="feedbot-job"
        )
    )
    # procrastinate's own pool checks every connection with a query each time it is lent (twice
    # per job); this one checks only what the connection already knows (engine_pool)
    pool = engine_pool(state.stores.url, name=f"feedbot worker {state.node}")
    await pool.open(wait=True)
    try:
        async with app.open_async(pool=pool):
            await app.run_worker_async(
                concurrency=state.concurrency,
                name=state.node,
                delete_jobs="successful",
                listen_notify=False,
                fetch_job_polling_interval=POLL,
                update_heartbeat_interval=HEARTBEAT,
                stalled_worker_timeout=STALLED_AFTER * 3,
                shutdown_graceful_timeout=shutdown_timeout,
                install_signal_handlers=install_signal_handlers,
            )
    finally:
        await pool.close()
