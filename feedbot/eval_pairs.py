"""Scoring the same-story decision on labelled item pairs: ``python -m feedbot.eval_pairs DIR``.

Each ``*.jsonl`` line is ``{"id", "kind", "same": bool, "a": {"headline", "body"}, "b": {...}}``.
Prints precision and recall of "same story" overall and per kind, and lists the pairs decided wrongly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .decide import DEFAULT, Thresholds, same_story
from .identify import headline_key, normalise_body, shingles


@dataclass(frozen=True)
class PairResult:
    id: str
    kind: str
    same: bool
    predicted: bool
    similarity: float


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


def judge(pair: dict[str, Any], thresholds: Thresholds = DEFAULT) -> PairResult:
    a, b = pair["a"], pair["b"]
    same, score = same_story(
        headline_key(a["headline"]),
        shingles(normalise_body(a["body"])),
        headline_key(b["headline"]),
        shingles(normalise_body(b["body"])),
        thresholds,
    )
    return PairResult(pair["id"], pair["kind"], bool(pair["same"]), same, score)


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
    if args.verbose:
        for r in results:
            if r.same != r.predicted:
                print(
                    f"  wrong: {r.id} ({r.kind}) labelled {'same' if r.same else 'different'}, similarity {r.similarity:.2f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
