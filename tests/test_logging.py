"""Logging belongs to the command that set it up: ``main()`` adds its own stderr handler and takes
it away again, so nothing one command (or one test) did to logging is left for the next."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

import pytest

from feedbot.cli import cli_logging, log_settings, main

from .helpers import FIXTURES, write_config


def _loggers() -> dict[str, tuple[list[logging.Handler], int, bool]]:
    names = ("feedbot", "feedbot.serve", "feedbot.access", "apscheduler", "waitress", "")
    return {
        name: (list(logger.handlers), logger.level, logger.propagate)
        for name in names
        for logger in [logging.getLogger(name)]
    }


def _config(tmp_path: Path, *, missing: bool = False) -> Path:
    if not missing:
        shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "p.html")
    return write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}])


@pytest.mark.parametrize("verbose", [[], ["-v"], ["-vv", "--log-format", "json"]])
def test_a_command_leaves_logging_as_it_found_it(tmp_path: Path, verbose: list[str]) -> None:
    before = _loggers()
    assert main(["run", "-c", str(_config(tmp_path, missing=True)), *verbose]) == 1
    assert main(["status", "-c", str(_config(tmp_path)), *verbose]) == 0
    assert _loggers() == before
    assert logging.getLogger("feedbot").propagate  # never cut off from the embedding program


def test_records_reach_the_caller_after_a_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The order-dependent failure of old: after a CLI test, the package logger kept the CLI's
    handler (on a stream pytest had closed) and propagate=False, so caplog saw nothing."""
    assert main(["run", "-c", str(_config(tmp_path)), "-v"]) == 0
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="feedbot"):
        logging.getLogger("feedbot").warning("a warning after the command")
    assert [r.getMessage() for r in caplog.records] == ["a warning after the command"]


def test_run_logs_to_stderr_only_with_v(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(tmp_path)
    with caplog.at_level(logging.INFO, logger="feedbot"):
        assert main(["run", "-c", str(config)]) == 0
    assert capsys.readouterr().err == ""  # cron mails only problems
    assert any("source=s result=ok" in r.getMessage() for r in caplog.records)  # still propagated
    assert main(["run", "-c", str(config), "-v"]) == 0
    assert "feedbot: INFO: source=s result=not-modified" in capsys.readouterr().err


def test_the_handler_is_the_commands_own(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(
        command="daemon", verbose=0, log_format="text", quiet=False, serve=True
    )
    settings = log_settings(args)
    assert settings.level == logging.INFO
    assert dict(settings.libraries) == {
        "apscheduler": logging.ERROR,
        "waitress": logging.WARNING,
        "waitress.queue": logging.ERROR,
    }
    package = logging.getLogger("feedbot")
    with cli_logging(settings) as handler:
        assert handler in package.handlers and handler in logging.getLogger("waitress").handlers
        assert (
            handler not in logging.getLogger("waitress.queue").handlers
        )  # reaches it via waitress
        logging.getLogger("feedbot").info("one line per run")
        logging.getLogger("apscheduler").warning("below ERROR: not shown")
        logging.getLogger("waitress.queue").warning("below ERROR: not shown")
        logging.getLogger("waitress").warning("shown")
    assert handler not in package.handlers
    assert capsys.readouterr().err.splitlines() == [
        "feedbot: INFO: one line per run",
        "feedbot: WARNING: shown",
    ]


def test_json_log_lines_have_a_utc_time_and_the_values_as_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import re

    assert main(["run", "-c", str(_config(tmp_path)), "-v", "--log-format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    for line in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]), line
    (run,) = [line for line in lines if line.get("source") == "s"]
    assert run["level"] == "info" and run["logger"] == "feedbot"
    assert (run["result"], run["new"], run["updated"], run["unchanged"]) == ("ok", 5, 0, 0)
    assert isinstance(run["duration"], float) and run["error"] is None
    assert run["message"].startswith("source=s result=ok new=5")
    (written,) = [line for line in lines if line.get("feed") == "f"]
    assert written["written"] == ["f.atom"]


def test_a_run_without_base_url_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["run", "-c", str(config), "-v"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert "no [feedbot] base_url" in warnings[0] and 'rel="self"' in warnings[0]
    assert main(["run", "-c", str(config)]) == 0  # without -v cron hears nothing
    assert capsys.readouterr().err == ""
    config.write_text(
        config.read_text().replace(
            "[feedbot]\n", '[feedbot]\nbase_url = "http://127.0.0.1:8080/"\n'
        )
    )
    assert main(["run", "-c", str(config), "-v"]) == 0
    assert "WARNING" not in capsys.readouterr().err
