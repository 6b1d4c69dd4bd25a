"""Single articles: whether a page's headings are the sections of one text rather than stories.

Owns: the evidence, each piece a weight (positive: one article; negative: a digest), and the decision.
For one article: an interview's questions and answers, short section-like headings, an introduction as
long as a section, headings that are questions or name parts of a text, the title's subject running
through the sections, long sections, headings that are a word and a number ("注1", "Reason #2"),
labelled lines holding short values (a notice's fields), a title naming one release, sections each in
a box of their own under plain headings (a manual's), one section holding most of the text (the other
headlines stray lines around it). For a digest: headlines that link off the page (a heading's own
anchor is no link), stories each in a box of their own under such headlines, numbered headlines (not the numbered
topic labels of one document's outline), a line or a label every story repeats (a "Buy now", a
"DEAR ABBY:"), a title that names a round-up, an issue or a day, or counts the stories, stories that
each link out to sites of their own, category headings over the headlines. Every weight and
threshold is in :class:`~feedbot.split.rules.Single`, with the counts of real pages that set it. Pure.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ..text import CJK
from .assemble import inside, item_boxes
from .blocks import Block
from .levels import Level, nested, own_before
from .outline import is_lead_family
from .prepass import body_chars
from .rules import (
    COUNTED_TITLE,
    DIGEST_CUES,
    FAMILIES,
    ISSUE_NUMBER,
    ISSUE_TITLE,
    MARKED_PART,
    OUTBOUND_LINK,
    OUTLINE,
    QA_OPENINGS,
    SCORING,
    SECTION_CUES,
    SINGLE,
    TITLE_NUMBER,
    TITLE_PUNCTUATION,
    VERSION,
    on,
)
from .text import dated_in_sequence, fold, marker_of, strip_marker, terms, units

_DIGEST_CUES = re.compile(DIGEST_CUES, re.I)
_SECTION_CUES = re.compile(SECTION_CUES, re.I)
# a title that counts its stories: "10 things …", "12 Twitter-Nutzer …", "The 10 best …", "4 Things"


class Piece(NamedTuple):
    """One piece of evidence: its name (a feature of the fitted decision), what it says, its
    hand-set weight (positive: one article)."""

    key: str
    why: str
    weight: float


Evidence = list[Piece]


def is_single_article(
    title: str,
    level: Level,
    blocks: Sequence[Block],
    reasons: dict[int, str],
    parents: Sequence[int],
    levels: Sequence[Level] = (),
    chars: Sequence[float] = (),
) -> tuple[bool, list[str]]:
    """Whether the page is one article whose headings are its sections, and why (``levels``: the
    page's other levels, for the category headings over the chosen ones)."""
    if len(level.heads) > SINGLE.max_sections:
        return False, [f"{len(level.heads)} headlines: more than an article has sections"]
    found = evidence(title, level, blocks, reasons, parents, levels, chars)
    total = sum(piece.weight for piece in found)
    single = total >= SINGLE.threshold
    verdict = f"evidence {total:+.1f} ({'≥' if single else '<'} {SINGLE.threshold:.1f})"
    why = [f"{p.why} ({p.weight:+.1f})" for p in found] or ["no evidence either way"]
    return single, [*why, verdict]


def evidence(
    title: str,
    level: Level,
    blocks: Sequence[Block],
    reasons: dict[int, str],
    parents: Sequence[int],
    levels: Sequence[Level] = (),
    chars: Sequence[float] = (),
) -> Evidence:
    """Every piece of evidence both ways on the page's chosen level."""
    heads_text = [strip_marker(blocks[i].text) for i in level.heads[: SINGLE.sample_sections]]
    found = _for_one_article(title, level, blocks, heads_text, set(reasons))
    found += _for_a_digest(title, level, blocks, reasons, parents)
    found += _grouped(level, levels, chars)
    return found


def _for_one_article(
    title: str, level: Level, blocks: Sequence[Block], heads_text: list[str], skip: set[int]
) -> Evidence:
    found: Evidence = []
    qa = sum(1 for b in blocks if b.text.startswith(QA_OPENINGS))
    if qa >= SINGLE.qa_paragraphs:
        why = f"{qa} question-and-answer paragraphs (an interview)"
        found.append(Piece("qa", why, SINGLE.qa_weight))
    elif dialogue(blocks):
        found.append(
            Piece("qa", "paragraphs open with two speakers' names in turn", SINGLE.qa_weight)
        )
    mean = level.mean_head()
    if mean <= SINGLE.short_heads:
        why = f"short section-like headings (mean {mean:.1f} units)"
        found.append(Piece("short_heads", why, SINGLE.short_heads_weight))
    elif mean <= SINGLE.shortish_heads:
        why = f"shortish headings (mean {mean:.1f} units)"
        found.append(Piece("shortish_heads", why, SINGLE.shortish_heads_weight))
    found += _introduction(level, blocks, skip)
    questions = sum(1 for h in heads_text if h.rstrip().endswith(("?", "？")))
    if heads_text and questions / len(heads_text) >= SINGLE.questions_share:
        why = f"{questions} of {len(heads_text)} headings are questions (an explainer)"
        found.append(Piece("questions", why, SINGLE.questions_weight))
    cues = sum(1 for h in heads_text if _SECTION_CUES.match(h))
    if heads_text and cues / len(heads_text) >= SINGLE.section_cue_share:
        found.append(
            Piece(
                "section_cues", f"{cues} headings name parts of a text", SINGLE.section_cue_weight
            )
        )
    found += _one_subject(title, level, blocks)
    found += _title_parts(title, heads_text)
    found += _marked_parts(level, blocks)
    found += _fields(level, blocks)
    found += _version_title(title, heads_text)
    # (plain lines, not the labels of labelled lines: two labelled news lines make a home page)
    plain = level.rank > SINGLE.plain_rank and not is_lead_family(level.name)
    if plain and len(level.heads) <= SINGLE.few_plain:
        found.append(
            Piece(
                "few_plain",
                f"only {len(level.heads)} plain lines stand out in the text",
                SINGLE.few_plain_weight,
            )
        )
    found += _long_sections(level)
    found += _dominant(level, blocks)
    return found


def _dominant(level: Level, blocks: Sequence[Block]) -> Evidence:
    """One section, its headline and body, holds most of the text: the page is that one text, its
    other headlines stray lines around it (a date line, the site's name, a sidebar's titles); a
    list of headlines with little or no body is no such page."""
    if not on("dominant-section") or len(level.heads) < SINGLE.dominant_min or not level.spans:
        return []
    sizes = [len(blocks[i].text) + span for i, span in zip(level.heads, level.spans, strict=True)]
    total = sum(sizes)
    share = max(sizes) / total if total else 0.0
    if share < SINGLE.dominant_share:
        return []
    k = sizes.index(max(sizes))
    if _link_entries(blocks[level.heads[k] + 1 : level.ends[k]]) >= SINGLE.dominant_entries:
        return []  # (a section that is a list of link entries: a digest's section, not one text)
    why = f"one section holds {share:.0%} of the text (one text, stray lines around it)"
    return [Piece("dominant", why, SINGLE.dominant_weight)]


def _link_entries(blocks: Sequence[Block]) -> int:
    """List entries that lead with a link or are one ("[title](…): what it is")."""
    if not on("dominant-entries"):
        return 0
    return sum(
        1
        for b in blocks
        if b.in_list and (b.lead_kind == "link" or b.link_ratio >= SINGLE.entry_link_share)
    )


def _long_sections(level: Level) -> Evidence:
    """Sections as long as an article's chapters (a digest's stories run a few paragraphs)."""
    typical = statistics.median(level.spans) if level.spans else 0.0
    why = f"long sections (median {typical:.0f} characters)"
    if typical >= SINGLE.longer_sections:
        return [Piece("long_sections", why, SINGLE.long_weight + SINGLE.longer_weight)]
    if typical >= SINGLE.long_sections:
        return [Piece("long_sections", why, SINGLE.long_weight)]
    return []


def _title_parts(title: str, heads_text: list[str]) -> Evidence:
    """A section heading repeats a part of the page's title ("多地项目连环爆雷" under "多地项目连环
    爆雷 狂奔的龙湖集团…"): sub-headings of the article the title names."""
    if not title:
        return []
    whole = fold(title)
    # clauses between punctuation; in CJK a space sets clauses apart too
    pieces = TITLE_PUNCTUATION.split(title)
    pieces = [q for p in pieces for q in (p.split() if CJK.search(p) else [p])]
    parts = [fold(p) for p in pieces if units(p) >= SINGLE.title_part_min]
    for head in heads_text:
        if units(head) < SINGLE.title_part_min:
            continue
        key = fold(head)
        if key in whole or any(p in key for p in parts):
            why = f"the heading {head!r} repeats a part of the title"
            return [Piece("title_part", why, SINGLE.title_part_weight)]
    return []


def _head_label(level: Level, block: Block) -> str:
    """What a headline of the level says: its label on a level of labels, else its text."""
    if level.name == "label" and block.lead_kind == "label" and block.lead:
        return block.lead
    return block.text


def _marked_parts(level: Level, blocks: Sequence[Block]) -> Evidence:
    """Headings that are one word and a number ("注1" … "注6", "Reason #1" … "#3"): the numbered
    parts of one text, where a story's headline would say what the story is."""
    if not on("marked-parts") or len(level.heads) < SINGLE.marked_parts_min:
        return []
    words: Counter[str] = Counter()
    for i in level.heads[: SINGLE.sample_sections]:
        match = MARKED_PART.match(_head_label(level, blocks[i]))
        if match:
            words[fold(match.group(1))] += 1
    if not words:
        return []
    word, count = words.most_common(1)[0]
    sampled = min(len(level.heads), SINGLE.sample_sections)
    if count < SINGLE.marked_parts_min or count < SINGLE.marked_parts_share * sampled:
        return []
    why = f"{count} headings are {word!r} and a number: the numbered parts of one text"
    return [Piece("marked_parts", why, SINGLE.marked_parts_weight)]


def _fields(level: Level, blocks: Sequence[Block]) -> Evidence:
    """Labelled lines whose text is a short value ("联系电话：010-…", "邮箱：…", "Date: …"): the
    fields of one document, not stories under their names."""
    if level.name != "label" or not on("field-labels"):
        return []
    values = [
        units(blocks[i].rest_text or "", SINGLE.field_value_max)
        for i in level.heads
        if blocks[i].lead_kind == "label"
    ]
    if not values:
        return []
    short = sum(v <= SINGLE.field_value_max for v in values) / len(level.heads)
    if short < SINGLE.field_share:
        return []
    why = f"{short:.0%} of the labelled lines hold a short value (the fields of one document)"
    return [Piece("fields", why, SINGLE.fields_weight)]


def _version_title(title: str, heads_text: list[str]) -> Evidence:
    """The title names one release ("v0.9.1", "Ruby 3.3.0") and no heading is a version: the notes
    of one release (a changelog's headings are its versions)."""
    if not title or not on("version-title"):
        return []
    match = VERSION.search(title)
    if match is None or any(VERSION.search(h) for h in heads_text):
        return []
    why = f"the title names one release ({match.group(0)})"
    return [Piece("version_title", why, SINGLE.version_title_weight)]


def dialogue(blocks: Sequence[Block]) -> bool:
    """Paragraphs opened by the labels of one or two speakers, in turn: an interview's questions and
    answers ("记者：…" / "张明远：…"), not a run of stories each named by its label."""
    labels = Counter(b.lead for b in blocks if b.lead_kind == "label")
    total = sum(labels.values())
    if total < SINGLE.qa_paragraphs:
        return False
    top = labels.most_common(SINGLE.speakers)
    if len(top) < SINGLE.speakers:
        return False  # one label before every paragraph is a source line, not a conversation
    return sum(n for _, n in top) >= SINGLE.speakers_share * total and all(
        n >= SINGLE.speaker_turns * total for _, n in top
    )


def _introduction(level: Level, blocks: Sequence[Block], skip: set[int]) -> Evidence:
    """A single article opens with an introduction as long as one of its sections; a digest opens
    with a greeting or a one-line summary, if anything."""
    lead = sum(body_chars(blocks[i]) for i in range(level.heads[0]) if i not in skip)
    typical = statistics.median(level.spans) if level.spans else 0.0
    said = f"{lead:.0f} characters, a section's median {typical:.0f}"
    if typical and lead >= typical:
        why = f"an introduction as long as a section ({said})"
        return [Piece("intro", why, SINGLE.intro_weight)]
    if typical and lead >= SINGLE.half_intro * typical:
        why = f"an introduction half as long as a section ({said})"
        return [Piece("half_intro", why, SINGLE.half_intro_weight)]
    return []


def _sections_text(level: Level, blocks: Sequence[Block]) -> list[str]:
    """The first sections' texts, each cut at a length (an article's sections look alike: the first
    ones tell, and a long page costs no more than a short one)."""
    texts = []
    for start, end in list(zip(level.heads, level.ends, strict=True))[: SINGLE.sample_sections]:
        text = " ".join(
            b.text for b in blocks[start + 1 : min(end, start + 1 + SINGLE.sample_blocks)]
        )
        texts.append(text[: SINGLE.sample_chars])
    return texts


def _one_subject(title: str, level: Level, blocks: Sequence[Block]) -> Evidence:
    """The title's words recur in most sections: they are parts of one text on one subject."""
    wanted = terms(title) if title else set()
    if not wanted:
        return []
    bodies = _sections_text(level, blocks)
    need = min(SINGLE.title_terms_min, len(wanted))
    find = _finder(wanted)
    share = sum(1 for body in bodies if find(body) >= need) / len(bodies)
    if share >= SINGLE.title_terms_share:
        why = f"the title's words recur in {share:.0%} of the sections"
        return [Piece("one_subject", why, SINGLE.title_terms_weight)]
    return []


def _finder(wanted: set[str]) -> Callable[[str], int]:
    """How many of ``wanted`` (terms, as :func:`~feedbot.split.text.terms` makes them) a text holds:
    a word as a whole word, a pair of CJK characters anywhere (one pattern for all the words, so a
    long section is read once)."""
    words = sorted(t for t in wanted if not CJK.match(t))
    pairs = [t for t in wanted if CJK.match(t)]
    pattern = (
        re.compile(r"(?<![^\W\d_])(" + "|".join(map(re.escape, words)) + r")(?![^\W\d_])", re.I)
        if words
        else None
    )

    def count(text: str) -> int:
        found = sum(1 for pair in pairs if pair in text)
        if pattern is not None:
            found += len({m.lower() for m in pattern.findall(text)})
        return found

    return count


def _for_a_digest(
    title: str,
    level: Level,
    blocks: Sequence[Block],
    reasons: dict[int, str],
    parents: Sequence[int],
) -> Evidence:
    found: Evidence = []
    heads = level.heads
    linked = sum(links_out(blocks[i]) for i in heads) / len(heads)
    if linked >= SINGLE.linked_heads_share:
        why = f"{linked:.0%} of the headlines are links to the stories"
        found.append(Piece("linked_heads", why, -SINGLE.linked_weight))
    if level.runs > 1:
        why = f"{level.runs} runs of stories in parts of their own"
        found.append(Piece("runs", why, -SINGLE.boxed_weight))
    found += _boxes(level, blocks, parents, linked >= SINGLE.linked_heads_share)
    found += _sources(level, blocks)
    found += _recurring_label(level, blocks)
    if numbered(level, blocks) and not outline_numbers(title, level):
        why = f"the {len(heads)} headlines are numbered in sequence (a listicle)"
        found.append(Piece("numbered", why, -SINGLE.numbered_weight))
    if on("dated-sequence") and dated_in_sequence(
        [blocks[i].text for i in heads], SINGLE.numbered_min, alone=level.name == "dt"
    ):
        why = f"the {len(heads)} headlines are dated in sequence (news entries)"
        found.append(Piece("dated", why, -SINGLE.numbered_weight))
    line = recurring_line(level, blocks, reasons)
    if line:
        why = f"every story repeats the line {line!r}"
        found.append(Piece("recurring", why, -SINGLE.recurring_weight))
    issue = ISSUE_TITLE.search(title) if title and on("issue-title") else None
    if issue:
        why = f"the title names an issue or a day ({issue.group(0)!r}): a periodical"
        found.append(Piece("issue_title", why, -SINGLE.issue_title_weight))
    else:
        found += _issue_opening(level, blocks, set(reasons))
    if title and (_DIGEST_CUES.search(title) or COUNTED_TITLE.match(title)):
        why = f"the title {title!r} names a round-up"
        found.append(Piece("title_cue", why, -SINGLE.title_cue_weight))
    if title and counts_stories(title, len(heads)):
        why = f"the title counts the {len(heads)} stories"
        found.append(Piece("title_count", why, -SINGLE.title_count_weight))
    return found


def _issue_opening(level: Level, blocks: Sequence[Block], skip: set[int]) -> Evidence:
    """The page's opening words, before its first headline, name an issue by its number ("Welcome
    to issue 30 of …"): a periodical's welcome."""
    first = next((i for i in range(level.heads[0]) if i not in skip), None)
    if first is None or not on("issue-opening"):
        return []
    issue = ISSUE_NUMBER.search(blocks[first].text[: SINGLE.issue_opening_chars])
    if not issue:
        return []
    why = f"the opening names an issue ({issue.group(0)!r}): a periodical"
    return [Piece("issue_opening", why, -SINGLE.issue_opening_weight)]


def links_out(block: Block) -> bool:
    """Whether a headline is a link off the page (to its story), not its own anchor: a heading
    whose link is named ("<a name=…>") or points into the page ("#syntax", a "¶") is marked, not
    linked."""
    if block.link_ratio <= SCORING.linked_head:
        return False
    if not on("anchor-heads"):
        return True
    return block.href is not None and block.href != "" and not block.href.startswith("#")


def _boxes(level: Level, blocks: Sequence[Block], parents: Sequence[int], linked: bool) -> Evidence:
    """Each section in an element of its own: a digest's cards when the headlines link to their
    stories, an article's sections (Sphinx's div.section, HTML5 <section>) when they do not."""
    if not boxed(level, blocks, parents):
        return []
    n = len(level.heads)
    if linked:
        why = f"each of the {n} stories sits in an element of its own"
        return [Piece("boxed", why, -SINGLE.boxed_weight)]
    if on("plain-boxes"):
        why = f"each of the {n} sections sits in an element of its own, under a plain heading"
        return [Piece("sectioned", why, SINGLE.boxed_plain_weight)]
    why = f"each of the {n} stories sits in an element of its own"
    return [Piece("boxed", why, -SINGLE.boxed_plain_weight)]


def outline_numbers(title: str, level: Level) -> bool:
    """Numbered headings that are short topic labels ("一、时间地点与分组", "二、提交材料"), under a
    title that does not count them: the numbered outline of one document, where a listicle's
    title announces its count ("7 Places to …")."""
    if not on("outline-numbers") or level.mean_head() > SINGLE.short_heads:
        return False
    return not counts_stories(title, len(level.heads))


def _sources(level: Level, blocks: Sequence[Block]) -> Evidence:
    """Most sections link out, to as many sites as there are sections: each story cites its own
    source, where an article links from a few of its sections to a few sites (the lines cut as a
    story's source or share bar count: they are its own)."""
    n = min(len(level.heads), SINGLE.sample_sections)
    if n < SINGLE.sources_min:
        return []
    sites: set[str] = set()
    linking = 0
    for head, end in list(zip(level.heads, level.ends, strict=True))[:n]:
        found = {
            site.lower()
            for j in range(head, min(end, head + 1 + SINGLE.sample_blocks))
            for site in OUTBOUND_LINK.findall(blocks[j].html)
        }
        linking += bool(found)
        sites |= found
    if linking < SINGLE.sources_share * n or len(sites) < max(n, SINGLE.sources_sites):
        return []
    why = f"{linking} of {n} stories link out, to {len(sites)} sites (each its own source)"
    return [Piece("sources", why, -SINGLE.sources_weight)]


def _recurring_label(level: Level, blocks: Sequence[Block]) -> Evidence:
    """One label opening many of the labelled lines, not two speakers in turn: the label of a kind
    of record ("DEAR ABBY:" over each letter), as no article's parts repeat theirs."""
    if level.name != "label" or len(level.heads) < SINGLE.recurring_label_min or dialogue(blocks):
        return []
    labels = Counter(fold(blocks[i].lead or "") for i in level.heads)
    label, count = labels.most_common(1)[0]
    if not label or count < max(
        SINGLE.recurring_label_min, SINGLE.recurring_label_share * len(level.heads)
    ):
        return []
    why = f"{count} of the {len(level.heads)} headlines open with the same label (records)"
    return [Piece("recurring", why, -SINGLE.recurring_weight)]


def counts_stories(title: str, n: int) -> bool:
    """The title states the number of headlines ("These 6 celebrities …", "7 Places to …"; one
    more or less for an introduction or a closing section): a listicle's count, not a date's."""
    if not on("title-count"):
        return False
    for match in TITLE_NUMBER.finditer(title):
        value = int(match.group(1))
        if value >= SINGLE.title_count_min and abs(value - n) <= SINGLE.title_count_slack:
            return True
    return False


def _grouped(level: Level, levels: Sequence[Level], chars: Sequence[float]) -> Evidence:
    """The headlines are grouped under coarser headings that have no text of their own (category
    headings: "Dept of Servers" over its projects): a digest's sections; an article's parts open
    with their own text."""
    if not on("category-groups") or not chars:
        return []
    for coarser in levels:
        if (
            coarser.rank >= level.rank
            or coarser.rank > FAMILIES.sectioning_rank
            or len(coarser.heads) < SINGLE.groups_min
        ):
            continue
        counts = nested(level, coarser)
        if sum(counts) < OUTLINE.nested_share * len(level.heads):
            continue
        own = own_before(coarser, level, chars)
        holding = [o for o in own if o is not None]
        if len(holding) < SINGLE.groups_min:
            continue
        bare = sum(o < SCORING.body_min for o in holding) / len(holding)
        if bare >= OUTLINE.wrapper_own_share:
            why = (
                f"the headlines are grouped under {len(holding)} {coarser.name} category "
                "headings with no text of their own"
            )
            return [Piece("category_groups", why, -SINGLE.groups_weight)]
    return []


def boxed(level: Level, blocks: Sequence[Block], parents: Sequence[int]) -> bool:
    """Each story in an element of its own that holds its whole text (a card, an <article>)."""
    if len(level.heads) < SINGLE.boxed_min:
        return False
    # (the first sections' boxes need only their neighbours)
    boxes = item_boxes(level.heads[: SINGLE.sample_sections + 1], blocks, parents)
    if not boxes:
        return False
    sample = list(zip(level.heads, level.ends, boxes, strict=False))[: SINGLE.sample_sections]
    for head, end, box in sample:
        if box == blocks[head].node:
            return False  # the headline stands alone: stories are flat siblings
        last = min(end, head + 1 + SINGLE.sample_blocks)
        if not all(inside(blocks[j], box, parents) for j in range(head + 1, last)):
            return False
    return True


def numbered(level: Level, blocks: Sequence[Block]) -> bool:
    """Headlines numbered 1, 2, 3 … (or counting down) with no section names among them."""
    if len(level.heads) < SINGLE.numbered_min:
        return False
    marks = [marker_of(blocks[i].text) for i in level.heads]
    values = [m[1] for m in marks if m and m[1]]
    if len(values) < SINGLE.numbered_share * len(level.heads):
        return False
    steps = {b - a for a, b in itertools.pairwise(values)}
    if steps not in ({1}, {-1}):
        return False
    return not any(_SECTION_CUES.match(strip_marker(blocks[i].text)) for i in level.heads)


def recurring_line(level: Level, blocks: Sequence[Block], reasons: dict[int, str]) -> str:
    """A short line (its first words) that most stories repeat: a template of records ("Buy now",
    "See it now:", "Continue reading"), as no article's sections do."""
    n = len(level.heads)
    if n < SINGLE.recurring_min:
        return ""
    seen: Counter[str] = Counter()
    longest = SINGLE.recurring_max
    for start, end in zip(level.heads, level.ends, strict=True):
        keys: set[str] = set()
        for j in range(start + 1, min(end, start + 1 + SINGLE.sample_blocks)):
            block = blocks[j]
            if j in reasons and reasons[j] in SINGLE.recurring_reasons:
                keys.add(f"[{reasons[j]}]")
            if len(block.text) <= SINGLE.recurring_chars and units(block.text, longest) <= longest:
                # "See it now: Amazon" and "See it now: Best Buy" repeat the label
                label = block.lead if block.lead_kind == "label" else None
                keys.add(label or block.text[: SINGLE.recurring_prefix])
        seen.update(sorted(keys))  # (sorted: a tie goes the same way under every hash seed)
    common = [k for k, c in seen.most_common(1) if c >= SINGLE.recurring_share * n]
    return common[0] if common else ""
