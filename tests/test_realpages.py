"""The splitter on real pages nobody here wrote (tests/fixtures/realpages), counted as the corpus's own
score.py counts them, and on real day sequences (tests/fixtures/realseqs) run through the whole
pipeline: the figures the splitter reaches, so that no change can lose them unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedbot.eval_real import load_labels, real_totals, score_label
from feedbot.eval_seqs import load_seqs, score_seq
from feedbot.split.rules import using_chooser

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "realpages"
SEQS = FIXTURES / "realseqs"

# what the splitter reaches on the real corpus (raise these as it gets better, never lower them)
MACRO_F1 = 0.944  # (issue12-single2: 0.888; issue12-choice: 0.936 on 92; corpus-5 arrived unseen: 0.906 on 100;
# issue12-r4: 0.918 on 100, 0.950 on the 92: a bulletin's speaker turns, link pages' menu lines and top story;
# issue12-r5: 0.939 on 100: numbered lines with their URLs, ruled lines, an issue named in the opening,
# many-link lines, teaser headlines over a portal's links; issue12-r6: 0.941: promo boxes of stories
# kept, box labels give way to the teasers they hold; 0.9446: story cards before the main column)
# (issue12-single: 5 of 41 wrong; main had 12 wrong before it. corpus-4 arrived with 13 pages, scored before any
# rule looked at them: 92 digests F1 0.877, 6 of 48 singles wrong; issue12-single2: headings' own anchors are
# no headline links, boxes around plain headings and one dominant section count for one article: 3 wrong)
SINGLES_WRONG = 3
ERRORS = 0


@pytest.fixture(scope="module")
def scores() -> list[object]:
    return [score_label(REAL, label) for label in load_labels(REAL)]


def test_the_real_corpus_is_large_and_varied() -> None:
    labels = load_labels(REAL)
    assert len(labels) >= 60
    assert sum(label["kind"] == "single" for label in labels) >= 20
    languages = {label["lang"].split("-")[0] for label in labels}
    assert languages >= {"zh", "ja", "en", "de", "fr", "es", "ru"}


def test_real_corpus_quality(scores: list[object]) -> None:
    from feedbot.eval_real import RealScore

    typed = [s for s in scores if isinstance(s, RealScore)]
    total = real_totals(typed)
    report = "\n".join(f"{s.id}: {s.line()}" for s in typed if s.f1 < 1.0 and s.kind == "digest")
    assert total.errors <= ERRORS, [s.id for s in typed if s.error]
    assert total.macro_f1 >= MACRO_F1, report
    wrong = [s.id for s in typed if s.kind == "single" and not s.single_ok]
    assert len(wrong) <= SINGLES_WRONG, wrong


# the fitted level chooser (rules.RANKER), kept beside the default so that the two can be compared on
# every corpus that lands: what it reaches (127 pages: 0.784 on main, 0.840 with issue12-cand's candidates;
# 140 pages: 0.834 on main, 0.871 with issue12-choice's rules)
FITTED_MACRO_F1 = 0.875  # (0.872 on 92 digests; 0.847 once corpus-5 arrived; 0.859 with issue12-r4's rules; 0.878 r5's)


def test_real_corpus_quality_with_the_fitted_chooser() -> None:
    with using_chooser("fitted"):
        typed = [score_label(REAL, label) for label in load_labels(REAL)]
    total = real_totals(typed)
    report = "\n".join(f"{s.id}: {s.line()}" for s in typed if s.f1 < 1.0 and s.kind == "digest")
    assert total.errors <= ERRORS, [s.id for s in typed if s.error]
    assert total.macro_f1 >= FITTED_MACRO_F1, report


SEQUENCES = load_seqs(SEQS)


def _edits(expect: dict[str, object]) -> list[tuple[str, str, str]]:
    """Each labelled edit as (headline, old text, new text)."""
    found = []
    for update in expect.get("updates", []):  # type: ignore[attr-defined]
        old, new = update.get("old_text"), update.get("new_text")
        if old is None:  # "description changed: 'old' -> 'new'"
            quoted = re.findall(r"'((?:[^']|'(?! -> |$))*)'", update["what"])
            old, new = [*quoted, "", ""][:2]
        found.append((update["headline"], old, new))
    return found


@pytest.mark.parametrize(("folder", "expect"), SEQUENCES, ids=[f.name for f, _ in SEQUENCES])
def test_real_sequence_lands_in_range_with_its_edits_as_updates(
    folder: Path, expect: dict[str, object]
) -> None:
    score = score_seq(folder, expect)
    assert score.failed == 0
    assert score.in_range, score.line()
    seen = {title.removesuffix(" [updated]") for title in score.updated}
    for headline, _old, _new in _edits(expect):
        # every labelled edit, rewritten texts too: a rewritten description under the same
        # headline linking to the same place is the same story
        assert headline in seen, (headline, sorted(seen))
