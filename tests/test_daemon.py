"""The daemon as a separate process against a local server on a one-second schedule: it picks up a
page change, SIGHUP adds a source and rejects a bad config, SIGTERM ends it with status 0, SIGKILL in
the middle of a run loses and duplicates nothing, a ``feedbot run`` beside it is refused with the
daemon's pid, and a failing source backs off. Plus the pure parts: backoff and schedules."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedbot.cli import main
from feedbot.config import load_config
from feedbot.daemon import STATE_FILE, Daemon, read_daemon_state
from feedbot.errors import ConfigError
from feedbot.lock import RunLock
from feedbot.schedule import Schedule, backoff_delay, cron_trigger, parse_duration
from feedbot.store import Store

from .helpers import FIXTURES, Response, Server, check_atom, write_config

DAY1 = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
DAY2 = (FIXTURES / "ukraine-digest-2022-03-07.html").read_bytes()
NEW_ON_DAY2 = "測試條目:新增消息一則"  # the one new story of the second page


def wait_for(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


class DaemonProcess:
    """``python -m feedbot daemon`` in a child process, its log in a file."""

    def __init__(self, config: Path, *args: str) -> None:
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedbot", "daemon", "-c", str(config), *args],
            stdout=subprocess.DEVNULL,
            stderr=self.log_file,
            cwd=config.parent,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 5.0) -> tuple[int, float]:
        """SIGTERM; returns the exit status and how long it took."""
        started = time.monotonic()
        self.signal(signal.SIGTERM)
        status = self.proc.wait(timeout)
        return status, time.monotonic() - started

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


@pytest.fixture
def daemons() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, *args: str) -> DaemonProcess:
        daemon = DaemonProcess(config, *args)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


def feed_titles(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [entry.title for entry in check_atom(path.read_bytes()).entries]


def source(server: Server, name: str, path: str) -> dict[str, Any]:
    return {"name": name, "url": server.url(path), "feed": name, "schedule": "1s"}


def requests_for(server: Server, path: str) -> list[tuple[str, str, dict[str, str]]]:
    return [r for r in server.requests if r[1] == path]


def test_one_second_is_a_schedule() -> None:
    assert parse_duration("1s") == 1
    assert Schedule.parse("1s").interval == 1.0


def test_daemon_follows_changes_reloads_refuses_a_run_and_stops(
    tmp_path: Path,
    server: Server,
    daemons: Callable[..., DaemonProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.routes["/a"] = Response(body=DAY1)
    server.routes["/b"] = Response(body=DAY1)
    config = write_config(tmp_path, [source(server, "a", "/a")])
    feeds = tmp_path / "feeds"
    daemon = daemons(config)
    wait_for("feed a", lambda: len(feed_titles(feeds / "a.atom")) == 5)

    # a page change is picked up on the next run
    server.routes["/a"] = Response(body=DAY2)
    wait_for("the new story", lambda: NEW_ON_DAY2 in feed_titles(feeds / "a.atom"))
    assert len(feed_titles(feeds / "a.atom")) == 6

    # a cron run beside the daemon is refused at once, naming the daemon
    started = time.monotonic()
    assert main(["run", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"the feedbot daemon (pid {daemon.pid}) is running" in err, err
    assert time.monotonic() - started < 1.5  # it does not wait out lock_timeout

    # status shows the daemon and the next run
    assert main(["status", "-c", str(config), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["result"] == "ok" and rows[0]["failures"] == 0 and rows[0]["items"] == 6
    assert rows[0]["next_run"] is not None
    assert main(["status", "-c", str(config)]) == 0
    assert f"daemon: running (pid {daemon.pid}" in capsys.readouterr().out

    # SIGHUP adds a source
    write_config(tmp_path, [source(server, "a", "/a"), source(server, "b", "/b")])
    daemon.signal(signal.SIGHUP)
    wait_for("feed b", lambda: len(feed_titles(feeds / "b.atom")) == 5)
    assert "config reloaded: 2 source(s); added: b" in daemon.log()

    # an invalid config is rejected and the running one goes on
    good = config.read_text()
    config.write_text(good.replace('schedule = "1s"', 'schedule = "often"', 1))
    daemon.signal(signal.SIGHUP)
    wait_for("the rejection", lambda: "config reload rejected" in daemon.log())
    assert "schedule" in daemon.log().split("config reload rejected")[1].splitlines()[0]
    seen = len(requests_for(server, "/b"))
    wait_for("more runs of b", lambda: len(requests_for(server, "/b")) >= seen + 2, timeout=5)
    config.write_text(good)

    # SIGHUP removes a source: its runs stop
    write_config(tmp_path, [source(server, "a", "/a")])
    daemon.signal(signal.SIGHUP)
    wait_for("the removal", lambda: "removed: b" in daemon.log())
    time.sleep(0.3)  # a run of b queued before the reload may still finish
    seen = len(requests_for(server, "/b"))
    time.sleep(2.0)
    assert len(requests_for(server, "/b")) == seen

    # SIGTERM: status 0 within 5 s, the lock released, the daemon file gone
    status, took = daemon.stop()
    assert status == 0 and took < 5
    assert not (tmp_path / "state" / STATE_FILE).exists()
    with RunLock(tmp_path / "state", 0):
        pass
    log = daemon.log()
    assert "daemon stopped" in log
    assert "source=a result=ok new=1 updated=1" in log  # one line per run, with the counts


def test_sigkill_in_the_middle_of_a_run_then_restart(
    tmp_path: Path, server: Server, daemons: Callable[..., DaemonProcess]
) -> None:
    server.routes["/a"] = Response(body=DAY1)
    config = write_config(tmp_path, [source(server, "a", "/a")])
    atom = tmp_path / "feeds" / "a.atom"
    first = daemons(config, "--log-format", "json")
    wait_for("feed a", lambda: len(feed_titles(atom)) == 5)

    # the next page is served slowly; the daemon is killed while it waits for it
    server.routes["/a"] = Response(body=DAY2, delay=3)
    seen = len(server.requests)
    wait_for("the slow request", lambda: len(server.requests) > seen, timeout=5)
    time.sleep(0.3)
    first.signal(signal.SIGKILL)
    assert first.proc.wait(5) == -signal.SIGKILL
    assert len(feed_titles(atom)) == 5
    for line in first.log().splitlines():  # --log-format json: every line is a JSON object
        assert json.loads(line)["level"] in ("info", "warning", "error")

    # a restart takes the lock the dead daemon held, and catches up
    server.routes["/a"] = Response(body=DAY2)
    second = daemons(config)
    wait_for("the new story", lambda: NEW_ON_DAY2 in feed_titles(atom))
    status, took = second.stop()
    assert status == 0 and took < 5

    parsed = check_atom(atom.read_bytes())
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)) == 6
    with Store(load_config(config).db_path) as store:
        rows = store.db.execute("SELECT entry_id, key FROM entries WHERE feed = 'a'").fetchall()
    assert len(rows) == 6 and {r["entry_id"] for r in rows} == set(ids)
    assert len({r["key"] for r in rows}) == 6  # no story stored twice


def test_sigterm_lets_a_short_run_finish_and_abandons_a_long_one(
    tmp_path: Path, server: Server, daemons: Callable[..., DaemonProcess]
) -> None:
    server.routes["/short"] = Response(body=DAY1, delay=1)
    server.routes["/long"] = Response(body=DAY1, delay=8)
    config = write_config(
        tmp_path, [source(server, "short", "/short"), source(server, "long", "/long")]
    )
    daemon = daemons(config, "--shutdown-timeout", "2")
    wait_for("both requests", lambda: {r[1] for r in server.requests} == {"/short", "/long"})
    status, took = daemon.stop()
    assert status == 0 and took < 4.5, took  # 2 s for the short run, then out
    feeds = tmp_path / "feeds"
    assert len(feed_titles(feeds / "short.atom")) == 5  # finished within the grace time
    assert not (feeds / "long.atom").exists() and not list(feeds.glob(".*"))  # nothing half-written
    log = daemon.log()
    assert "abandoned 1 run(s) in flight after 2s: long" in log
    assert len(server.requests) == 2  # no new run started after SIGTERM
    with RunLock(tmp_path / "state", 0):
        pass
    with Store(load_config(config).db_path) as store:
        runs = store.source_runs()
    assert runs["short"].result == "ok" and "long" not in runs


def test_failing_source_backs_off_and_recovers(
    tmp_path: Path,
    server: Server,
    daemons: Callable[..., DaemonProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.routes["/a"] = Response(404, b"gone", {"Content-Type": "text/plain"})
    config = write_config(tmp_path, [source(server, "a", "/a")])
    daemon = daemons(config, "--max-backoff", "4s")
    stamps: list[float] = []

    def tries() -> int:
        while len(stamps) < len(requests_for(server, "/a")):
            stamps.append(time.monotonic())
        return len(stamps)

    wait_for("four tries", lambda: tries() >= 4, timeout=12)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # one period after the first failure (counted from the scheduled start, so the first run's
    # set-up makes it shorter), then 2 s, then 4 s (the cap), counted from the end of the failed run
    assert gaps[0] < 1.8 and 1.9 < gaps[1] < 3.5 and 3.9 < gaps[2] < 5.5, gaps

    log = daemon.log()
    assert "source=a failing: 3 failed run(s) in a row" in log
    assert "ERROR: source=a failing: 3" in log and "404" in log
    assert main(["status", "-c", str(config), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["result"] == "error" and row["failures"] >= 3 and "404" in row["last_error"]

    # the site comes back: the next try succeeds and the normal period returns
    server.routes["/a"] = Response(body=DAY1)
    wait_for("recovery", lambda: "recovered after" in daemon.log(), timeout=6)
    count = tries()
    wait_for("two more runs", lambda: tries() >= count + 2, timeout=4)
    assert stamps[-1] - stamps[-2] < 1.9  # not the 4 s of the backoff
    status, _ = daemon.stop()
    assert status == 0


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(60, n, 3600) for n in range(6)] == [60, 60, 120, 240, 480, 960]
    assert backoff_delay(60, 10, 3600) == 3600
    assert backoff_delay(60, 10_000, 3600) == 3600  # no overflow after months of failures
    assert backoff_delay(86400, 5, 3600) == 86400  # never more often than the schedule


def test_cron_schedule_period_and_due_time() -> None:
    now = datetime(2022, 3, 6, 9, 0, tzinfo=UTC)
    schedule = Schedule.parse("7 * * * *")
    assert schedule.interval is None and schedule.period(now) == 3600
    assert schedule.due_after(now, now) == datetime(2022, 3, 6, 9, 7, tzinfo=UTC)
    interval = Schedule.parse("30m")
    assert interval.due_after(now, now) == now + timedelta(minutes=30)


def test_stale_daemon_file_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    data = {"pid": 1, "started": "2022-03-06T09:00:00+00:00", "sources": {"a": {"next_run": None}}}
    (state / STATE_FILE).write_text(json.dumps(data))
    assert read_daemon_state(state) is None  # pid 1 is not the lock's holder
    (state / "feedbot.lock").write_text(f"{os.getpid()} daemon\n")
    data["pid"] = os.getpid()
    (state / STATE_FILE).write_text(json.dumps(data))
    info = read_daemon_state(state)
    assert info is not None and info.pid == os.getpid()


def test_concurrent_first_opens_of_a_new_store_migrate_once(tmp_path: Path) -> None:
    """Found by the soak: the daemon's first runs, in parallel threads on a new state database,
    each tried to create the schema ("table entries already exists")."""
    errors: list[BaseException] = []
    for round_ in range(5):
        path = tmp_path / f"s{round_}.db"
        barrier = threading.Barrier(8)

        def open_store(path: Path = path, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                Store(path).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),  # APScheduler's own reading: Tue to Sat
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("sat,sun", ["Sat", "Sun"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("*", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
    ],
)
def test_cron_weekdays_as_crontab_means_them(weekday: str, days: list[str]) -> None:
    trigger = cron_trigger(f"0 7 * * {weekday}")
    fired: list[datetime] = []
    at = datetime(2022, 3, 6, 0, 0, tzinfo=UTC)  # a Sunday
    while len(fired) < 14:
        nxt = trigger.get_next_fire_time(fired[-1] if fired else None, at)
        assert nxt is not None
        fired.append(nxt)
        at = nxt + timedelta(seconds=1)
    assert all(t.hour == 7 and t.minute == 0 for t in fired)
    assert {t.strftime("%a") for t in fired} == set(days)


def test_bad_weekday_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, [{"name": "a", "url": "http://127.0.0.1/", "schedule": "0 7 * * 8"}]
    )
    with pytest.raises(ConfigError, match=r"sources\[0\] \(a\)\.schedule: is not a valid cron"):
        load_config(config)


def test_a_restart_keeps_backing_off_a_failing_source(tmp_path: Path) -> None:
    """Consecutive failures come from the store's source_runs, so a restarted daemon does not
    hammer a broken site; a source that ran recently waits for its turn; a new one starts soon."""
    config = write_config(
        tmp_path,
        [
            {"name": "broken", "url": "http://127.0.0.1:9/", "schedule": "1m"},
            {"name": "fine", "url": "http://127.0.0.1:9/", "schedule": "1m"},
            {"name": "new", "url": "http://127.0.0.1:9/", "schedule": "1m"},
        ],
    )
    now = datetime(2022, 3, 6, 9, 0, tzinfo=UTC)
    with Store(load_config(config).db_path) as store:
        for _ in range(5):
            store.record_run("broken", now=now, ok=False, result="error", error="HTTP 500")
        store.record_run("fine", now=now, ok=True, result="ok")
    daemon = Daemon(config, max_backoff=3600, now=lambda: now + timedelta(seconds=30))
    daemon._seed_states()
    assert daemon.states["broken"].failures == 5
    schedules = {s.name: daemon.config.schedule_of(s) for s in daemon.config.sources}
    first = {s.name: daemon._first_run(s, schedules[s.name]) for s in daemon.config.sources}
    assert first["broken"] >= now + timedelta(minutes=16)  # 2**4 periods after the last failure
    assert now + timedelta(minutes=1) <= first["fine"] <= now + timedelta(minutes=1, seconds=6)
    assert first["new"] <= now + timedelta(seconds=30 + 6)


def test_a_scheduled_run_reads_the_daemons_clock(tmp_path: Path) -> None:
    """The daemon hands its clock to run_once (and to its fetcher): what the run stores is the
    daemon's time, to the second like every stored time."""
    import shutil

    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "p.html")
    config = write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}])
    when = datetime(2022, 3, 6, 9, 0, 0, 250_000, tzinfo=UTC)
    daemon = Daemon(config, now=lambda: when)
    daemon._seed_states()
    daemon._run_source("s")
    assert daemon.states["s"].failures == 0 and daemon.states["s"].last_run == when
    with Store(load_config(config).db_path) as store:
        assert store.source_runs()["s"].last_run == when.replace(microsecond=0)
        entries = store.feed_entries("f", 10)
    assert len(entries) == 5
    assert {e.first_seen for e in entries} == {when.replace(microsecond=0)}
    for fetcher in daemon._fetchers:
        assert fetcher.now() == when.replace(microsecond=0)
        fetcher.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_daemon_serve_answers_while_it_runs_and_follows_a_reload(
    tmp_path: Path, server: Server, daemons: Callable[..., DaemonProcess]
) -> None:
    import requests

    server.routes["/a"] = Response(body=DAY1)
    server.routes["/b"] = Response(body=DAY1)
    config = write_config(tmp_path, [source(server, "a", "/a")])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    daemon = daemons(config, "--serve", "--port", str(port))

    def healthy() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for("a healthy daemon", healthy)
    health = requests.get(f"{base}/healthz", timeout=2).json()
    assert "a" in json.dumps(health)
    feed = requests.get(f"{base}/a.atom", timeout=2)
    assert feed.status_code == 200 and len(check_atom(feed.content).entries) == 5
    again = requests.get(
        f"{base}/a.atom", headers={"If-None-Match": feed.headers["ETag"]}, timeout=2
    )
    assert again.status_code == 304
    assert requests.get(f"{base}/b.atom", timeout=2).status_code == 404

    # SIGHUP adds a source: the server, same socket, serves its feed and lists it
    write_config(tmp_path, [source(server, "a", "/a"), source(server, "b", "/b")])
    daemon.signal(signal.SIGHUP)
    wait_for("feed b served", lambda: requests.get(f"{base}/b.atom", timeout=2).status_code == 200)
    assert "b.atom" in requests.get(f"{base}/", timeout=2).text

    status, took = daemon.stop()
    assert status == 0 and took < 5
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
