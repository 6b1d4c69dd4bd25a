"""Splitting costs little beyond parsing: time to extract and split a page vs BeautifulSoup(page, "lxml").

Run: .venv/bin/python bench/split_bench.py [--pages 40] [--repeat 3] [--clock wall|cpu]

For every page, each of the three is timed once per round, the rounds interleaved (BeautifulSoup,
lxml, feedbot, BeautifulSoup, ...) so that a burst of load on a shared machine hits all three alike;
each page's best round is kept and the pages' best times are summed. The median round is printed too.
The garbage collector runs before each timed call (untimed), so no run pays for the garbage of the run
before it; a BeautifulSoup tree is full of reference cycles, so this leaves out part of its real cost
(feedbot's lxml tree is freed by reference counting, inside its timed call). feedbot's memos of
measured lines (``feedbot.split.text.forget``) are emptied before each of its timed calls too, so a
page's second and third rounds pay what its first did.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from bench.corpus import corpus
from feedbot.split import split_page
from feedbot.split.parse import parse_tree
from feedbot.split.text import forget


def bs_parse(page: str) -> object:
    return BeautifulSoup(page, "lxml")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: time.perf_counter; cpu: this process's CPU time (steadier on a busy machine)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    pages = corpus(args.pages)
    total_kb = sum(len(p.encode()) for p in pages) / 1024
    runs: dict[str, Callable[[str], object]] = {
        "bs": bs_parse,
        "lxml": parse_tree,
        "feedbot": split_page,
    }
    best = dict.fromkeys(runs, 0.0)
    median = dict.fromkeys(runs, 0.0)
    items = 0
    for page in pages:
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, fn in runs.items():
                gc.collect()  # nobody pays for the garbage of the run before
                forget()  # nor profits from the lines it measured (feedbot's memos start empty)
                start = clock()
                fn(page)
                times[name].append(clock() - start)
        for name in runs:
            best[name] += min(times[name])
            median[name] += statistics.median(times[name])
        items += len(split_page(page).items)
    print(f"pages {len(pages)} ({total_kb:.0f} KB, {items} items), {args.clock} clock")
    rows = [
        ("BeautifulSoup(page, 'lxml') parse", "bs"),
        ("lxml parse (feedbot.split.parse)", "lxml"),
        ("feedbot extract+split (split_page)", "feedbot"),
    ]
    print(f"{'':36s} {'best':>8s} {'median':>8s}")
    for label, name in rows:
        print(f"{label:36s} {best[name]:8.3f} {median[name]:8.3f}")
    ratio_best = best["feedbot"] / best["bs"]
    ratio_median = median["feedbot"] / median["bs"]
    print(f"{'ratio feedbot / BeautifulSoup':36s} {ratio_best:8.2f} {ratio_median:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
