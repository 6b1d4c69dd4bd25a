"""Blocks that are no story's text whatever the page's structure, with the reason they are cut.

Owns: boilerplate lines (through :mod:`feedbot.split.boilerplate`), captions, runs of bare links (a
table of contents, a "related" list), a lone link after a story ("Go deeper: …", "View all"), an entry of
an in-page table of contents (its text comes again further down), a heading over nothing but links.
Pure: blocks in, ``{block index: reason}`` out.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import boilerplate
from .blocks import Block
from .rules import (
    AD_HEADING,
    AD_NOTE,
    HEADINGS,
    LINK_FURNITURE_HEADING,
    LINK_LABEL,
    MAIL,
    MAIL_HEADER,
    PREPASS,
    REFERENCE_LINE,
    RELATED_FIRST,
    RELATED_HEADING,
    SOURCE_NOTE,
    on,
)
from .text import marker_of, strip_marker, units


def body_chars(block: Block) -> float:
    """A block's characters that are not inside links: what a story's body is measured in (a
    definition's text is its term's body, links and all: "<dd><a>egcs-1.0.3 released!</a>")."""
    if block.tag == "dd" and on("dated-terms"):
        return float(len(block.text))
    return len(block.text) * (1.0 - block.link_ratio)


def link_only(block: Block) -> bool:
    """A link and little else: a bare link, or a name with the address it links to written out."""
    if block.tag in HEADINGS or block.link_ratio < PREPASS.reference_link_share:
        return False
    if block.link_ratio >= PREPASS.link_only_share:
        return units(block.text, PREPASS.link_only_max) <= PREPASS.link_only_max
    return _reference(block.text)


def _reference(text: str) -> bool:
    """A reference line: a name and the address it links to ("less : http://lesscss.org/")."""
    if "://" not in text or not on("reference-lines"):
        return False
    match = REFERENCE_LINE.match(text)
    return match is not None and (
        units(match.group("name"), PREPASS.link_only_max) <= PREPASS.link_only_max
    )


def heading_like(block: Block) -> bool:
    return block.tag in HEADINGS or (block.bold and block.tag != "li")


def _toc_key(text: str) -> str:
    return "".join(strip_marker(text).split()).lower()


def cut_reasons(
    blocks: Sequence[Block],
    sizes: Sequence[float],
    kinds: Sequence[str | None] | None = None,
) -> dict[int, str]:
    """Every block that is no story's text, with the reason (``kinds``: each block's
    :func:`~feedbot.split.boilerplate.classify`, when the caller has them)."""
    reasons: dict[int, str] = {}
    for i, block in enumerate(blocks):
        if block.tag == "table":
            continue  # a data table is content whatever its cells say
        kind = boilerplate.classify(block.text) if kinds is None else kinds[i]
        if kind == "timestamp" and block.tag == "dt" and on("dated-terms"):
            kind = None  # a date as a definition term names its entry (a <dl> of dated news)
        if kind:
            reasons[i] = kind
        elif block.tag in ("figure", "figcaption"):
            reasons[i] = "caption"  # describes a picture the item does not carry
    _mail_headers(blocks, reasons)
    _ad_sections(blocks, reasons)
    _link_runs(blocks, reasons)
    _related_tail(blocks, reasons)
    _closing_lines(blocks, reasons)
    _tables_of_contents(blocks, sizes, reasons)
    _link_sections(blocks, reasons)
    return reasons


def _mail_headers(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """A letter's header lines ("Date: …", "From: …") around its subject line: the subject is the
    letter's headline (see :func:`~feedbot.split.refine.subject_lines`), the rest no story's text."""
    if not on("mail-headers"):
        return
    for i, block in enumerate(blocks):
        if not block.subject:
            continue
        for j in (
            *range(i - 1, max(-1, i - MAIL.around - 1), -1),
            *range(i + 1, i + 1 + MAIL.around),
        ):
            if 0 <= j < len(blocks) and MAIL_HEADER.match(blocks[j].text) and not blocks[j].subject:
                reasons.setdefault(j, "mail header")


def _link_runs(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """Bare links next to other bare links, before a heading or the end, or labelled ("More: …")."""
    n = len(blocks)
    links = [link_only(b) and not b.bold and not b.card for b in blocks]
    for i in range(n):
        if not links[i] or i in reasons or _bare_entry(blocks, i, reasons):
            continue
        j = i + 1
        while j < n and j in reasons:
            j += 1
        k = i - 1
        while k >= 0 and k in reasons and reasons[k] != "links":
            k -= 1
        if (
            (j < n and links[j])
            or (k >= 0 and links[k] and reasons.get(k) == "links")
            or j >= n
            or heading_like(blocks[j])
            or (LINK_LABEL.match(blocks[i].text) and not _numbered(blocks[i]))
            or " · " in blocks[i].text
            or " | " in blocks[i].text
        ):
            reasons[i] = "links"


def _ad_sections(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """A heading over a sponsor's message ("💸 Sponsor"): it and its section, up to the next
    heading of its level or a coarser one, are an ad."""
    if not on("ad-sections"):
        return
    for i, block in enumerate(blocks):
        if block.tag not in HEADINGS or len(block.text) > PREPASS.related_chars:
            continue
        if not AD_HEADING.match(block.text):
            continue
        j = i
        while j < len(blocks) and (
            j == i or not (blocks[j].tag in HEADINGS and blocks[j].tag <= block.tag)
        ):
            reasons.setdefault(j, "ad")
            j += 1


def _related_tail(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """A heading over other stories' teasers after the article ("À lire aussi", "Related
    stories"): it and everything after it, when nothing after it heads a text of its own but
    headline links and other such headings."""
    if not on("related-tail"):
        return
    total = 0
    for i, block in enumerate(blocks):
        text = block.text
        if (len(text) > PREPASS.related_chars and block.lead_kind != "label") or text[
            :1
        ].lower() not in RELATED_FIRST:
            continue  # (cheap tests before the pattern)
        if (
            block.lead_kind == "label"
            and block.link_ratio >= PREPASS.related_link_share
            and block.lead
            and RELATED_HEADING.match(block.lead)
        ):
            reasons.setdefault(i, "related")  # "A lire aussi : <a>Notre récit du discours</a>"
        elif (
            len(text) <= PREPASS.related_chars
            and block.link_ratio < PREPASS.reference_link_share
            and RELATED_HEADING.match(text)
        ):
            total = total or sum(len(b.text) for b in blocks)
            before = sum(len(b.text) for b in blocks[:i])
            if before >= PREPASS.related_before * total and _teasers_only(blocks, i + 1):
                for j in range(i, len(blocks)):
                    reasons.setdefault(j, "related")
                return


def _teasers_only(blocks: Sequence[Block], start: int) -> bool:
    """Whether every heading from ``start`` on is a headline link or a related heading, with at
    least a few headline links (set as headings or not) among them, or hardly any text at all
    (the list was left empty, a prompt to download the app below it)."""
    links = 0
    text = 0
    for block in blocks[start:]:
        if block.link_ratio >= PREPASS.link_only_share:
            links += 1
        elif heading_like(block) and not RELATED_HEADING.match(block.text):
            return False
        text += len(block.text)
    return links >= PREPASS.related_links or text <= PREPASS.related_empty


def _closing_lines(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """The lines that close the page after its last story (a disclaimer, a sign-off, credits):
    none of them is a story, not even one set as a labelled line ("声明：…")."""
    if not on("closing-lines"):
        return
    for i in range(len(blocks) - 1, -1, -1):
        if i in reasons:
            continue
        kind = boilerplate.classify_tail(blocks[i].text, last=True)
        if not kind:
            break
        reasons[i] = kind
    _after_sign_off(blocks, reasons)


def _after_sign_off(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """An editor's line among the page's last lines signs the stories off: what follows it is the
    page's closing notes (an archive link, a note on the sources), no story."""
    if not on("sign-off"):
        return
    last = len(blocks) - 1
    for i in range(last, max(-1, last - PREPASS.after_sign_off - 1), -1):
        if reasons.get(i) == "editor" and i < last:
            for j in range(i + 1, last + 1):
                reasons.setdefault(j, "after the sign-off")
            return


def _numbered(block: Block) -> bool:
    """A numbered entry ("3、hrequests：requests 库的替代品"), or a line linked whole ("Python 反模式:
    使用可变的默认值作为参数"): its colon is no "More:" label's, the line is a title."""
    return (on("numbered-links") and marker_of(block.text) is not None) or (
        on("linked-titles") and block.link_ratio >= PREPASS.linked_whole
    )


def _bare_entry(blocks: Sequence[Block], i: int, reasons: dict[int, str]) -> bool:
    """A list entry that is its link alone after entries that lead with their link and go on with a
    text ("[owner / repo](…): description", one with no description yet): an entry like them."""
    block = blocks[i]
    if not (block.tag == "li" or (block.in_list and block.item_start)) or not on("bare-entries"):
        return False
    k = i - 1
    described = False  # a text between the entry before and this one: that entry's description
    while k >= 0 and (k in reasons or (not blocks[k].item_start and blocks[k].tag != "li")):
        if heading_like(blocks[k]):
            return False  # (the entries of another list)
        described = described or (k not in reasons and body_chars(blocks[k]) > 0)
        k -= 1
    if k < 0 or not blocks[k].in_list:
        return False
    if described and blocks[k].link_ratio >= PREPASS.link_only_share and on("described-entries"):
        return True  # "[title](…)" and a paragraph of its own describing it
    if blocks[k].lead_kind != "link":
        return False
    rest = blocks[k].rest_text
    return bool(rest) and not SOURCE_NOTE.match(rest) and not AD_NOTE.match(rest)


def _tables_of_contents(
    blocks: Sequence[Block], sizes: Sequence[float], reasons: dict[int, str]
) -> None:
    """A short line whose text comes again later (an in-page table of contents)."""
    entries = [
        i
        for i, block in enumerate(blocks)
        if i not in reasons and block.tag not in HEADINGS and sizes[i] <= PREPASS.toc_max
    ]
    keys = {i: _toc_key(blocks[i].text) for i in entries}
    # a text with the same key has at most a marker, brackets and colons more than the key, not
    # counting white space (a block's text is collapsed: its only white space is single spaces)
    bound = max((len(key) for key in keys.values()), default=0) + PREPASS.toc_slack
    last: dict[str, int] = {}
    longest = 2 * bound + 1  # a collapsed text this long has more than ``bound`` non-spaces
    for i, block in enumerate(blocks):
        if i in keys:
            last[keys[i]] = i
        elif len(block.text) <= longest and len(block.text) - block.text.count(" ") <= bound:
            last[_toc_key(block.text)] = i
    for i in entries:
        if last[keys[i]] != i:
            reasons[i] = "table of contents"


def _link_sections(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """A heading whose section holds nothing but links ("Related", "Past issues")."""
    n = len(blocks)
    heading = [heading_like(block) for block in blocks]
    found: list[tuple[int, int]] = []
    texts: dict[str, int] = {}  # for each heading tag, how many of its sections have a text
    for i in range(n):
        if i in reasons or not heading[i]:
            continue
        j = i + 1
        linked = 0
        text = 0.0
        while j < n and not heading[j]:
            if reasons.get(j) == "links":
                linked += 1
            elif j not in reasons:
                text += body_chars(blocks[j])
                if text >= PREPASS.link_section_text:
                    break  # (a section with a text of its own: no need to read on)
            j += 1
        if linked >= PREPASS.link_section_links and text < PREPASS.link_section_text:
            found.append((i, j))
    first: dict[str, int] = {}  # each heading text's first place
    if found:
        texts = _texts_by_tag(blocks, reasons)
        for k, block in enumerate(blocks):
            if block.tag in HEADINGS:
                first.setdefault(_toc_key(block.text), k)
    for i, j in found:
        # (a heading met before: a second, linked copy of the page's outline is no story)
        again = first.get(_toc_key(blocks[i].text), i) < i
        if not again and _link_story(blocks[i], texts) and _titles(blocks, i + 1, j, reasons):
            for k in range(i + 1, j):  # its links are the section's text, not a link run
                if reasons.get(k) == "links":
                    del reasons[k]
            continue
        for k in range(i, j):
            reasons.setdefault(k, "links")
    if on("reference-lines"):
        _link_parts(blocks, reasons)


def _texts_by_tag(blocks: Sequence[Block], reasons: dict[int, str]) -> dict[str, int]:
    """For each heading tag, how many of its sections (up to the next heading of that level or a
    coarser one) hold a text of their own."""
    counts: dict[str, int] = {}
    sections: dict[str, float] = {}  # the sections open at each level, with their text so far
    for i, block in enumerate(blocks):
        if block.tag in HEADINGS:
            for tag in [t for t in sections if t >= block.tag]:
                if sections.pop(tag) >= PREPASS.link_section_text:
                    counts[tag] = counts.get(tag, 0) + 1
            if i not in reasons:
                sections[block.tag] = 0.0
        elif i not in reasons:
            chars = body_chars(block)
            for tag in sections:
                sections[tag] += chars
    for tag, text in sections.items():
        if text >= PREPASS.link_section_text:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def _titles(blocks: Sequence[Block], start: int, end: int, reasons: dict[int, str]) -> bool:
    """Whether a section's links read as titles (not a list of names or of one-word links)."""
    sizes = [units(blocks[k].text) for k in range(start, end) if reasons.get(k) == "links"]
    return bool(sizes) and sum(sizes) / len(sizes) >= PREPASS.link_story_units


def _link_story(heading: Block, texts: dict[str, int]) -> bool:
    """A section of links that is one of a newsletter's sections ("Deprecated", "Version Updates"
    between sections with a text of their own, under the same heading tag), not a list of related
    pages, past issues, references or the contents."""
    return (
        on("link-sections")
        and heading.tag in HEADINGS
        and texts.get(heading.tag, 0) >= PREPASS.link_story_siblings
        and not RELATED_HEADING.match(heading.text)
        and not LINK_FURNITURE_HEADING.match(heading.text)
    )


def _link_parts(blocks: Sequence[Block], reasons: dict[int, str]) -> None:
    """A heading over nothing but sections of links ("Links in this issue" over a heading per
    section, each over its links again)."""
    n = len(blocks)
    for i, block in enumerate(blocks):
        if i in reasons or block.tag not in HEADINGS:
            continue
        j = i + 1
        linked = parts = 0
        while (
            j < n
            and j in reasons
            and not (blocks[j].tag in HEADINGS and blocks[j].tag <= block.tag)
        ):
            linked += reasons[j] == "links"
            parts += blocks[j].tag in HEADINGS
            j += 1
        closed = j >= n or (blocks[j].tag in HEADINGS and blocks[j].tag <= block.tag)
        if closed and parts and linked >= PREPASS.link_section_links:
            reasons[i] = "links"
