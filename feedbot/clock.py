"""The one place that reads the time. Everything else is handed ``now``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, to the second (stored values stay short and stable)."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp written by :func:`format_iso`."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC (``2022-03-06T08:12:00+00:00``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat()


def utcnow_exact() -> datetime:
    """The current time with microseconds, for scheduling (the daemon's next-run arithmetic)."""
    return datetime.now(UTC)


def epoch_seconds() -> float:
    """Seconds since the epoch as waitress keeps them (its connections' last activity and its
    sweeps compare ``time.time()`` values), for the server's request deadline."""
    return time.time()
