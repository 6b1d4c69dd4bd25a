"""Dump every split the corpora give, to check that a change leaves the output byte-identical.

Run: python -m tools.dump_splits OUT_FILE [--no-explain]

For each page of the real corpus (``tests/fixtures/realpages``), the synthetic corpus
(``tests/fixtures/corpus``) and the split benchmark's pages (``bench.corpus``), it writes the page's
name, the whole :class:`~feedbot.model.Split` (items, candidates and their scores, what was cut, the
date) and, unless ``--no-explain``, the preview's explanation (levels, verdicts, every block's part and
selector). Diff two dumps (``cmp`` or ``diff``) taken before and after a change; speed work must give
no difference at all. The output is a repr, not a format: it is only ever compared with itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import corpus  # noqa: E402
from feedbot.encoding import decode  # noqa: E402
from feedbot.eval import load_cases  # noqa: E402
from feedbot.eval_real import load_labels, page_input  # noqa: E402
from feedbot.model import SplitMode  # noqa: E402
from feedbot.split import SplitOptions, split_page  # noqa: E402
from feedbot.split.explain import explain_page  # noqa: E402

Page = tuple[str, str, str, SplitOptions]


def real_pages() -> list[Page]:
    directory = ROOT / "tests" / "fixtures" / "realpages"
    pages = []
    for label in load_labels(directory):
        text, kind = page_input(directory, label)
        pages.append((f"real/{label['id']}", text, kind, SplitOptions()))
    return pages


def synthetic_pages() -> list[Page]:
    pages = []
    for path, expected in load_cases(ROOT / "tests" / "fixtures" / "corpus"):
        kind = "text/plain" if path.suffix == ".txt" else "text/html"
        config = expected.get("config") or {}
        text, _codec = decode(
            path.read_bytes(), override=config.get("encoding"), html=kind == "text/html"
        )
        options = SplitOptions(
            mode=SplitMode(config.get("split", "auto")),
            content_selector=config.get("content_selector"),
            exclude_selectors=tuple(config.get("exclude_selectors", ())),
            headline_selector=config.get("headline_selector"),
            headline_regex=config.get("headline_regex"),
        )
        pages.append((f"corpus/{path.name}", text, kind, options))
    return pages


def bench_pages() -> list[Page]:
    return [(f"bench/{n}", page, "text/html", SplitOptions()) for n, page in enumerate(corpus(40))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as out:
        for name, text, kind, options in real_pages() + synthetic_pages() + bench_pages():
            out.write(f"=== {name}\n")
            out.write(repr(split_page(text, kind, options)) + "\n")
            if not args.no_explain:
                explained = explain_page(text, kind, options)
                out.write(repr(explained) + "\n")
            out.write(json.dumps(name) + " done\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
