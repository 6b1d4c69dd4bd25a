"""The values the split stages hand each other: a page flattened into blocks, and text measures.

Owns: :class:`Block` (one heading, paragraph, list item, line or table of the content area, with the
features the later stages read), :class:`Extracted` (the blocks of one page and what extraction cut),
and the small text helpers every stage shares. Blocks hold strings and numbers only — no parse tree —
so every stage after :mod:`feedbot.split.dom` is pure and can be tested on hand-made blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .rules import LENGTHS

_ALNUM = re.compile(r"[^\W_]")  # str.isalnum() characters


def collapse(text: str) -> str:
    """White space runs folded to one space, ends trimmed (str.split's white space is re's ``\\s``)."""
    # (the common case of a paragraph's text: nothing to fold, nothing to build)
    if text.isascii():
        if not _ascii_spaced(text):
            return text
    elif text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # (no white space but single inner spaces: every other kind is unprintable)
    return " ".join(text.split())


def _ascii_spaced(text: str) -> bool:
    """Whether an ASCII text has white space to fold: a run, at an end, or other than " " (the
    ASCII characters str.split takes for white space: \\t \\n \\x0b \\x0c \\r \\x1c-\\x1f)."""
    return (
        "  " in text
        or "\n" in text
        or "\t" in text
        or "\r" in text
        or text[:1] == " "
        or text[-1:] == " "
        or "\x0b" in text
        or "\x0c" in text
        or "\x1c" in text
        or "\x1d" in text
        or "\x1e" in text
        or "\x1f" in text
    )


def nonws(text: str) -> int:
    """The number of characters that are not white space (the unit of every length below)."""
    if text.isascii():
        n = len(text) - text.count(" ")
        for space in "\n\t\r\x0b\x0c":
            if space in text:
                n -= text.count(space)
        return n
    if text.isprintable():  # (its only white space is " ": every other kind is unprintable)
        return len(text) - text.count(" ")
    return len("".join(text.split()))


def is_separator(text: str) -> bool:
    """A line with no letters or digits ("-----", "* * *", "###", "▼") separates, it says nothing."""
    return _ALNUM.search(text) is None


SEPARATOR_GAP = LENGTHS.separator_gap


@dataclass(slots=True)
class Block:
    """One unit of the content area, in document order.

    ``node`` is the ordinal of the element the block was read from (its parent element for loose text)
    in :attr:`Extracted.parents`, so later stages can ask which blocks share a container without the
    tree (the preview finds its CSS selector in :attr:`Extracted.paths`)."""

    text: str
    html: str
    tag: str  # h1..h6, p, li, line (br-separated or plain text), td, pre, blockquote, table, dt, dd, ...
    bold: bool = False  # the whole text is bold (or a heading)
    lead: str | None = (
        None  # a bold / linked / bracketed / labelled lead at the start, then more text
    )
    lead_kind: str | None = None  # "bold", "link", "bracket", "label"
    rest_html: str = ""  # the block's HTML after the lead
    rest_text: str = ""  # the block's text after the lead
    link_ratio: float = 0.0  # share of the text inside links
    href: str | None = None  # where the block's leading link goes (a headline link, a lead link)
    anchor: str | None = None
    gap: int = 0  # separation before the block: blank lines (text, <br><br>), 3 for a rule or <hr>
    node: int = -1  # ordinal of the block's element (see Extracted.parents), -1 for text pages
    in_list: bool = False  # inside a list item (<li>, <dd>), however deep
    item_start: bool = False  # the first block of its list item
    forced: str = ""  # the source's headline selector names it: "block" or its "lead"
    card: bool = False  # a card's title: a bare link going where a picture link beside it goes
    subject: bool = False  # a letter's subject line, its label removed ("Subject: …")


@dataclass
class Extracted:
    """A page after extraction: its title, date, blocks and what was cut on the way."""

    title: str
    blocks: list[Block]
    dropped: list[tuple[str, str]]
    published: datetime | None  # as the page wrote it: zone-less when it gave none (feedbot.dates)
    content_path: str
    is_text: bool = False
    lang: str | None = None  # the page's <html lang>
    dated: tuple[str, ...] = ()  # date values that may state an offset (meta, <time>, JSON-LD)
    # parent ordinal of each element ordinal of the content area (-1 for its root): which blocks
    # share a container, with no tree
    parents: list[int] = field(default_factory=list)
    # each element ordinal's CSS selector in the page (preview only)
    paths: list[str] = field(default_factory=list)
    # the elements cut as furniture: (reason, text, CSS selector) (preview only)
    cut_paths: list[tuple[str, str, str]] = field(default_factory=list)
    selector_matched: bool = True  # a content_selector found its element (or there was none)
