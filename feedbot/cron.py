"""Cron expressions as cron means them, turned into APScheduler 3 triggers.

APScheduler 3's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, so ``1-5`` (Monday
to Friday in crontab) would run Tuesday to Saturday, and it refuses ``7`` (Sunday in crontab). Here
the weekday field is read with crontab's numbering (0 or 7 = Sunday, names allowed) and handed to
APScheduler as day names, which mean the same in both.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


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
