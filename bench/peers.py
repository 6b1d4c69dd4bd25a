"""feedbot next to urlwatch on the same 200 pages, in the same run (issue 17).

    python -m bench peers [--pages 200] [--repeat 3] [--changed 120] [--baseline DIR]

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

``--baseline DIR``: a second feedbot, the source tree in DIR (``git archive main | tar -x -C DIR``),
runs beside them in every round (``PYTHONPATH=DIR``, the same interpreter and libraries, a state of
its own): before and after measured side by side, under the same load. Each pass also gives the CPU
time (user + system) of the program's processes, children included: on a shared machine it moves
less with the others' load than wall time does.

urlwatch comes from PyPI into the bench's own environment, ``bench/.venv-peers`` (git-ignored):
``python3 -m venv bench/.venv-peers && bench/.venv-peers/bin/pip install urlwatch``; the bench makes
it if it is missing.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system of the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv)} exited {out.returncode}:\n{out.stderr[-3000:]!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def one_round(
    pages: int, changed: int, seed: int, round_: int, baseline: Path | None = None
) -> dict[str, float]:
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
        order = [("feedbot", feedbot, fb_dir, env), ("urlwatch", urlwatch, uw_dir, env)]
        if baseline is not None:
            base_dir = work / "baseline"
            base_dir.mkdir()
            base_env = {**env, "PYTHONPATH": str(baseline)}
            base = [
                sys.executable,
                "-m",
                "feedbot",
                "run",
                "-c",
                str(feedbot_config(base_dir, port, pages)),
            ]
            order.insert(1, ("baseline", base, base_dir, base_env))
        # rotate which program goes first from round to round
        order = order[round_ % len(order) :] + order[: round_ % len(order)]
        for key in ("new", "unchanged", "changed"):
            if key == "changed":
                change_pages(www, text, changed, 1)
                time.sleep(0.1)
            for name, argv, cwd, run_env in order:
                r[f"{name}_{key}"], r[f"{name}_{key}_cpu"] = timed(argv, cwd, run_env)
        r["items"] = float(count_entries(fb_dir / "state" / "feedbot.sqlite3"))
        if baseline is not None:
            r["baseline_items"] = float(
                count_entries(work / "baseline" / "state" / "feedbot.sqlite3")
            )
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
    parser.add_argument(
        "--baseline", type=Path, default=None, help="a feedbot source tree to run beside this one"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    baseline = args.baseline.resolve() if args.baseline else None
    if baseline is not None and not (baseline / "feedbot" / "__init__.py").is_file():
        parser.error(f"{baseline}: no feedbot package there")
    ensure_urlwatch()
    rounds = []
    for round_ in range(args.repeat):
        rounds.append(one_round(args.pages, args.changed, args.seed, round_, baseline))
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
    programs = ["feedbot", *(["baseline"] if baseline else []), "urlwatch"]
    names = {"feedbot": "feedbot", "baseline": "baseline feedbot", "urlwatch": "urlwatch"}
    print(
        "| pass | "
        + " | ".join(names[p] for p in programs)
        + " | "
        + " | ".join(f"{names[p]} pages/s ÷ urlwatch pages/s" for p in programs[:-1])
        + " |"
    )
    print("|---" * (1 + 2 * len(programs) - 1) + "|")
    for label, key in (
        ("every page new", "new"),
        ("unchanged re-poll (304)", "unchanged"),
        (f"{args.changed} of {pages} pages changed", "changed"),
    ):
        cells = [
            f"{pages / med[f'{p}_{key}']:.0f} pages/s ({med[f'{p}_{key}']:.2f} s, "
            f"CPU {med[f'{p}_{key}_cpu']:.2f} s)"
            for p in programs
        ]
        uw = med[f"urlwatch_{key}"]
        ratios = [f"{uw / med[f'{p}_{key}']:.2f}" for p in programs[:-1]]
        print(f"| {label} | " + " | ".join(cells + ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
