"""Cost against the size of the state: one page of 10 new items and one page of 10 edited items
against one feed of 1k, 10k, 100k and 1M entries (issue 17).

    python -m bench state [--sizes 1000,10000,100000,1000000] [--repeat 3] [--keep DIR]

The sizes are built first; then the measurements take turns, size after size in every round, so
that the load of a shared machine weighs on each size alike.

For each size the state is built fast, without running a page per ten entries: stories are
generated (half English, half Chinese, words and characters drawn with Zipf's law from large
vocabularies, so unrelated stories share common words and phrases as real ones do), identified
by feedbot's own ``identify`` and written through the store's own ``apply_page`` in pages of
5,000 items — the same rows (entries, revisions, appearances, signatures, band keys) a run would
write. Then each measurement is a fresh ``python -m bench.state measure`` process that runs
``feedbot.run.run_once`` on a one-source config whose page is a local file: reading the page,
splitting, identifying, deciding, storing, rendering and writing the feed. The process reports the
time ``run_once`` took (wall and CPU; interpreter start-up and the imports a run makes on first use
are not counted, they do not depend on the state) and its peak resident memory (``VmHWM``: the whole process, start-up included). A
warm-up page is run first at each size so the feed file exists, as it would in use. Each page is
new bytes (new stories, or new edits of the newest stored stories), so nothing is skipped as
unchanged.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEED = "big"
SOURCE = "big"
PAGE_ITEMS = 10
BUILD_CHUNK = 5_000


class Text:
    """Deterministic story text: Zipf-distributed words (English) and characters (Chinese)."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        letters = "etaoinshrdlcumwfgypbvk"
        self.words = sorted(
            {"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(12_000)}
        )
        rng.shuffle(self.words)
        # the 3,500 characters of the common-use list are about 99.5 % of running Chinese text;
        # any 3,500 of the basic block behave alike for shingles
        self.chars = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA6), 3_500)]
        self.word_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.words))))
        self.char_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.chars))))

    def _draw(self, rng: random.Random, zh: bool, k: int) -> list[str]:
        pool, weights = (self.chars, self.char_weights) if zh else (self.words, self.word_weights)
        top = weights[-1]
        return [pool[bisect.bisect(weights, rng.random() * top)] for _ in range(k)]

    def sentence(self, rng: random.Random, zh: bool) -> str:
        if zh:
            return "".join(self._draw(rng, True, rng.randint(12, 30))) + "。"
        words = self._draw(rng, False, rng.randint(8, 20))
        return " ".join(words).capitalize() + "."

    def headline(self, rng: random.Random, zh: bool, serial: int) -> str:
        if zh:
            return "".join(self._draw(rng, True, rng.randint(8, 14))) + f" {serial}"
        return " ".join(self._draw(rng, False, rng.randint(5, 9))).capitalize() + f" {serial}"

    def story(self, rng: random.Random, zh: bool) -> list[str]:
        """Paragraphs: 3-5 of 2-4 sentences (about 120-400 tokens)."""
        return [
            " ".join(self.sentence(rng, zh) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(3, 5))
        ]


@dataclass(frozen=True)
class Story:
    headline: str
    paragraphs: tuple[str, ...]


def story(text: Text, serial: int) -> Story:
    rng = random.Random(serial)
    zh = serial % 2 == 1
    return Story(text.headline(rng, zh, serial), tuple(text.story(rng, zh)))


def edited(text: Text, original: Story, edit: int) -> Story:
    """The story with one paragraph added at its end (a light edit: an update, not a new story)."""
    rng = random.Random(10**9 + edit)
    zh = any("\u4e00" <= c <= "\u9fff" for c in original.headline)
    extra = " ".join(text.sentence(rng, zh) for _ in range(2))
    return Story(original.headline, (*original.paragraphs, extra))


def page_html(stories: list[Story]) -> str:
    body = "".join(
        f"<h2>{s.headline}</h2>" + "".join(f"<p>{p}</p>" for p in s.paragraphs) for s in stories
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Digest</title></head>"
        f"<body><main><h1>Digest</h1>{body}</main></body></html>"
    )


def write_config(work: Path) -> Path:
    path = work / "feedbot.toml"
    path.write_text(
        "\n".join(
            [
                "[feedbot]",
                'state_dir = "state"',
                'feeds_dir = "feeds"',
                'user_agent = "feedbot-bench/1 (+http://127.0.0.1/contact)"',
                "[[sources]]",
                f'name = "{SOURCE}"',
                'url = "page.html"',
                f'feed = "{FEED}"',
            ]
        )
        + "\n"
    )
    return path


def build(work: Path, size: int, seed: int) -> float:
    """A state whose feed holds ``size`` entries (serials 0 .. size-1), through the store's own
    apply_page. Returns the seconds it took."""
    from feedbot.config import load_config
    from feedbot.decide import decide
    from feedbot.identify import identify
    from feedbot.model import Item, Prepared
    from feedbot.store import Store

    config = load_config(write_config(work))
    text = Text(seed)
    started = time.perf_counter()
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with Store(config.db_path) as store:
        # the bench's own setting, for building only: a large page cache keeps the band index's
        # random inserts in memory (feedbot itself runs with SQLite's default)
        store.db.execute("PRAGMA cache_size = -1000000")
        for first in range(0, size, BUILD_CHUNK):
            serials = range(first, min(first + BUILD_CHUNK, size))
            stories = [story(text, s) for s in serials]
            items = [
                Item(s.headline, "", "\n\n".join(s.paragraphs), position)
                for position, s in enumerate(stories)
            ]
            identified = identify(items)
            changes = decide(identified, [], source=SOURCE)  # all new, into no candidates
            now = stamp + timedelta(minutes=first // BUILD_CHUNK)
            prepared = [
                (
                    change,
                    Prepared(
                        body_html="".join(f"<p>{p}</p>" for p in stories[i].paragraphs),
                        link=f"https://example.org/digest#{serials[i]}",
                        published=now,
                    ),
                )
                for i, change in enumerate(changes)
            ]
            store.apply_page(
                feed=FEED,
                source=SOURCE,
                page_url="https://example.org/digest",
                changes=prepared,
                now=now,
                validators=None,
            )
            if first // BUILD_CHUNK % 20 == 19:
                done = first + BUILD_CHUNK
                rate = done / (time.perf_counter() - started)
                print(
                    f"    built {done:,} of {size:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True
                )
    return time.perf_counter() - started


@dataclass
class Measured:
    size: int
    kind: str  # "new" or "edited"
    seconds: float
    cpu_seconds: float
    maxrss_mb: float
    new: int
    updated: int


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (VmHWM). Not ru_maxrss: after fork and
    exec that still counts the parent's memory at the fork (the bench process, which built the
    state)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_child(config_path: Path) -> dict[str, float]:
    """In the child process: one run_once, timed; the result counts and the peak memory."""
    import feedbot.identify
    import feedbot.render
    import feedbot.sanitize
    import feedbot.split
    from feedbot.config import load_config
    from feedbot.run import run_once

    # what a run imports on first use is imported before the clock starts: it costs the same
    # against any state (start-up is measured by `python -m bench peers`)
    feedbot.identify.fold("預熱")
    feedbot.render.item_link("http://x/", None, "x")
    feedbot.sanitize.clean_html("<p>x</p>", "http://x/")
    feedbot.split.split_page("<h2>a</h2><p>b</p>", "text/html", feedbot.split.SplitOptions())
    config = load_config(config_path)
    wall, cpu = time.perf_counter(), time.process_time()
    (result,) = run_once(config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not result.ok:
        raise SystemExit(f"run failed: {result.error}")
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "maxrss_mb": peak_rss_mb(),
        "new": result.new,
        "updated": result.updated,
    }


def run_page(work: Path, stories: list[Story], size: int, kind: str) -> Measured:
    (work / "page.html").write_text(page_html(stories), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bench.state", "measure", str(work / "feedbot.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"measurement failed:\n{out.stderr[-3000:]}")
    values = json.loads(out.stdout.strip().splitlines()[-1])
    return Measured(size=size, kind=kind, **values)


@dataclass
class Prepared:
    """A built state of one size and where its next pages' stories start."""

    size: int
    work: Path
    serial: int  # the next new story's serial
    edits: int  # the next edit's serial
    newest: int  # the newest stored story not edited yet


def prepare_size(size: int, seed: int, base: Path) -> Prepared:
    """Build (or reuse, with --keep) the state of ``size`` entries and run the warm-up page."""
    work = base / f"n{size}"
    text = Text(seed)
    if not (work / "state" / "feedbot.sqlite3").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        seconds = build(work, size, seed)
        print(f"  [{size:,}] state built in {seconds:.1f} s", file=sys.stderr, flush=True)
    else:
        write_config(work)
    serial = 10**8 + size  # new stories get serials no stored story has
    marker = work / "next-serial"
    if marker.exists():
        serial = int(marker.read_text())
    newest = size - 1
    edited_marker = work / "next-edit"
    if edited_marker.exists():
        newest = int(edited_marker.read_text())
    # warm-up: the feed file is written once, as it is in use
    run_page(work, [story(text, serial + i) for i in range(PAGE_ITEMS)], size, "warm-up")
    serial += PAGE_ITEMS
    return Prepared(size, work, serial, serial, newest)


def measure_round(state: Prepared, seed: int) -> list[Measured]:
    """One page of new stories and one of edits of the newest stored ones, against ``state``."""
    text = Text(seed)
    fresh = [story(text, state.serial + i) for i in range(PAGE_ITEMS)]
    state.serial += PAGE_ITEMS
    results = [run_page(state.work, fresh, state.size, "new")]
    originals = [story(text, state.newest - i) for i in range(PAGE_ITEMS)]
    state.newest -= PAGE_ITEMS
    changed = [edited(text, s, state.edits + i) for i, s in enumerate(originals)]
    state.edits += PAGE_ITEMS
    results.append(run_page(state.work, changed, state.size, "edited"))
    (state.work / "next-serial").write_text(str(max(state.serial, state.edits)))
    (state.work / "next-edit").write_text(str(state.newest))
    for r in results:
        print(
            f"  [{state.size:,}] {r.kind}: {r.seconds:.3f} s (cpu {r.cpu_seconds:.3f} s), "
            f"{r.maxrss_mb:.0f} MB, new {r.new}, updated {r.updated}, load "
            f"{os.getloadavg()[0]:.2f}",
            file=sys.stderr,
            flush=True,
        )
    return results


def table(results: list[Measured]) -> str:
    sizes = sorted({r.size for r in results})
    lines = [
        "| entries already in the feed | " + " | ".join(f"{s:,}" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for kind in ("new", "edited"):
        for label, field, unit in (
            ("time", "seconds", "s"),
            ("CPU", "cpu_seconds", "s"),
            ("peak RSS", "maxrss_mb", "MB"),
        ):
            cells = []
            for size in sizes:
                values = [getattr(r, field) for r in results if r.size == size and r.kind == kind]
                median = statistics.median(values)
                cells.append(f"{median:.0f} {unit}" if unit == "MB" else f"{median:.3f} {unit}")
            lines.append(f"| page of {kind} items: {label} | " + " | ".join(cells) + " |")
    for kind in ("new", "edited"):
        ratios = []
        for field in ("seconds", "cpu_seconds"):
            first = statistics.median(
                getattr(r, field) for r in results if r.size == sizes[0] and r.kind == kind
            )
            last = statistics.median(
                getattr(r, field) for r in results if r.size == sizes[-1] and r.kind == kind
            )
            ratios.append(last / first)
        lines.append(
            f"\n{kind}: {sizes[-1]:,} entries / {sizes[0]:,} entries = {ratios[0]:.2f}x "
            f"(median time), {ratios[1]:.2f}x (median CPU)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "measure":
        print(json.dumps(measure_child(Path(argv[1]))))
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench state", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", type=Path, help="build states here and keep them for the next run (DIR/nSIZE)"
    )
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)
    results: list[Measured] = []
    base = args.keep or Path(tempfile.mkdtemp(prefix="feedbot-state-bench-"))
    try:
        states = []
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"  [{size:,}] load: {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
            states.append(prepare_size(size, args.seed, base))
        # the sizes take turns, round after round: the machine's load (shared with others) then
        # weighs on every size alike, and the ratios compare pages measured side by side
        for _ in range(args.repeat):
            for state in states:
                results += measure_round(state, args.seed)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
