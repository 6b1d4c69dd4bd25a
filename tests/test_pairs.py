"""The same-story decision on the labelled pairs (tests/fixtures/pairs): precision and recall >= 0.98."""

from __future__ import annotations

from pathlib import Path

from feedbot.eval_pairs import judge, load_pairs, precision_recall

PAIRS = load_pairs(Path(__file__).parent / "fixtures" / "pairs")


def test_pair_set_is_large_and_covers_every_kind() -> None:
    assert len(PAIRS) >= 300
    kinds = {p["kind"] for p in PAIRS}
    assert {
        "light-edit",
        "heavy-edit",
        "script",
        "reworded-headline",
        "recurring-heading",
        "similar-vocab",
    } <= kinds
    assert len({p["id"] for p in PAIRS}) == len(PAIRS)


def test_same_story_precision_and_recall() -> None:
    results = [judge(pair) for pair in PAIRS]
    precision, recall, _tp, _fp, _fn = precision_recall(results)
    wrong = [r.id for r in results if r.same != r.predicted]
    assert precision >= 0.98, wrong
    assert recall >= 0.98, wrong


def test_recurring_headings_are_never_merged() -> None:
    for pair in PAIRS:
        if pair["kind"] == "recurring-heading":
            assert not judge(pair).predicted, pair["id"]
