"""feedbot next to urlwatch on the same 200 pages, in the same run (issue 17).

    python -m bench peers [--pages 200] [--repeat 3] [--changed 120]

200 digest pages (about 79 KB each, 15.8 MB in all, h2 headlines, about 10 stories a page, half
English and half Chinese; navigation and a footer around them) served by one local page server
(bench/server.py, its own process; Last-Modified and 304s). One source and one Atom feed per page
for feedbot; one url job per page for urlwatch, which fetches and keeps whole pages (no items, no
state per story) and reports their diffs. Passes, each a fresh process of each program, wall time
from start to exit (Python start-up included), timed one after the other in every repeat:

- every page new: empty state / empty cache;
- unchanged re-poll: nothing changed (every page answers 304);
- N of 200 pages changed: a story added to N pages (a 200 for them, 304 for the others).

feedbot runs with its defaults but ``host_interval = 0`` and ``host_concurrency = 4`` (all pages
are on one host, whose politeness would pace the bench at one page a second): ``concurrency = 4``.
urlwatch runs as installed, with its 10 worker threads, and its stdout reporter on (the diff of
each changed page), written to /dev/null as feedbot's output is.

urlwatch comes from PyPI into the bench's own environment, ``bench/.venv-peers`` (git-ignored):
``python3 -m venv bench/.venv-peers && bench/.venv-peers/bin/pip install urlwatch``; the bench makes
it if it is missing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.state import Story, Text

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / "bench" / ".venv-peers"
URLWATCH = PEERS_VENV / "bin" / "urlwatch"
PAGE_KB = 79
NAV = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
FOOTER = (
    "<footer><p>Copyright 2026 Example Media. All rights reserved.</p>"
    '<p><a href="/about">About</a> · <a href="/contact">Contact</a> · '
    '<a href="/privacy">Privacy</a></p></footer>'
)


def ensure_urlwatch() -> Path:
    if not URLWATCH.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [str(PEERS_VENV / "bin" / "pip"), "install", "-q", "urlwatch>=2.28,<3"], check=True
        )
    return URLWATCH


def long_story(text: Text, serial: int) -> Story:
    """A story of 6.5-9 KB of HTML (about ten to a 79 KB page, as the issue's corpus has)."""
    rng = random.Random(serial)
    zh = serial % 2 == 1
    target = rng.randint(6_500, 9_000)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        paragraph = " ".join(text.sentence(rng, zh) for _ in range(rng.randint(2, 5)))
        paragraphs.append(paragraph)
        size += len(paragraph.encode()) + 7
    return Story(text.headline(rng, zh, serial), tuple(paragraphs))


def digest(text: Text, page: int, extra: int = 0) -> str:
    """A digest page of about PAGE_KB KB: stories under h2 headlines until the size is reached
    (``extra`` stories more at the top: a changed page)."""
    stories: list[Story] = []
    serial = page * 1000
    size = 0
    while size < PAGE_KB * 1000 - 6000:
        s = long_story(text, serial)
        stories.append(s)
        serial += 1
        size += len(s.headline.encode()) + sum(len(p.encode()) + 7 for p in s.paragraphs) + 9
    for i in range(extra):
        stories.insert(0, long_story(text, page * 1000 + 900 + i))
    body = "".join(
        f"<h2>{s.headline}</h2>" + "".join(f"<p>{p}</p>" for p in s.paragraphs) for s in stories
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Digest {page}</title></head>"
        f"<body><header><nav><ul>{NAV}</ul></nav></header><main><article><h1>Digest {page}</h1>"
        f"{body}</article></main>{FOOTER}</body></html>"
    )


@dataclass
class Site:
    work: Path
    www: Path
    port: int
    pages: int
    total_bytes: int


def start_server(www: Path) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.server", str(www)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def write_pages(www: Path, text: Text, pages: int) -> int:
    total = 0
    for i in range(pages):
        data = digest(text, i).encode("utf-8")
        (www / f"p{i}.html").write_bytes(data)
        total += len(data)
    return total


def change_pages(www: Path, text: Text, count: int, round_: int) -> None:
    """A story added to the first ``count`` pages; the mtime moves on so Last-Modified does."""
    for i in range(count):
        path = www / f"p{i}.html"
        path.write_text(digest(text, i, extra=round_), encoding="utf-8")
        stamp = time.time() + 2
        os.utime(path, (stamp, stamp))


def feedbot_config(work: Path, port: int, pages: int) -> Path:
    lines = [
        "[feedbot]",
        'state_dir = "state"',
        'feeds_dir = "feeds"',
        'user_agent = "feedbot-bench/1 (+http://127.0.0.1/contact)"',
        "host_interval = 0",
        "host_concurrency = 4",
    ]
    for i in range(pages):
        lines += ["[[sources]]", f'name = "s{i}"', f'url = "http://127.0.0.1:{port}/p{i}.html"']
    path = work / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def urlwatch_files(work: Path, port: int, pages: int) -> list[str]:
    jobs = work / "urls.yaml"
    jobs.write_text(
        "\n---\n".join(f"name: p{i}\nurl: http://127.0.0.1:{port}/p{i}.html" for i in range(pages))
        + "\n"
    )
    config = work / "urlwatch.yaml"
    config.write_text(
        "display:\n  new: true\n  error: true\n  unchanged: false\n"
        "report:\n  text:\n    details: true\n    footer: false\n    line_length: 75\n"
        "  stdout:\n    enabled: true\n    color: false\n"
        "  html:\n    diff: unified\n  markdown:\n    details: true\n    footer: false\n"
        "  email:\n    enabled: false\n"
    )
    return [
        "--urls",
        str(jobs),
        "--config",
        str(config),
        "--cache",
        str(work / "urlwatch-cache.db"),
        "--hooks",
        str(work / "hooks.py"),
    ]


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    out = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    seconds = time.perf_counter() - started
    if out.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv)} exited {out.returncode}:\n{out.stderr[-3000:]!r}")
    return seconds


def one_round(pages: int, changed: int, seed: int, round_: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="feedbot-peers-"))
    www = work / "www"
    www.mkdir()
    text = Text(seed)
    total = write_pages(www, text, pages)
    server, port = start_server(www)
    env = {k: v for k, v in os.environ.items() if k not in ("HTTP_PROXY", "HTTPS_PROXY")}
    env["HOME"] = str(work)  # urlwatch keeps nothing outside the files it is given
    try:
        fb_dir = work / "feedbot"
        fb_dir.mkdir()
        config = feedbot_config(fb_dir, port, pages)
        feedbot = [sys.executable, "-m", "feedbot", "run", "-c", str(config)]
        uw_dir = work / "urlwatch"
        uw_dir.mkdir()
        (uw_dir / "hooks.py").write_text("")
        urlwatch = [str(ensure_urlwatch()), *urlwatch_files(uw_dir, port, pages)]
        r: dict[str, float] = {"mb": total / 1e6, "load": os.getloadavg()[0]}
        # alternate which program goes first from round to round
        order = [("feedbot", feedbot, fb_dir), ("urlwatch", urlwatch, uw_dir)]
        if round_ % 2:
            order.reverse()
        for name, argv, cwd in order:
            r[f"{name}_new"] = timed(argv, cwd, env)
        for name, argv, cwd in order:
            r[f"{name}_unchanged"] = timed(argv, cwd, env)
        change_pages(www, text, changed, 1)
        time.sleep(0.1)
        for name, argv, cwd in order:
            r[f"{name}_changed"] = timed(argv, cwd, env)
        r["items"] = float(count_entries(fb_dir / "state" / "feedbot.sqlite3"))
        return r
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def count_entries(db: Path) -> int:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        con.close()


def startup_seconds() -> float:
    """``feedbot --version``-like cost: Python start-up plus importing what `feedbot run` imports
    before it reads the config (best of 3)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import feedbot.cli"], cwd=ROOT, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench peers", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--changed", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    ensure_urlwatch()
    rounds = []
    for round_ in range(args.repeat):
        rounds.append(one_round(args.pages, args.changed, args.seed, round_))
        r = rounds[-1]
        print(
            f"  round {round_ + 1}: load {r['load']:.2f}; "
            + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if k not in ("load",)),
            file=sys.stderr,
            flush=True,
        )
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    loads = ", ".join(f"{r['load']:.2f}" for r in rounds)
    pages = args.pages
    print(
        f"{pages} pages, {med['mb']:.1f} MB, {med['items']:.0f} entries; median of {args.repeat}; "
        f"load averages {loads}; "
        f"feedbot start-up (import feedbot.cli) {startup_seconds():.3f} s"
    )
    print()
    print("| pass | feedbot | urlwatch | feedbot pages/s ÷ urlwatch pages/s |")
    print("|---|---|---|---|")
    for label, key in (
        ("every page new", "new"),
        ("unchanged re-poll (304)", "unchanged"),
        (f"{args.changed} of {pages} pages changed", "changed"),
    ):
        fb, uw = med[f"feedbot_{key}"], med[f"urlwatch_{key}"]
        print(
            f"| {label} | {pages / fb:.0f} pages/s ({fb:.2f} s) | {pages / uw:.0f} pages/s "
            f"({uw:.2f} s) | {uw / fb:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
