"""Single articles: whether a page's headings are the sections of one text rather than stories.

Owns: the evidence for one article (an interview's questions and answers, short section-like headings,
an introduction as long as a section, headings that name parts of a text, the title's subject running
through every section) and the decision. Pure.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence

from .blocks import Block
from .levels import Level
from .prepass import body_chars
from .rules import DIGEST_CUES, QA_OPENINGS, SECTION_CUES, SINGLE
from .text import strip_marker, terms, units

_DIGEST_CUES = re.compile(DIGEST_CUES, re.I)
_SECTION_CUES = re.compile(SECTION_CUES, re.I)


def is_single_article(
    title: str, best: Level, blocks: Sequence[Block], heads_text: list[str], skip: set[int]
) -> tuple[bool, list[str]]:
    """Whether the page is one article whose headings are its sections, and why."""
    reasons: list[str] = []
    if title and _DIGEST_CUES.search(title):
        return False, [f"title {title!r} names a digest"]
    score = 0.0
    if sum(1 for b in blocks if b.text.startswith(QA_OPENINGS)) >= SINGLE.qa_paragraphs:
        score += SINGLE.qa_weight
        reasons.append("question-and-answer paragraphs (an interview)")
    elif dialogue(blocks):
        score += SINGLE.qa_weight
        reasons.append("paragraphs open with the names of two speakers in turn (an interview)")
    sizes = [units(h) for h in heads_text]
    mean = statistics.fmean(sizes) if sizes else 0.0
    if mean <= SINGLE.short_heads:
        score += SINGLE.short_heads_weight
        reasons.append(f"short section-like headings (mean {mean:.1f} units)")
    elif mean <= SINGLE.shortish_heads:
        score += SINGLE.shortish_heads_weight
    score += _introduction(best, blocks, skip, reasons)
    questions = sum(1 for h in heads_text if h.rstrip().endswith(("?", "？")))
    if heads_text and questions / len(heads_text) >= SINGLE.questions_share:
        score += SINGLE.questions_weight
        reasons.append("the headings are questions (an interview or an explainer)")
    cues = sum(1 for h in heads_text if _SECTION_CUES.match(strip_marker(h)))
    if heads_text and cues / len(heads_text) >= SINGLE.section_cue_share:
        score += SINGLE.section_cue_weight
        reasons.append(f"{cues} headings are section names")
    score += _one_subject(title, best, blocks, reasons)
    return score >= SINGLE.threshold, reasons or ["headlines look like separate stories"]


def dialogue(blocks: Sequence[Block]) -> bool:
    """Paragraphs opened by the labels of one or two speakers, in turn: an interview's questions and
    answers ("记者：…" / "张明远：…"), not a run of stories each named by its label."""
    labels = Counter(b.lead for b in blocks if b.lead_kind == "label")
    total = sum(labels.values())
    if total < SINGLE.qa_paragraphs:
        return False
    top = labels.most_common(SINGLE.speakers)
    return sum(n for _, n in top) >= SINGLE.speakers_share * total and all(n >= 2 for _, n in top)


def _introduction(
    best: Level, blocks: Sequence[Block], skip: set[int], reasons: list[str]
) -> float:
    """A single article opens with an introduction as long as one of its sections; a digest opens
    with a greeting or a one-line summary, if anything."""
    lead = sum(body_chars(blocks[i]) for i in range(best.heads[0]) if i not in skip)
    section_sizes = []
    for k, start in enumerate(best.heads):
        end = best.heads[k + 1] if k + 1 < len(best.heads) else len(blocks)
        section_sizes.append(
            sum(body_chars(blocks[j]) for j in range(start + 1, end) if j not in skip)
        )
    typical = statistics.median(section_sizes) if section_sizes else 0.0
    if typical and lead >= typical:
        reasons.append("an introduction as long as a section")
        return SINGLE.intro_weight
    if typical and lead >= SINGLE.half_intro * typical:
        reasons.append("an introduction half as long as a section")
        return SINGLE.half_intro_weight
    return 0.0


def _one_subject(title: str, best: Level, blocks: Sequence[Block], reasons: list[str]) -> float:
    """The title's words recur in most sections: they are parts of one text on one subject."""
    wanted = terms(title) if title else set()
    if not wanted:
        return 0.0
    bodies = []
    for k, start in enumerate(best.heads):
        end = best.heads[k + 1] if k + 1 < len(best.heads) else len(blocks)
        bodies.append(" ".join(b.text for b in blocks[start + 1 : end]))
    need = min(SINGLE.title_terms_min, len(wanted))
    hits = sum(1 for body in bodies if len(wanted & terms(body)) >= need)
    share = hits / len(bodies) if bodies else 0.0
    if share >= SINGLE.title_terms_share:
        reasons.append(f"the title's words recur in {share:.0%} of the sections")
        return SINGLE.title_terms_weight
    return 0.0
