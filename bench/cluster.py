"""Several ``feedbot worker`` processes sharing one PostgreSQL: the soak with kills, and throughput.

``python -m bench cluster`` (the soak): N sources on a local page server (one port per source, so
the per-host limits do not pace it), each on a 1 s schedule, ``--workers`` worker processes, for
``--seconds``; ``--kill`` times at which one worker is SIGKILLed in the middle of runs (and started
again ``--restart-after`` seconds later, as systemd would). Each source's page gains a new story
every ``STORY_EVERY`` seconds and shows the last ``WINDOW`` stories, so runs store pages now and
then (most runs are HTTP 304s). From the workers' logs (``source=… run=start/end node=… at=…``):
runs per source against the ticks it was due, overlapping runs of one source (must be none), how
long each source a killed worker held took to run again elsewhere. From the state: every story
served for at least ``WINDOW * STORY_EVERY / 2`` seconds stored exactly once, no other entry, and
the integrity checks of :func:`check_state`.

``python -m bench throughput``: pages that answer after 200 ms, each run a changed page, with 1, 2
and 3 workers for ``--seconds`` each: pages/s, the ratio to one worker, and CPU per page (workers
plus PostgreSQL's processes) against ``feedbot run`` on the SQLite state over the same pages.

The test suite runs a short soak (tests/test_worker.py) through :func:`soak`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STORY_EVERY = 10  # seconds between two new stories on a source's page
WINDOW = 5  # stories a page shows
RUN_LINE = re.compile(
    r"source=(?P<source>\S+) run=(?P<ev>start|end) node=(?P<node>\S+) tick=(?P<tick>\d+) "
    r"at=(?P<at>[\d.]+)"
)
USER_AGENT = "feedbot-bench/1 (+http://127.0.0.1/contact)"


# --- the page server ---------------------------------------------------------------------------
class Pages:
    """Source i's page at time t: stories j (numbered from the start) with j*STORY_EVERY <= t - t0,
    the newest WINDOW of them. With ``delay`` every answer waits that long (fetch-bound), and with
    ``changing`` every request gets a page with one more story (each run stores a page)."""

    def __init__(self, count: int, *, delay: float = 0.0, changing: bool = False) -> None:
        self.count = count
        self.delay = delay
        self.changing = changing
        self.t0 = time.time()
        self.requests = 0
        self.hits: dict[int, int] = defaultdict(int)
        self.lock = threading.Lock()

    def newest(self, now: float) -> int:
        return int((now - self.t0) // STORY_EVERY)

    def page(self, source: int, newest: int) -> bytes:
        stories = range(max(0, newest - WINDOW + 1), newest + 1)
        body = "".join(
            f"<h2>Source {source} story {j}: a headline of its own</h2>"
            f"<p>Story {j} of source {source} begins here, with enough words to be a story: "
            f"the council met on day {j} and agreed on item {j * 7 % 13} of {source}.</p>"
            f"<p>A second paragraph of story {j} adds detail {j * 3 % 11}.</p>"
            for j in reversed(stories)
        )
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Digest {source}</title>"
            f"</head><body><main>{body}</main></body></html>"
        ).encode()


def _handler(pages: Pages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            match = re.fullmatch(r"/s(\d+)\.html", self.path)
            if not match:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            source = int(match.group(1))
            with pages.lock:
                pages.requests += 1
                pages.hits[source] += 1
                hits = pages.hits[source]
            if pages.delay:
                time.sleep(pages.delay)
            newest = hits if pages.changing else pages.newest(time.time())
            etag = f'"{source}-{newest}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = pages.page(source, newest)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed worker's connections break mid-answer: expected, not news


@contextmanager
def page_servers(pages: Pages, ports: int) -> Iterator[list[str]]:
    """``ports`` servers on 127.0.0.1 (a port is a host for the per-host limits); source i is
    served by server i % ports. Yields each source's URL."""
    servers = []
    for _ in range(ports):
        server = _QuietServer(("127.0.0.1", 0), _handler(pages))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield [
            f"http://127.0.0.1:{servers[i % ports].server_address[1]}/s{i}.html"
            for i in range(pages.count)
        ]
    finally:
        # one at a time, each shutdown waits for its loop's next poll (half a second)
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper, server in zip(stoppers, servers, strict=True):
            stopper.join()
            server.server_close()


# --- configs and workers -----------------------------------------------------------------------
def write_config(
    folder: Path,
    urls: list[str],
    *,
    state: str | None,
    schedule: str = "1s",
    concurrency: int = 8,
    host_concurrency: int = 4,
) -> Path:
    lines = [
        "[feedbot]",
        f'user_agent = "{USER_AGENT}"',
        f"concurrency = {concurrency}",
        f"host_concurrency = {host_concurrency}",
        "host_interval = 0",
        f'schedule = "{schedule}"',
        "entries_per_feed = 20",
    ]
    if state:
        lines.append(f'state = "{state}"')
    for i, url in enumerate(urls):
        lines += ["[[sources]]", f'name = "s{i}"', f'url = "{url}"', "robots = false"]
    path = folder / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Worker:
    index: int
    log: Path
    process: subprocess.Popen[bytes]
    started: float
    killed: float | None = None


def start_worker(
    config: Path, folder: Path, index: int, generation: int, concurrency: int
) -> Worker:
    log = folder / f"worker{index}.{generation}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feedbot",
            "worker",
            "-c",
            str(config),
            "--concurrency",
            str(concurrency),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "PYTHONUNBUFFERED": "1", **_worker_path()},
    )
    return Worker(index, log, process, time.time())


def _worker_path() -> dict[str, str]:
    """``BENCH_WORKER_PYTHONPATH``: the workers run the feedbot found there (another version,
    for a before/after), the harness its own."""
    path = os.environ.get("BENCH_WORKER_PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a live process (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def postgres_cpu(server: Any) -> float:
    """CPU of the cluster's server processes, the ones alive now (its backends come and go; the
    workers keep theirs for their whole life, so this counts them)."""
    total = 0.0
    data = str(server.data)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if b"postgres" not in cmdline:
                continue
            environ_ok = data.encode() in cmdline or _child_of_postmaster(entry, server)
            if environ_ok:
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def _child_of_postmaster(entry: Path, server: Any) -> bool:
    try:
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
        ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return ppid == pid


class CpuMeter:
    """CPU seconds of a changing set of processes (the workers, killed and started again, and
    PostgreSQL's backends, which come and go): each one's latest reading, taken every ``every``
    seconds and at :meth:`stop`, so a process that ended counts up to its last reading."""

    def __init__(self, groups: dict[str, Any], every: float = 1.0) -> None:
        self.groups = groups  # name -> callable returning the pids of that group now
        self.every = every
        self.seen: dict[str, dict[int, float]] = {name: {} for name in groups}
        self.base: dict[str, dict[int, float]] = {name: {} for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.sample(base=True)
        self._thread.start()

    def sample(self, base: bool = False) -> None:
        for name, pids in self.groups.items():
            for pid in pids():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    value = cpu_seconds(pid)
                    self.seen[name][pid] = value
                    if base:
                        self.base[name][pid] = value

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.sample()
        return {
            name: sum(v - self.base[name].get(pid, 0.0) for pid, v in seen.items())
            for name, seen in self.seen.items()
        }


def postgres_pids(server: Any) -> list[int]:
    """The postmaster and its children (backends, background processes)."""
    try:
        master = int((server.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(entry.name))
    return pids


def top_statements(url: str, limit: int = 15) -> list[str]:
    """pg_stat_statements' statements by total execution time (needs the extension loaded)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query, "
            "'\\s+', ' ', 'g'), 110) FROM pg_stat_statements ORDER BY total_exec_time DESC "
            "LIMIT %s",
            (limit,),
        ).fetchall()
    return [
        f"{calls:>8} calls {total:9.0f} ms {mean:7.3f} ms/call  {q}"
        for calls, total, mean, q in rows
    ]


# --- reading what happened ---------------------------------------------------------------------
@dataclass
class Run:
    source: str
    node: str
    tick: int
    start: float
    end: float | None  # None: cut short (its worker was killed)


def read_runs(logs: list[Path]) -> list[Run]:
    runs: dict[tuple[str, str, int], Run] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            match = RUN_LINE.search(line)
            if not match:
                continue
            key = (match["source"], match["node"], int(match["tick"]))
            if match["ev"] == "start":
                runs[key] = Run(key[0], key[1], key[2], float(match["at"]), None)
            elif key in runs:
                runs[key].end = float(match["at"])
    return sorted(runs.values(), key=lambda r: r.start)


@dataclass
class SoakReport:
    sources: int
    workers: int
    seconds: float
    runs: int
    due_ticks: int
    runs_per_source: dict[str, int]
    missed: dict[str, int]  # ticks due and not run, per source (only where any)
    overlaps: list[str]
    resumed_after: list[float]  # per source a killed worker held: seconds until it ran elsewhere
    longest_gap: float  # seconds: the longest time between two runs of one source
    kills: list[float]
    stories_expected: int
    stories_stored: int
    duplicates: list[str]
    lost: list[str]
    unexpected: list[str]
    integrity: list[str]
    jobs: dict[str, int]
    held: list[str] = field(default_factory=list)  # sources a killed worker was running
    late: dict[str, float] = field(default_factory=dict)  # run start - its tick: p50, p99, max
    cpu: dict[str, float] = field(default_factory=dict)  # ms of CPU per run, by whom
    load: tuple[float, float] = (0.0, 0.0)  # the machine's load average at the start and the end
    statements: list[str] = field(default_factory=list)  # pg_stat_statements' top (--profile)
    notes: list[str] = field(default_factory=list)

    def ok(self, resume_bound: float = 30.0) -> bool:
        return (
            not self.overlaps
            and not self.duplicates
            and not self.lost
            and not self.unexpected
            and not self.integrity
            and all(s <= resume_bound for s in self.resumed_after)
            and self.longest_gap <= resume_bound
        )


def analyse(
    runs: list[Run],
    *,
    sources: int,
    t_start: float,
    t_stop: float,
    kills: list[tuple[float, str]],
    schedule: str = "1s",
) -> tuple[
    dict[str, int], int, dict[str, int], list[str], list[float], dict[str, float], list[str]
]:
    by_source: dict[str, list[Run]] = defaultdict(list)
    killed_nodes = dict((node, when) for when, node in kills)
    for run in runs:
        if run.end is None and run.node in killed_nodes:
            run.end = killed_nodes[run.node]
        by_source[run.source].append(run)
    overlaps = []
    for source, items in by_source.items():
        items.sort(key=lambda r: r.start)
        for a, b in itertools.pairwise(items):
            if a.end is None or b.start < a.end:
                overlaps.append(
                    f"{source}: tick {a.tick} on {a.node} ({a.start:.3f}-{a.end}) and tick "
                    f"{b.tick} on {b.node} from {b.start:.3f}"
                )
    # ticks due: the seconds the source's schedule falls on (the cluster's timetable), from the
    # first after the start to the last before the stop
    from feedbot.schedule import Schedule
    from feedbot.worker import slot_for

    first, last = int(t_start) + 3, int(t_stop) - 2
    parsed = Schedule.parse(schedule)
    runs_per_source, missed = {}, {}
    counts = set()
    for i in range(sources):
        name = f"s{i}"
        slot = slot_for(name, parsed)
        due = {t for t in range(first, last + 1) if slot.fires_at(t)}
        counts.add(len(due))
        done = {r.tick for r in by_source.get(name, []) if r.end is not None}
        runs_per_source[name] = len(done & due)
        if due - done:
            missed[name] = len(due - done)
    gaps = {}
    for source, items in by_source.items():
        starts = sorted(r.start for r in items)
        gaps[source] = max((b - a for a, b in itertools.pairwise(starts)), default=0.0)
    resumed = []
    held_all: set[str] = set()
    for when, node in kills:
        held = {r.source for r in runs if r.node == node and r.start <= when and r.end == when}
        held_all |= held
        for source in held:
            after = [r.start for r in by_source[source] if r.start > when and r.node != node]
            resumed.append(min(after) - when if after else float("inf"))
    return runs_per_source, min(counts), missed, overlaps, resumed, gaps, sorted(held_all)


def check_state(
    url: str, *, sources: int, newest: dict[int, int], minimum_age: int
) -> dict[str, Any]:
    """The stored stories against the served ones, and the state's own consistency."""
    import psycopg

    out: dict[str, Any] = {"duplicates": [], "lost": [], "unexpected": [], "integrity": []}
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT feed, headline FROM entries").fetchall()
        stored: dict[str, list[str]] = defaultdict(list)
        for feed, headline in rows:
            stored[feed].append(headline)
        expected = 0
        for i in range(sources):
            feed = f"s{i}"
            headlines = stored.get(feed, [])
            counts: dict[int, int] = defaultdict(int)
            for h in headlines:
                m = re.fullmatch(rf"Source {i} story (\d+): a headline of its own", h)
                if not m:
                    out["unexpected"].append(f"{feed}: {h!r}")
                    continue
                counts[int(m.group(1))] += 1
            for j, n in counts.items():
                if n > 1:
                    out["duplicates"].append(f"{feed}: story {j} stored {n} times")
                if j > newest[i]:
                    out["unexpected"].append(f"{feed}: story {j} was never served")
            # every story that was on the page long enough while the source ran is stored
            must = range(0, max(0, newest[i] - minimum_age) + 1)
            expected += len(must)
            out["lost"].extend(f"{feed}: story {j}" for j in must if j not in counts)
        out["stories_expected"] = expected
        out["stories_stored"] = len(rows)
        checks = {
            "revisions without an entry": "SELECT count(*) FROM revisions r LEFT JOIN entries e "
            "ON e.id = r.entry WHERE e.id IS NULL",
            "appearances without an entry": "SELECT count(*) FROM appearances a LEFT JOIN entries e "
            "ON e.id = a.entry WHERE e.id IS NULL",
            "entries whose revision count is not their revisions": "SELECT count(*) FROM entries e "
            "WHERE e.revisions <> (SELECT count(*) FROM revisions r WHERE r.entry = e.id)",
            "entries without an appearance": "SELECT count(*) FROM entries e WHERE NOT EXISTS "
            "(SELECT 1 FROM appearances a WHERE a.entry = e.id)",
            "entry ids issued twice": "SELECT count(*) FROM (SELECT entry_id FROM entries "
            "GROUP BY entry_id HAVING count(*) > 1) d",
            "the same story twice (feed, key, fingerprint)": "SELECT count(*) FROM (SELECT 1 FROM "
            "entries GROUP BY feed, key, fingerprint HAVING count(*) > 1) d",
            "feeds still marked pending": "SELECT count(*) FROM pending_feeds",
            "feeds with entries but no document": "SELECT count(DISTINCT feed) FROM entries WHERE "
            "feed || '.atom' NOT IN (SELECT name FROM feed_files)",
            "jobs left running": "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'",
        }
        for what, sql in checks.items():
            (n,) = conn.execute(sql).fetchone()  # type: ignore[misc]
            if n:
                out["integrity"].append(f"{what}: {n}")
        out["jobs"] = dict(
            conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1"
            ).fetchall()
        )
    return out


# --- the soak ----------------------------------------------------------------------------------
def soak(
    *,
    sources: int,
    workers: int,
    seconds: float,
    kills: list[float],
    restart_after: float = 20.0,
    concurrency: int = 8,
    delay: float = 0.3,
    folder: Path | None = None,
    progress: bool = False,
    server: Any = None,
    profile: bool = False,
    schedule: str = "1s",
) -> SoakReport:
    """``delay``: each page answers after that long, so that runs are in flight when a worker is
    killed (and a run holds its feed's lock long enough to be overlapped, were the lock broken)."""
    from tests.pg import postgres_server

    work = Path(folder or tempfile.mkdtemp(prefix="feedbot-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    pages = Pages(sources, delay=delay)
    settings = (
        {"shared_preload_libraries": "'pg_stat_statements'", "pg_stat_statements.track": "all"}
        if profile
        else None
    )
    with (
        contextlib.nullcontext(server)
        if server
        else postgres_server(max_connections=600, settings=settings) as pg,
        page_servers(pages, ports=sources) as urls,
    ):
        url = pg.create_database(f"soak_{os.getpid()}_{int(time.time())}")
        if profile:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        config = write_config(work, urls, state=url, concurrency=concurrency, schedule=schedule)
        # the schema once before the clock starts (the workers would race to it otherwise)
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"from feedbot.worker import prepare_state; prepare_state({url!r})",
            ],
            check=True,
        )
        generation = 0
        pool = [start_worker(config, work, i, generation, concurrency) for i in range(workers)]
        meter = CpuMeter(
            {
                "workers": lambda: [w.process.pid for w in pool if w.process.poll() is None],
                "postgresql": lambda: postgres_pids(pg),
                "page server": lambda: [os.getpid()],
            }
        )
        load0 = os.getloadavg()[0]
        if profile:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
        meter.start()
        try:
            report = _soak_loop(
                pool,
                work,
                config,
                url,
                pages,
                seconds,
                kills,
                restart_after,
                concurrency,
                progress,
                schedule,
            )
            used = meter.stop()
            report.cpu = {
                name: round(1000 * value / max(1, report.runs), 2) for name, value in used.items()
            }
            report.load = (round(load0, 1), round(os.getloadavg()[0], 1))
            if profile:
                report.statements = top_statements(url)
            return report
        finally:
            for w in pool:
                if w.process.poll() is None:
                    w.process.kill()
                    w.process.wait()


def _soak_loop(
    pool: list[Worker],
    work: Path,
    config: Path,
    url: str,
    pages: Pages,
    seconds: float,
    kills: list[float],
    restart_after: float,
    concurrency: int,
    progress: bool,
    schedule: str = "1s",
) -> SoakReport:
    sources, workers, generation = pages.count, len(pool), 0
    logs = [w.log for w in pool]
    t_start = time.time()
    done_kills: list[tuple[float, str]] = []
    pending = sorted(kills)
    restarts: list[tuple[float, int]] = []
    while time.time() - t_start < seconds:
        time.sleep(0.2)
        elapsed = time.time() - t_start
        if pending and elapsed >= pending[0]:
            pending.pop(0)
            # in the middle of runs: wait (at most 5 s) for a moment a worker has some in flight
            deadline = time.time() + 5
            victim, inflight = _busiest(pool)
            while inflight <= 0 and time.time() < deadline:
                time.sleep(0.02)
                victim, inflight = _busiest(pool)
            when = time.time()
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            victim.killed = when
            node = f"{socket.gethostname()}:{victim.process.pid}"
            done_kills.append((when, node))
            restarts.append((when + restart_after, victim.index))
            if progress:
                print(f"[{elapsed:6.1f}s] SIGKILL worker {victim.index} ({node})", flush=True)
        for when, index in list(restarts):
            if time.time() >= when:
                restarts.remove((when, index))
                generation += 1
                pool[index] = start_worker(config, work, index, generation, concurrency)
                logs.append(pool[index].log)
                if progress:
                    print(f"[{elapsed:6.1f}s] worker {index} started again", flush=True)
        if progress and int(elapsed) % 30 == 0 and elapsed - int(elapsed) < 0.2:
            print(f"[{elapsed:6.1f}s] {pages.requests} requests", flush=True)
    t_stop = time.time()
    newest = {i: pages.newest(t_stop) for i in range(sources)}
    for w in pool:
        if w.process.poll() is None:
            w.process.send_signal(signal.SIGTERM)
    for w in pool:
        try:
            w.process.wait(60)
        except subprocess.TimeoutExpired:
            w.process.kill()
    runs = read_runs(logs)
    per_source, due, missed, overlaps, resumed, gaps, held = analyse(
        runs, sources=sources, t_start=t_start, t_stop=t_stop, kills=done_kills, schedule=schedule
    )
    lateness = sorted(r.start - r.tick for r in runs)
    late = (
        {
            "p50": round(lateness[len(lateness) // 2], 2),
            "p99": round(lateness[int(len(lateness) * 0.99)], 2),
            "max": round(lateness[-1], 2),
        }
        if lateness
        else {}
    )
    # a story must be stored when it was on the page for at least half its window
    state = check_state(url, sources=sources, newest=newest, minimum_age=WINDOW // 2)
    errors = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if "Traceback" in line or "internal error" in line:
                errors.append(f"{log.name}: {line}")
    return SoakReport(
        sources=sources,
        workers=workers,
        seconds=round(t_stop - t_start, 1),
        runs=len(runs),
        due_ticks=due,
        runs_per_source=per_source,
        missed=missed,
        overlaps=overlaps,
        resumed_after=[round(s, 1) for s in resumed],
        longest_gap=round(max(gaps.values(), default=0.0), 1),
        kills=[round(w - t_start, 1) for w, _ in done_kills],
        stories_expected=state["stories_expected"],
        stories_stored=state["stories_stored"],
        duplicates=state["duplicates"],
        lost=state["lost"],
        unexpected=state["unexpected"],
        integrity=state["integrity"] + errors[:10],
        jobs=state["jobs"],
        held=held,
        late=late,
    )


def _busiest(pool: list[Worker]) -> tuple[Worker, int]:
    """The live worker with the most runs in flight (from its log), so the kill lands mid-run."""
    best: Worker | None = None
    most = -(10**9)
    for w in pool:
        if w.process.poll() is not None:
            continue
        started: set[tuple[str, str]] = set()
        for line in w.log.read_text(errors="replace").splitlines()[-400:]:
            match = RUN_LINE.search(line)
            if match:
                key = (match["source"], match["tick"])
                if match["ev"] == "start":
                    started.add(key)
                else:
                    started.discard(key)
        if len(started) > most:
            best, most = w, len(started)
    assert best is not None
    return best, most


def print_soak(report: SoakReport) -> None:
    counts = sorted(report.runs_per_source.values())
    print(
        f"{report.sources} sources, {report.workers} workers, {report.seconds} s, "
        f"kills at {report.kills} s"
    )
    print(f"runs: {report.runs}; ticks due per source: {report.due_ticks} (at least)")
    print(
        f"runs per source (of the due ticks): min {counts[0]}, median "
        f"{statistics.median(counts)}, max {counts[-1]}"
    )
    missed = sorted(report.missed.values())
    print(
        f"sources that missed a tick: {len(report.missed)} "
        f"(ticks missed: total {sum(missed)}, most {missed[-1] if missed else 0})"
    )
    print(f"longest time between two runs of one source: {report.longest_gap} s")
    print(f"overlapping runs of one source: {len(report.overlaps)}")
    for line in report.overlaps[:5]:
        print("  ", line)
    print(
        f"sources held by a killed worker: {len(report.resumed_after)}; ran again elsewhere after "
        f"{sorted(report.resumed_after)} s"
    )
    print(
        f"stories: {report.stories_stored} stored, {report.stories_expected} had to be; "
        f"duplicates {len(report.duplicates)}, lost {len(report.lost)}, unexpected "
        f"{len(report.unexpected)}"
    )
    for line in (report.duplicates + report.lost + report.unexpected)[:5]:
        print("  ", line)
    print(f"runs started after their tick (s): {report.late}")
    if report.held:
        others = [n for s, n in report.runs_per_source.items() if s not in report.held]
        print(
            f"runs per source not held by a killed worker: min {min(others, default=0)} of "
            f"{report.due_ticks}; held ({len(report.held)}): "
            f"{sorted(report.runs_per_source[s] for s in report.held)}"
        )
    print(f"CPU per run, ms: {report.cpu}; load average {report.load[0]} -> {report.load[1]}")
    for line in report.statements:
        print("  ", line)
    print(f"integrity: {'clean' if not report.integrity else report.integrity}")
    print(f"jobs left: {report.jobs}")
    print("OK" if report.ok() else "FAILED")


# --- throughput --------------------------------------------------------------------------------
def throughput(
    *, sources: int, seconds: float, concurrency: int, delay: float, max_workers: int = 3
) -> list[dict[str, Any]]:
    from tests.pg import postgres_server

    results: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="feedbot-throughput-"))
    # SQLite, `feedbot run` (one process, `concurrency` fetch threads), the same changing pages
    pages = Pages(sources, delay=delay, changing=True)
    with page_servers(pages, ports=sources) as urls:
        folder = work / "sqlite"
        folder.mkdir()
        config = write_config(folder, urls, state=None, concurrency=concurrency)
        rounds = 0
        before = os.times()
        t0 = time.time()
        start_requests = pages.requests
        while time.time() - t0 < seconds:
            subprocess.run([sys.executable, "-m", "feedbot", "run", "-c", str(config)], check=False)
            rounds += 1
        elapsed = time.time() - t0
        after = os.times()
        cpu = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        fetched = pages.requests - start_requests
        results.append(
            {
                "setup": f"SQLite, feedbot run ×{rounds} (concurrency {concurrency})",
                "workers": 0,
                "pages": fetched,
                "seconds": round(elapsed, 1),
                "pages_per_s": round(fetched / elapsed, 1),
                "cpu_ms_per_page": round(1000 * cpu / fetched, 2),
                "pg_cpu_ms_per_page": 0.0,
            }
        )
    for n in range(1, max_workers + 1):
        pages = Pages(sources, delay=delay, changing=True)
        with postgres_server(durable=True) as pg, page_servers(pages, ports=sources) as urls:
            url = pg.create_database("throughput")
            folder = work / f"pg{n}"
            folder.mkdir()
            config = write_config(folder, urls, state=url, concurrency=concurrency)
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"from feedbot.worker import prepare_state; prepare_state({url!r})",
                ],
                check=True,
            )
            pool = [start_worker(config, folder, i, 0, concurrency) for i in range(n)]
            time.sleep(8)  # start-up, first runs (every story new) out of the window
            start_requests = pages.requests
            cpu0 = sum(cpu_seconds(w.process.pid) for w in pool)
            pg0 = postgres_cpu(pg)
            t0 = time.time()
            time.sleep(seconds)
            elapsed = time.time() - t0
            fetched = pages.requests - start_requests
            cpu = sum(cpu_seconds(w.process.pid) for w in pool) - cpu0
            pg_cpu = postgres_cpu(pg) - pg0
            for w in pool:
                w.process.send_signal(signal.SIGTERM)
            for w in pool:
                w.process.wait(60)
            results.append(
                {
                    "setup": f"PostgreSQL, {n} worker(s) × concurrency {concurrency}",
                    "workers": n,
                    "pages": fetched,
                    "seconds": round(elapsed, 1),
                    "pages_per_s": round(fetched / elapsed, 1),
                    "cpu_ms_per_page": round(1000 * cpu / fetched, 2),
                    "pg_cpu_ms_per_page": round(1000 * pg_cpu / fetched, 2),
                }
            )
    one = next(r for r in results if r["workers"] == 1)["pages_per_s"]
    for r in results:
        r["ratio_to_one_worker"] = round(r["pages_per_s"] / one, 2) if r["workers"] else None
    return results


def print_throughput(results: list[dict[str, Any]]) -> None:
    print(
        "| setup | pages | s | pages/s | × one worker | feedbot CPU ms/page | PostgreSQL CPU ms/page |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ratio = f"{r['ratio_to_one_worker']:.2f}" if r["ratio_to_one_worker"] else "–"
        print(
            f"| {r['setup']} | {r['pages']} | {r['seconds']} | {r['pages_per_s']} | {ratio} | "
            f"{r['cpu_ms_per_page']} | {r['pg_cpu_ms_per_page']} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cluster")
    parser.add_argument("mode", choices=("soak", "throughput"))
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--kill", type=float, action="append", default=None)
    parser.add_argument("--restart-after", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--schedule", default="1s", help="soak: every source's schedule")
    parser.add_argument(
        "--delay",
        type=float,
        default=None,
        help="seconds each page waits (soak 0.3, throughput 0.2)",
    )
    parser.add_argument("--folder", help="keep the configs and worker logs here")
    parser.add_argument(
        "--profile", action="store_true", help="soak: pg_stat_statements' top statements"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.mode == "soak":
        kills = args.kill if args.kill is not None else [args.seconds / 3, 2 * args.seconds / 3]
        report = soak(
            sources=args.sources,
            workers=args.workers,
            seconds=args.seconds,
            kills=kills,
            restart_after=args.restart_after,
            concurrency=args.concurrency,
            delay=args.delay if args.delay is not None else 0.3,
            folder=Path(args.folder) if args.folder else None,
            progress=True,
            profile=args.profile,
            schedule=args.schedule,
        )
        print_soak(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report.__dict__, indent=1))
        return 0 if report.ok() else 1
    results = throughput(
        sources=args.sources,
        seconds=args.seconds,
        concurrency=args.concurrency,
        delay=args.delay if args.delay is not None else 0.2,
    )
    print_throughput(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
