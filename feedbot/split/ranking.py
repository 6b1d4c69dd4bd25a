"""The fitted choices: which candidate level holds the stories, and whether the page is one article.

Owns: the features of a candidate level (structural and language-independent: how many headlines,
how much of the text they cover, how regular they are, numbering and dates in sequence, the markup,
what lies above and below them on the outline, the shape of the records) and of a page for the
single-article decision, and the linear models over them whose weights are data in
:mod:`feedbot.split.rules` (fitted on the real corpus under leave-one-source-out cross-validation by
``tools/fit_split.py``). Pure: levels and blocks in, numbers out.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .blocks import Block
from .levels import Choice, Level, nested, own_before
from .outline import head_text, is_lead_family
from .rules import FAMILIES, HEADINGS, OUTLINE, RANKER, SCORING, SINGLE, on
from .single import Piece, boxed, counts_stories, recurring_line
from .text import dated_in_sequence, marker_of

Features = dict[str, float]


@dataclass(frozen=True)
class PageView:
    """What the features read of a page."""

    title: str
    blocks: Sequence[Block]
    reasons: Mapping[int, str]
    parents: Sequence[int]
    chars: Sequence[float]
    total: float
    linked: bool  # the page is made mostly of links


def level_features(level: Level, page: PageView, others: Sequence[Level]) -> Features:
    """One candidate level's features (``others``: the page's viable family levels)."""
    n = len(level.heads)
    blocks = page.blocks
    lead = is_lead_family(level.name)
    mean_head = level.mean_head()
    with_body = sum(
        b >= max(SCORING.body_min, SCORING.body_vs_head * h)
        for b, h in zip(level.spans, level.head_sizes, strict=True)
    )
    covered = sum(level.spans) + sum(len(head_text(blocks[i], lead)) for i in level.heads)
    median_span = statistics.median(level.spans) if level.spans else 0.0
    found: Features = {
        "log_heads": math.log(n) if n else 0.0,
        "body_share": with_body / n if n else 0.0,
        "coverage": min(1.0, covered / page.total) if page.total else 0.0,
        "head_cv": min(1.0, _cv(level.head_sizes)),
        "body_cv": min(2.0, _cv(level.spans)),
        "head_units": math.log1p(mean_head),
        "body_vs_head": math.log1p(median_span) - math.log1p(mean_head),
        "comparable": _comparable(level.spans, median_span),
        "linked_heads": sum(blocks[i].link_ratio > SCORING.linked_head for i in level.heads) / n
        if n
        else 0.0,
        "distinct": len({head_text(blocks[i], lead) for i in level.heads}) / n if n else 0.0,
        "own_text": level.own_share(),
        "hand_score": level.score,
    }
    found.update(_markup(level.name))
    found.update(_sequence(level, blocks))
    found.update(_outline(level, others, page.chars))
    found.update(_records(level, page))
    return found


def _cv(values: Sequence[float]) -> float:
    """The coefficient of variation (1 for no values, or values all zero)."""
    if not values:
        return 1.0
    mean = sum(values) / len(values)
    if not mean:
        return 1.0
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) / mean


def _comparable(spans: Sequence[float], median: float) -> float:
    """The share of bodies of comparable weight: within a factor of the median body."""
    if not spans or not median:
        return 0.0
    factor = OUTLINE.comparable_factor
    return sum(median / factor <= s <= median * factor for s in spans) / len(spans)


def _markup(name: str) -> Features:
    """The kind of markup that sets the headlines apart (one of these is 1)."""
    heading = name in HEADINGS
    return {
        "heading": float(heading),
        "heading_level": int(name[1]) / len(HEADINGS) if heading else 0.0,
        "line_markup": float(name in ("bold", "bracket", "dt")),
        "numbered_markup": float(name.startswith("mark:")),
        "plain_line": float(name in ("short", "link")),
        "lead": float(is_lead_family(name)),
        "link_list": float(name == "link-list"),
    }


def _sequence(level: Level, blocks: Sequence[Block]) -> Features:
    """Numbers in sequence (1, 2, 3 …; 21 … 1), numbers out of it, dates in sequence."""
    values = [m[1] for m in (marker_of(blocks[i].text) for i in level.heads) if m and m[1]]
    steps = {b - a for a, b in itertools.pairwise(values)}
    numbered = len(values) >= SINGLE.numbered_min and steps in ({1}, {-1})
    dated = on("dated-sequence") and dated_in_sequence(
        [blocks[i].text for i in level.heads], SCORING.dated_min, alone=level.name == "dt"
    )
    return {
        "numbered": float(numbered and len(values) >= SINGLE.numbered_share * len(level.heads)),
        "unnumbered": float(level.name.startswith("mark:") and not numbered),
        "dated": float(dated),
    }


def _outline(level: Level, others: Sequence[Level], chars: Sequence[float]) -> Features:
    """What lies around the level on the outline: finer headlines inside its stories, coarser
    groupings with no text of their own over it, coarser sections with a text of their own."""
    finer_inside = bare_groups = in_sections = 0.0
    n = len(level.heads)
    for other in others:
        if other is level or other.name == level.name or not other.heads:
            continue
        if other.rank > level.rank:
            counts = nested(other, level)
            holding = sum(c > 0 for c in counts)
            if sum(counts) >= OUTLINE.nested_share * len(other.heads) and (
                holding >= OUTLINE.holding_share * n
            ):
                finer_inside = max(finer_inside, math.log(len(other.heads) / n))
        elif other.rank < level.rank:
            if sum(nested(level, other)) < OUTLINE.nested_share * n:
                continue
            own = [o for o in own_before(other, level, chars) if o is not None]
            if other.rank <= FAMILIES.sectioning_rank and len(own) >= SINGLE.groups_min:
                bare = sum(o < SCORING.body_min for o in own) / len(own)
                bare_groups = max(bare_groups, float(bare >= OUTLINE.wrapper_own_share))
            if len(other.heads) >= SINGLE.groups_min:
                in_sections = max(in_sections, other.own_share())
    return {"finer_inside": finer_inside, "bare_groups": bare_groups, "in_sections": in_sections}


def _records(level: Level, page: PageView) -> Features:
    """The records' own evidence: each in an element of its own, a line every one repeats, the
    same markup shape (MDR's generalized nodes), links in the bodies, a title that counts them."""
    blocks = page.blocks
    shapes: Counter[tuple[str, ...]] = Counter()
    text = links = 0.0
    sample = list(zip(level.heads, level.ends, strict=True))[: SINGLE.sample_sections]
    for start, end in sample:
        body = [
            j
            for j in range(start + 1, min(end, start + 1 + SINGLE.sample_blocks))
            if j not in page.reasons
        ]
        shapes[(blocks[start].tag, *_runs([blocks[j].tag for j in body]))] += 1
        for j in body:
            text += len(blocks[j].text)
            links += len(blocks[j].text) * blocks[j].link_ratio
    reasons = dict(page.reasons)
    return {
        "same_shape": shapes.most_common(1)[0][1] / len(sample) if sample else 0.0,
        "body_links": links / text if text else 0.0,
        "boxed": float(level.runs > 1 or boxed(level, blocks, page.parents)),
        "recurring": float(bool(recurring_line(level, blocks, reasons))),
        "title_count": float(bool(page.title) and counts_stories(page.title, len(level.heads))),
    }


def _runs(tags: Sequence[str]) -> tuple[str, ...]:
    """A record's tags with repeats folded ("p p p ul" is "p ul"): its shape."""
    return tuple(tag for tag, _group in itertools.groupby(tags))


def relative(candidates: Sequence[Features]) -> None:
    """Features that compare a page's candidates: the share of the most headlines any has."""
    most = max((c["log_heads"] for c in candidates), default=0.0)
    for c in candidates:
        c["fewer_heads"] = most - c["log_heads"]


def linear(
    weights: Mapping[str, tuple[float, float]], features: Features
) -> list[tuple[str, float]]:
    """Each feature's contribution (its weight times its distance from the centre), largest first."""
    parts = [
        (name, weight * (features.get(name, 0.0) - centre))
        for name, (weight, centre) in weights.items()
    ]
    return sorted(parts, key=lambda p: -abs(p[1]))


def single_features(pieces: Sequence[Piece], level: Level, ranked: Features) -> Features:
    """The single-article decision's features: each piece of evidence (1 when present), and the
    chosen level's size and shape."""
    found: Features = {f"ev_{p.key}": 1.0 for p in pieces}
    found["ev_total"] = sum(p.weight for p in pieces)
    for name in ("log_heads", "head_units", "body_vs_head", "heading", "lead", "link_list"):
        found[name] = ranked.get(name, 0.0)
    found["long_bodies"] = math.log1p(statistics.median(level.spans)) if level.spans else 0.0
    return found


def candidates(levels: Sequence[Level], links: Level | None, outline: Level | None) -> list[Level]:
    """The levels the fitted ranker weighs, each once: the viable families, the page's headline
    links, and the outline chooser's own pick (after its moves: a finer level under wrappers, the
    sections that stay stories beside it)."""
    found: list[Level] = []
    seen: set[tuple[tuple[int, ...], frozenset[int]]] = set()
    for level in [*(s for s in levels if s.ok), links, outline]:
        if level is None:
            continue
        key = (tuple(level.heads), frozenset(level.sections))
        if key not in seen:
            seen.add(key)
            found.append(level)
    return found


def fitted_choice(
    page: PageView, levels: Sequence[Level], choice: Choice, links: Level | None
) -> None:
    """The item level picked by :data:`~feedbot.split.rules.RANKER` among the candidates (the
    outline chooser's pick among them); why, with each candidate's score and largest parts."""
    outline = choice.level
    found = candidates(levels, links, outline)
    if not found:
        return
    viable = [s for s in levels if s.ok]
    weights = {name: (weight, centre) for name, weight, centre in RANKER.weights}
    scored = []
    for level in found:
        parts = linear(weights, level_features(level, page, viable))
        scored.append((sum(v for _n, v in parts), level, parts))
    top, best, parts = max(scored, key=lambda t: t[0])
    choice.level = best
    choice.why.append(
        f"the fitted ranker picks {_label(best, outline)}: {top:+.2f} ({_shown(parts)})"
    )
    families = {id(s) for s in levels}
    for score, level, parts in scored:
        if level is best:
            continue
        why = f"{_label(level, outline)}: ranker score {score:+.2f} below {top:+.2f} ({_shown(parts)})"
        if id(level) in families:
            choice.rejected[level.name] = why
        else:  # the page's links, the outline's own pick after its moves: no family of their own
            choice.why.append(why)


def _label(level: Level, outline: Level | None) -> str:
    return f"{level.name} (the outline's choice)" if level is outline else level.name


def _shown(parts: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {value:+.2f}" for name, value in parts[: RANKER.shown])
