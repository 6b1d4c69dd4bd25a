"""The same-story decision on the labelled pairs (tests/fixtures/pairs), each found through the
store's index first: precision and recall >= 0.98, index recall >= 0.99."""

from __future__ import annotations

from pathlib import Path

from feedbot.eval_pairs import index_recall, judge, load_pairs, precision_recall

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


def test_index_returns_the_true_pairs_as_candidates() -> None:
    """The store's index (key, fingerprint, signature bands) finds the stored half of a true pair
    for at least 99 % of them; pairs under another headline are found by the bands alone."""
    results = [judge(pair) for pair in PAIRS]
    share, _found, _true = index_recall(results)
    assert share >= 0.99, [r.id for r in results if r.same and not r.candidate]
    other_key = [r for r in results if r.same and not r.same_key]
    assert len(other_key) >= 40
    assert sum(r.by_band for r in other_key) >= 0.99 * len(other_key)
    # unrelated bodies do not share bands (each would be a wasted exact comparison)
    assert sum(r.by_band for r in results if r.kind in ("unrelated", "similar-vocab")) <= 2
