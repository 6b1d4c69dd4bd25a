"""feedbot worker: the cluster's timetable, and procrastinate's periodic tick and locks over a real
PostgreSQL, real worker processes, a real SIGKILL. The full five-minute run with 300 sources is ``python -m bench cluster
soak`` (bench/README.md); this is the same harness and the same checks, shorter."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.cluster import print_soak, soak
from feedbot.config import Config, load_config
from feedbot.model import SourceRun
from feedbot.schedule import parse_duration
from feedbot.worker import Timetable, slot_for, stable_offset

from .pg import PostgresServer


def _config(tmp_path: Path, schedules: dict[str, str]) -> Config:
    lines = ["[feedbot]", 'user_agent = "t/1 (+http://127.0.0.1/c)"']
    for name, schedule in schedules.items():
        lines += ["[[sources]]", f'name = "{name}"', 'url = "x.html"', f'schedule = "{schedule}"']
    path = tmp_path / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_config(path)


T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC, a Tuesday


@pytest.mark.parametrize("schedule", ["1s", "7s", "45s", "30m", "7m", "90m", "1d"])
def test_an_interval_fires_once_per_period_on_a_phase_the_cluster_agrees_on(
    tmp_path: Path, schedule: str
) -> None:
    config = _config(tmp_path, {"some-source": schedule})
    slot = Timetable(config).slots[0]
    period = parse_duration(schedule)
    fires = [t for t in range(T0, T0 + 3 * period) if slot.fires_at(t)]
    assert len(fires) == 3
    assert all(b - a == period for a, b in itertools.pairwise(fires))
    assert all((t - slot.offset) % period == 0 for t in fires)
    assert slot.offset < max(1, min(period // 10, 300))
    assert slot_for("some-source", slot.schedule) == slot  # the same on every node


def test_the_phase_spreads_sources_and_is_stable() -> None:
    from feedbot.schedule import Schedule

    hourly = Schedule.parse("1h")
    offsets = {slot_for(f"s{i}", hourly).offset for i in range(50)}
    assert len(offsets) > 30 and max(offsets) < 300
    assert stable_offset("x", 1) == 0


def test_a_cron_schedule_fires_on_its_minutes_at_a_stable_second(tmp_path: Path) -> None:
    config = _config(tmp_path, {"weekday": "0 9 * * 1-5"})
    slot = Timetable(config).slots[0]
    assert 0 <= slot.offset < 60
    # 2023-11-14 (T0) is a Tuesday; the week from its midnight: runs Tuesday to Friday, and Monday
    midnight = T0 - T0 % 86400
    fires = [t for t in range(midnight, midnight + 7 * 86400) if slot.fires_at(t)]
    days = [datetime.fromtimestamp(t, UTC) for t in fires]
    assert [d.strftime("%a") for d in days] == ["Tue", "Wed", "Thu", "Fri", "Mon"]
    assert all((d.hour, d.minute, d.second) == (9, 0, slot.offset) for d in days)


def test_the_tick_picks_sources_due_now_overdue_and_not_waiting_nor_backing_off(
    tmp_path: Path,
) -> None:
    config = _config(
        tmp_path, {"every": "1s", "hourly": "1h", "fresh-hourly": "1h", "failing": "1s"}
    )
    table = Timetable(config)
    now = datetime.fromtimestamp(T0, UTC)

    def run(name: str, ago: float, failures: int = 0) -> SourceRun:
        last = now - timedelta(seconds=ago)
        return SourceRun(name, last, last, "ok", None, failures, 0, 0, 0)

    runs = {
        "every": run("every", 1),
        "fresh-hourly": run("fresh-hourly", 600),  # ran ten minutes ago, not due this second
        "failing": run("failing", 1, failures=3),  # backs off 4 s after its third failure
    }
    due = table.due(T0, now=now, runs=runs)
    # "hourly" never ran: due at once, whatever its phase; "fresh-hourly" waits for its second
    assert due == ["every", "hourly"]
    assert table.due(T0, now=now, runs=runs, waiting=["every"]) == ["hourly"]
    later = now + timedelta(seconds=4)
    assert "failing" in table.due(T0 + 4, now=later, runs=runs)
    runs["fresh-hourly"] = run("fresh-hourly", 2 * 3600)  # the cluster was down: overdue
    assert "fresh-hourly" in table.due(T0, now=now, runs=runs)


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
