"""A schedule is parsed once (by the config) into one value that the daemon and health share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedbot.config import load_config
from feedbot.errors import ConfigError
from feedbot.health import feed_max_age, health
from feedbot.schedule import Schedule

from .helpers import write_config


def test_the_config_holds_parsed_schedules(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        [
            {"name": "a", "url": "http://127.0.0.1/a", "schedule": "0 9 * * 1-5"},
            {"name": "b", "url": "http://127.0.0.1/b"},
        ],
        schedule="20m",
    )
    config = load_config(path)
    a, b = config.sources
    assert config.schedule_of(a) is a.schedule and a.schedule is not None
    assert a.schedule.text == "0 9 * * 1-5" and a.schedule.interval is None
    assert config.schedule_of(b) is config.schedule == Schedule.parse("20m")
    assert config.schedule.interval == 1200.0


def test_gap_at_a_moment_and_gaps_over_the_week_are_different_questions() -> None:
    """The daemon asks how long the gap is *now* (jitter, misfire grace, backoff); health asks for
    the shortest and longest gap (max-age, staleness). One value answers both, as before."""
    weekdays = Schedule.parse("0 9 * * 1-5")
    thursday = datetime(2022, 3, 10, 10, 0, tzinfo=UTC)  # next runs: Friday 9:00, Monday 9:00
    tuesday = datetime(2022, 3, 8, 10, 0, tzinfo=UTC)  # next runs: Wednesday, Thursday
    assert weekdays.period(thursday) == 3 * 86400
    assert weekdays.period(tuesday) == 86400
    assert (weekdays.periods().shortest, weekdays.periods().longest) == (86400, 3 * 86400)
    assert weekdays.jitter(tuesday) == 300  # a tenth of a day, at most five minutes
    # the third failure in a row waits 4 periods: of the gap at that moment
    assert weekdays.backoff(tuesday, 3, cap=30 * 86400) == 4 * 86400
    assert weekdays.backoff(thursday, 3, cap=30 * 86400) == 12 * 86400
    assert weekdays.backoff(thursday, 3) == 3 * 86400  # capped at 6 h, but never below the period


def test_health_and_max_age_read_the_same_schedule(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        [
            {"name": "a", "url": "http://127.0.0.1/a", "feed": "f", "schedule": "0 9 * * 1-5"},
            {"name": "b", "url": "http://127.0.0.1/b", "feed": "f", "schedule": "2h"},
        ],
    )
    config = load_config(path)
    assert feed_max_age(config, "f") == 7200
    rows = {h.source: h for h in health(config, {}, datetime(2022, 3, 10, tzinfo=UTC))}
    assert (rows["a"].schedule, rows["a"].period) == ("0 9 * * 1-5", 3 * 86400)
    assert (rows["b"].schedule, rows["b"].period) == ("2h", 7200)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("often", "must be an interval such as '30m' or a 5-field cron expression, not 'often'"),
        ("0s", "must be an interval such as '30m'"),
        ("0 7 * * 8", "is not a valid cron expression: weekday '8' is not 0-7"),
        ("61 * * * *", "is not a valid cron expression"),
    ],
)
def test_a_bad_schedule_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_config(tmp_path, [{"name": "a", "url": "http://127.0.0.1/a", "schedule": text}])
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "sources[0] (a).schedule"
    assert message in caught.value.message
