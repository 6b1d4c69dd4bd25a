from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from feedbot.browser import Browser, BrowserSettings

from .batch import Batch, Reference, build_reference, serve_batch
from .helpers import Server, check_feed, serve
from .pg import PostgresServer, PostgresUnavailable, unavailable_reason

_databases = itertools.count(1)
_pg_problems: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: needs a real PostgreSQL server (started by the tests themselves)"
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session, on 127.0.0.1 (tests/pg.py). Where its
    programs are missing the PostgreSQL tests are skipped with the reason (printed again at the end
    of the run) — except under CI (``CI`` set), where the suite installs it and a missing server is
    a failure, never a silent pass."""
    reason = unavailable_reason()
    if reason:
        _pg_problems.append(reason)
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(f"PostgreSQL tests cannot run here: {reason}")
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        _pg_problems.append(str(exc))
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server, for one test."""
    return postgres.create_database(f"feedbot_test_{os.getpid()}_{next(_databases)}")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """Say why the PostgreSQL tests did not run, when they did not; and name the order the tests
    ran in (pytest-randomly shuffles it; addopts' -q hides its header line), so an
    order-dependent failure can be replayed."""
    if _pg_problems:
        terminalreporter.write_sep("=", "PostgreSQL tests did not run", yellow=True)
        for problem in dict.fromkeys(_pg_problems):
            terminalreporter.write_line(problem)
    seed = config.getoption("randomly_seed", None)
    if isinstance(seed, int) and config.getoption("randomly_reorganize", True):
        terminalreporter.write_line(
            f"test order shuffled by pytest-randomly: replay with --randomly-seed={seed}"
        )


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _every_feed_written_is_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used tmp_path, every feed file it left in a feeds directory must be
    valid: Atom against the RFC 4287 schema and feedparser, RSS with feedparser, JSON Feed against
    the JSON Feed 1.1 schema. (So "every format from every test" holds without each test asking.)"""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp_path = request.getfixturevalue("tmp_path")
    yield
    for path in sorted(tmp_path.rglob("*")):
        fmt = path.suffix.lstrip(".")
        if fmt in ("atom", "rss", "json") and path.is_file() and path.parent.name == "feeds":
            try:
                check_feed(fmt, path.read_bytes())
            except AssertionError as exc:
                raise AssertionError(
                    f"{path.relative_to(tmp_path)} is not a valid feed: {exc}"
                ) from None


@pytest.fixture(scope="session")
def batch() -> Iterator[Batch]:
    """The crash and storage-fault tests' batch of pages, served on 127.0.0.1 (tests/batch.py)."""
    with serve_batch() as b:
        yield b


@pytest.fixture(scope="session")
def reference(batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """Uninterrupted day-1 and day-2 runs of the batch: what a crash or a fault must end up as."""
    return build_reference(batch, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """feedbot's shared headless Chromium (render = "browser"), one for the whole session."""
    with Browser(BrowserSettings(user_agent="feedbot-tests/1 (+http://127.0.0.1/contact)")) as b:
        yield b
