"""Fetching many sources: one run over N sources whose pages each take 200 ms to answer, against the
ideal N x 0.2 s / concurrency; then a second run where every page answers 304 Not Modified.

The pages are served by a separate process (so that its CPU time is not counted) on N ports of
127.0.0.1: feedbot's per-host limits key on scheme://host:port, so N ports are N hosts and the run
measures the global concurrency limit, not one host's. robots.txt answers 404 at once (allow all).
The run is in-process (``feedbot.run.run_once``, what ``feedbot run`` calls), so the CPU time is
feedbot's own: process CPU time (user + system, every thread) around the call.

Run: .venv/bin/python bench/fetch_bench.py [--sources 200] [--delay 0.2] [--concurrency 4]
     [--host-interval 0] [--kb 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import digest_page
from feedbot.config import load_config
from feedbot.run import run_once


def serve(count: int, delay: float, kb: int) -> None:
    """The server process: ``count`` servers on 127.0.0.1, one page each; prints the ports as JSON,
    then serves until its stdin closes."""
    pages = [digest_page(n, kb, zh=n % 2 == 0).encode() for n in range(count)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.answer(404, b"no robots.txt", {"Content-Type": "text/plain"})
                return
            n = int(self.path.strip("/"))
            time.sleep(delay)
            etag = f'"page-{n}"'
            if self.headers.get("If-None-Match") == etag:
                self.answer(304, b"", {"ETag": etag})
            else:
                self.answer(
                    200, pages[n], {"Content-Type": "text/html; charset=utf-8", "ETag": etag}
                )

        def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # feedbot closing its idle keep-alive connections at the end of a run

    servers = []
    for _ in range(count):
        httpd = Quiet(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
    print(json.dumps([s.server_address[1] for s in servers]), flush=True)
    sys.stdin.read()


def write_config(directory: Path, ports: list[int], args: argparse.Namespace) -> Path:
    lines = [
        "[feedbot]",
        'user_agent = "feedbot-bench/1 (+http://127.0.0.1/contact)"',
        f"concurrency = {args.concurrency}",
        f"host_interval = {args.host_interval}",
        "read_timeout = 10",
    ]
    for n, port in enumerate(ports):
        lines += [
            "[[sources]]",
            f'name = "s{n}"',
            f'url = "http://127.0.0.1:{port}/{n}"',
            f'feed = "f{n}"',
        ]
    path = directory / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed_run(config_path: Path) -> tuple[float, float, list[Any]]:
    config = load_config(config_path)
    wall, cpu = time.perf_counter(), time.process_time()
    results = run_once(config)
    return time.perf_counter() - wall, time.process_time() - cpu, results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--host-interval", type=float, default=0.0)
    parser.add_argument("--kb", type=int, default=20, help="size of each digest page")
    parser.add_argument("--profile", help="write a cProfile of the first run's main thread here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.sources, args.delay, args.kb)
        return 0

    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            f"--sources={args.sources}",
            f"--delay={args.delay}",
            f"--kb={args.kb}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ports = json.loads(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            path = write_config(Path(tmp), ports, args)
            ideal = args.sources * args.delay / args.concurrency
            print(
                f"{args.sources} sources, {args.delay * 1000:.0f} ms per page, {args.kb} KB pages, "
                f"concurrency {args.concurrency}, host_interval {args.host_interval}s, "
                f"{os.cpu_count()} CPUs"
            )
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            wall, cpu, results = timed_run(path)
            if args.profile:
                profiler.disable()
                profiler.dump_stats(args.profile)
            failed = [r for r in results if not r.ok]
            items = sum(r.new for r in results)
            print(
                f"first run: wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}; "
                f"CPU {cpu:.2f} s ({cpu / args.sources * 1000:.1f} ms per source); "
                f"{items} items; {len(failed)} failed"
            )
            for r in failed[:5]:
                print("  ", r.error)
            wall, cpu, results = timed_run(path)
            not_modified = sum(1 for r in results if r.not_modified)
            print(
                f"304 run:   wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}; "
                f"CPU {cpu:.2f} s ({cpu / args.sources * 1000:.1f} ms per source); "
                f"{not_modified} of {len(results)} not modified"
            )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
