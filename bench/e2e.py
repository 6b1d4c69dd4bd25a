"""End-to-end benchmarks: `feedbot run` on N generated digest pages served by a local HTTP server.

Each measured run is a fresh ``python -m feedbot run`` process (wall time and peak RSS from
``os.wait4``), so the figures are what cron sees, Python start-up included (reported separately).
The server (bench/server.py) runs in its own process so its work is not counted.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.corpus import digest_page

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Site:
    directory: Path
    pages: list[Path]
    total_bytes: int
    port: int


@contextmanager
def site(count: int, min_kb: int, max_kb: int, seed: int = 0) -> Iterator[Site]:
    """``count`` digest pages (half Chinese, half English) in a temporary directory, served on 127.0.0.1."""
    work = Path(tempfile.mkdtemp(prefix="feedbot-bench-"))
    rng = random.Random(seed)
    www = work / "www"
    www.mkdir()
    pages = []
    total = 0
    for i in range(count):
        data = digest_page(seed + i, rng.randint(min_kb, max_kb), zh=i % 2 == 0).encode("utf-8")
        path = www / f"p{i}.html"
        path.write_bytes(data)
        pages.append(path)
        total += len(data)
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.server", str(www)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield Site(work, pages, total, port)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def write_config(site: Site, name: str = "feedbot.toml") -> Path:
    """One source and one Atom feed per page (the usual set-up: each digest its own feed)."""
    lines = [
        "[feedbot]",
        'state_dir = "state"',
        'feeds_dir = "feeds"',
        'user_agent = "feedbot-bench/1 (+http://127.0.0.1/contact)"',
        "read_timeout = 120",
        "lock_timeout = 5",
        # every page is on one local host: politeness (1 s apart, 2 at once) would measure the
        # pacing, not the pipeline; the global concurrency (4) still applies
        "host_interval = 0",
        "host_concurrency = 4",
    ]
    for i in range(len(site.pages)):
        lines += [
            "[[sources]]",
            f'name = "s{i}"',
            f'url = "http://127.0.0.1:{site.port}/p{i}.html"',
        ]
    path = site.directory / name
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Proc:
    seconds: float
    maxrss_mb: float
    returncode: int


def timed_process(argv: list[str]) -> Proc:
    """Run a process; its wall time and peak resident memory (from the kernel, via wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{err[-3000:]}")
    return Proc(seconds, usage.ru_maxrss / 1024, proc.returncode)


def feedbot_run(config: Path) -> Proc:
    return timed_process([sys.executable, "-m", "feedbot", "run", "-c", str(config)])


def startup() -> Proc:
    """Python start-up plus importing feedbot's whole pipeline (the fixed cost of every cron run)."""
    return timed_process([sys.executable, "-c", "import feedbot.cli, feedbot.run, feedbot.split"])


def parse_floors(pages: list[Path]) -> tuple[float, float]:
    """Seconds to parse every page once with lxml.html and with BeautifulSoup(page, "lxml")."""
    import lxml.html
    from bs4 import BeautifulSoup

    texts = [p.read_bytes().decode("utf-8") for p in pages]
    start = time.perf_counter()
    for text in texts:
        lxml.html.fromstring(text)
    lxml_s = time.perf_counter() - start
    start = time.perf_counter()
    for text in texts:
        BeautifulSoup(text, "lxml")
    bs4_s = time.perf_counter() - start
    return lxml_s, bs4_s


@dataclass
class E2E:
    pages: int
    min_kb: int
    max_kb: int
    mb: float
    entries: int
    startup_s: float
    first_s: float
    pages_per_s: float
    lxml_s: float
    bs4_s: float
    ratio_lxml: float
    ratio_bs4: float
    unchanged_304_s: float
    unchanged_304_ms_per_source: float
    unchanged_same_s: float
    unchanged_same_ms_per_source: float
    first_maxrss_mb: float
    unchanged_maxrss_mb: float
    startup_maxrss_mb: float


def count_entries(state: Path) -> int:
    import sqlite3

    db = sqlite3.connect(state / "feedbot.sqlite3")
    try:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        db.close()


def measure(count: int, min_kb: int, max_kb: int, seed: int = 0, log: bool = True) -> E2E:
    """First run (everything new), an unchanged run answered with 304, an unchanged run answered
    with identical bytes; the parse floors for the same pages; start-up; peak memory."""

    def say(text: str) -> None:
        if log:
            print(f"  [{count} pages] {text}", file=sys.stderr, flush=True)

    with site(count, min_kb, max_kb, seed) as s:
        say(f"generated {s.total_bytes / 1e6:.1f} MB")
        config = write_config(s)
        first = feedbot_run(config)
        say(f"first run {first.seconds:.1f} s")
        entries = count_entries(s.directory / "state")
        same304 = feedbot_run(config)
        (s.pages[0].parent / ".plain").write_text("")
        same200 = feedbot_run(config)
        say(f"unchanged runs {same304.seconds:.1f} s (304), {same200.seconds:.1f} s (same bytes)")
        boot = min((startup() for _ in range(3)), key=lambda p: p.seconds)
        lxml_s, bs4_s = parse_floors(s.pages)
        say(f"parse floors lxml {lxml_s:.1f} s, bs4 {bs4_s:.1f} s")
        work = first.seconds - boot.seconds
        return E2E(
            pages=count,
            min_kb=min_kb,
            max_kb=max_kb,
            mb=round(s.total_bytes / 1e6, 1),
            entries=entries,
            startup_s=round(boot.seconds, 3),
            first_s=round(first.seconds, 2),
            pages_per_s=round(count / first.seconds, 2),
            lxml_s=round(lxml_s, 3),
            bs4_s=round(bs4_s, 3),
            ratio_lxml=round(work / lxml_s, 1),
            ratio_bs4=round(work / bs4_s, 1),
            unchanged_304_s=round(same304.seconds, 2),
            unchanged_304_ms_per_source=round(1000 * (same304.seconds - boot.seconds) / count, 2),
            unchanged_same_s=round(same200.seconds, 2),
            unchanged_same_ms_per_source=round(1000 * (same200.seconds - boot.seconds) / count, 2),
            first_maxrss_mb=round(first.maxrss_mb, 1),
            unchanged_maxrss_mb=round(same200.maxrss_mb, 1),
            startup_maxrss_mb=round(boot.maxrss_mb, 1),
        )


HEADER = (
    "| pages | sizes | MB | entries | first run | pages/s | lxml parse | bs4 parse "
    "| × lxml | × bs4 | unchanged 304 (per source) | unchanged same bytes (per source) "
    "| peak RSS first / unchanged |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(r: E2E) -> str:
    return (
        f"| {r.pages:,} | {r.min_kb}–{r.max_kb} KB | {r.mb:,} | {r.entries:,} | {r.first_s} s "
        f"| {r.pages_per_s} | {r.lxml_s} s | {r.bs4_s} s | {r.ratio_lxml} | {r.ratio_bs4} "
        f"| {r.unchanged_304_s} s ({r.unchanged_304_ms_per_source} ms) "
        f"| {r.unchanged_same_s} s ({r.unchanged_same_ms_per_source} ms) "
        f"| {r.first_maxrss_mb} / {r.unchanged_maxrss_mb} MB |"
    )


def report(results: list[E2E], json_path: str | None) -> None:
    print(HEADER)
    for r in results:
        print(row(r))
    if results:
        boot = results[0]
        print(
            f"\nstart-up (python + imports): {boot.startup_s} s, {boot.startup_maxrss_mb} MB RSS; "
            "ratios and per-source costs have it subtracted"
        )
    if json_path:
        Path(json_path).write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


def profile(
    count: int, min_kb: int, max_kb: int, top: int, seed: int = 0, unchanged: bool = False
) -> str:
    """cProfile of one first run (in-process run_once) on ``count`` pages, or of the run after it
    (nothing changed: 304s); the top functions."""
    from feedbot.config import load_config
    from feedbot.run import run_once

    with site(count, min_kb, max_kb, seed) as s:
        config = load_config(write_config(s))
        if unchanged:
            run_once(config)
        profiler = cProfile.Profile()
        profiler.enable()
        results = run_once(config)
        profiler.disable()
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        return out.getvalue()
