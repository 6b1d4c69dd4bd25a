"""Scoring the same-story decision on labelled item pairs: ``python -m feedbot.eval_pairs DIR``.

Each ``*.jsonl`` line is ``{"id", "kind", "same": bool, "a": {"headline", "body"}, "b": {...}}``.
Each pair goes the way a page goes: ``a`` is an item of a page, ``b`` an entry of the feed, found
(or not) by the store's index — the same headline key, the same fingerprint, or a shared band of
the MinHash signature (``feedbot.signature``) — and then judged by ``decide``. Prints precision and
recall of "same story" overall and per kind, the recall of the index itself (the share of true
pairs it returns as candidates), and lists the pairs decided wrongly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .decide import DEFAULT, Thresholds, decide
from .identify import identify
from .model import Identified, Item, Outcome, StoredEntry
from .signature import band_keys


@dataclass(frozen=True)
class PairResult:
    id: str
    kind: str
    same: bool
    predicted: bool
    similarity: float
    candidate: bool  # the index returned b for a
    by_band: bool  # ... through a shared band of the signatures
    same_key: bool


def load_pairs(directory: Path) -> list[dict[str, Any]]:
    pairs = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    pairs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: {exc}") from None
    return pairs


def _identified(story: dict[str, Any]) -> Identified:
    item = Item(story["headline"], "", story["body"], 0)
    return identify([item])[0]


def judge(pair: dict[str, Any], thresholds: Thresholds = DEFAULT) -> PairResult:
    a, b = _identified(pair["a"]), _identified(pair["b"])
    stored = StoredEntry(
        rowid=1,
        entry_id="b",
        key=b.key,
        fingerprint=b.fingerprint,
        headline=b.item.headline,
        norm_headline=b.norm_headline,
        norm_body=b.norm_body,
        sources=("s",),
        owner="s",
        signature=b.signature,
    )
    by_band = bool(set(band_keys("f", a.signature)) & set(band_keys("f", b.signature)))
    candidate = a.key == b.key or a.fingerprint == b.fingerprint or by_band
    (change,) = decide([a], [stored] if candidate else [], source="s", thresholds=thresholds)
    return PairResult(
        pair["id"],
        pair["kind"],
        bool(pair["same"]),
        change.outcome is not Outcome.NEW,
        change.similarity,
        candidate,
        by_band,
        a.key == b.key,
    )


def index_recall(results: list[PairResult]) -> tuple[float, int, int]:
    """The share of true pairs the index returns as candidates: (recall, found, true pairs)."""
    true = [r for r in results if r.same]
    found = sum(r.candidate for r in true)
    return (found / len(true) if true else 1.0), found, len(true)


def precision_recall(results: list[PairResult]) -> tuple[float, float, int, int, int]:
    tp = sum(r.same and r.predicted for r in results)
    fp = sum(not r.same and r.predicted for r in results)
    fn = sum(r.same and not r.predicted for r in results)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feedbot.eval_pairs", description=__doc__.splitlines()[0]
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrongly decided pairs")
    args = parser.parse_args(argv)
    results = [judge(pair) for pair in load_pairs(args.directory)]
    kinds = Counter(r.kind for r in results)
    print(f"{'kind':<20} {'pairs':>5} {'label':>6} {'correct':>8}")
    for kind in sorted(kinds):
        subset = [r for r in results if r.kind == kind]
        label = (
            "same"
            if all(r.same for r in subset)
            else "diff"
            if not any(r.same for r in subset)
            else "mixed"
        )
        correct = sum(r.same == r.predicted for r in subset)
        print(f"{kind:<20} {len(subset):>5} {label:>6} {correct:>5}/{len(subset)}")
    precision, recall, tp, fp, fn = precision_recall(results)
    print()
    print(
        f"pairs {len(results)}  same-story precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn})"
    )
    share, found, true = index_recall(results)
    other_key = [r for r in results if r.same and not r.same_key]
    false_band = sum(r.by_band and not r.same for r in results)
    print(
        f"index recall {share:.3f} ({found} of {true} true pairs returned as candidates; "
        f"under another headline, by signature bands: {sum(r.by_band for r in other_key)} of "
        f"{len(other_key)}; different pairs sharing a band: {false_band} of {len(results) - true})"
    )
    if args.verbose:
        for r in results:
            if r.same != r.predicted:
                print(
                    f"  wrong: {r.id} ({r.kind}) labelled {'same' if r.same else 'different'}, similarity {r.similarity:.2f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
