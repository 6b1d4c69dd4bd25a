"""Choosing the item level: every family of headlines scored as a level, then the choice on the outline.

Owns: :class:`Level` (a family's headlines with its score, the evidence and whether it can hold items)
and :func:`choose` (the best level; section labels give way to the finer headlines they hold).
Pure: blocks and families in, levels out.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from .blocks import Block
from .outline import head_text, is_lead_family
from .rules import GROUPING, LONE_HEADINGS, PRIORS, SCORING
from .text import marker_of, units


@dataclass
class Level:
    """One family of headlines considered as the item level."""

    name: str
    heads: list[int]
    score: float
    reasons: list[str]
    ok: bool
    sections: set[int] = field(default_factory=set)  # coarser headlines the items are grouped under


def score_level(
    name: str,
    heads: list[int],
    blocks: Sequence[Block],
    total: float,
    chars: Sequence[float],
) -> Level:
    """How well a family's headlines hold stories: bodies, coverage, regularity, numbering."""
    n = len(heads)
    if n < 2 and not (n == 1 and name in LONE_HEADINGS):
        # one heading can stand for a digest that has a single story today; nothing else can
        return Level(name, heads, 0.0, ["fewer than 2 headlines"], False)
    head_sizes, body_sizes, covered = _spans(heads, blocks, chars, is_lead_family(name))
    with_body = [
        b >= max(SCORING.body_min, SCORING.body_vs_head * h)
        for b, h in zip(body_sizes, head_sizes, strict=True)
    ]
    frac_body = sum(with_body) / n
    coverage = min(1.0, covered / total) if total else 0.0
    mean_head = statistics.fmean(head_sizes)
    cv = statistics.pstdev(head_sizes) / mean_head if mean_head else 1.0
    score = (
        SCORING.w_body * frac_body
        + SCORING.w_coverage * coverage
        + SCORING.w_regular * (1.0 - min(cv, 1.0))
    )
    score += PRIORS.get(
        name, SCORING.marked_prior if name.startswith("mark:") else SCORING.other_prior
    )
    reasons = [f"{n} headlines, {frac_body:.0%} with a body, cover {coverage:.0%} of the text"]
    score += _evidence(name, heads, blocks, mean_head, body_sizes, reasons)
    ok = frac_body >= SCORING.ok_body_share and mean_head <= SCORING.ok_head_max
    if not ok:
        reasons.append(
            "rejected: too few headlines with a body"
            if frac_body < SCORING.ok_body_share
            else "rejected: headlines too long"
        )
    return Level(name, heads, round(score, 3), reasons, ok)


def _spans(
    heads: list[int], blocks: Sequence[Block], chars: Sequence[float], lead_family: bool
) -> tuple[list[float], list[float], float]:
    """Each headline's size and its body's characters (up to the next headline), and the total."""
    head_sizes: list[float] = []
    body_sizes: list[float] = []
    covered = 0.0
    n = len(heads)
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < n else len(blocks)
        block = blocks[start]
        text = head_text(block, lead_family)
        head_sizes.append(units(text))
        body = 0.0
        if lead_family and block.lead:
            body += len(block.text) - len(block.lead)
        body = sum(chars[start + 1 : end], body)  # in order, as a loop would add them
        body_sizes.append(body)
        covered += body + len(text)
    return head_sizes, body_sizes, covered


def _evidence(
    name: str,
    heads: list[int],
    blocks: Sequence[Block],
    mean_head: float,
    body_sizes: list[float],
    reasons: list[str],
) -> float:
    """Score adjustments for numbering, long headlines, thin bodies and linked headlines."""
    score = 0.0
    n = len(heads)
    if name.startswith("mark:") and name != "mark:bullet":
        numbers = [marker_of(blocks[i].text) for i in heads]
        values = [m[1] for m in numbers if m]
        if values and all(b - a == 1 for a, b in itertools.pairwise(values)):
            score += SCORING.numbered_bonus
            reasons.append("numbered in sequence")
        else:
            score -= SCORING.unnumbered_penalty
            reasons.append("numbers out of sequence")
    if mean_head > SCORING.long_head:
        score -= min(
            SCORING.long_head_max_penalty, (mean_head - SCORING.long_head) / SCORING.long_head_scale
        )
        reasons.append(f"long headlines (mean {mean_head:.0f} units)")
    if statistics.median(body_sizes) < SCORING.thin_body_ratio * mean_head:
        score -= SCORING.thin_body_penalty
        reasons.append("bodies barely longer than headlines")
    linked = sum(blocks[i].link_ratio > 0.5 for i in heads) / n
    if linked > SCORING.linked_heads and not name.startswith("li-link"):
        score -= SCORING.linked_heads_penalty
        reasons.append("headlines are mostly links (a table of contents?)")
    if n == 1:
        score -= SCORING.single_head_penalty
        reasons.append("a single headline")
    return score


def grouping(
    best: Level, levels: dict[str, Level], blocks: Sequence[Block], skip: set[int]
) -> Level | None:
    """If the chosen headlines are section labels each directly followed by finer headlines, the finer
    level is the item level (a round-up grouped under "Politics", "Business", ...)."""
    chosen = set(best.heads)
    for other in sorted(levels.values(), key=lambda s: -s.score):
        if other.name == best.name or not other.ok or len(other.heads) < len(best.heads):
            continue
        others = set(other.heads)
        if others & chosen:
            continue
        followed = 0
        for i in best.heads:
            j = i + 1
            while j in skip:
                j += 1
            if j in others:
                followed += 1
        if followed / len(best.heads) >= GROUPING.followed_share:
            return other
    return None
