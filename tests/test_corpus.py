"""The splitter's measured quality on the labelled corpus (tests/fixtures/corpus): overall headline F1
at least 0.97, every single-article page kept whole, and no listed boilerplate in any item."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbot.eval import load_cases, score_case, totals

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
CASES = load_cases(CORPUS)


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    languages = {page.name.split("-")[0] for page, _ in CASES}
    assert {"zh", "en"} <= languages and len(languages) >= 3
    encodings = {expected.get("encoding", "utf-8").lower() for _, expected in CASES}
    assert len(encodings) >= 4
    assert sum(1 for _, e in CASES if e.get("single_article")) >= 3


def test_overall_quality() -> None:
    scores = [score_case(page, expected) for page, expected in CASES]
    total = totals(scores)
    report = "\n".join(f"{s.name}: F1 {s.f1:.2f} {s.errors[:3]}" for s in scores if s.f1 < 1.0)
    assert total.f1 >= 0.97, report
    assert total.single_accuracy == 1.0, [
        s.name for s in scores if s.single_expected != s.single_predicted
    ]


@pytest.mark.parametrize(("page", "expected"), CASES, ids=[p.stem for p, _ in CASES])
def test_no_listed_boilerplate_in_any_item(page: Path, expected: dict[str, object]) -> None:
    score = score_case(page, expected)
    assert score.leaks == [], score.leaks
