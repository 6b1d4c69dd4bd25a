"""The page's outline: which blocks may be headlines, grouped into families, each with a rank.

Owns: the candidate families (headings by level, bold-only lines, 【bracketed】 lines, numbered lines,
plain short lines, leads that open a list item or a paragraph, …) and their ranks (how strongly the
markup sets a line apart: a family of a smaller rank holds sections that the larger ranks nest in).
Pure: blocks in, ``{family: [block indices]}`` out.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from .blocks import SEPARATOR_GAP, Block, nonws
from .rules import (
    ADDRESS_LINE,
    FAMILIES,
    FAMILY_RANKS,
    HEADINGS,
    INTRODUCING,
    LEAD_FAMILIES,
    SENTENCE_END,
    on,
)
from .text import MARKER_OPENINGS, marker_of, units


def rank(family: str) -> int:
    """How coarse a family's sections are (1 for <h1>, larger for finer markup)."""
    if family in FAMILY_RANKS:
        return FAMILY_RANKS[family]
    for prefix, value in FAMILY_RANKS.items():
        if prefix.endswith((":", "-")) and family.startswith(prefix):
            return value
    return max(FAMILY_RANKS.values())


def is_lead_family(family: str) -> bool:
    """Families whose headline is a lead phrase opening a block (the rest of it is body)."""
    return family.startswith(LEAD_FAMILIES)


def head_text(block: Block, lead_family: bool) -> str:
    return block.lead if lead_family and block.lead else block.text


def chunked(blocks: Sequence[Block]) -> bool:
    """Lines grouped into chunks by blank lines: a story is one chunk, its headline the first line."""
    lines = [b for b in blocks[1:] if b.tag == "line"]
    if len(lines) < FAMILIES.chunk_lines:
        return False
    together = sum(1 for b in lines if b.gap == 0) / len(lines)
    apart = sum(1 for b in lines if b.gap > 0) / len(lines)
    return together >= FAMILIES.chunk_together and apart >= FAMILIES.chunk_apart


def families(
    blocks: Sequence[Block], skip: set[int], sizes: Sequence[float]
) -> dict[str, list[int]]:
    """Every candidate family of headlines, in document order (a block may be in several)."""
    fams: dict[str, list[int]] = {}
    lines_in_chunks = chunked(blocks)
    for i, block in enumerate(blocks):
        if i in skip or block.tag == "table":
            continue
        for name in _families_of(blocks, i, sizes, skip, lines_in_chunks):
            fams.setdefault(name, []).append(i)
    if on("numbered-lines"):
        for name, heads in _numbered_lines(blocks, skip, sizes).items():
            if len(heads) > len(fams.get(name, ())):
                fams[name] = heads
    return fams


def _numbered_lines(
    blocks: Sequence[Block], skip: set[int], sizes: Sequence[float]
) -> dict[str, list[int]]:
    """Runs of numbered lines one after another, counting 1, 2, 3 … or down to 1: each line a
    story of its own (a briefing's "1、…；" lines), as a marker family."""
    runs: dict[str, list[int]] = {}
    run: list[int] = []
    kind = ""
    previous = first = 0

    def close() -> None:
        if len(run) >= FAMILIES.numbered_lines and 1 in (first, previous):
            runs.setdefault(f"mark:{kind}", []).extend(run)

    for i, block in enumerate(blocks):
        opening = block.text[:1]  # (a block's text is collapsed: no space opens it)
        if not run and not (opening.isdecimal() or opening in MARKER_OPENINGS):
            continue  # (most blocks: no marker opens them, and no run to close)
        if i in skip or (run and run[-1] == i - 1 and _address_line(blocks[i])):
            continue  # (a bare address after a numbered line is its link: the run goes on)
        mark = (
            marker_of(block.text)
            if block.tag in ("line", "p", "li") and sizes[i] <= FAMILIES.numbered_line_max
            else None
        )
        if mark and run and mark[0] == kind and mark[1] - previous == (1 if first == 1 else -1):
            run.append(i)
        else:
            close()
            run, kind = ([i], mark[0]) if mark and mark[1] else ([], "")
            first = mark[1] if mark else 0
        previous = mark[1] if mark else 0
    close()
    return runs


def _address_line(block: Block) -> bool:
    """A bare web address alone in its block: right after a numbered line, the line's link (a
    weekly's "3: …" paragraphs, each followed by its URL) [address-numbered-lines]."""
    text = block.text
    return text[:1] in "hHwW" and bool(ADDRESS_LINE.match(text)) and on("address-numbered-lines")


def _families_of(
    blocks: Sequence[Block], i: int, sizes: Sequence[float], skip: set[int], lines_in_chunks: bool
) -> list[str]:
    block = blocks[i]
    text = block.text
    size = sizes[i]
    if block.tag in HEADINGS:
        return [block.tag] if size <= FAMILIES.heading_max else []
    found: list[str] = []
    if block.lead and block.lead_kind:
        found.extend(_lead_families(block))
    elif _bare_entry(block):
        found.append("li-lead")  # an entry of a list of leads with nothing after its link
    if size > FAMILIES.line_max or (
        text[:1] in "hHwW" and ADDRESS_LINE.match(text) and on("address-lines")
    ):
        return found
    mark = marker_of(text)
    if mark and (block.bold or not text.endswith(SENTENCE_END) or size <= FAMILIES.mark_plain_max):
        found.append(f"mark:{mark[0]}")
    if block.bold and block.tag not in ("li", "dt") and _wordy(text):
        found.append("bold")
    if block.tag == "dt":
        found.append("dt")
    elif (
        block.link_ratio >= FAMILIES.link_line_share
        and not block.bold
        and size >= FAMILIES.link_line_min
        and on("link-lines")
        and not (mark and on("numbered-links"))  # (a numbered link line: its numbering says more)
    ):
        found.append("link")
    if text.startswith("【") and text.endswith("】"):
        found.append("bracket")
    if _short_line(blocks, i, sizes, skip, lines_in_chunks):
        found.append("short")
    if _ruled_line(blocks, i, size):
        found.append("ruled")
    return found


def _ruled_line(blocks: Sequence[Block], i: int, size: float) -> bool:
    """A short bare line (text in no paragraph of its own) over a rule (<hr>): a section title
    underlined, as a Markdown setext heading ("News\n----") reads when raw HTML around it kept it
    from being rendered one; a paragraph over a rule closes a story [ruled-lines]."""
    block = blocks[i]
    return (
        i + 1 < len(blocks)
        and blocks[i + 1].gap >= SEPARATOR_GAP
        and block.tag == "line"
        and not block.bold
        and size <= FAMILIES.short_max
        and block.link_ratio < FAMILIES.short_link_share
        and not block.text.endswith(SENTENCE_END + INTRODUCING)
        and _wordy(block.text)
        and on("ruled-lines")
    )


def _wordy(text: str) -> bool:
    """A headline is made of words: at least this share of letters (a row of figures is data)."""
    if not on("wordy-heads"):
        return True
    letters = sum(map(str.isalpha, text))
    return letters >= FAMILIES.head_letters * nonws(text)


def _bare_entry(block: Block) -> bool:
    """A list entry that is its link alone (a repository with no description yet)."""
    return (
        on("list-leads")
        and (block.tag == "li" or (block.in_list and block.item_start))
        and block.link_ratio >= FAMILIES.link_line_share
        and not block.bold
    )


def _lead_families(block: Block) -> list[str]:
    """Leads of list entries are one family whatever marks them (bold, a link, brackets, a label:
    the author's markup varies from entry to entry); in paragraphs each kind is its own."""
    kind = block.lead_kind
    lead = block.lead or ""
    if kind == "date":
        return ["date-lead"]
    if kind == "turn":
        return ["turn-lead"]
    if block.tag == "li" or (block.in_list and block.item_start and on("list-leads")):
        return ["li-lead"] if on("list-leads") else [f"li-{kind}"]
    if kind == "bracket":
        return ["bracket-lead"]
    if kind == "bold" and units(lead, FAMILIES.bold_lead_max) <= FAMILIES.bold_lead_max:
        return ["p-bold-lead"]
    if kind == "label" and units(lead, FAMILIES.bold_lead_max) <= FAMILIES.bold_lead_max:
        return ["label"]
    return []


def _short_line(
    blocks: Sequence[Block], i: int, sizes: Sequence[float], skip: set[int], lines_in_chunks: bool
) -> bool:
    """A plain line, short and without closing punctuation, before a longer one."""
    block = blocks[i]
    nxt = i + 1
    while nxt in skip:
        nxt += 1
    if (
        lines_in_chunks
        and block.tag == "line"
        and ((i and block.gap == 0) or nxt >= len(blocks) or blocks[nxt].gap > 0)
    ):
        return False  # not the first line of a chunk with more lines
    return (
        block.tag in ("line", "p")
        and not block.bold
        and not block.text.endswith(SENTENCE_END)
        and not (block.text.endswith(INTRODUCING) and on("colon-lines"))
        and sizes[i] <= FAMILIES.short_max
        and block.link_ratio < FAMILIES.short_link_share
        and i + 1 < len(blocks)
        and sizes[i + 1] > sizes[i]
    )


class Outline:
    """The families of a page with their ranks, and where each family's sections end.

    A story's span runs from its headline to the next headline of its family, or to the next
    headline of a coarser *sectioning* family (headings, bold lines, 【】 lines, definition terms),
    whichever comes first: a heading between two list entries closes the entry before it."""

    def __init__(self, fams: dict[str, list[int]], n_blocks: int) -> None:
        self.families = fams
        self.n = n_blocks
        self.ranks = {name: rank(name) for name in fams}
        self._bounds: dict[int, list[int]] = {}
        self._finer: dict[int, list[int]] = {}

    def bounds(self, level_rank: int) -> list[int]:
        """The sorted headlines of every sectioning family coarser than ``level_rank``."""
        if level_rank not in self._bounds:
            found: set[int] = set()
            for name, heads in self.families.items():
                r = self.ranks[name]
                if r < level_rank and r <= FAMILIES.sectioning_rank:
                    found.update(heads)
            self._bounds[level_rank] = sorted(found)
        return self._bounds[level_rank]

    def ends(self, heads: list[int], level_rank: int) -> list[int]:
        """Where each headline's span ends (exclusive)."""
        bounds = self.bounds(level_rank)
        ends = []
        for k, start in enumerate(heads):
            end = heads[k + 1] if k + 1 < len(heads) else self.n
            at = bisect.bisect_right(bounds, start)
            if at < len(bounds) and bounds[at] < end:
                end = bounds[at]
            ends.append(end)
        return ends

    def finer_heads(self, level_rank: int, exclude: set[int]) -> list[int]:
        """Sorted headlines of the families finer than ``level_rank``, less ``exclude`` (a family
        of one line is no sub-heading: a bold line, a short line alone is the section's text)."""
        if level_rank not in self._finer:
            found: set[int] = set()
            least = 2 if on("lone-finer") else 1
            for name, heads in self.families.items():
                if self.ranks[name] > level_rank and len(heads) >= least:
                    found.update(heads)
            self._finer[level_rank] = sorted(found)
        return [i for i in self._finer[level_rank] if i not in exclude]
