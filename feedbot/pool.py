"""Worker processes for the pure work on fetched pages, so that a run of many pages uses every core.

Splitting, identifying and sanitising a page are pure Python (values in, values out) and hold the
interpreter lock nearly all the time: the worker threads of one process, however many, use one
core for them. A :class:`PagePool` runs that work in a few child processes instead; the threads
keep fetching (the network, the shared :class:`~feedbot.fetch.Fetcher`, the browser) and each
hands the page it fetched to the pool and waits for the result. The calling thread alone still
touches the store, so nothing about the state changes, and the work being pure, the result is
byte-identical whichever process computed it.

Owns: when a run uses processes (:func:`wanted`), starting them on first use, the start method,
children that never outlive their run, and falling back to the calling thread when the pool
cannot be used. Must not: touch the store, the network or the clock, or run anything that is not
pure: what is sent to a child is a function of this package and values.

Children and signals: a child ignores SIGINT (Ctrl-C reaches the whole process group; the parent
decides what stops) and leaves by itself within :data:`ORPHAN_CHECK` seconds once its parent is
gone — a parent killed with SIGKILL cannot shut its pool down, and a child blocked on the pool's
queue would otherwise wait for ever (its siblings hold the queue open).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# multiprocessing and the process pool are imported when a run first starts its pool: a run of
# few sources, or one where nothing changed, never needs them.

log = logging.getLogger("feedbot")
T = TypeVar("T")

# A run uses processes only when it has at least this many sources: starting a pool costs about
# 10 ms of the parent's time with "fork" (and each child imports the splitter once: ~0.1 s of its
# own), and a page travels to a child and back as a pickle (~0.7 ms for a 79 KB page of ten
# stories). Below it, a run (the daemon's runs are one source each) does the work in its threads.
MIN_SOURCES = 4
# How often a child checks that its parent is still there (seconds).
ORPHAN_CHECK = 0.5
# "fork": the children start in a few milliseconds and share the parent's memory. They are forked
# when the first page needs one (a run where nothing changed forks none), after the parent imported
# everything they run (PagePool's ``prepare``), so a child imports nothing: no import lock that
# another thread of the parent held at the fork can stop it. A child runs only pure code — no
# logging, no store, no network, no lock of the parent's — and the run lock is closed in it
# (feedbot.lock). "forkserver" (a clean server process forks them) costs a second interpreter's
# start and its imports first, and each child imports the splitter again: measured on the 200-page
# bench it was no faster and took more CPU (bench/README.md, issue 17). Platforms without fork get
# their default.
START_METHOD = "fork"


class _ForkGuard:
    """Keeps a fork from copying another thread's pipes to a child process.

    A forked child gets a copy of every descriptor the parent has open, and Python's close-on-exec
    flag does not help: the child never executes anything. While another thread talks to a child
    process of its own through pipes (:mod:`feedbot.sandbox` rendering Markdown), a pool child forked
    at that moment would hold the other ends open: the Markdown child would never see the end of its
    input, and the parent never the end of its output — a run hung for ever (seen once in the suite).
    So any number of threads may have child pipes open at once (:meth:`pipes`), and the pool forks
    only when none has (:meth:`forking`). A fork waits at most as long as a Markdown render may take
    (:data:`feedbot.sandbox.LIMITS`). The browser's driver (``render = "browser"``) keeps its pipes
    open for the whole run, so children forked then may hold copies: harmless, because a run ends
    its pool before it closes the browser (whose driver leaves when its input ends)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = 0
        self._forking = False

    @contextmanager
    def pipes(self) -> Iterator[None]:
        """Held while this thread has a child process's pipes open."""
        with self._changed:
            while self._forking:
                self._changed.wait()
            self._open += 1
        try:
            yield
        finally:
            with self._changed:
                self._open -= 1
                self._changed.notify_all()

    @contextmanager
    def forking(self) -> Iterator[None]:
        """Held while the pool forks its children: no thread has a child's pipes open."""
        with self._changed:
            while self._open or self._forking:
                self._changed.wait()
            self._forking = True
        try:
            yield
        finally:
            with self._changed:
                self._forking = False
                self._changed.notify_all()


FORK_GUARD = _ForkGuard()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def wanted(setting: int | None, sources: int) -> int:
    """How many worker processes a run of ``sources`` sources uses: ``setting`` is the config's
    ``processes`` (None: as many as the machine has cores; 0: none). 0 when the work is done in
    the threads: one core, or too little work (:data:`MIN_SOURCES`)."""
    count = cores() if setting is None else setting
    if count < 2 and setting is None:
        return 0
    if sources < MIN_SOURCES:
        return 0
    return count


def _watch_parent(parent: int) -> None:
    """In a child: leave when the parent is gone (its pid is no longer our parent's)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        threading.Event().wait(ORPHAN_CHECK)


def _child_start(expected: int | None) -> None:
    """The first thing a worker process does. ``expected``: the parent's pid when it forked us
    itself (with "forkserver" the parent is the server, which leaves when the run's process does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if expected is not None and parent != expected:  # the parent died before we got here
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="orphan-check").start()


class PagePool:
    """At most ``workers`` child processes, forked on the first :meth:`run` (``prepare`` is
    called first, in the parent: it imports what the children will need); with ``workers`` = 0,
    or once the pool is broken (a child was killed), :meth:`run` works in the calling thread.
    Thread-safe: any worker thread may call :meth:`run`."""

    def __init__(self, workers: int, prepare: Callable[[], object] = lambda: None) -> None:
        self.workers = workers
        self._prepare = prepare
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._broken = workers <= 0
        self._closed = False

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker process, or here when there is none. ``fn`` must be pure and
        a module-level function of this package; an exception it raises is raised here."""
        future = self._submit(fn, *args)
        if future is None:
            return fn(*args)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            self._break("a worker process died")
        except CancelledError:
            pass  # the pool was closed under us (the run is ending): do it here
        return fn(*args)

    def _submit(self, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            if self._broken or self._closed:
                return None
            try:
                if self._executor is None:
                    # what the children need is imported here, before they are forked: they
                    # share it and import nothing themselves (see START_METHOD); with "fork" the
                    # children are forked by the first submit, away from other threads' pipes
                    self._prepare()
                    context = _context()
                    expected = os.getpid() if context.get_start_method() == "fork" else None
                    with FORK_GUARD.forking():
                        self._executor = ProcessPoolExecutor(
                            self.workers,
                            mp_context=context,
                            initializer=_child_start,
                            initargs=(expected,),
                        )
                        return self._executor.submit(fn, *args)
                return self._executor.submit(fn, *args)
            except (OSError, RuntimeError, BrokenProcessPool) as exc:
                # cannot fork (out of processes or memory), or the pool broke meanwhile
                self._break_locked(f"cannot start worker processes: {exc}")
                return None

    def _break(self, why: str) -> None:
        with self._lock:
            self._break_locked(why)

    def _break_locked(self, why: str) -> None:
        if not self._broken:
            log.warning("%s; the pages left are split in the run's threads", why)
        self._broken = True

    @property
    def started(self) -> bool:
        return self._executor is not None

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers. ``wait=False`` (a run that gave up on a source): pending work is
        cancelled and the children are ended now, without waiting for a page still being split."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        if wait:
            executor.shutdown(wait=True, cancel_futures=True)
            return
        # ProcessPoolExecutor has no way to end a busy child before Python 3.14
        # (terminate_workers): its processes are ended here, then it is shut down
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()


def _context() -> Any:
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context(START_METHOD if START_METHOD in methods else None)
