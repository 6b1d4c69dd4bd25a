"""feedbot worker: procrastinate's periodic tasks and locks over a real PostgreSQL, real worker
processes, a real SIGKILL. The full five-minute run with 300 sources is ``python -m bench cluster
soak`` (bench/README.md); this is the same harness and the same checks, shorter."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bench.cluster import print_soak, soak
from feedbot.worker import Periodic, periodic_for, stable_offset

from .pg import PostgresServer


@pytest.mark.parametrize(
    ("schedule", "interval", "cron", "tick", "every"),
    [
        ("1s", 1, "* * * * * 0-59/1", 1, 1),
        ("30s", 30, None, 30, 1),
        ("45s", 45, None, 15, 3),
        ("30m", 1800, None, 1800, 1),
        ("7m", 420, None, 60, 7),
        ("1h", 3600, None, 3600, 1),
        ("90m", 5400, None, 1800, 3),
        ("1d", 86400, None, 86400, 1),
        ("2d", 172800, None, 86400, 2),
    ],
)
def test_an_interval_becomes_an_evenly_ticking_cron_and_which_ticks_run(
    schedule: str, interval: int, cron: str | None, tick: int, every: int
) -> None:
    import croniter  # type: ignore[import-untyped]

    plan = periodic_for(schedule, interval, "some-source")
    assert (plan.tick, plan.every) == (tick, every)
    if cron:
        assert plan.cron == cron
    # over three periods, the ticks that run are exactly one period apart, on the source's phase
    times = croniter.croniter(plan.cron, 1_700_000_000 - 1)
    ticks = [int(times.get_next(float)) for _ in range(3 * every + 1)]
    assert all(b - a == tick for a, b in itertools.pairwise(ticks))
    runs = [t for t in ticks if plan.runs_at(t)]
    assert all(b - a == interval for a, b in itertools.pairwise(runs))
    assert len(runs) >= 3
    assert all((t - plan.phase) % interval == 0 for t in runs)
    assert plan.phase < max(1, min(interval // 10, 300))


def test_the_phase_is_the_same_on_every_node_and_spreads_sources() -> None:
    assert periodic_for("1h", 3600, "a") == periodic_for("1h", 3600, "a")
    phases = {periodic_for("1h", 3600, f"s{i}").phase for i in range(50)}
    assert len(phases) > 30 and max(phases) < 300
    assert stable_offset("x", 1) == 0


def test_a_cron_schedule_keeps_its_minutes_with_a_stable_second() -> None:
    plan = periodic_for("0 9 * * 1-5", None, "weekday")
    assert plan.cron.startswith("0 9 * * 1-5 ") and plan == Periodic(plan.cron)
    assert 0 <= int(plan.cron.split()[-1]) < 60


@pytest.mark.postgresql
def test_three_workers_a_sigkill_no_overlap_no_loss(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """30 sources on a 1 s schedule, three workers, 40 s, one worker SIGKILLed in the middle of
    runs at 15 s (started again 20 s later): every source ran in every second it was due except
    while its feed's lock was held by the killed run, no source ever ran twice at once, the held
    sources ran again on another worker within 30 s, every story served was stored once, and the
    state's integrity checks are clean."""
    report = soak(sources=30, workers=3, seconds=40, kills=[15], folder=tmp_path, server=postgres)
    print_soak(report)
    assert report.overlaps == []
    assert report.resumed_after, "the kill landed between runs: nothing was held"
    assert max(report.resumed_after) <= 30
    assert report.duplicates == [] and report.lost == [] and report.unexpected == []
    assert report.integrity == []
    # ticks are missed only by the sources whose jobs the killed worker held (at most its
    # concurrency, 8, and the recovery task), and only until they ran elsewhere
    assert len(report.missed) <= 9
    assert report.longest_gap <= 30
    assert all(n <= 30 for n in report.missed.values())
    assert report.stories_expected > 0
