"""Splitting costs little beyond parsing: time to extract and split a page vs BeautifulSoup(page, "lxml").

Run: .venv/bin/python bench/split_bench.py [--pages 40]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bs4 import BeautifulSoup

from bench.corpus import corpus
from feedbot.split import split_page


def best_of(fn: object, page: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(page)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = corpus(args.pages)
    total_kb = sum(len(p.encode()) for p in pages) / 1024
    parse = sum(best_of(lambda p: BeautifulSoup(p, "lxml"), page, args.repeat) for page in pages)
    split = sum(best_of(split_page, page, args.repeat) for page in pages)
    items = sum(len(split_page(page).items) for page in pages)
    print(f"pages {len(pages)} ({total_kb:.0f} KB, {items} items)")
    print(f"BeautifulSoup(page, 'lxml'): {parse:.3f} s")
    print(f"feedbot extract+split:       {split:.3f} s")
    print(f"ratio split / parse:         {split / parse:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
