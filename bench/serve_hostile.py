"""Serving under hostile clients: how long a well-behaved client waits for its feed while idle or
slowloris connections hold ``feedbot serve``, next to waitress with its default settings.

`feedbot serve` runs in its own process on 127.0.0.1 over a 50-entry feed made by the real pipeline.
For each scenario this process opens the attackers' connections — idle (connect, send nothing) or
slowloris (a request line, then one header line every half second, never the blank line) — waits
two seconds, then times ``--probes`` GETs of the feed one after another, each on a new connection,
and reports the median and the worst. The peer is the same application under waitress's defaults
(100 connections, 120 s idle timeout: what feedbot used before), where a probe that gets no answer
within ``--timeout`` seconds counts as "no answer". The floor is the same probe with no attacker.

Run: .venv/bin/python bench/serve_hostile.py [--probes 20] [--timeout 5]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench.serve_bench import digest, free_port, wait_for
from feedbot.config import load_config
from feedbot.run import run_once

DEFAULTS_SERVER = """
import logging, sys, waitress
from feedbot.config import load_config
from feedbot.serve import make_app
logging.getLogger("waitress").setLevel(logging.ERROR)
waitress.serve(make_app(load_config(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]),
               threads=4, _quiet=True)
"""

SCENARIOS = [("none", 0), ("idle", 500), ("slowloris", 500), ("idle", 1500), ("slowloris", 1500)]


class Attack:
    def __init__(self, port: int, kind: str, count: int) -> None:
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))  # a full backlog must not block the bench
            self.sockets.append(sock)
        time.sleep(0.5)
        if kind == "slowloris":
            self._send(b"GET /bench.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.thread = threading.Thread(target=self._drip, daemon=True)
            self.thread.start()

    def _send(self, data: bytes) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.send(data)

    def _drip(self) -> None:
        n = 0
        ends = time.monotonic() + 300  # bounded, whatever happens
        while not self.stop.wait(0.5) and time.monotonic() < ends:
            n += 1
            self._send(f"X-Slow-{n}: a\r\n".encode())

    def close(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            sock.close()


def probe(port: int, timeout: float) -> float | None:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/bench.atom")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            return None
        return time.monotonic() - started
    except OSError:
        return None
    finally:
        conn.close()


def measure(port: int, kind: str, count: int, probes: int, timeout: float) -> str:
    attack = Attack(port, kind, count)
    try:
        time.sleep(2.0)
        waits = []
        for _ in range(probes):
            wait = probe(port, timeout)
            if wait is None:
                return f"no answer within {timeout:g} s"
            waits.append(wait)
    finally:
        attack.close()
    time.sleep(1.0)  # let the server see the attackers go
    return f"{statistics.median(waits) * 1000:.1f} ms / {max(waits) * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="feedbot-serve-hostile-"))
    (work / "digest.html").write_text(digest(50), encoding="utf-8")
    (work / "feedbot.toml").write_text(
        '[feedbot]\nuser_agent = "feedbot-bench/1 (+http://127.0.0.1/)"\n'
        '[feeds.bench]\nformats = ["atom"]\nentries = 50\n'
        '[[sources]]\nname = "bench"\nurl = "digest.html"\nheadline_selector = "h2"\n',
        encoding="utf-8",
    )
    config = load_config(work / "feedbot.toml")
    (result,) = run_once(config)
    assert result.ok and result.new == 50, result

    rows: dict[tuple[str, int], list[str]] = {s: [] for s in SCENARIOS}
    servers = {
        "feedbot serve": [sys.executable, "-m", "feedbot", "serve", "-c", str(config.path)],
        "waitress defaults": [sys.executable, "-c", DEFAULTS_SERVER, str(config.path)],
    }
    for name, command in servers.items():
        port = free_port()
        argv = [*command, "--port", str(port)] if name == "feedbot serve" else [*command, str(port)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(port)
            for kind, count in SCENARIOS:
                rows[(kind, count)].append(measure(port, kind, count, args.probes, args.timeout))
                print(f"{name}: {count} {kind}: {rows[(kind, count)][-1]}", flush=True)
        finally:
            process.terminate()
            process.wait(10)

    print("\n| attackers | feedbot serve (median / worst) | waitress defaults (median / worst) |")
    print("|---|---|---|")
    for (kind, count), cells in rows.items():
        label = "none" if not count else f"{count} {kind}"
        print(f"| {label} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
