"""Building the items from the chosen level: what belongs to which story, and what is cut.

Owns: the plan of a page (each item's headline block and body blocks; every other block cut, with the
reason: the lead before the first story, section labels, text outside a story's own element, the
page's closing notes, closing boilerplate lines) and the items made from it. Pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import escape

from ..model import Item
from . import boilerplate
from .blocks import SEPARATOR_GAP, Block
from .levels import Level
from .outline import head_text
from .prepass import body_chars
from .rules import (
    AD_NOTE,
    ASSEMBLY,
    CLOSING,
    END_MARK_HTML,
    HEADINGS,
    LINKED_HEADLINE,
    SENTENCE_END,
    SENTENCE_MARKS,
    SINGLE,
    SOURCE_NOTE,
    TAGGED_LINE,
    on,
)
from .text import fold, strip_marker, units


@dataclass
class PlannedItem:
    headline: str
    head: int | None  # the headline's block (None: the page title heads a single article)
    body: list[int]
    rest: Block | None = None  # the headline block's text after its lead, first in the body
    attribution: str | None = None
    anchor: str | None = None
    link: str | None = None  # where the headline links to, when it is a link off its place


@dataclass
class Plan:
    """Which block plays which part: items, and every cut block with the reason."""

    items: list[PlannedItem] = field(default_factory=list)
    cuts: dict[int, str] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # text cut from inside a block
    attribution: str | None = None

    def cut(self, index: int, reason: str, text: str) -> None:
        self.cuts[index] = reason
        if reason == "attribution" and self.attribution is None:
            self.attribution = boilerplate.clean_attribution(text)


def plan_single(title: str, blocks: Sequence[Block], reasons: dict[int, str]) -> Plan:
    """One article: everything that is not boilerplate, under the page title."""
    plan = Plan()
    body = [i for i in range(len(blocks)) if i not in reasons]
    for i in sorted(reasons):
        if reasons[i] != "title":  # a plain-text title line becomes the headline, it is not cut
            plan.cut(i, reasons[i], blocks[i].text)
    while len(body) > 1 and units(blocks[body[0]].text, SINGLE.kicker_max) <= SINGLE.kicker_max:
        # a kicker over the article ("Q&A", "Analysis")
        if blocks[body[0]].text.endswith(SENTENCE_END):
            break
        kicker = body.pop(0)
        plan.cut(kicker, "kicker", blocks[kicker].text)
    _cut_tail(plan, blocks, body, last=True)
    if not body:
        return plan
    # with no title, the first line is the headline (and so not also the body's first line)
    if title:
        plan.items.append(PlannedItem(title, None, body))
    else:
        first = body.pop(0)
        plan.items.append(PlannedItem(blocks[first].text, first, body))
    return plan


def _cut_tail(
    plan: Plan,
    blocks: Sequence[Block],
    body: list[int],
    *,
    last: bool,
    kinds: Sequence[str | None] | None = None,
) -> None:
    """Closing boilerplate lines at the end of a story (sign-offs, credits, disclaimers);
    ``kinds``: each block's :func:`~feedbot.split.boilerplate.classify`, when known."""
    while body:
        j = body[-1]
        plain = kinds is not None and kinds[j] is None
        kind = boilerplate.classify_tail(blocks[j].text, last=last, plain=plain)
        if not kind:
            return
        index = body.pop()
        plan.cut(index, kind, blocks[index].text)


def plan_items(
    level: Level,
    blocks: Sequence[Block],
    reasons: dict[int, str],
    parents: Sequence[int],
    lead_family: bool,
    outside: set[int] | None = None,
    kinds: Sequence[str | None] | None = None,
) -> Plan:
    """The items of a page split at ``level``'s headlines (``outside``: the blocks outside the
    stories' own elements, when known; ``kinds``: each block's boilerplate kind, when known)."""
    plan = Plan()
    heads = level.heads
    ends = level.ends or [
        heads[k + 1] if k + 1 < len(heads) else len(blocks) for k in range(len(heads))
    ]
    if outside is None:
        outside = outside_items(heads, ends, blocks, set(reasons), parents)
    trailer = trailer_start(heads, blocks, set(reasons), reasons)
    again: list[bool] = []  # (found when a bare headline first needs it)
    for i in range(heads[0]):
        if i in reasons:
            plan.cut(i, reasons[i], blocks[i].text)
        else:
            plan.cut(i, "section" if i in level.sections else "lead", blocks[i].text)
    for k, start in enumerate(heads):
        item = _plan_one(plan, k, start, ends[k], level, blocks, reasons, outside, trailer, kinds)
        # between a story's end and the next headline: a coarser section's label and its own text
        for j in range(ends[k], heads[k + 1] if k + 1 < len(heads) else len(blocks)):
            plan.cut(j, reasons.get(j, "section"), blocks[j].text)
        head = blocks[start]
        sub = None if lead_family else _one_story(item.body, head, blocks)
        if sub is not None:
            # "## 本期话题" over one "### 再摸最后一次鱼": the section's one story names it
            for j in [start, *(j for j in item.body if j < sub)]:
                plan.cut(j, "section", blocks[j].text)
            item.body = [j for j in item.body if j > sub]
            item.head, item.anchor = sub, blocks[sub].anchor
            head = blocks[sub]
        if not _shape_head(plan, item, head, start, level, lead_family, blocks):
            continue
        if not item.body and item.rest is None:
            again = again or _comes_again(heads, blocks)
            bare = _bare_headline(k, heads, ends, reasons, again, blocks) or _empty_section(
                k, heads, ends, blocks, reasons
            )
            if bare:
                plan.cut(start, bare, head.text)
                continue
        plan.items.append(item)
    return plan


def _shape_head(
    plan: Plan,
    item: PlannedItem,
    head: Block,
    start: int,
    level: Level,
    lead_family: bool,
    blocks: Sequence[Block],
) -> bool:
    """The item's headline, link and the rest of its headline line (a tag, a bracket title, a
    lead-in's note); False when the line shows the item is an advertisement (then cut)."""
    item.headline = strip_marker(head_text(head, lead_family))
    item.link = headline_link(head, lead_family)
    tagged = level.tags and TAGGED_LINE.match(head.text)
    if tagged:
        # "[工具] 基于 three.js 的在线编辑器： https://…": the tag is a category, the line
        # before its link is the headline and the link the body
        item.headline = tagged.group(1).strip()
        link = tagged.group(2).strip()
        item.rest = Block(text=link, html=f"<p>{escape(link, quote=False)}</p>", tag="p")
    elif not lead_family and _bracket_title(head):
        # "【神舟十一号载人飞船明日发射】经任务总指挥部研究决定，…": the bracket is the headline
        item.headline = strip_marker(head.lead or "")
        item.rest = Block(text=head.rest_text, html=head.rest_html, tag="p")
    elif lead_family and head.lead:
        if AD_NOTE.match(head.rest_text) and on("ad-notes"):
            plan.cut(start, "ad", head.text)  # "Haskell Developer at X (ad)"
            for j in item.body:
                plan.cut(j, "ad", blocks[j].text)
            return False
        if SOURCE_NOTE.match(head.rest_text):
            # "<a>Headline</a> (Site name)": the note names where the link goes
            item.attribution = item.attribution or head.rest_text.strip("()（） ")
            plan.notes.append(("attribution", head.rest_text))
        else:
            item.rest = Block(text=head.rest_text, html=head.rest_html, tag="p")
    return True


def _bracket_title(head: Block) -> bool:
    """A headline line that opens with a 【bracketed】 title and goes on with the story's text
    (sentences longer than the title), not a topic tag before a headline ("【旺角衝突】向天開兩槍")."""
    if head.lead_kind != "bracket" or not head.lead or not on("bracket-titles"):
        return False
    rest = head.rest_text
    return len(rest) > max(len(head.lead), ASSEMBLY.bracket_rest) and any(
        mark in rest for mark in SENTENCE_MARKS
    )


def _one_story(body: list[int], head: Block, blocks: Sequence[Block]) -> int | None:
    """The one finer heading of a section, when it opens the section's text (nothing but its
    label's lines before it), no other heading follows, and it says more than the section's own
    heading (a label over a title, not a post's linked title over its "Introduction", nor a
    version number over "New Features"): the section's one story."""
    if head.tag not in HEADINGS or not body or not on("one-story-sections"):
        return None
    if head.link_ratio >= LINKED_HEADLINE:
        return None
    subs = [j for j in body if blocks[j].tag in HEADINGS and blocks[j].tag > head.tag]
    if len(subs) != 1 or any(blocks[j].tag in HEADINGS for j in body if j not in subs):
        return None
    if units(blocks[subs[0]].text) <= units(head.text):
        return None
    before = [j for j in body if j < subs[0]]
    if any(blocks[j].text.endswith(SENTENCE_END) or body_chars(blocks[j]) > 0 for j in before):
        return None
    return subs[0]


def _bare_headline(
    k: int,
    heads: list[int],
    ends: list[int],
    reasons: dict[int, str],
    again: list[bool],
    blocks: Sequence[Block],
) -> str:
    """Why headline ``k``, with nothing under it, is no story ('' when it is one): the first one
    over stories that have a text is the page's title, unless it links like the headline after it
    (the top story of a page of headline links); one that comes again further down is an entry of
    a table of contents."""
    if k == 0 and _bodied(1, heads, ends, reasons) and not _linked_pair(heads, blocks):
        return "title"
    return "table of contents" if again[k] else ""


def _linked_pair(heads: list[int], blocks: Sequence[Block]) -> bool:
    """The first two headlines both link, each to a page of its own [linked-top-story]."""
    if len(heads) < 2 or not on("linked-top-story"):
        return False
    first, second = blocks[heads[0]], blocks[heads[1]]
    return (
        min(first.link_ratio, second.link_ratio) >= LINKED_HEADLINE
        and first.href is not None
        and second.href is not None
        and first.href != second.href
    )


def _empty_section(
    k: int, heads: list[int], ends: list[int], blocks: Sequence[Block], reasons: dict[int, str]
) -> str:
    """Why heading ``k`` is no story when nothing at all is under it, the next block a heading (a
    newsletter's "Promotions" left empty this week), while most of its level's headings head a
    text: '' when it is one. A headline that links is a story whatever is under it (a repository
    with no description yet)."""
    head = blocks[heads[k]]
    if head.tag not in HEADINGS or head.link_ratio >= LINKED_HEADLINE or not on("empty-sections"):
        return ""
    after = heads[k] + 1
    if after < len(blocks) and blocks[after].tag not in HEADINGS:
        return ""  # (something is under it, if only a link cut as such: "Full Changelog")
    bodied = sum(1 for m in range(len(heads)) if _bodied(m, heads, ends, reasons))
    return "empty section" if bodied >= ASSEMBLY.bodied_share * len(heads) else ""


def _comes_again(heads: list[int], blocks: Sequence[Block]) -> list[bool]:
    """For each headline, whether a later headline has the same folded text."""
    again: list[bool] = []
    seen: set[str] = set()
    for k in range(len(heads) - 1, -1, -1):
        key = fold(strip_marker(blocks[heads[k]].text))
        again.append(key in seen)
        seen.add(key)
    return again[::-1]


def _bodied(k: int, heads: list[int], ends: list[int], reasons: dict[int, str]) -> bool:
    """Whether headline ``k`` has a text under it (a first headline with none, over stories that
    have one, is the page's title; on a page of bare headline links it is a story like the rest)."""
    if k >= len(heads):
        return False
    return any(j not in reasons for j in range(heads[k] + 1, ends[k]))


def _plan_one(
    plan: Plan,
    k: int,
    start: int,
    end: int,
    level: Level,
    blocks: Sequence[Block],
    reasons: dict[int, str],
    outside: set[int],
    trailer: int | None,
    kinds: Sequence[str | None] | None = None,
) -> PlannedItem:
    """One story's body: the blocks up to the next headline, less what is no part of it."""
    last_item = k == len(level.heads) - 1
    body: list[int] = []
    for j in range(start + 1, end):
        if j in reasons:
            continue
        if j in level.sections:
            plan.cut(j, "section", blocks[j].text)
        elif j in outside:
            plan.cut(j, "outside the story", blocks[j].text)
        elif last_item and trailer is not None and j >= trailer:
            plan.cut(j, "trailer", blocks[j].text)
        else:
            body.append(j)
    _cut_tail(plan, blocks, body, last=last_item, kinds=kinds)
    attribution: str | None = None
    for j in range(start + 1, end):
        if j not in reasons:
            continue
        kind = reasons[j]
        if kind == "attribution" and not last_item:
            attribution = boilerplate.clean_attribution(blocks[j].text)
        plan.cut(j, kind, blocks[j].text)
    return PlannedItem("", start, body, attribution=attribution, anchor=blocks[start].anchor)


def headline_link(head: Block, lead_family: bool) -> str | None:
    """Where a headline links to, when the headline is a link (the whole line, or its lead) that
    leaves its place on the page (an in-page "#…" link leads to no other story)."""
    if not head.href or head.href.startswith("#"):
        return None
    if lead_family and head.lead:
        return head.href if head.lead_kind == "link" else None
    return head.href if head.link_ratio >= LINKED_HEADLINE else None


def make_items(plan: Plan, blocks: Sequence[Block]) -> list[Item]:
    items = []
    for position, planned in enumerate(plan.items):
        body = [blocks[j] for j in planned.body]
        if planned.rest is not None:
            body.insert(0, planned.rest)
        items.append(_make_item(planned, body, position))
    return items


def _make_item(planned: PlannedItem, body: Sequence[Block], position: int) -> Item:
    parts = [b.html for b in body]
    texts = [b.text for b in body]
    if parts:
        cleaned = boilerplate.strip_end_mark(texts[-1])
        if cleaned != texts[-1]:
            texts[-1] = cleaned
            parts[-1] = END_MARK_HTML.sub("", parts[-1])
    return Item(
        headline=planned.headline,
        body_html="\n".join(parts),
        body_text="\n\n".join([t for t in texts if t]),
        position=position,
        anchor=planned.anchor,
        attribution=planned.attribution,
        link=planned.link,
    )


def _ancestors(node: int, parents: Sequence[int]) -> Iterator[int]:
    """A block's element and its ancestors up to the content area, as ordinals."""
    while node >= 0:
        yield node
        node = parents[node]


def item_boxes(heads: list[int], blocks: Sequence[Block], parents: Sequence[int]) -> list[int]:
    """Each headline's box: its highest ancestor that holds no neighbouring headline (the <section>,
    <li> or <article> of its story when stories have one; the headline itself when they are flat
    siblings). Empty when the page has no tree (plain text)."""
    if len(heads) < 2 or not parents or any(blocks[h].node < 0 for h in heads):
        return []
    chains = [list(_ancestors(blocks[h].node, parents))[::-1] for h in heads]
    ids = [set(chain) for chain in chains]
    boxes: list[int] = []
    for k, chain in enumerate(chains):
        others = (ids[k - 1] if k else set()) | (ids[k + 1] if k + 1 < len(chains) else set())
        box = chain[-1]
        for tag in reversed(chain):
            if tag in others:
                break
            box = tag
        boxes.append(box)
    return boxes


def inside(block: Block, box: int, parents: Sequence[int]) -> bool:
    return any(tag == box for tag in _ancestors(block.node, parents))


def outside_items(
    heads: list[int],
    ends: list[int],
    blocks: Sequence[Block],
    skip: set[int],
    parents: Sequence[int],
) -> set[int]:
    """When every story sits in an element of its own (a <section>, an <li>), text after a story's
    element and before the next headline belongs to no story (a gallery, an editors' note)."""
    boxes = item_boxes(heads, blocks, parents)
    if not boxes:
        return set()
    out: set[int] = set()
    for k, start in enumerate(heads):
        body = [j for j in range(start + 1, ends[k]) if j not in skip]
        if not body:
            continue
        if not inside(blocks[body[0]], boxes[k], parents):
            return set()
        out.update(j for j in body if not inside(blocks[j], boxes[k], parents))
    return out


def closing_heads(heads: list[int], blocks: Sequence[Block], chars: Sequence[float]) -> int | None:
    """The position in ``heads`` where the page's closing notes begin: the first headline after a
    rule (<hr>, "-----") when no earlier story is set off by one and what follows is shorter than a
    story (an organisation's name over its phone number is no story)."""
    if len(heads) < CLOSING.min_heads:
        return None
    sizes = []
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(blocks)
        sizes.append(sum(chars[start:end]))
    for k in range(CLOSING.first, len(heads)):
        if blocks[heads[k]].gap < SEPARATOR_GAP:
            continue
        if (
            any(blocks[h].gap >= SEPARATOR_GAP for h in heads[1:k])
            or len(heads) - k > CLOSING.max_after
        ):
            return None
        if sum(sizes[k:]) < statistics.median(sizes[:k]):
            return k
        return None
    return None


def _skipped_gap(blocks: Sequence[Block], skip: set[int], j: int) -> int:
    """The widest gap of the skipped blocks right before block ``j`` (0 when there are none)."""
    value = 0
    m = j - 1
    while m >= 0 and m in skip:
        value = max(value, blocks[m].gap)
        m -= 1
    return value


def _widest_gap(blocks: Sequence[Block], skip: set[int], start: int, stop: int) -> int:
    """The widest gap before a block from ``start`` to ``stop`` that is not skipped, the skipped
    blocks right before it counted in (one pass: the widest of a run of skipped blocks is carried);
    0 when every block there is skipped."""
    carry = _skipped_gap(blocks, skip, start) if start < stop else 0
    widest = 0
    for j in range(start, stop):
        value = blocks[j].gap
        if j in skip:
            if value > carry:
                carry = value
        else:
            if carry > value:
                value = carry
            if value > widest:
                widest = value
            carry = 0
    return widest


def trailer_start(
    heads: list[int], blocks: Sequence[Block], skip: set[int], reasons: dict[int, str]
) -> int | None:
    """Where the page's closing text starts inside the last story: after an end mark, or at a break
    as wide as the ones between stories (a rule, blank lines) when the stories' own paragraphs are
    never that far apart."""
    last = heads[-1]
    body = [j for j in range(last + 1, len(blocks)) if j not in skip]
    for j in range(last + 1, len(blocks)):
        if reasons.get(j) == "end mark" and any(b < j for b in body):
            return j
    if len(heads) < 2 or len(body) < 2:
        return None

    def gap(j: int) -> int:
        return max(blocks[j].gap, _skipped_gap(blocks, skip, j))

    head_gaps = [gap(h) for h in heads[1:]]
    widest = max(
        (_widest_gap(blocks, skip, h + 1, heads[k + 1]) for k, h in enumerate(heads[:-1])),
        default=0,
    )
    narrowest = min(head_gaps)
    if widest < narrowest:
        threshold = narrowest
    elif widest < SEPARATOR_GAP:
        threshold = SEPARATOR_GAP
    else:
        return None
    for j in body[1:]:
        if gap(j) >= threshold:
            return j
    return None
