"""Daemon soak: many sources on a one-second schedule against a local server, for minutes.

Starts ``python -m feedbot daemon`` as a child process on a generated config (N sources, each its
own feed, schedule "1s") against an HTTP server on 127.0.0.1 run by this script. Every page gains a
new story and drops its oldest every ``--change-every`` seconds, so the store and the feeds keep
growing as they would in real life. Reports runs completed (the daemon's JSON log lines), errors,
requests served, and the daemon's resident memory (VmRSS from /proc/PID/status), thread count and
open files at start, at end and at points in between; then stops it with SIGTERM and times that.

Run: .venv/bin/python bench/soak.py [--sources 100] [--minutes 10] [--samples 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = [
    "council",
    "harbour",
    "railway",
    "budget",
    "museum",
    "festival",
    "bridge",
    "election",
    "school",
    "river",
    "market",
    "hospital",
    "library",
    "airport",
    "forest",
    "station",
    "theatre",
    "factory",
    "stadium",
    "garden",
]


def story(source: int, number: int) -> str:
    words = [WORDS[(source * 7 + number * 3 + i) % len(WORDS)] for i in range(40)]
    return (
        f"<h2>Story {number} of digest {source}: the {WORDS[number % len(WORDS)]} reopens</h2>\n"
        f"<p>Report {number} from digest {source}. {' '.join(words).capitalize()}.</p>\n"
        f"<p>Officials said on day {number} that the {' '.join(words[:12])} would continue.</p>\n"
    )


def page(source: int, day: int) -> bytes:
    stories = "".join(story(source, n) for n in range(day, day + 5))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Digest {source}, day {day}</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        f"<main><h1>Digest {source}, day {day}</h1>\n{stories}</main>"
        "<footer>Copyright 2026 Example News. All rights reserved.</footer></body></html>"
    ).encode()


class PageServer:
    """Serves /s/N as source N's page for the current 'day' (elapsed // change_every)."""

    def __init__(self, change_every: float) -> None:
        self.started = time.monotonic()
        self.change_every = change_every
        self.requests = 0
        self._count_lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else the body waits for a delayed ACK (40 ms a page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outer._count_lock:
                    outer.requests += 1
                try:
                    number = int(self.path.rsplit("/", 1)[1])
                except ValueError:
                    self.send_error(404)
                    return
                day = int((time.monotonic() - outer.started) // outer.change_every)
                body = page(number, day)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"


def write_config(directory: Path, base: str, sources: int) -> Path:
    lines = [
        "[feedbot]",
        'user_agent = "feedbot-soak/1 (+http://127.0.0.1/contact)"',
        'schedule = "1s"',
    ]
    for n in range(sources):
        lines += [
            "[[sources]]",
            f'name = "s{n:03d}"',
            f'url = "{base}/s/{n}"',
            'split = "headlines"',
        ]
    path = directory / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def proc_status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            fields[key] = int(value.split()[0])
    fields["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    fields["cpu"] = (int(stat[11]) + int(stat[12])) * 1000 // os.sysconf("SC_CLK_TCK")  # ms
    return fields


def count_log(path: Path) -> tuple[int, int, int, list[str]]:
    """Runs completed, runs that failed, lines at warning or above, and the first few of those."""
    runs = failed = problems = 0
    examples: list[str] = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            problems += 1
            examples.append(line[:200])
            continue
        message = record["message"]
        if message.startswith("source=") and " result=" in message:
            runs += 1
            failed += " result=error" in message
        if record["level"] in ("warning", "error", "critical"):
            problems += 1
            if len(examples) < 5:
                examples.append(message[:200])
    return runs, failed, problems, examples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=10, help="memory samples after the start")
    parser.add_argument("--change-every", type=float, default=60.0, help="seconds between changes")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="feedbot-soak-"))
    server = PageServer(args.change_every)
    config = write_config(work, server.base, args.sources)
    log_path = work / "daemon.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedbot",
                "daemon",
                "-c",
                str(config),
                "--log-format",
                "json",
                "--workers",
                str(args.workers),
            ],
            stderr=log,
            stdout=subprocess.DEVNULL,
            cwd=work,
        )
        duration = args.minutes * 60
        started = time.monotonic()
        time.sleep(min(5.0, duration / 10))  # imports done, first runs going
        rows = []
        for i in range(args.samples + 1):
            target = started + 5 + (duration - 5) * i / args.samples if i else time.monotonic()
            time.sleep(max(0.0, target - time.monotonic()))
            if daemon.poll() is not None:
                print(f"daemon exited early with status {daemon.returncode}", file=sys.stderr)
                break
            runs = count_log(log_path)[0]
            rows.append(
                (time.monotonic() - started, runs, server.requests, proc_status(daemon.pid))
            )
            at, runs, requests, st = rows[-1]
            print(
                f"t={at:6.0f}s runs={runs:7d} requests={requests:7d} rss={st['VmRSS'] / 1024:6.1f} MiB "
                f"hwm={st['VmHWM'] / 1024:6.1f} MiB threads={st['Threads']} fds={st['fds']} "
                f"cpu={st['cpu'] / 1000:.0f}s",
                flush=True,
            )
        stop_started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(30)
        stop_took = time.monotonic() - stop_started
    elapsed = stop_started - started
    runs, failed, problems, examples = count_log(log_path)
    state = work / "state" / "feedbot.sqlite3"
    import sqlite3

    db = sqlite3.connect(state)
    entries = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    db.close()
    print()
    print(f"sources {args.sources}, schedule 1s, workers {args.workers}, {elapsed:.0f} s")
    print(f"runs completed {runs} ({runs / elapsed:.1f}/s; a perfect schedule: {args.sources}/s)")
    print(f"failed runs {failed}; log lines at warning or above {problems}")
    for example in examples:
        print(f"  {example}")
    print(f"requests served {server.requests}; entries stored {entries}")
    first, last = rows[0][3], rows[-1][3]
    print(
        f"RSS start {first['VmRSS'] / 1024:.1f} MiB, end {last['VmRSS'] / 1024:.1f} MiB, "
        f"peak {max(r[3]['VmHWM'] for r in rows) / 1024:.1f} MiB"
    )
    print(
        f"daemon CPU time {last['cpu'] / 1000:.0f} s ({last['cpu'] / 10 / rows[-1][0]:.0f}% of one core)"
    )
    print(f"SIGTERM -> exit status {status} in {stop_took:.2f} s")
    if args.keep:
        print(f"kept {work}")
    else:
        import shutil

        shutil.rmtree(work)
    server.httpd.shutdown()
    return 0 if status == 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
