"""The one entry point of the benchmarks: ``python -m bench SUBCOMMAND [options]``.

    python -m bench e2e         pages/s through the whole pipeline, next to lxml and BeautifulSoup parse times
    python -m bench unchanged   the cost per source of a run where nothing changed (304 and identical bytes)
    python -m bench memory      peak memory of a first run and of an unchanged run
    python -m bench scale       how each figure grows from 100 to 10,000 pages
    python -m bench profile     cProfile of one run: where the time goes
    python -m bench split       extract+split against BeautifulSoup alone (bench/split_bench.py)
    python -m bench peers       200 pages, feedbot next to urlwatch in the same run (new, unchanged, changed)
    python -m bench state       a page of 10 new / 10 edited items against a feed of 1k .. 1M entries
    python -m bench serve-hostile  a client's wait while idle or slowloris connections hold the server
    python -m bench all         e2e, scale and profile

Adding a benchmark is one line in COMMANDS: a name, a help line, a function that adds its options
to an argparse parser, and a function that runs it. A script with its own ``main()`` that parses
``sys.argv`` can be added with :func:`script` (its options are passed through).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bench import e2e


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    passthrough: bool = False  # the remaining arguments go to the script untouched


def _sizes(parser: argparse.ArgumentParser, pages: int, min_kb: int, max_kb: int) -> None:
    parser.add_argument("--pages", type=int, default=pages, help=f"pages (default {pages})")
    parser.add_argument("--min-kb", type=int, default=min_kb)
    parser.add_argument("--max-kb", type=int, default=max_kb)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results to this JSON file")


def _e2e(args: argparse.Namespace) -> int:
    e2e.report([e2e.measure(args.pages, args.min_kb, args.max_kb, args.seed)], args.json)
    return 0


def _unchanged(args: argparse.Namespace) -> int:
    r = e2e.measure(args.pages, args.min_kb, args.max_kb, args.seed)
    print(f"pages: {r.pages} ({r.mb} MB), start-up {r.startup_s} s")
    print(f"first run:               {r.first_s} s")
    print(
        f"unchanged, HTTP 304:      {r.unchanged_304_s} s = {r.unchanged_304_ms_per_source} ms/source"
    )
    print(
        f"unchanged, same bytes:    {r.unchanged_same_s} s = {r.unchanged_same_ms_per_source} ms/source"
    )
    return 0


def _memory(args: argparse.Namespace) -> int:
    r = e2e.measure(args.pages, args.min_kb, args.max_kb, args.seed)
    print(f"pages: {r.pages} ({r.mb} MB)")
    print(
        f"peak RSS: start-up {r.startup_maxrss_mb} MB, first run {r.first_maxrss_mb} MB, "
        f"unchanged run {r.unchanged_maxrss_mb} MB"
    )
    return 0


def _scale_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--counts", default="100,1000,10000", help="page counts (default 100,1000,10000)"
    )
    parser.add_argument("--min-kb", type=int, default=20)
    parser.add_argument("--max-kb", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results to this JSON file")


def _scale(args: argparse.Namespace) -> int:
    results = []
    for count in (int(c) for c in args.counts.split(",")):
        results.append(e2e.measure(count, args.min_kb, args.max_kb, args.seed))
        e2e.report(results[-1:], None)  # a row as soon as it is known: the big points take long
    print()
    e2e.report(results, args.json)
    return 0


def _profile_args(parser: argparse.ArgumentParser) -> None:
    _sizes(parser, 40, 20, 500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--unchanged", action="store_true", help="profile a run where nothing changed (304s)"
    )


def _profile(args: argparse.Namespace) -> int:
    print(e2e.profile(args.pages, args.min_kb, args.max_kb, args.top, args.seed, args.unchanged))
    return 0


def _all(args: argparse.Namespace) -> int:
    ns = argparse.Namespace
    _e2e(ns(pages=100, min_kb=20, max_kb=500, seed=0, json=None))
    _scale(ns(counts="100,1000,10000", min_kb=20, max_kb=60, seed=0, json=None))
    _profile(ns(pages=40, min_kb=20, max_kb=500, seed=0, top=25, unchanged=False))
    return 0


def script(module: str, help: str) -> Command:
    """A benchmark script with its own ``main()`` reading ``sys.argv``, run with the remaining arguments."""

    def run(args: argparse.Namespace) -> int:
        sys.argv = [module, *args.rest]
        return int(importlib.import_module(module).main() or 0)

    return Command(help, lambda p: None, run, passthrough=True)


COMMANDS: dict[str, Command] = {
    "e2e": Command(
        "pages/s end to end vs lxml and BeautifulSoup parse",
        lambda p: _sizes(p, 100, 20, 500),
        _e2e,
    ),
    "unchanged": Command(
        "cost per source of a run where nothing changed",
        lambda p: _sizes(p, 100, 20, 500),
        _unchanged,
    ),
    "memory": Command("peak memory of runs", lambda p: _sizes(p, 100, 20, 500), _memory),
    "scale": Command("figures at 100, 1,000 and 10,000 pages", _scale_args, _scale),
    "profile": Command("cProfile of one run", _profile_args, _profile),
    "split": script("bench.split_bench", "extract+split vs BeautifulSoup alone"),
    "fetch": script("bench.fetch_bench", "200 sources with a 200 ms delay, then all 304 (issue 5)"),
    "serve": script("bench.serve_bench", "feedbot serve vs nginx with wrk, 200 and 304 (issue 6)"),
    "serve-hostile": script(
        "bench.serve_hostile",
        "a client's wait while 500-1500 idle or slowloris connections are open",
    ),
    "soak": script("bench.soak", "the daemon on 100 one-second sources for minutes (issue 7)"),
    "peers": script(
        "bench.peers", "200 pages: feedbot next to urlwatch, new / unchanged / changed (issue 17)"
    ),
    "state": script(
        "bench.state", "a page of 10 new / 10 edited items against 1k-1M entries (issue 17)"
    ),
    "all": Command("e2e, scale and profile", lambda p: None, _all),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="feedbot benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, add_help=not command.passthrough)
        command.add_arguments(p)
    # a pass-through script gets every argument after its name, options included (argparse's
    # REMAINDER does not take a leading option such as --help)
    args, rest = parser.parse_known_args(argv)
    if COMMANDS[args.command].passthrough:
        args.rest = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
