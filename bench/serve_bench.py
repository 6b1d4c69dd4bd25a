"""Serving a feed: requests per second of `feedbot serve` against nginx serving the same file.

A 50-entry Atom feed is made by the real pipeline from a generated 50-story digest page; then
`feedbot serve` (waitress, access log on, to /dev/null) and nginx (one worker, access log on, to a
file; sendfile, its own ETag) serve it on 127.0.0.1 and wrk loads each with full 200 responses and with
conditional requests answered 304 (If-None-Match with the server's own ETag). For scale, a bare
waitress app that only answers 304 is measured too: the ceiling of any Python app under waitress.

Needs wrk and nginx on PATH (Debian: apt-get install wrk nginx-light); they are not test dependencies.
Run: .venv/bin/python bench/serve_bench.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedbot.config import load_config
from feedbot.run import run_once

WORDS = [
    "council", "budget", "river", "bridge", "school", "market", "harvest", "rail", "storm",
    "museum", "library", "festival", "hospital", "election", "court", "port", "airport",
    "energy", "water", "housing",
]  # fmt: skip


def digest(stories: int) -> str:
    parts = ["<html><head><title>Bench digest</title></head><body><div class='content'>"]
    for n in range(stories):
        word = WORDS[n % len(WORDS)]
        parts.append(f"<h2>Story {n + 1}: the {word} report number {n + 1}</h2>")
        for p in range(3):
            text = " ".join(WORDS[(n + p + k) % len(WORDS)] for k in range(60))
            parts.append(f"<p>Paragraph {p + 1} of story {n + 1}: {text}.</p>")
    parts.append("</div></body></html>")
    return "".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on port {port}")


def head(port: int, path: str, **headers: str) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def wrk(url: str, seconds: int, connections: int, threads: int, *headers: str) -> float:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match or "Non-2xx or 3xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return float(match.group(1))


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    types {{ application/atom+xml atom; }}
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


BARE_WAITRESS = """
import logging, waitress
logging.getLogger("waitress").setLevel(logging.ERROR)
def app(environ, start_response):
    start_response("304 Not Modified", [("ETag", '"x"')])
    return []
waitress.serve(app, host="127.0.0.1", port={port}, threads=4, _quiet=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install wrk nginx-light")

    work = Path(tempfile.mkdtemp(prefix="feedbot-serve-bench-"))
    work.chmod(0o755)  # nginx's workers drop privileges and must reach the feed
    (work / "digest.html").write_text(digest(50), encoding="utf-8")
    (work / "feedbot.toml").write_text(
        '[feedbot]\nuser_agent = "feedbot-bench/1 (+http://127.0.0.1/)"\n'
        '[feeds.bench]\nformats = ["atom"]\nentries = 50\n'
        '[[sources]]\nname = "bench"\nurl = "digest.html"\nheadline_selector = "h2"\n',
        encoding="utf-8",
    )
    config = load_config(work / "feedbot.toml")
    (result,) = run_once(config)
    feed = config.feeds_dir / "bench.atom"
    assert result.ok and result.new == 50, result
    size = feed.stat().st_size
    print(f"feed: {feed} ({size:,} bytes, 50 entries)")

    processes: list[subprocess.Popen[bytes]] = []
    try:
        fb_port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "feedbot", "serve"),
                    *("-c", str(config.path), "--port", str(fb_port)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ng_port = free_port()
        ng_dir = work / "nginx"
        (ng_dir / "tmp").mkdir(parents=True)
        conf = ng_dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(dir=ng_dir, port=ng_port, root=config.feeds_dir), encoding="utf-8"
        )
        processes.append(
            subprocess.Popen(
                ["nginx", "-c", str(conf), "-p", str(ng_dir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bare_port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", BARE_WAITRESS.format(port=bare_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for(fb_port)
        wait_for(ng_port)
        wait_for(bare_port)
        bare = wrk(f"http://127.0.0.1:{bare_port}/", args.seconds, args.connections, args.threads)
        print(f"bare waitress (an app that only answers 304): {bare:,.0f} req/s")

        rows = []
        for name, port in (("feedbot serve", fb_port), ("nginx", ng_port)):
            status, headers = head(port, "/bench.atom")
            assert status == 200 and int(headers["content-length"]) == size, (name, headers)
            etag = headers["etag"]
            status, _ = head(port, "/bench.atom", **{"If-None-Match": etag})
            assert status == 304, (name, status)
            url = f"http://127.0.0.1:{port}/bench.atom"
            ok = wrk(url, args.seconds, args.connections, args.threads)
            not_modified = wrk(
                url, args.seconds, args.connections, args.threads, f"If-None-Match: {etag}"
            )
            rows.append((name, ok, not_modified))
            print(f"{name:<14} 200: {ok:>9,.0f} req/s   304: {not_modified:>9,.0f} req/s")
        (_, fb_ok, fb_304), (_, ng_ok, ng_304) = rows
        print(
            f"ratio feedbot/nginx: 200 {fb_ok / ng_ok:.3f} ({ng_ok / fb_ok:.1f}x slower), "
            f"304 {fb_304 / ng_304:.3f} ({ng_304 / fb_304:.1f}x slower)"
        )
        print(
            f"| {datetime.now(UTC):%Y-%m-%d} | {size:,} B | "
            f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s | "
            f"{fb_ok:,.0f} | {ng_ok:,.0f} | {fb_ok / ng_ok:.3f} | "
            f"{fb_304:,.0f} | {ng_304:,.0f} | {fb_304 / ng_304:.3f} | {bare:,.0f} |"
        )
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc.args[0] != "nginx" else signal.SIGQUIT)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
