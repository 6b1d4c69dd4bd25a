"""Worker processes for the pure work on pages (feedbot.pool): the same feeds as the threads give,
no process for a run of little work, the children gone when their parent is killed, and a pool
that breaks leaves the work to the threads instead of failing the run."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import feedbot.run as run
from feedbot import pool
from feedbot.config import load_config
from feedbot.errors import ErrorKind
from feedbot.pool import PagePool
from feedbot.run import run_once

from .helpers import FIXTURES, Clock, write_config

ROOT = Path(__file__).resolve().parent.parent

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
NEXT = (FIXTURES / "ukraine-digest-2022-03-07.html").read_bytes()
PIDS: Path | None = None  # where spy_process_page notes the pid it ran in (set before the run)
PROCESS_PAGE = run.process_page


def spy_process_page(*args: Any) -> Any:
    """run.process_page, noting which process ran it (module level: it is sent to children, which
    are forked after the test set PIDS)."""
    if PIDS is not None:
        with PIDS.open("a") as out:
            out.write(f"{os.getpid()}\n")
    return PROCESS_PAGE(*args)


def _sources(directory: Path, count: int) -> list[dict[str, Any]]:
    """``count`` local pages, two feeds sharing stories (so decisions cross sources)."""
    sources = []
    for i in range(count):
        page = (PAGE if i % 2 else NEXT).replace("烏克蘭".encode(), f"烏克蘭{i % 3}".encode())
        (directory / f"p{i}.html").write_bytes(page)
        sources.append({"name": f"s{i}", "url": f"p{i}.html", "feed": f"f{i % 2}"})
    return sources


def _feeds(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((directory / "feeds").iterdir())}


@pytest.fixture
def spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    global PIDS
    PIDS = tmp_path / "pids.txt"
    PIDS.write_text("")
    monkeypatch.setattr(run, "process_page", spy_process_page)
    yield PIDS
    PIDS = None


def test_pages_split_in_worker_processes_give_the_feeds_the_threads_give(
    tmp_path: Path, spy: Path
) -> None:
    """Eight sources into two feeds, twice (day 2 edits and adds stories): with two worker
    processes and with none the feeds are byte-identical, and the processes did split the pages."""
    outputs = []
    for processes in (0, 2):
        directory = tmp_path / "run"  # the same paths both times: links name the pages' files
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        sources = _sources(directory, 8)
        config = load_config(write_config(directory, sources, processes=processes))
        clock = Clock()
        spy.write_text("")
        first = run_once(config, now=clock)
        for i in range(8):  # day 2: the other page under each source
            page = (NEXT if i % 2 else PAGE).replace("烏克蘭".encode(), f"烏克蘭{i % 3}".encode())
            (directory / f"p{i}.html").write_bytes(page)
        clock.now = clock.now.replace(day=7)
        second = run_once(config, now=clock)
        assert all(r.ok for r in first + second), [r.error for r in first + second]
        pids = {int(line) for line in spy.read_text().split()}
        if processes:
            assert os.getpid() not in pids and 2 <= len(pids) <= 4, pids  # each run its own
        else:
            assert pids == {os.getpid()}
        outputs.append(
            (_feeds(directory), [(r.new, r.updated, r.unchanged) for r in first + second])
        )
    assert outputs[0] == outputs[1]
    assert sum(n for n, _, _ in outputs[0][1]) > 0 and any(u for _, u, _ in outputs[0][1])


def test_a_run_of_few_sources_starts_no_process(tmp_path: Path, spy: Path) -> None:
    """One source (a daemon's run, a small config): the page is split in the run's own threads."""
    config = load_config(write_config(tmp_path, _sources(tmp_path, 1)))
    assert config.processes is None  # one per core by default
    (result,) = run_once(config, now=Clock())
    assert result.ok and result.new == 5
    assert {int(line) for line in spy.read_text().split()} == {os.getpid()}
    assert pool.wanted(None, pool.MIN_SOURCES - 1) == 0
    assert pool.wanted(0, 100) == 0
    assert pool.wanted(3, 100) == 3


def test_a_page_that_yields_nothing_fails_alone_in_a_worker_process(tmp_path: Path) -> None:
    """The splitter's error comes back from the child whole: its kind, the page, the message."""
    sources = _sources(tmp_path, 5)
    (tmp_path / "p2.html").write_bytes(b"<html><body><p>nothing to split here</p></body></html>")
    results = {}
    for processes in (0, 2):
        config = load_config(write_config(tmp_path, sources, processes=processes))
        results[processes] = run_once(config, now=Clock())
        for path in (tmp_path / "state").iterdir():
            path.unlink()
    assert [r.ok for r in results[2]] == [True, True, False, True, True]
    failed = results[2][2]
    assert failed.error_kind is ErrorKind.NO_ITEMS
    assert "p2.html" in (failed.error or "") and "no headline structure" in (failed.error or "")
    assert failed.error == results[0][2].error


def _pid(_: int) -> int:
    return os.getpid()


def _die_unless(parent: int) -> str:
    """Kills the process it runs in, unless that is ``parent`` (then it says so)."""
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return "in the thread"


def test_a_pool_that_breaks_leaves_the_work_to_the_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pages = PagePool(1)
    try:
        assert pages.run(_pid, 0) != os.getpid()
        with caplog.at_level(logging.WARNING, logger="feedbot"):
            assert pages.run(_die_unless, os.getpid()) == "in the thread"
        assert "a worker process died" in caplog.text
        assert pages.run(_pid, 0) == os.getpid()  # broken: no new processes
    finally:
        pages.close()


def test_no_process_without_workers_or_after_close() -> None:
    pages = PagePool(0)
    assert pages.run(_pid, 0) == os.getpid() and not pages.started
    pages = PagePool(2)
    assert pages.run(_pid, 0) != os.getpid() and pages.started
    pages.close()
    assert pages.run(_pid, 0) == os.getpid()


def test_the_children_are_not_forked_while_another_thread_has_a_child_processes_pipes() -> None:
    """A Markdown render talks to its child process through pipes; a pool child forked meanwhile
    would hold their other ends open, and the render would wait for ever for the end of its output.
    So the pool forks only once no thread has such pipes open, and its children hold none of them."""
    import multiprocessing
    import threading

    read_end, write_end = os.pipe()  # the pipes of a render in flight
    pipe = f"pipe:[{os.fstat(read_end).st_ino}]"
    got: list[int] = []
    with pool.FORK_GUARD.pipes():
        pages = PagePool(1)
        starter = threading.Thread(target=lambda: got.append(pages.run(_pid, 0)))
        starter.start()
        starter.join(0.5)
        assert starter.is_alive() and not multiprocessing.active_children()
        os.close(read_end)
        os.close(write_end)
    starter.join(30)
    try:
        assert got and got[0] != os.getpid()
        # the child holds no descriptor of the pipes the other thread had open
        fds = Path(f"/proc/{got[0]}/fd")
        assert pipe not in {os.readlink(fd) for fd in fds.iterdir()}
    finally:
        pages.close()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie waiting for init has ended


CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
from feedbot.pool import PagePool
from tests.test_pool import _pid
pages = PagePool(2)
seen = set()
for _ in range(50):
    seen.add(pages.run(_pid, 0))
print(" ".join(map(str, sorted(seen))), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see the children")
def test_the_children_leave_when_their_parent_is_killed() -> None:
    """SIGKILL gives the parent no chance to shut its pool down: the children notice and leave
    (a child blocked on the pool's queue would otherwise wait for ever)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert children and parent.pid not in children
        assert all(_alive(pid) for pid in children)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10 * pool.ORPHAN_CHECK + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]


def test_processes_must_not_be_negative(tmp_path: Path) -> None:
    from feedbot.errors import ConfigError

    path = write_config(tmp_path, _sources(tmp_path, 1), processes=-1)
    with pytest.raises(ConfigError, match=r"processes.*must be 0"):
        load_config(path)
    assert load_config(write_config(tmp_path, _sources(tmp_path, 1), processes=0)).processes == 0


LOCKED_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from feedbot.lock import RunLock
from feedbot.pool import PagePool
from tests.test_pool import _pid
lock = RunLock(Path({state!r}), 1)
lock.acquire()
pages = PagePool(2)
print(" ".join(str(pages.run(_pid, 0)) for _ in range(10)), flush=True)
time.sleep(60)
"""


def test_the_run_lock_goes_with_the_run_not_with_its_worker_processes(tmp_path: Path) -> None:
    """The workers are forked while the run holds the state's lock: they do not keep it, so a
    run killed with SIGKILL frees the lock at once for the next one (cron), not when its
    orphaned workers notice and leave."""
    from feedbot.errors import LockError
    from feedbot.lock import RunLock

    script = LOCKED_CHILD.format(root=str(ROOT), state=str(tmp_path))
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        children = {int(pid) for pid in parent.stdout.readline().split()}
        assert children and all(_alive(pid) for pid in children)
        with pytest.raises(LockError):
            RunLock(tmp_path, 0).acquire()  # the run holds it
    finally:
        parent.kill()
        parent.wait()
    assert any(_alive(pid) for pid in children)  # they have not noticed yet...
    lock = RunLock(tmp_path, 0)
    lock.acquire()  # ...and the lock is free all the same
    lock.release()


# --- both backends ---------------------------------------------------------------------------
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
_databases = iter(range(1_000_000))


def _state(request: pytest.FixtureRequest, backend: str) -> dict[str, Any]:
    """The config settings of a fresh, empty state on ``backend`` (PostgreSQL: a new database on
    the session's real server)."""
    if backend == "sqlite":
        return {}
    server = request.getfixturevalue("postgres")
    return {"state": server.create_database(f"feedbot_pool_{os.getpid()}_{next(_databases)}")}


def _documents(config: Any) -> dict[str, tuple[bytes, object]]:
    """Every feed document of a run's configuration with a stamp of its version: files (their
    bytes, inode and mtime) or, with PostgreSQL, the shared state's rows (bytes, sha256 and
    modified)."""
    from feedbot.store import Store

    with Store(config.store_location) as store:
        if store.postgres:
            documents: dict[str, tuple[bytes, object]] = {}
            for name in sorted(store.feed_file_names()):
                stored = store.feed_file(name)
                assert stored is not None
                documents[name] = (stored.body, store.feed_file_stamp(name))
            return documents
    return {
        p.name: (p.read_bytes(), (p.stat().st_ino, p.stat().st_mtime_ns))
        for p in sorted(config.feeds_dir.iterdir())
    }


def _entries(config: Any, feeds: list[str]) -> dict[str, int]:
    from feedbot.store import Store

    with Store(config.store_location) as store:
        return {feed: store.count_entries(feed) for feed in feeds}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_feeds_with_and_without_processes_at_concurrency_1_and_4(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Eight sources into two feeds (stories shared across sources), two days, on SQLite and on
    PostgreSQL: with two worker processes or none, one fetching thread or four, the feed
    documents are byte-identical and so are the counts of each source's run (day 2 brings new
    and edited stories); the processes are used only when asked for."""
    outputs = {}
    for processes, concurrency in ((0, 1), (0, 4), (2, 1), (2, 4)):
        directory = tmp_path / "run"  # the same paths every time: links name the pages' files
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        sources = _sources(directory, 8)
        settings = {"processes": processes, "concurrency": concurrency, **_state(request, backend)}
        config = load_config(write_config(directory, sources, **settings))
        clock = Clock()
        first = run_once(config, now=clock)
        for i in range(8):  # day 2: the other page under each source
            page = (NEXT if i % 2 else PAGE).replace("烏克蘭".encode(), f"烏克蘭{i % 3}".encode())
            (directory / f"p{i}.html").write_bytes(page)
        clock.now = clock.now.replace(day=7)
        second = run_once(config, now=clock)
        assert all(r.ok for r in first + second), [r.error for r in first + second]
        documents = {name: body for name, (body, _) in _documents(config).items()}
        assert {"f0.atom", "f1.atom"} <= set(documents)
        outputs[(processes, concurrency)] = (
            documents,
            [(r.source, r.new, r.updated, r.unchanged) for r in first + second],
        )
    reference = outputs[(0, 1)]
    assert any(new for _, new, _, _ in reference[1]) and any(up for _, _, up, _ in reference[1])
    for variant, output in outputs.items():
        assert output[1] == reference[1], variant
        assert output[0].keys() == reference[0].keys(), variant
        for name, body in output[0].items():
            assert body == reference[0][name], (
                f"{name} differs with (processes, concurrency) {variant}"
            )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_fetch_or_an_empty_page_keeps_its_feed_and_items_in_a_run_with_processes(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Six sources, each its own feed, with worker processes and background feed writers: on day
    2 one page is gone (a fetch error) and one yields nothing (a page of no stories), while the
    others change. The two sources fail with their reasons; their feeds keep their bytes and
    their version (not rewritten: same inode and mtime, or the same stamp in the shared state)
    and the state keeps their entries; the others' feeds are rewritten."""
    sources = [{**s, "feed": s["name"]} for s in _sources(tmp_path, 6)]
    config = load_config(
        write_config(tmp_path, sources, processes=2, concurrency=4, **_state(request, backend))
    )
    clock = Clock()
    assert all(r.ok for r in run_once(config, now=clock))
    feeds = [s["name"] for s in sources]
    before, counts = _documents(config), _entries(config, feeds)
    assert all(counts.values())
    (tmp_path / "p1.html").unlink()
    (tmp_path / "p2.html").write_bytes(b"<html><body><p>nothing to split here</p></body></html>")
    for i in (0, 3, 4, 5):
        (tmp_path / f"p{i}.html").write_bytes(NEXT if i % 2 == 0 else PAGE)
    clock.now = clock.now.replace(day=7)
    results = run_once(config, now=clock)
    assert [r.ok for r in results] == [True, False, False, True, True, True], [
        r.error for r in results
    ]
    assert "p1.html" in (results[1].error or "")
    assert results[2].error_kind is ErrorKind.NO_ITEMS and "p2.html" in (results[2].error or "")
    after = _documents(config)
    for feed in ("s1", "s2"):
        for fmt in config.feed(feed).formats:
            name = f"{feed}.{fmt}"
            assert after[name] == before[name], f"{name} was rewritten"
    assert _entries(config, ["s1", "s2"]) == {"s1": counts["s1"], "s2": counts["s2"]}
    assert all(after[f"s{i}.atom"] != before[f"s{i}.atom"] for i in (0, 3, 4, 5))
