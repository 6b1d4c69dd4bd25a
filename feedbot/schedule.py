"""Schedules: when each source runs. The config parses a schedule once into a :class:`Schedule`; the
daemon (its trigger, jitter, due time and backoff) and health (``/healthz`` and the feeds'
``Cache-Control: max-age``) read that one value.

Owns: durations (``"30m"``), 5-field cron expressions read as crontab reads them (in UTC), and
everything derived from a schedule. Pure: ``now`` is passed in; nothing here reads the clock, the
store or the config.

Two questions, two answers, on purpose:
- :meth:`Schedule.period` is the gap *at a moment*: for a cron expression, between its next two
  runs after ``now``. The daemon bases jitter, misfire grace and backoff on it (a source failing on a
  Friday evening with ``0 9 * * 1-5`` backs off in steps of the weekend's gap).
- :meth:`Schedule.periods` is the shortest and the longest gap over the next :data:`CRON_SAMPLES`
  runs from a fixed reference date: caching uses the shortest (a reader never waits longer than one
  run), staleness the longest (a quiet weekend is not an alarm). It does not depend on ``now``, so
  ``/healthz`` and ``max-age`` do not change with the day of the week.

Cron weekdays: APScheduler 3's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, so
``1-5`` (Monday to Friday in crontab) would run Tuesday to Saturday, and it refuses ``7`` (Sunday in
crontab). Here the weekday field is read with crontab's numbering (0 or 7 = Sunday, names allowed)
and handed to APScheduler as day names, which mean the same in both.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first needed: `feedbot run` on interval schedules never does
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

MAX_JITTER = 300.0  # seconds: runs start up to a tenth of the period late, at most this
MAX_BACKOFF = 6 * 3600.0  # seconds: a failing source is still tried at least this often
CRON_SAMPLES = 64  # runs of a cron expression looked at for its shortest and longest gap
CRON_FALLBACK_PERIOD = 86400.0  # seconds: the gap of a cron expression with no two runs ahead
_REFERENCE = datetime(2021, 1, 4, tzinfo=UTC)  # a Monday, so weekday patterns show their full cycle
_DURATION_RE = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_duration(value: str) -> int:
    """``"30m"`` -> 1800. Raises ValueError for anything else."""
    match = _DURATION_RE.match(value.strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration such as '30m', '2h' or '1d': {value!r}")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


@dataclass(frozen=True)
class Periods:
    shortest: int  # seconds
    longest: int


@dataclass(frozen=True)
class Schedule:
    """A source's schedule: an interval (``"30m"``) or a 5-field cron expression, in UTC."""

    text: str
    interval: float | None  # seconds, for an interval schedule
    # the parsed expression, for a cron schedule (compared and hashed through ``text``)
    cron: CronTrigger | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Raises ValueError naming what is wrong with ``text``."""
        try:
            return cls(text, float(parse_duration(text)))
        except ValueError:
            pass
        if len(text.split()) != 5:
            raise ValueError(
                f"must be an interval such as '30m' or a 5-field cron expression, not {text!r}"
            )
        try:
            return cls(text, None, cron_trigger(text, timezone=UTC))
        except ValueError as exc:
            raise ValueError(f"is not a valid cron expression: {exc}") from None

    def period(self, now: datetime) -> float:
        """Seconds between two runs at ``now`` (for a cron expression: between its next two times)."""
        if self.interval is not None:
            return self.interval
        assert self.cron is not None
        first = self.cron.get_next_fire_time(None, now)
        second = self.cron.get_next_fire_time(first, first + timedelta(microseconds=1))
        if first is None or second is None:
            return CRON_FALLBACK_PERIOD
        return float((second - first).total_seconds())

    def periods(self) -> Periods:
        """The shortest and longest gap in seconds between runs (the same at any moment)."""
        return self._periods

    @cached_property
    def _periods(self) -> Periods:
        if self.interval is not None:
            return Periods(int(self.interval), int(self.interval))
        assert self.cron is not None
        times: list[datetime] = []
        previous: datetime | None = None
        moment = _REFERENCE
        for _ in range(CRON_SAMPLES):
            fire = self.cron.get_next_fire_time(previous, moment)
            if fire is None:
                break
            times.append(fire)
            previous = fire
            moment = fire + timedelta(seconds=1)
        gaps = [int((b - a).total_seconds()) for a, b in itertools.pairwise(times)]
        if not gaps:
            raise ValueError(f"cron expression {self.text!r} never repeats")
        return Periods(min(gaps), max(gaps))

    def jitter(self, now: datetime) -> float:
        """Up to a tenth of the period (at most five minutes), so sources do not all fire at once."""
        return min(self.period(now) / 10, MAX_JITTER)

    def trigger(self, now: datetime) -> IntervalTrigger | CronTrigger:
        """A new APScheduler trigger for this schedule, with its jitter (one per job: APScheduler
        keeps state in it)."""
        from apscheduler.triggers.interval import IntervalTrigger

        jitter = self.jitter(now)
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval, jitter=jitter, timezone=UTC)
        trigger = cron_trigger(self.text, timezone=UTC)
        trigger.jitter = jitter
        return trigger

    def due_after(self, last_run: datetime, now: datetime) -> datetime:
        """When a source last run at ``last_run`` is next due (the past means: now)."""
        if self.interval is not None:
            return last_run + timedelta(seconds=self.interval)
        assert self.cron is not None
        due = self.cron.get_next_fire_time(None, last_run + timedelta(microseconds=1))
        return due if due is not None else now

    def backoff(self, now: datetime, failures: int, cap: float = MAX_BACKOFF) -> float:
        """Seconds from a failed run at ``now`` to the next try (see :func:`backoff_delay`)."""
        return backoff_delay(self.period(now), failures, cap)


def backoff_delay(period: float, failures: int, cap: float = MAX_BACKOFF) -> float:
    """Seconds from a failed run to the next try of a source that failed ``failures`` times in a
    row: one period after the first failure, doubling with each further one, at most ``cap`` (but
    never less than the period itself). A success resets the count, and so the delay."""
    if failures <= 1:
        return period
    return max(period, min(period * 2.0 ** min(failures - 1, 64), cap))


def _day(value: str) -> int:
    value = value.strip().lower()
    if value.isdigit():
        number = int(value)
        if not 0 <= number <= 7:
            raise ValueError(f"weekday {value!r} is not 0-7")
        return number % 7
    if value[:3] in DAYS and len(value) == 3:
        return DAYS.index(value[:3])
    raise ValueError(f"weekday {value!r} is not 0-7 or a day name")


def cron_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler day names (``"1-5"`` -> ``"mon,tue,wed,thu,fri"``)."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step_text!r} must be at least 1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _day(start), _day(end)
            if end.strip() == "7":
                last = 7  # "5-7": Friday to Sunday
            if first > last:
                raise ValueError(f"range {base!r} runs backwards")
        else:
            first = _day(base)
            last = 6 if step_text else first
        days.update(n % 7 for n in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(DAYS[n] for n in sorted(days))


def cron_trigger(expression: str, *, timezone: tzinfo | str = "UTC") -> CronTrigger:
    """A 5-field crontab expression (minute hour day month weekday) as a CronTrigger. Raises
    ValueError with APScheduler's or our own message for anything invalid."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_weekdays(weekday),
        timezone=timezone,
    )
