"""Choosing the item level: every family of headlines scored as a level, then the choice on the outline.

Owns: :class:`Level` (a family's headlines with its score, the evidence and whether it can hold items)
and :func:`choose`: the best-scoring level, then moves on the outline — section labels and wrappers
give way to the finer headlines they hold, link bullets stay inside the section that holds them.
Pure: blocks and families in, levels out.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import statistics
from collections.abc import Container, Sequence
from dataclasses import dataclass, field, replace

from .blocks import Block
from .blocks import collapse as fold_space
from .outline import Outline, head_text, is_lead_family, rank
from .rules import (
    FAMILIES,
    FOREWORD_SECTIONS,
    FRAME_SECTIONS,
    GLANCE_SECTIONS,
    HEADINGS,
    LINK_PAGES,
    LONE_HEADINGS,
    MENU_LINE,
    OUTLINE,
    PRIORS,
    SCORING,
    on,
)
from .text import dated_in_sequence, marker_of, strip_marker, units


@dataclass
class Level:
    """One family of headlines considered as the item level, with the evidence."""

    name: str
    heads: list[int]
    score: float
    reasons: list[str]
    ok: bool
    ends: list[int] = field(default_factory=list)  # where each headline's span ends (exclusive)
    own: list[float] = field(default_factory=list)  # each headline's text before a finer headline
    spans: list[float] = field(default_factory=list)  # each headline's body characters
    head_sizes: list[float] = field(default_factory=list)
    head_lines: list[float] = field(default_factory=list)  # each headline block's whole length
    sections: set[int] = field(default_factory=set)  # coarser headlines the items are grouped under
    runs: int = 1  # runs of stories in parts of their own (feature cards beside a news list)
    named: bool = False  # each headline a name of its own in words (none repeated, none a number)
    linked: float = 0.0  # the share of headlines that are links
    tags: bool = (
        False  # the leads are category tags ([工具], [类库]): the whole line is the headline
    )

    @property
    def rank(self) -> int:
        return rank(self.name)

    def own_share(self) -> float:
        """The share of headlines with a text of their own (not only finer headlines under them)."""
        return sum(o >= SCORING.body_min for o in self.own) / len(self.own) if self.own else 0.0

    def held_own_share(self) -> float:
        """:meth:`own_share` over the headlines with anything under them (an empty section, its
        list cut, is no section without a text of its own)."""
        if not on("held-sections"):
            return self.own_share()
        held = [o for o, span in zip(self.own, self.spans, strict=True) if span > 0]
        return sum(o >= SCORING.body_min for o in held) / len(held) if held else 0.0

    def keep(self, first: int, last: int) -> None:
        """Keep only headlines ``first`` to ``last`` (exclusive), with all that is measured of them."""
        for name in ("heads", "ends", "own", "spans", "head_sizes", "head_lines"):
            values = getattr(self, name)
            if values:
                setattr(self, name, values[first:last])

    def clip(self) -> None:
        """No story runs past the next one's headline (after two levels were merged)."""
        for k in range(len(self.heads) - 1):
            self.ends[k] = min(self.ends[k], self.heads[k + 1])

    def mean_head(self) -> float:
        return sum(self.head_sizes) / len(self.head_sizes) if self.head_sizes else 0.0


def _note_bodies(level: Level, whole: bool) -> None:
    """What the level's bodies are when they are not the text under each headline."""
    if whole:
        level.reasons.append("numbered one-line stories holding the text: each line its own body")
    if level.name == "turn-lead":
        level.reasons.append(
            "a bulletin's transcript: each anchor turn's first sentence its headline"
        )


def score_level(
    name: str,
    heads: list[int],
    blocks: Sequence[Block],
    outline: Outline,
    total: float,
    chars: Sequence[float],
    cut: Container[int] = (),
) -> Level:
    """How well a family's headlines hold stories: bodies, coverage, regularity, numbering
    (``cut``: the blocks cut before, which no span holds)."""
    n = len(heads)
    if n < 2 and not (n == 1 and name in LONE_HEADINGS):
        # one heading can stand for a digest that has a single story today; nothing else can
        return Level(name, heads, 0.0, ["fewer than 2 headlines"], False)
    level = Level(name, heads, 0.0, [], False)
    _measure(level, blocks, outline, chars)
    frac_body = _body_share(level, blocks, cut)
    covered = sum(level.spans) + sum(len(head_text(blocks[i], is_lead_family(name))) for i in heads)
    coverage = min(1.0, covered / total) if total else 0.0
    whole = _whole_lines(level, blocks, coverage)
    if name == "date-lead" or whole:
        frac_body = 1.0  # a dated or numbered news line is a story by itself, body or not
    mean_head = level.mean_head()
    cv = _deviation(level.head_sizes, mean_head) / mean_head if mean_head else 1.0
    score = (
        SCORING.w_body * frac_body
        + SCORING.w_coverage * coverage
        + SCORING.w_regular * (1.0 - min(cv, 1.0))
    )
    score += PRIORS.get(
        name, SCORING.marked_prior if name.startswith("mark:") else SCORING.other_prior
    )
    level.reasons.append(
        f"{n} headlines, {frac_body:.0%} with a body, cover {coverage:.0%} of the text"
    )
    _note_bodies(level, whole)
    score += _evidence(level, blocks, level.reasons, name == "date-lead" or whole)
    distinct = len({head_text(blocks[i], is_lead_family(name)) for i in heads}) / n
    level.named = (
        name in HEADINGS
        and distinct == 1.0
        and all(any(map(str.isalpha, head_text(blocks[i], False))) for i in heads)
    )
    enough = frac_body >= SCORING.ok_body_share
    level.ok = enough and mean_head <= SCORING.ok_head_max and distinct >= SCORING.distinct_heads
    if not enough:
        level.reasons.append("rejected: too few headlines with a body")
    elif mean_head > SCORING.ok_head_max:
        level.reasons.append("rejected: headlines too long")
    elif distinct < SCORING.distinct_heads:
        level.reasons.append("rejected: the same headline again and again (a label)")
    level.tags = _tags(name, heads, blocks)
    if level.tags:
        level.reasons.append("the bracketed leads are category tags")
    level.score = round(score, 3)
    return level


def _tags(name: str, heads: list[int], blocks: Sequence[Block]) -> bool:
    """Bracketed leads that repeat (few values over many lines) are tags, not headlines."""
    if name != "bracket-lead" or not on("bracket-tags") or len(heads) < OUTLINE.tags_min:
        return False
    values = {blocks[i].lead for i in heads}
    return len(values) <= OUTLINE.tags_share * len(heads)


def _deviation(values: Sequence[float], mean: float) -> float:
    """The population standard deviation (statistics.pstdev, without its exact fractions)."""
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def _measure(
    level: Level, blocks: Sequence[Block], outline: Outline, chars: Sequence[float]
) -> None:
    """Each headline's size, its span (up to the next headline or coarser section) and its own text
    (up to the first finer headline inside the span)."""
    lead_family = is_lead_family(level.name)
    level.ends = outline.ends(level.heads, level.rank)
    finer = outline.finer_heads(level.rank, set(level.heads))
    for start, end in zip(level.heads, level.ends, strict=True):
        block = blocks[start]
        level.head_sizes.append(units(head_text(block, lead_family)))
        level.head_lines.append(float(len(block.text)))
        rest = float(len(block.text) - len(block.lead)) if lead_family and block.lead else 0.0
        level.spans.append(sum(chars[start + 1 : end], rest))
        at = bisect.bisect_right(finer, start)
        stop = min(end, finer[at]) if at < len(finer) else end
        level.own.append(sum(chars[start + 1 : stop], rest))


def _body_share(level: Level, blocks: Sequence[Block], cut: Container[int]) -> float:
    """The share of headlines with a body: enough text after them, or a list of title links."""
    with_body = [
        b >= max(SCORING.body_min, SCORING.body_vs_head * h)
        or _link_section(level.name, start, end, blocks, cut)
        for b, h, start, end in zip(
            level.spans, level.head_sizes, level.heads, level.ends, strict=True
        )
    ]
    return sum(with_body) / len(with_body)


def _link_section(
    name: str, start: int, end: int, blocks: Sequence[Block], cut: Container[int]
) -> bool:
    """A heading over a list of title links (a newsletter's "En français" or "Version Updates"):
    the links are its body, though their text is no body text."""
    if name not in HEADINGS or not on("link-section-bodies"):
        return False
    links = 0
    for j in range(start + 1, end):
        if j not in cut and blocks[j].link_ratio >= FAMILIES.link_line_share:
            links += 1
            if links >= SCORING.link_section_min:
                return True
    return False


def _whole_lines(level: Level, blocks: Sequence[Block], coverage: float) -> bool:
    """Numbered lines in sequence, each a sentence long, that hold the page's text between them: a
    briefing of one-line stories ("1、…；" … "15、…；"), each line a story by itself."""
    if not on("whole-lines") or not level.name.startswith("mark:") or level.name == "mark:bullet":
        return False
    n = len(level.heads)
    if n < SCORING.whole_lines_min or coverage < SCORING.whole_lines_cover:
        return False
    if level.mean_head() < SCORING.whole_line_units:
        return False
    values = [m[1] for m in (marker_of(blocks[i].text) for i in level.heads) if m]
    return len(values) == n and all(b - a == 1 for a, b in itertools.pairwise(values))


def _evidence(
    level: Level, blocks: Sequence[Block], reasons: list[str], line_stories: bool = False
) -> float:
    """Score adjustments for numbering, long headlines, thin bodies and linked headlines."""
    score = 0.0
    name, heads = level.name, level.heads
    n = len(heads)
    mean_head = level.mean_head()
    if name.startswith("mark:") and name != "mark:bullet":
        numbers = [marker_of(blocks[i].text) for i in heads]
        values = [m[1] for m in numbers if m]
        if values and all(abs(b - a) == 1 for a, b in itertools.pairwise(values)):
            score += SCORING.numbered_bonus
            reasons.append("numbered in sequence")
        else:
            score -= SCORING.unnumbered_penalty
            reasons.append("numbers out of sequence")
    elif on("dated-sequence") and dated_in_sequence(
        [blocks[i].text for i in heads], SCORING.dated_min, alone=name == "dt"
    ):
        score += SCORING.numbered_bonus
        reasons.append("dated in sequence")
    if mean_head > SCORING.long_head:
        score -= min(
            SCORING.long_head_max_penalty, (mean_head - SCORING.long_head) / SCORING.long_head_scale
        )
        reasons.append(f"long headlines (mean {mean_head:.0f} units)")
    if statistics.median(level.spans) < SCORING.thin_body_ratio * mean_head and not line_stories:
        score -= SCORING.thin_body_penalty
        reasons.append("bodies barely longer than headlines")
    linked = sum(blocks[i].link_ratio > SCORING.linked_head for i in heads) / n
    level.linked = linked
    if linked > SCORING.linked_heads and not name.startswith(("li-", "link")):
        score -= SCORING.linked_heads_penalty
        reasons.append("headlines are mostly links (a table of contents?)")
    if n == 1:
        score -= SCORING.single_head_penalty
        reasons.append("a single headline")
    return score


@dataclass
class Choice:
    """The level chosen, and what the outline said about the others."""

    level: Level | None
    why: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # level name -> why it was not chosen
    outside: set[int] | None = None  # blocks outside the chosen stories' own elements


def choose(levels: Sequence[Level], chars: Sequence[float], start: Level | None = None) -> Choice:
    """The best-scoring level (or ``start``), moved on the outline: down from wrappers and category
    labels to the stories they hold, up from link bullets to the sections that hold them."""
    viable = [s for s in levels if s.ok]
    choice = Choice(None)
    for s in levels:
        if not s.ok:
            choice.rejected[s.name] = next(
                (r for r in s.reasons if r.startswith(("rejected", "fewer"))), "not viable"
            )
    if not viable:
        return choice
    if start is None:
        best = max(viable, key=lambda s: (s.score, -len(s.name)))
        choice.why.append(f"{best.name} scores best ({best.score:.2f})")
    else:
        best = start
        choice.why.append(f"from {best.name}")
    path = [best]
    while True:
        moved = _ascend(best, viable, chars, choice) or _descend(best, viable, chars, choice)
        if moved is None:
            break
        back = next((k for k, s in enumerate(path) if s.name == moved.name), None)
        if back is not None:
            best = _settle_cycle([*path[back:], moved], choice)
            break
        path.append(moved)
        best = moved
    for s in viable:
        if s is not best and s.name not in choice.rejected:
            choice.rejected[s.name] = f"scores {s.score:.2f}, below the chosen level"
    choice.level = best
    return choice


def _settle_cycle(cycle: list[Level], choice: Choice) -> Level:
    """Moves that lead back to a level already left (``cycle``: from it round to it again): a
    descent found the coarser headlines grouping the finer ones, an ascent the finer ones inside
    the coarser. The finer level holds the stories when they have texts of their own (as last
    reached, with the sections it was moved under); bare link bullets stay in the sections."""
    if not on("move-cycles"):
        return cycle[-2]
    finest = max(reversed(cycle), key=lambda s: s.rank)
    share = finest.own_share()
    if share >= OUTLINE.cycle_story_share:
        why = f"the {finest.name} headlines have texts of their own ({share:.0%})"
        chosen = finest
    else:
        chosen = min(reversed(cycle), key=lambda s: s.rank)
        why = f"only {share:.0%} of the {finest.name} headlines have a text of their own"
    choice.why.append(f"at {chosen.name}: the moves lead round in a circle; {why}")
    choice.rejected.pop(chosen.name, None)
    return chosen


_FRAMES = re.compile(FRAME_SECTIONS, re.I)
_FOREWORDS = re.compile(FOREWORD_SECTIONS, re.I)
_GLANCES = re.compile(GLANCE_SECTIONS)


def trim_frames(level: Level, blocks: Sequence[Block], choice: Choice) -> None:
    """The headlines at either end of the stories that name a frame (an introduction, highlights,
    a summary, references): sections around the stories, not stories."""
    if not on("frame-sections"):
        return
    lead_family = is_lead_family(level.name)

    def frame(k: int) -> bool:
        text = fold_space(strip_marker(head_text(blocks[level.heads[k]], lead_family)))
        return bool(
            _FRAMES.match(text)
            or (on("foreword-frames") and _FOREWORDS.match(text))
            or (on("glance-frames") and _GLANCES.match(text))
        )

    first, last = 0, len(level.heads)
    while last - first > OUTLINE.frames_keep and frame(first):
        first += 1
    while last - first > OUTLINE.frames_keep and frame(last - 1):
        last -= 1
    if (first, last) == (0, len(level.heads)):
        return
    cut = level.heads[:first] + level.heads[last:]
    choice.why.append(f"{len(cut)} headlines at the ends name the frame, not stories")
    level.sections |= set(cut)
    level.keep(first, last)


def trim_closing_part(level: Level, levels: Sequence[Level], choice: Choice) -> None:
    """The heading stories under a heading of their own after most of the others (one coarser
    heading on the page, "Today's weather" after the news): the page's closing part, not stories."""
    if not on("closing-part") or level.name not in HEADINGS:
        return
    for coarser in levels:
        if coarser.rank >= level.rank or coarser.name not in HEADINGS or len(coarser.heads) != 1:
            continue
        at = bisect.bisect_left(level.heads, coarser.heads[0])
        after = len(level.heads) - at
        if at < OUTLINE.closing_part_min or not after:
            continue
        if after > OUTLINE.closing_part_share * len(level.heads):
            continue
        choice.why.append(
            f"the {after} headlines under '{coarser.name}' after the others are the page's "
            "closing part"
        )
        level.sections |= {coarser.heads[0], *level.heads[at:]}
        level.keep(0, at)
        return


def nested(inner: Level, outer: Level) -> list[int]:
    """How many of ``inner``'s headlines fall in each of ``outer``'s spans."""
    counts = []
    for start, end in zip(outer.heads, outer.ends, strict=True):
        lo = bisect.bisect_right(inner.heads, start)
        hi = bisect.bisect_left(inner.heads, end)
        counts.append(hi - lo)
    return counts


def own_before(outer: Level, inner: Level, chars: Sequence[float]) -> list[float | None]:
    """For each of ``outer``'s headlines that holds some of ``inner``'s, the text before the first
    of them (None for a headline that holds none)."""
    own: list[float | None] = []
    for start, end in zip(outer.heads, outer.ends, strict=True):
        at = bisect.bisect_right(inner.heads, start)
        if at < len(inner.heads) and inner.heads[at] < end:
            own.append(sum(chars[start + 1 : inner.heads[at]]))
        else:
            own.append(None)
    return own


def _own_share(outer: Level, inner: Level, chars: Sequence[float]) -> float:
    """The share of ``outer``'s headlines holding ``inner``'s that have a text of their own first:
    more than a line introducing them, as long as half of one of the finer stories at least."""
    holding = [o for o in own_before(outer, inner, chars) if o is not None]
    if not holding:
        return 0.0
    typical = statistics.median(inner.spans) if inner.spans else 0.0
    need = max(SCORING.body_min, OUTLINE.own_vs_story * typical)
    return sum(o >= need for o in holding) / len(holding)


def _descend(
    best: Level, viable: Sequence[Level], chars: Sequence[float], choice: Choice
) -> Level | None:
    """A finer level that holds the stories when the chosen headlines only group them: wrappers (no
    text of their own), category labels (short, over longer headlines), a few over many."""
    found: list[tuple[float, Level, str]] = []
    for finer in viable:
        if finer.rank <= best.rank:
            continue
        shorter = finer.mean_head() < OUTLINE.finer_head_ratio * best.mean_head()
        if shorter and not _sub_sections(best, finer):
            continue  # stories' headlines are not shorter than the labels over them
        counts = nested(finer, best)
        holders = sum(c > 0 for c in counts)
        inside = sum(counts) / len(finer.heads)
        if inside < OUTLINE.nested_share or len(finer.heads) < holders:
            continue
        own = _own_share(best, finer, chars)
        why = _grouping_reason(best, finer, own, holders / len(counts), shorter)
        if why:
            found.append((finer.score, finer, why))
    if not found:
        return None
    _score, finer, why = max(found, key=lambda t: t[0])
    choice.rejected[best.name] = why
    choice.why.append(f"down to {finer.name}: {why}")
    finer = _beside(finer, best, viable, choice)
    mixed = _mix(best, finer, chars) if on("mixed-sections") else None
    if mixed is not None:
        choice.why.append(
            f"sections with no {finer.name} headline but a text of their own stay stories: "
            + ", ".join(str(i) for i in sorted(set(mixed.heads) - set(finer.heads)))
        )
        return mixed
    # a copy: the family itself stays as it was scored (another chooser may weigh it as it is)
    return replace(finer, sections=set(best.heads) | best.sections)


_ROWS = ("heads", "ends", "spans", "own", "head_sizes", "head_lines")


def _beside(finer: Level, best: Level, viable: Sequence[Level], choice: Choice) -> Level:
    """Headed stories beside the entries the moves went down to, in the same sections (a
    weekly's <h3> articles with their texts beside its link entries under each <h2> category):
    the headings between the two levels with a text of their own join the stories."""
    if not on("sibling-stories"):
        return finer
    between = [
        s
        for s in viable
        if best.rank < s.rank < finer.rank
        and s.name in HEADINGS
        and s.own_share() >= OUTLINE.sibling_own_share
    ]
    if not between:
        return finer
    other = max(between, key=lambda s: s.own_share())
    taken = set(finer.heads)
    inside = [
        k
        for k, (head, own) in enumerate(zip(other.heads, other.own, strict=True))
        if own >= SCORING.body_min and head not in taken and best.heads[0] < head
    ]
    if len(inside) < OUTLINE.sibling_min:
        return finer
    rows = sorted(
        [tuple(getattr(other, n)[k] for n in _ROWS) for k in inside]
        + list(zip(*(getattr(finer, n) for n in _ROWS), strict=True))
    )
    merged = replace(finer, reasons=[*finer.reasons, f"with {len(inside)} {other.name} stories"])
    for n, column in zip(_ROWS, zip(*rows, strict=True), strict=True):
        setattr(merged, n, list(column))
    merged.clip()
    choice.why.append(
        f"and the {len(inside)} {other.name} headlines with a text of their own beside them"
    )
    return merged


def add_records(best: Level, levels: Sequence[Level], outside: set[int], choice: Choice) -> Level:
    """A second run of stories beside the chosen one: a viable level whose headlines all lie outside
    the chosen stories' own elements (a news list beside feature cards) adds its stories."""
    if not outside or not on("second-records"):
        return best
    for other in sorted(levels, key=lambda s: (s.rank, -s.score)):  # the coarsest: dt over its dd
        if not other.ok or other.name == best.name or len(other.heads) < OUTLINE.records_min:
            continue
        if not set(other.heads) <= outside:
            continue
        covered = sum(
            1
            for start, end in zip(other.heads, other.ends, strict=True)
            for j in range(start, end)
            if j in outside
        )
        if covered < OUTLINE.records_share * len(outside):
            continue
        choice.why.append(
            f"and the {len(other.heads)} {other.name} stories outside the {best.name} stories' elements"
        )
        order = sorted(
            zip(
                [*best.heads, *other.heads],
                [*best.ends, *other.ends],
                [*best.spans, *other.spans],
                [*best.own, *other.own],
                [*best.head_sizes, *other.head_sizes],
                [*best.head_lines, *other.head_lines],
                strict=True,
            )
        )
        merged = Level(best.name, [o[0] for o in order], best.score, best.reasons, True)
        merged.ends, merged.spans, merged.own = (
            [o[1] for o in order],
            [o[2] for o in order],
            [o[3] for o in order],
        )
        merged.head_sizes, merged.head_lines = [o[4] for o in order], [o[5] for o in order]
        merged.sections = best.sections | other.sections
        merged.runs = best.runs + 1
        merged.clip()
        return merged
    return best


_MENU_LINE = re.compile(MENU_LINE)


def link_list(
    blocks: Sequence[Block], reasons: dict[int, str], sizes: Sequence[float], chars: Sequence[float]
) -> Level | None:
    """A page of headline links with no other story structure (an aggregator's home page, a blog
    index of titles): one story per link, its body the teaser after it. Menu entries are too short
    to be headlines; a headline repeated (a slider and a grid) is one story."""
    if not on("link-pages"):
        return None
    heads: list[int] = []
    seen: set[str] = set()
    menus = 0
    for i, block in enumerate(blocks):
        if reasons.get(i, "links") != "links" or block.link_ratio < LINK_PAGES.link_share:
            continue
        if sizes[i] < LINK_PAGES.link_units or block.text in seen:
            continue
        if (on("menu-lines") and _MENU_LINE.search(block.text)) or (
            on("many-links") and block.html.count("<a ") >= LINK_PAGES.menu_links
        ):
            menus += 1  # (a menu, a pager, a line of several links: no story's headline)
            continue
        seen.add(block.text)
        heads.append(i)
    if len(heads) < LINK_PAGES.min_links:
        return None
    heads = _heading_links(heads, blocks)
    why = [f"{len(heads)} headline links and no other stories"]
    if menus:
        why.append(f"{menus} lines of links left out as menus (a pager, several links in a line)")
    level = Level("link-list", heads, 0.0, why, True)
    level.ends = [heads[k + 1] if k + 1 < len(heads) else len(blocks) for k in range(len(heads))]
    for start, end in zip(heads, level.ends, strict=True):
        level.spans.append(sum(chars[start + 1 : end]))
        level.own.append(level.spans[-1])
        level.head_sizes.append(sizes[start])
        level.head_lines.append(float(len(blocks[start].text)))
    return level


def teaser_level(levels: Sequence[Level]) -> Level | None:
    """The best level of headline links that each have a teaser of their own, as long as a
    headline link (not a box's label): a portal's stories, where the page's other links are its
    tickers, related-link bullets and directory entries [teaser-heads]."""
    if not on("teaser-heads"):
        return None
    found = [
        level
        for level in levels
        if level.ok
        and len(level.heads) >= LINK_PAGES.min_links
        and level.linked >= LINK_PAGES.teaser_linked
        and sum(s >= SCORING.body_min for s in level.spans)
        >= LINK_PAGES.teaser_share * len(level.heads)
        and statistics.median(level.head_sizes) >= LINK_PAGES.link_units
    ]
    return max(found, key=lambda level: level.score, default=None)


def _heading_links(heads: list[int], blocks: Sequence[Block]) -> list[int]:
    """The headline links set as headings, when enough of them are (a card's <h2> title beside its
    date and category links): the other links of the page are the cards' furniture."""
    if not on("heading-links"):
        return heads
    marked = [i for i in heads if blocks[i].tag in HEADINGS]
    if len(marked) >= LINK_PAGES.min_links and len(marked) >= LINK_PAGES.heading_share * len(heads):
        return marked
    return heads


def _mix(coarse: Level, finer: Level, chars: Sequence[float]) -> Level | None:
    """The stories when only some sections are groupers: a section holding finer headlines gives way
    to them; a section holding none but with a text of its own is a story itself, unless it comes
    after the last grouping section (the page's closing notes: "About us", "Subscribe")."""
    counts = nested(finer, coarse)
    holding = [k for k, c in enumerate(counts) if c]
    if not holding:
        return None
    last = holding[-1]
    kept = [
        k
        for k, c in enumerate(counts)
        if not c
        and k < last
        and coarse.spans[k]
        >= max(SCORING.body_min, OUTLINE.own_vs_story * statistics.median(finer.spans))
    ]
    if not kept:
        return None
    order = sorted(
        [
            (
                coarse.heads[k],
                coarse.ends[k],
                coarse.spans[k],
                coarse.own[k],
                coarse.head_sizes[k],
                coarse.head_lines[k],
            )
            for k in kept
        ]
        + list(
            zip(
                finer.heads,
                finer.ends,
                finer.spans,
                finer.own,
                finer.head_sizes,
                finer.head_lines,
                strict=True,
            )
        )
    )
    mixed = Level(
        finer.name,
        [o[0] for o in order],
        finer.score,
        [*finer.reasons, f"with {len(kept)} {coarse.name} sections that are stories themselves"],
        True,
        ends=[o[1] for o in order],
        spans=[o[2] for o in order],
        own=[o[3] for o in order],
        head_sizes=[o[4] for o in order],
        head_lines=[o[5] for o in order],
    )
    mixed.sections = (set(coarse.heads) - {coarse.heads[k] for k in kept}) | coarse.sections
    mixed.clip()
    return mixed


def _sub_sections(best: Level, finer: Level) -> bool:
    """Headings under headings, each a name of its own in words (no template repeated in every
    story, "What happened?", "Why it matters"; no comment numbers, "#11"): the sections of a
    wrapper, however short their names."""
    if not on("short-wrapped") or best.name not in HEADINGS or finer.name not in HEADINGS:
        return False
    return finer.named


def _grouping_reason(
    best: Level, finer: Level, own_share: float, holding: float, shorter: bool
) -> str:
    """Why ``best``'s headlines are groupers over ``finer``'s, or '' when they are not. Finer
    headlines shorter than ``best``'s are stories only under wrappers (no text of their own)."""
    if (
        own_share < OUTLINE.wrapper_own_share
        and holding >= OUTLINE.holding_share
        and not (on("linked-posts") and best.linked > SCORING.linked_heads)
    ):
        return (
            f"its headlines are wrappers: {own_share:.0%} of those over {finer.name} headlines "
            "have a text of their own before them"
        )
    if shorter:
        return ""
    if len(best.heads) <= OUTLINE.few and len(finer.heads) >= OUTLINE.few_children * len(
        best.heads
    ):
        return f"{len(best.heads)} headlines over {len(finer.heads)} {finer.name} headlines"
    if holding >= OUTLINE.holding_share and (
        best.mean_head() <= OUTLINE.label_max
        and finer.mean_head() >= OUTLINE.label_ratio * best.mean_head()
        and len(finer.heads) >= OUTLINE.label_children * len(best.heads)
    ):
        return (
            f"its headlines are category labels (mean {best.mean_head():.1f} units) over "
            f"longer {finer.name} headlines"
        )
    return ""


def _ascend(
    best: Level, viable: Sequence[Level], chars: Sequence[float], choice: Choice
) -> Level | None:
    """Up to the stories when the chosen headlines sit inside them: sub-headings fewer than the
    coarser headlines around them, or link bullets inside sections with a text of their own."""
    heads = set(best.heads)
    for coarser in sorted(viable, key=lambda s: -s.score):
        if coarser.rank >= best.rank or not heads.isdisjoint(coarser.heads):
            continue  # (a level that took some of its headlines in is no section around them)
        counts = nested(best, coarser)
        if sum(counts) < OUTLINE.nested_share * len(best.heads):
            continue
        why = _sub_reason(best, coarser, chars)
        if why:
            choice.rejected[best.name] = why
            choice.why.append(f"up to {coarser.name}: {why}")
            return coarser
    return None


def _sub_reason(best: Level, coarser: Level, chars: Sequence[float]) -> str:
    """Why ``best``'s headlines belong inside ``coarser``'s stories, or '' when they do not."""
    if (
        len(coarser.heads) > len(best.heads)
        and coarser.held_own_share() >= OUTLINE.section_own_share
    ):
        return (
            f"its {len(best.heads)} headlines are sub-headings inside the "
            f"{len(coarser.heads)} {coarser.name} stories"
        )
    if not best.name.startswith(("li-", "link")) or coarser.rank > OUTLINE.section_rank:
        return ""
    if statistics.median(best.head_lines) > OUTLINE.bullet_body:
        return ""
    if _own_share(coarser, best, chars) < OUTLINE.section_own_share:
        return ""
    if len(best.heads) < OUTLINE.bullets_per_section * len(coarser.heads):
        return ""
    return (
        f"its headlines are link bullets (a line each) inside {coarser.name} sections with a "
        "text of their own"
    )
