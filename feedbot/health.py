"""Whether each source is fresh: the data of ``/healthz`` and of the feeds' ``Cache-Control: max-age``.

Owns: turning a source's run record and its schedule's periods into a health verdict. Pure: ``now``
is passed in; nothing here reads the store or the clock. A schedule's periods come from
:meth:`feedbot.schedule.Schedule.periods`: caching uses the shortest gap between runs (a reader
never waits longer than one run), staleness the longest (a quiet weekend is not an alarm).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .config import Config
from .model import SourceRun, WorkerRow

WORKER_SILENT_AFTER = 15  # seconds without a heartbeat after which a worker is reported dead
STALE_PERIODS = 3  # a source not refreshed successfully for this many (longest) periods is stale


def feed_max_age(config: Config, feed: str) -> int:
    """``Cache-Control: max-age`` for a feed: the shortest period of the sources that write it."""
    periods = [config.schedule_of(s).periods().shortest for s in config.sources if s.feed == feed]
    return min(periods, default=3600)


@dataclass(frozen=True)
class SourceHealth:
    source: str
    feed: str
    schedule: str
    period: int  # the longest gap between runs, seconds
    last_run: datetime | None
    last_success: datetime | None
    result: str
    failures: int
    error_kind: str | None  # what kind of failure the last run had (never its message)
    stale: bool

    def as_json(self, now: datetime) -> dict[str, object]:
        return {
            "source": self.source,
            "feed": self.feed,
            "schedule": self.schedule,
            "period_seconds": self.period,
            "stale_after_seconds": self.period * STALE_PERIODS,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "seconds_since_success": int((now - self.last_success).total_seconds())
            if self.last_success
            else None,
            "result": self.result,
            "failures": self.failures,
            "error_kind": self.error_kind,
            "stale": self.stale,
        }


def health(config: Config, runs: dict[str, SourceRun], now: datetime) -> list[SourceHealth]:
    """Each configured source's health. A source is stale when its last successful run is older
    than :data:`STALE_PERIODS` periods, or when it never succeeded."""
    result = []
    for source in config.sources:
        schedule = config.schedule_of(source)
        period = schedule.periods().longest
        run = runs.get(source.name)
        last_success = run.last_success if run else None
        stale = last_success is None or (now - last_success).total_seconds() > (
            period * STALE_PERIODS
        )
        result.append(
            SourceHealth(
                source=source.name,
                feed=source.feed,
                schedule=schedule.text,
                period=period,
                last_run=run.last_run if run else None,
                last_success=last_success,
                result=run.result if run else "never run",
                failures=run.failures if run else 0,
                error_kind=(run.error_kind or ("fetch" if run.error else None)) if run else None,
                stale=stale,
            )
        )
    return result


@dataclass(frozen=True)
class WorkerHealth:
    """One ``feedbot worker`` (a node's process) as ``/healthz`` reports it."""

    row: WorkerRow
    alive: bool

    def as_json(self, now: datetime) -> dict[str, object]:
        w = self.row
        return {
            "node": w.node,
            "host": w.host,
            "pid": w.pid,
            "started": w.started.isoformat(),
            "heartbeat": w.heartbeat.isoformat(),
            "seconds_since_heartbeat": round((now - w.heartbeat).total_seconds(), 1),
            "alive": self.alive,
            "concurrency": w.concurrency,
            "running": list(w.running),
            "runs": w.runs,
        }


def worker_health(workers: list[WorkerRow], now: datetime) -> list[WorkerHealth]:
    """Each worker, alive when its heartbeat is at most :data:`WORKER_SILENT_AFTER` seconds old."""
    return [
        WorkerHealth(w, (now - w.heartbeat).total_seconds() <= WORKER_SILENT_AFTER) for w in workers
    ]
