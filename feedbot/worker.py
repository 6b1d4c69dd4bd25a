"""``feedbot worker``: the sources of a PostgreSQL state, run on their schedules by procrastinate, on
as many nodes as there are workers.

Owns: turning each source's schedule into a procrastinate periodic task, the job that runs one source
(``run_once`` for that source alone, the code path of ``feedbot run --source``), the shared backoff
of failing sources, taking back the jobs of a worker that died, and this process's row in the
``workers`` table (for ``/healthz``). Must not: fetch, split, store or render by itself, or speak
SQL: the store does that, procrastinate keeps its own tables.

How the engine gives the guarantees (procrastinate keeps everything in the same PostgreSQL):
- **Every period, once**: each worker's periodic deferrer tries to defer each source's job for each
  tick of its schedule; the database accepts one job per (source, tick), whichever worker asks.
- **Never twice at once**: a job's ``lock`` is its feed (``feed:NAME``): procrastinate starts no job
  while another job with the same lock is running, on any node. Sources writing the same feed take
  turns, as in the daemon, so a feed is never rendered from a state older than the one another
  node just wrote. The ``queueing_lock`` (``source:NAME``) keeps at most one run of a source
  waiting: a run that outlasts its period makes the next one wait, not pile up.
- **A node that dies**: its worker stops updating its heartbeat (every :data:`HEARTBEAT` seconds);
  the recovery task, itself periodic (every :data:`RECOVER_EVERY` seconds, on whichever worker
  takes it), hands the running jobs of a worker silent for :data:`STALLED_AFTER` seconds back to
  the queue, or ends them when the source's next run is already waiting, which frees the feed's
  lock. So a killed node's sources run again elsewhere within about STALLED_AFTER +
  RECOVER_EVERY + one period. A run cut short leaves the last complete state: the store writes one
  transaction per page and the feed documents are replaced in one statement.
- **Backoff, shared**: consecutive failures are in ``source_runs``; a tick of a source that failed
  twice or more in a row runs only once its backoff (as the daemon computes it) has passed.
- **Politeness for the cluster**: ``host_concurrency`` and ``host_interval`` are held in the state
  (:class:`feedbot.store.SharedHostGate`), not per node.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import utcnow_exact
from .config import Config, SourceConfig
from .daemon import REPORT_AFTER
from .errors import FeedbotError, StoreError
from .fetch import Fetcher
from .model import WorkerRow
from .run import fetch_settings, run_once
from .schedule import MAX_BACKOFF, backoff_delay
from .store import SharedHostGate, Store, connection_pool, display_location

log = logging.getLogger("feedbot")

TASK = "feedbot.run_source"
RECOVER_TASK = "feedbot.recover_stalled"
HEARTBEAT = 2.0  # seconds between heartbeats (procrastinate's, and this process's workers row)
STALLED_AFTER = (
    10.0  # seconds without a heartbeat after which a worker's running jobs are taken back
)
RECOVER_EVERY = 5  # seconds between two looks for stalled jobs
FORGET_WORKERS_AFTER = 3600.0  # seconds: a worker silent this long leaves /healthz
MAX_CRON_JITTER = 60  # seconds: a cron schedule's runs start up to this much after their minute

# periods a cron expression can tick at evenly, in seconds (divisors of a minute, an hour, a day)
_SECOND_STEPS = [n for n in range(1, 61) if 60 % n == 0]
_MINUTE_STEPS = [n * 60 for n in range(1, 61) if 60 % n == 0]
_HOUR_STEPS = [n * 3600 for n in range(1, 25) if 24 % n == 0]


@dataclass(frozen=True)
class Periodic:
    """A source's schedule as procrastinate ticks it: a 6-field cron expression (croniter's order:
    minute hour day month weekday second), and for an interval that no cron expression ticks evenly,
    which ticks run: those where ``(timestamp - phase) // tick`` is a multiple of ``every``."""

    cron: str
    tick: int = 0  # seconds between ticks (0: a cron schedule, every tick runs)
    every: int = 1
    phase: int = 0

    def runs_at(self, timestamp: int) -> bool:
        if self.tick == 0 or self.every == 1:
            return True
        return ((timestamp - self.phase) // self.tick) % self.every == 0


def stable_offset(name: str, span: int) -> int:
    """The same offset in [0, span) for a source on every node (so that sources do not all fire
    in the same second, as the daemon's jitter does, but the cluster agrees on when)."""
    if span <= 1:
        return 0
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % span


def periodic_for(schedule_text: str, interval: float | None, name: str) -> Periodic:
    """The procrastinate schedule of a source: an interval of N seconds becomes runs at the moments
    ``t`` with ``(t - phase) % N == 0`` (the phase, at most a tenth of the period and five minutes,
    spreads the sources); a cron expression runs at its minutes plus a stable 0-59 s offset."""
    if interval is None:
        offset = stable_offset(name, MAX_CRON_JITTER)
        return Periodic(f"{schedule_text} {offset}")
    n = int(interval)
    phase = stable_offset(name, min(max(1, n // 10), 300))
    tick = max(
        step for step in [*_SECOND_STEPS, *_MINUTE_STEPS, *_HOUR_STEPS, 86400] if n % step == 0
    )
    p = phase % tick
    sec, minute, hour = p % 60, (p // 60) % 60, p // 3600
    if tick < 60:
        cron = f"* * * * * {sec}-59/{tick}"
    elif tick < 3600:
        cron = f"{minute}-59/{tick // 60} * * * * {sec}"
    elif tick < 86400:
        cron = f"{minute} {hour}-23/{tick // 3600} * * * {sec}"
    else:
        cron = f"{minute} {hour} * * * {sec}"
    return Periodic(cron, tick, n // tick, phase)


@dataclass
class WorkerState:
    """What the jobs of this process share: the config, the pool, the fetcher, the counters."""

    config: Config
    url: str
    pool: Any
    fetcher: Fetcher
    node: str
    concurrency: int
    now: Callable[[], datetime] = utcnow_exact  # the worker's clock (the one clock, handed in)
    periodic: dict[str, Periodic] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: threading.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        # procrastinate runs concurrency + 1 jobs (one for the recovery task, which must never
        # wait behind runs); at most `concurrency` of them are sources
        self.slots = threading.Semaphore(self.concurrency)

    def run_now(self) -> datetime:
        """The clock as a run reads it: to the second, as every stored time is."""
        return self.now().replace(microsecond=0)

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        with (
            self.pool.connection() as conn,
            Store(self.url, connection=conn, migrate=False) as store,
        ):
            yield store


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_app(state: WorkerState) -> Any:
    """The procrastinate app of this process: the run task, one periodic registration per source,
    and the recovery task."""
    import procrastinate
    from procrastinate import exceptions, jobs

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=state.url, kwargs={"application_name": f"feedbot worker {state.node}"}
        ),
        periodic_defaults={"max_delay": 600},
    )

    def run_source(timestamp: int, source: str) -> None:
        run_tick(state, source, timestamp)

    task = app.task(name=TASK, pass_context=False)(run_source)
    for source in state.config.sources:
        schedule = state.config.schedule_of(source)
        plan = periodic_for(schedule.text, schedule.interval, source.name)
        state.periodic[source.name] = plan
        app.periodic(
            cron=plan.cron,
            periodic_id=source.name,
            lock=f"feed:{source.feed}",
            queueing_lock=f"source:{source.name}",
            task_kwargs={"source": source.name},
        )(task)

    async def recover_stalled(timestamp: int) -> None:
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            assert job.id is not None
            try:
                await manager.retry_job(job)
                log.warning(
                    "job %d (%s, lock %s) of a silent worker handed back to the queue",
                    job.id,
                    job.task_kwargs.get("source", job.task_name),
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
                    job.task_kwargs.get("source", job.task_name),
                    job.lock,
                )
        await asyncio.to_thread(_forget_workers, state)

    recover = app.task(name=RECOVER_TASK, pass_context=False, queueing_lock=RECOVER_TASK)(
        recover_stalled
    )
    app.periodic(cron=f"* * * * * */{RECOVER_EVERY}", periodic_id="recover")(recover)
    return app


def _forget_workers(state: WorkerState) -> None:
    cutoff = state.now() - timedelta(seconds=FORGET_WORKERS_AFTER)
    with state.store() as store:
        for worker in store.workers():
            if worker.heartbeat < cutoff:
                store.remove_worker(worker.node)


def run_tick(state: WorkerState, name: str, timestamp: int) -> None:
    """One tick of one source's schedule on this worker: run it unless its schedule skips this tick
    or it is backing off. Never raises for a source's fault (errors are values, and the next tick
    is the retry)."""
    config = state.config
    try:
        source = config.source(name)
    except KeyError:
        log.warning("source=%s is not in this worker's config; its job is dropped", name)
        return
    plan = state.periodic.get(name)
    if plan is not None and not plan.runs_at(timestamp):
        return
    with state.slots:
        _run(state, source, timestamp)


def _run(state: WorkerState, source: SourceConfig, timestamp: int) -> None:
    config, name = state.config, source.name
    with state.lock:
        state.running.add(name)
    started = state.now().timestamp()
    log.info("source=%s run=start node=%s tick=%d at=%.3f", name, state.node, timestamp, started)
    ok, error = False, None
    try:
        with state.store() as store:
            if _backing_off(state, store, source):
                ok, error = True, None
                log.info(
                    "source=%s run=skip node=%s tick=%d (backing off)", name, state.node, timestamp
                )
                return
            results = run_once(
                config, names=[name], fetcher=state.fetcher, store=store, now=state.run_now
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
            timestamp,
            state.now().timestamp(),
            ok,
        )
    if not ok:
        _report_failure(state, source)


def _backing_off(state: WorkerState, store: Store, source: SourceConfig) -> bool:
    """Whether a source that failed twice or more in a row is still in its backoff (the count is
    in the shared state, so every node agrees)."""
    run = store.source_run(source.name)
    if run is None or run.failures < 2:
        return False
    now = state.now()
    period = state.config.schedule_of(source).period(now)
    wait = backoff_delay(period, run.failures, MAX_BACKOFF)
    # a tick lands on the period's grid, the last run a little after one: a tenth of slack
    return now < run.last_run + timedelta(seconds=wait - period / 10)


def _report_failure(state: WorkerState, source: SourceConfig) -> None:
    try:
        with state.store() as store:
            run = store.source_run(source.name)
    except StoreError:
        return
    if run is None:
        return
    period = state.config.schedule_of(source).period(state.now())
    wait = backoff_delay(period, run.failures, MAX_BACKOFF)
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
            with state.store() as store:
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
    # connections: one per running job, one per request holding a host slot, and a few spare
    pool = connection_pool(url, size=2 * concurrency + 4, name="feedbot-worker")
    settings = fetch_settings(config)
    gate = SharedHostGate(pool, concurrency=config.host_concurrency, interval=config.host_interval)
    fetcher = Fetcher(settings, gate=gate, now=lambda: now().replace(microsecond=0))
    node = node_name()
    state = WorkerState(config, url, pool, fetcher, node, concurrency, now)
    started = now()
    stop = threading.Event()
    try:
        with state.store() as store:
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
        app = build_app(state)
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
        with contextlib.suppress(Exception), state.store() as store:
            store.remove_worker(node)
        fetcher.close()
        pool.close()
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
            state.concurrency + 2, thread_name_prefix="feedbot-job"
        )
    )
    async with app.open_async():
        await app.run_worker_async(
            concurrency=state.concurrency + 1,  # + the recovery task, which must never wait
            name=state.node,
            delete_jobs="successful",
            update_heartbeat_interval=HEARTBEAT,
            stalled_worker_timeout=STALLED_AFTER * 3,
            shutdown_graceful_timeout=shutdown_timeout,
            install_signal_handlers=install_signal_handlers,
        )
