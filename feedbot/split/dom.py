"""All the work on the parse tree: from page text to a linear list of blocks inside the content area.

Owns: parsing (through :mod:`feedbot.split.parse`: lxml's own tree on the hot path; a BeautifulSoup
tree only for per-source CSS selectors), the page's title and date, removing page furniture
(navigation, ads, share bars, "related" lists, comments, footers), finding the content area, and
flattening it into :class:`~feedbot.split.blocks.Block` values — one per heading, paragraph, list item,
``<br>``-separated line or table — with the features the splitter needs. No other stage touches the
tree: blocks carry strings and numbers only. Must not: decide which blocks are headlines, or do any I/O.
"""

from __future__ import annotations

import html as htmllib
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias, cast

from bs4.element import Tag
from lxml import etree

from .blocks import SEPARATOR_GAP, Block, Extracted, collapse, is_separator, nonws
from .parse import parse_html, parse_tree
from .rules import (
    BLOCK_TAGS,
    BOLD_STYLE,
    BOLD_TAGS,
    BR_CONTAINERS,
    CARDS,
    DATE_IN_TEXT,
    DROP_TAGS,
    EXTRACTION,
    FOOTNOTE_REFERENCES,
    FURNITURE_ROLES,
    FURNITURE_TOKENS,
    HEADINGS,
    HIDDEN_STYLE,
    INVISIBLE_TAGS,
    LABELS,
    LEAF_KINDS,
    LENGTHS,
    LINES,
    LINK_PAGES,
    LINKED_HEADLINE,
    MENU_TOKENS,
    META_DATES,
    PERMALINK_MARKS,
    PROMO_TOKENS,
    RECORD_HEADER_TOKENS,
    RECORD_REPEATS,
    SIDE_TOKENS,
    SILENT_TAGS,
    SLIDER_TOKENS,
    TITLES,
    WRAPPERS,
    on,
)
from .text import fold

Element: TypeAlias = etree._Element
# a block's content: text (an element's text or a child's tail) and inline elements, in document order
Node: TypeAlias = str | etree._Element

_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _tokens(tag: Element) -> set[str]:
    values: list[str] = []
    classes = tag.get("class")
    if classes:
        values.extend(classes.split())
    for attr in ("id", "role"):
        value = tag.get(attr)
        if value is not None:
            values.append(value)
    tokens: set[str] = set()
    for value in values:
        value = _CAMEL.sub("-", value).lower()
        tokens.add(value)
        tokens.update(t for t in _TOKEN_SPLIT.split(value) if t)
    return tokens


def _is_furniture(tag: Element) -> bool:
    tokens = _tokens(tag)
    named = tokens & FURNITURE_TOKENS
    if not named and tokens & MENU_TOKENS and on("dropdown-menus"):
        return True
    if not named and tokens & SLIDER_TOKENS and on("sliders"):
        return True
    if not named and tokens & SIDE_TOKENS and on("side-columns") and _side_column(tag):
        return True
    if named and named <= PROMO_TOKENS and on("story-promos") and _story_promo(tag):
        return False
    if named:
        return not (named <= RECORD_HEADER_TOKENS and on("record-header") and _record_header(tag))
    role = tag.get("role")
    if role in FURNITURE_ROLES:
        return True
    style = tag.get("style")
    if style and HIDDEN_STYLE.search(style):
        return True
    return tag.get("hidden") is not None or tag.get("aria-hidden") == "true"


def _story_promo(tag: Element) -> bool:
    """A promo box of stories: it holds a heading link, or is a part (the teaser) of promo boxes
    one inside the other, one of which does."""
    if _linked_heading(tag):
        return True
    for box in tag.iterancestors():
        if not _tokens(box) & PROMO_TOKENS:
            return False
        if _linked_heading(box):
            return True
    return False


def _linked_heading(tag: Element) -> bool:
    """Whether an element holds a heading whose text is a link (a story's headline, as a promo box
    of a news home page holds; an offer or a sign-up box has none)."""
    return any(a.get("href") for h in tag.iter(*HEADINGS) for a in h.iter("a"))


def _side_column(tag: Element) -> bool:
    """A class or id that opens with "side"/"rail"/"aside" ("sideCont", "side-col", "rail"): the
    element is a side column ("…-with-right-rail" names the grid that holds one, not the column)."""
    for value in [*(tag.get("class") or "").split(), tag.get("id") or ""]:
        parts = _TOKEN_SPLIT.split(_CAMEL.sub("-", value).lower())
        if parts and parts[0] in SIDE_TOKENS:
            return True
    return False


def _record_header(tag: Element) -> bool:
    """A header of one record (an <article>'s title and date, a post teaser's title line), not the
    page's banner: it holds a heading and sits inside an <article> (HTML's own meaning of a header
    there), or holds a heading as its siblings' headers do (a list of post teasers)."""
    heading = next(tag.iter(*HEADINGS), None) is not None
    if not heading:
        return False
    if any(a.tag == "article" for a in tag.iterancestors()):
        return True
    parent = tag.getparent()
    record = parent.getparent() if parent is not None else None
    if record is None:
        return False
    like = sum(1 for p in record if len(p) and any(c.get("class") == tag.get("class") for c in p))
    return like >= RECORD_REPEATS


def _strings(tag: Element) -> Iterator[str]:
    """The strings of an element's subtree in document order (an HTML tree holds no bytes)."""
    return cast("Iterator[str]", tag.itertext())


def text_of(tag: Element) -> str:
    """An element's text as a reader sees it: inline elements join their neighbours without a space
    ("b<i>y</i>" is "by"), a <br> or a block-level element inside sets words apart."""
    if not len(tag):
        return collapse(tag.text or "")
    if tag.find(".//br") is None and not any(e.tag in BLOCK_TAGS for e in tag.iterdescendants()):
        return collapse("".join(_strings(tag)))
    return collapse(_spaced_text(tag))


def _spaced_text(tag: Element) -> str:
    """The text of an element holding <br>s or block-level elements: a space at each of them."""
    parts: list[str] = []
    for event, element in etree.iterwalk(tag, events=("start", "end")):
        name = element.tag
        breaks = name == "br" or name in BLOCK_TAGS
        if event == "start":
            if breaks:
                parts.append(" ")
            text = element.text
            if text:
                parts.append(text)
        elif element is not tag:
            if breaks:
                parts.append(" ")
            tail = element.tail
            if tail:
                parts.append(tail)
    return "".join(parts)


def _joined(tag: Element) -> str:
    """An element's strings joined by spaces: the text of what is cut (as a report, not a story)."""
    return collapse(" ".join(_strings(tag)))


def _text_len(tag: Element) -> int:
    """The length of an element's strings joined by spaces (the measure :func:`_exact_lengths` takes
    in one pass for all elements: how much of the page's text an element holds)."""
    return len(collapse(" ".join(_strings(tag))))


def _rough_len(tag: Element) -> int:
    """At most :func:`_text_len` (it leaves out the spaces between words), and much cheaper."""
    return nonws(etree.tostring(tag, method="text", encoding="unicode", with_tail=False))


def _longer_than(tag: Element, limit: int) -> bool:
    """Whether an element holds at least ``limit`` characters that are not white space, reading
    only as much of its text as it takes to tell."""
    seen = 0
    for piece in _strings(tag):
        seen += nonws(piece)
        if seen >= limit:
            return True
    return False


def page_title(root: Element) -> str:
    """The page's own title: the heading the document title names (a post's <h1>, or the <h3> a
    blog theme gives it, not the site's <h1> in the banner), else the <h1> when there is one, else the
    og:title, else the document title without the site's name."""
    meta = next((m for m in root.iter("meta") if m.get("property") == "og:title"), None)
    og = collapse(meta.get("content") or "") if meta is not None else ""
    element = next(root.iter("title"), None)
    document = text_of(element) if element is not None else ""
    named = (
        _named_heading(root, f"{og}\n{document}")
        if (og or document) and on("title-heading")
        else ""
    )
    if named:
        return named
    h1s = [h1 for h1 in root.iter("h1") if text_of(h1)]
    if h1s and not (on("posts-h1") and _post_titles(h1s)):
        return heading_text(h1s[0])
    if og:
        return og
    # "Headline - Site name": keep the headline part
    return re.split(r"\s+[-|–—_]\s+", document)[0] if document else ""


def _post_titles(h1s: list[Element]) -> bool:
    """Several <h1>, each a link: the post titles of a blog home (each links to its post), none of
    them the page's title."""
    return len(h1s) >= TITLES.post_h1s and all(h1.find(".//a[@href]") is not None for h1 in h1s)


def _named_heading(root: Element, names: str) -> str:
    """The longest of the page's first headings (h1-h3) that the document title names."""
    folded = [fold(name) for name in names.splitlines() if name]
    best = ""
    for count, heading in enumerate(root.iter("h1", "h2", "h3")):
        if count >= TITLES.headings:
            break
        text = heading_text(heading)
        if len(text) >= TITLES.min_chars and len(text) > len(best):
            key = fold(text)
            if key and any(_names(name, key) for name in folded):
                best = text
    return best


def _names(title: str, heading: str) -> bool:
    """Whether a document title names the heading: as its headline part ("Headline - Site", "Site |
    Headline") or as most of it, not as one word in the middle (the "React" section of "This Week
    In React #201: …")."""
    if heading not in title:
        return False
    if not on("title-part"):
        return True
    return (
        title.startswith(heading)
        or title.endswith(heading)
        or len(heading) >= TITLES.named_share * len(title)
    )


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        match = DATE_IN_TEXT.search(value)
        if not match:
            return None
        try:
            parsed = datetime(
                int(match.group(1)),
                int(match.group(2)),
                int(match.group(3)),
                int(match.group(4) or 0),
                int(match.group(5) or 0),
                int(match.group(6) or 0),
            )
        except ValueError:
            return None
    # a date without a zone stays without one: feedbot.dates reads it in the page's zone
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC)


def date_hints(root: Element) -> tuple[str | None, tuple[str, ...]]:
    """What the markup says of the page's time zone, for :func:`feedbot.dates.page_zone`: the
    ``<html lang>``, and the values that may state an offset (``<meta>`` dates, ``<time datetime>``,
    JSON-LD scripts: read before the scripts are removed)."""
    metas = (m.get("content") or "" for m in root.iter("meta") if _DATE_META.search(_meta_key(m)))
    times = (t.get("datetime") or "" for t in root.iter("time"))
    scripts = root.iter("script")
    ld = (s.text or "" for s in scripts if (s.get("type") or "").lower() == "application/ld+json")
    return root.get("lang") or None, tuple(v for v in (*metas, *times, *ld) if v)


_DATE_META = re.compile(r"date|time|modified|published", re.I)


def _meta_key(meta: Element) -> str:
    return " ".join(meta.get(a) or "" for a in ("property", "name", "itemprop", "http-equiv"))


def page_date(root: Element) -> datetime | None:
    """A publication date the page states: meta tags, <time datetime>, or a date near the title."""
    metas = list(root.iter("meta"))
    for attr, value in META_DATES:
        meta = next((m for m in metas if m.get(attr) == value), None)
        content = meta.get("content") if meta is not None else None
        if content is not None:
            found = _parse_date(content)
            if found:
                return found
    time_tag = next((t for t in root.iter("time") if t.get("datetime") is not None), None)
    if time_tag is not None:
        found = _parse_date(time_tag.get("datetime") or "")
        if found:
            return found
    h1 = next(root.iter("h1"), None)
    if h1 is not None:
        # the eight elements after the <h1> in document order (its own first, then what follows)
        elements = root.iter()
        for element in elements:
            if element is h1:
                break
        for sibling in itertools.islice(elements, EXTRACTION.date_window):
            if not isinstance(sibling.tag, str) or sibling.tag in HEADINGS:
                continue
            if _longer_than(sibling, EXTRACTION.date_text_max):
                continue  # (a container: no need to join all of its text to know it is long)
            text = text_of(sibling)
            if len(text) < EXTRACTION.date_text_max:
                match = DATE_IN_TEXT.search(text)
                if match:
                    return _parse_date(match.group(0))
    return None


def _remove(tag: Element) -> None:
    """Take an element out of the tree, keeping the text that follows it (its tail)."""
    parent = tag.getparent()
    if parent is None:
        return
    tail = tag.tail
    if tail:
        previous = tag.getprevious()
        # the text before and the tail stay apart by a space, as they would as two strings
        try:
            if previous is not None:
                previous.tail = previous.tail + " " + tail if previous.tail else tail
            else:
                parent.text = parent.text + " " + tail if parent.text else tail
        except ValueError:  # a character lxml will not store; the parser let it through
            for child in list(tag):
                tag.remove(child)
            tag.text = None
            tag.attrib.clear()
            tag.tag = "span"  # an empty inline element in its place keeps the tail where it was
            return
    parent.remove(tag)


class _Weigher:
    """Whether an element holds most of the page's text (and so is never furniture).

    "The page's text" is its length before anything was removed, white space between words counted.
    Measuring that exactly means joining all of the text, so bounds decide first: the characters
    that are not white space (counted in C) are a lower bound and twice them an upper one. The exact
    lengths are taken only when the bounds do not settle it (the page's as what is left plus what
    was removed), so nested furniture costs one serialisation per element, not a join of its text.
    The page's own count of characters that are not white space (``rough``) is read only as far as
    a comparison needs: the text left in the tree is a lower bound of it, and most elements weighed
    (a menu, a footer) are small next to the first few paragraphs; when the whole is needed, it is
    the text left plus what :meth:`cut` saw go."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self._rough: int | None = None  # the page's rough length, once it was needed whole
        self.cut_rough = 0  # the rough length of what was removed before that
        self.removed = 0  # characters removed so far
        self.exact: list[int] = []  # the page's exact length, then one entry per large element met
        self.lengths: dict[Element, int] = {}

    def cut(self, tag: Element) -> None:
        """Note an element about to be removed (its text, not its tail, leaves the page)."""
        if self._rough is None:
            self.cut_rough += _rough_len(tag)

    @property
    def rough(self) -> int:
        if self._rough is None:
            self._rough = _rough_len(self.root) + self.cut_rough
        return self._rough

    def _rough_at_least(self, limit: int) -> bool:
        """Whether the page's rough length is at least ``limit``, read no further than it takes."""
        if limit <= 0:
            return True
        if self._rough is None and _longer_than(self.root, limit):
            return True  # (what is left is at most what there was)
        return self.rough >= limit

    def _small(self, size: int) -> bool:
        """``2 * size <= holds_most * rough``, the page's rough length read only as far as needed."""
        most = EXTRACTION.holds_most
        if most <= 0:
            return 2 * size <= most * self.rough
        least = math.ceil(2 * size / most)  # the least rough length that makes the element small
        while least > 0 and most * (least - 1) >= 2 * size:
            least -= 1
        while most * least < 2 * size:
            least += 1
        return self._rough_at_least(least)

    def holds_most(self, tag: Element) -> bool:
        most, exact = EXTRACTION.holds_most, self.exact
        if not self._rough_at_least(1):
            return False
        if self.lengths:
            return self.lengths[tag] > most * exact[0]
        size = _rough_len(tag)
        if self._small(size):
            return False
        # a large element: after a few, measure every element at once (nested furniture would
        # otherwise cost a serialisation and a join per level)
        if not exact:
            exact.append(_text_len(self.root) + self.removed)
        exact.append(0)
        if len(exact) > EXTRACTION.exact_after:
            self.lengths.update(_exact_lengths(self.root))
            return self.lengths[tag] > most * exact[0]
        if size > most * exact[0]:
            return True
        if 2 * size <= most * exact[0]:
            return False
        return _text_len(tag) > most * exact[0]


def remove_furniture(
    root: Element,
    dropped: list[tuple[str, str]],
    where: dict[Element, str] | None = None,
    cut: list[tuple[str, str, str]] | None = None,
    elements: list[Element] | None = None,
) -> None:
    """Remove page furniture in place (an element holding most of the page's text never is): by
    name, by class or role, hidden. With ``where``, the removed elements' selectors go to ``cut``.
    ``elements``: the root's descendants in document order, when the caller holds them."""
    weigher = _Weigher(root)
    if elements is None:
        elements = list(root.iterdescendants())
    # elements with attributes or a name to drop, found first so that removing does not disturb the walk
    found = [tag for tag in elements if tag.tag in DROP_TAGS or tag.attrib]
    gone: set[Element] = set()
    for tag in found:
        if tag in gone:
            continue
        name = str(tag.tag)
        if name in DROP_TAGS:
            if name == "form" and weigher.holds_most(tag):
                continue  # ASP.NET-style pages wrap the whole page in one <form>
            reason = name
        elif name not in ("html", "body") and _is_furniture(tag):
            if weigher.holds_most(tag):
                continue
            reason = "furniture"
        else:
            continue
        gone.update(tag.iter())
        if name in SILENT_TAGS or name in INVISIBLE_TAGS:
            text = _joined(tag) if name == "noscript" else ""
            weigher.removed += len(text) + 1 if text else 0
            weigher.cut(tag)
            _remove(tag)
            continue
        weigher.cut(tag)
        weigher.removed += _drop(tag, reason, dropped)
        if where is not None and cut is not None:
            cut.append((reason, dropped[-1][1] if dropped else "", where.get(tag, "")))


def _exact_lengths(root: Element) -> dict[Element, int]:
    """:func:`_text_len` of every element in one post-order pass. The length of the strings joined
    by spaces and collapsed is (characters that are not white space) + (runs of them) - 1, and both
    are sums over the strings, since the joining space keeps runs of two strings apart."""
    sums: dict[Element, tuple[int, int]] = {}
    for _event, tag in etree.iterwalk(root, events=("end",)):
        text = tag.text
        chars = nonws(text) if text else 0
        runs = len(text.split()) if text else 0
        for child in tag:
            child_chars, child_runs = sums[child]
            chars += child_chars
            runs += child_runs
            tail = child.tail
            if tail:
                chars += nonws(tail)
                runs += len(tail.split())
        sums[tag] = (chars, runs)
    return {tag: chars + runs - 1 if runs else 0 for tag, (chars, runs) in sums.items()}


def _drop(tag: Element, reason: str, dropped: list[tuple[str, str]]) -> int:
    """Remove an element, recording its text; returns how much shorter the page's text became."""
    text = _joined(tag)
    if text:
        dropped.append((reason, text))
    _remove(tag)
    return len(text) + 1 if text else 0


def _is_bold_tag(tag: Element) -> bool:
    if tag.tag in BOLD_TAGS:
        return True
    style = tag.get("style")
    return bool(style) and bool(BOLD_STYLE.search(style or ""))


# per-element figures from one post-order pass: (text length, text inside links, bold text, flags,
# stripped length, stripped length inside links, ordinal, own text). Lengths count characters that are
# not white space; the stripped ones count each string's characters after stripping its ends (what
# find_content always compared: the spaces inside a string count there). The ordinal numbers the
# elements in that pass, so that blocks can name their element without holding it. The own text is
# the element's text when it has no children (the common paragraph: lxml decodes the string anew on
# every read of .text, so the walk takes it from here), else None.
Stats: TypeAlias = tuple[int, int, int, int, int, int, int, str | None]
HAS_BLOCK = 1  # holds a block-level element
HAS_BR = 2  # holds a <br>
ANCHORED = 4  # holds (or is) an element with an id, or an <a name>
SELF_BOLD = 8  # is bold itself (<b>, <strong>, a heading, a bold style); not passed to its parents
HAS_CHILDREN = 16  # has child elements; not passed to its parents
_NO_TAILS: list[str] = []  # (the tails of an element with no children: never added to)
_INHERITED = HAS_BLOCK | HAS_BR | ANCHORED


def measure(root: Element, parents: list[int] | None = None) -> dict[Element, Stats]:
    """Text, link and bold lengths and flags of every element, in one post-order pass (iterative,
    for deep trees). The lengths counting white space exactly (text, links, bold) are taken only for
    elements with no block-level element in or around them (others get 0), the stripped ones
    everywhere; ``parents`` receives the parent ordinal of each ordinal (-1 for the root)."""
    stats: dict[Element, Stats] = {}
    up = parents if parents is not None else []
    block_tags = BLOCK_TAGS
    for _event, tag in etree.iterwalk(root, events=("end",)):
        name = tag.tag
        text = tag.text
        stripped = len(text.strip()) if text else 0
        total = linked = bold = flags = stripped_linked = 0
        children = len(tag)
        tails: list[str] = _NO_TAILS
        if children:
            tails = []
            me = len(stats)  # (this element's ordinal: its children are in already)
            for child in tag:
                ct, cl, cb, cf, cs, csl, co, _own = stats[child]
                up[co] = me
                total += ct
                linked += cl
                bold += cb
                flags |= cf
                stripped += cs
                stripped_linked += csl
                child_name = child.tag
                if child_name in block_tags:
                    flags |= HAS_BLOCK
                elif child_name == "br":
                    flags |= HAS_BR
                tail = child.tail
                if tail:
                    stripped += len(tail.strip())
                    tails.append(tail)
            flags = flags & _INHERITED | HAS_CHILDREN
        if name in block_tags or flags & HAS_BLOCK:
            total = linked = bold = 0
        else:
            if text:
                total += nonws(text)
            for tail in tails:
                total += nonws(tail)
        if name == "a":
            linked = total
            stripped_linked = stripped
        if name in BOLD_TAGS:
            bold = total
            flags |= SELF_BOLD
        if tag.keys():  # most elements have no attributes at all
            if tag.get("id") is not None or (name == "a" and tag.get("name") is not None):
                flags |= ANCHORED
            style = tag.get("style")
            if style and BOLD_STYLE.search(style):
                bold = total
                flags |= SELF_BOLD
        own = None if children else text
        stats[tag] = (total, linked, bold, flags, stripped, stripped_linked, len(stats), own)
        up.append(-1)
    return stats


def find_content(body: Element, stats: dict[Element, Stats]) -> tuple[Element, str]:
    """Descend from <body> into the child that holds nearly all of the non-link text (on a page
    made mostly of links, a home page of headline links, the text left says nothing: stay); with
    a note for the preview when the descent stopped for a box of story cards."""
    node = body
    text, linked = stats[body][4:6]
    if on("link-pages") and linked > LINK_PAGES.linked_share * text:
        return body, ""
    while True:
        text, linked = stats[node][4:6]
        content = text - linked
        if content <= 0:
            return node, ""
        best: Element | None = None
        best_len = 0
        for child in node:
            if child.tag not in BLOCK_TAGS:
                continue
            text, linked = stats[child][4:6]
            if text - linked > best_len:
                best, best_len = child, text - linked
        if best is None or best_len < EXTRACTION.content_share * content:
            return node, ""
        if best.tag in ("li", "p", "pre", "blockquote", "td", "dd") or best.tag in HEADINGS:
            return node, ""
        if on("lead-cards") and _lead_cards(node, best, stats):
            return node, " (stays around a box of story cards before its main column) [lead-cards]"
        node = best


def _lead_cards(node: Element, best: Element, stats: dict[Element, Stats]) -> bool:
    """Whether a box of story cards stands before the column that holds the text (a home page's
    top stories, each a picture and a title link to the same story): they are the page's first
    stories, so the content area stays around both. A header's or a menu's links have no picture
    of their own."""
    for child in node:
        if child is best:
            return False
        if child.tag not in BLOCK_TAGS:
            continue
        text, linked = stats[child][4:6]
        if (
            text
            and linked >= LINK_PAGES.linked_share * text
            and _cards(child) >= LINK_PAGES.min_links
        ):
            return True
    return False


def _cards(box: Element) -> int:
    """How many headline links of a box go where one of its picture links goes (a card's title)."""
    pictures = {
        a.get("href")
        for a in box.iter("a")
        if a.get("href") and next(a.iter("img"), None) is not None
    }
    return sum(
        1
        for a in box.iter("a")
        if a.get("href") in pictures and len(text_of(a)) >= LINK_PAGES.headline_chars
    )


def _signature(tag: Element) -> str:
    name = str(tag.tag)
    ident = tag.get("id")
    classes = (tag.get("class") or "").split()
    if ident:
        name += "#" + ident
    elif classes:
        name += "." + ".".join(classes[:2])
    return name


def path_of(tag: Element) -> str:
    parts: list[str] = []
    node: Element | None = tag
    while node is not None and node.tag != "html":
        parts.append(_signature(node))
        node = node.getparent()
    return " > ".join(reversed(parts))


def _permalink(heading: Element) -> Element | None:
    """The heading's own permalink when it closes the heading: an <a> into the page whose text is a
    mark ("¶", "#"), with no text after it."""
    if not len(heading) or not on("permalinks"):
        return None
    last = heading[-1]
    if last.tag != "a" or (last.tail and last.tail.strip()) or len(last):
        return None
    href = last.get("href") or ""
    return last if href.startswith("#") and (last.text or "").strip() in PERMALINK_MARKS else None


def heading_text(heading: Element) -> str:
    """A heading's text without its own permalink mark."""
    text = text_of(heading)
    mark = _permalink(heading)
    if mark is None:
        return text
    return text.removesuffix((mark.text or "").strip()).rstrip()


def _children(tag: Element) -> list[Node]:
    # (each read of .text or .tail decodes the string anew: read each once)
    text = tag.text
    nodes: list[Node] = [text] if text else []
    for child in tag:
        nodes.append(child)
        tail = child.tail
        if tail:
            nodes.append(tail)
    return nodes


def _nodes_text(nodes: list[Node], stats: dict[Element, Stats] | None = None) -> str:
    """The text of a run of strings and inline elements, as a reader sees it (see :func:`text_of`)."""
    if len(nodes) == 1 and isinstance(nodes[0], str):
        return collapse(nodes[0])
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif not len(node):
            if node.tag == "br":
                parts.append(" ")
            else:
                text = node.text
                if text:
                    parts.append(text)
        elif stats is not None and not stats[node][3] & (HAS_BR | HAS_BLOCK):
            parts.extend(_strings(node))
        else:
            parts.append(_spaced_text(node))
    return collapse("".join(parts))


def _html(nodes: list[Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(htmllib.escape(node, quote=False))
        else:
            parts.append(etree.tostring(node, method="html", encoding="unicode", with_tail=False))
    return "".join(parts)


def _inner_html(tag: Element) -> str:
    """The HTML inside an element (all of its content), in one call to the serialiser."""
    whole = etree.tostring(tag, method="html", encoding="unicode", with_tail=False)
    close = f"</{tag.tag}>"
    if not whole.endswith(close):
        return _html(_children(tag))
    return whole[whole.index(">") + 1 : -len(close)]


_UNWRAPPED = LINES.unwrapped
_LINE_BREAK = "\n"  # (this very string object) a line break of the source that counts as a <br>


def _unwrapped(nodes: list[Node]) -> bool:
    """Text whose source lines are the author's lines: a paragraph where some line of the source is
    longer than any hard wrapping makes them (Markdown's single newlines, text pasted into <p>), or
    where a source line opens with a list marker (a Markdown list entry folded into the paragraph)."""
    if not on("source-lines"):
        return False
    longest = LINES.unwrapped
    folded = LINES.folded_entry if on("folded-entries") else None
    for node in nodes:
        if isinstance(node, str) and "\n" in node.strip():
            if any(len(piece) > longest for piece in node.split("\n")):
                return True
            if folded is not None and folded.search(node):
                return True
    return False


class _EntryBreak(str):
    """A source line break before a folded list entry ("\\n1. [title](…)"): the line after it opens
    an entry of the list, its marker removed (the list's own numbering, as an <li> has none)."""


_ENTRY_BREAK = _EntryBreak("\n")


def _source_lines(nodes: list[Node]) -> list[Node]:
    """The nodes with each source line break in a string turned into a break of its own."""
    out: list[Node] = []
    folded = LINES.folded_opening if on("folded-entries") else None
    for node in nodes:
        if not isinstance(node, str) or "\n" not in node:
            out.append(node)
            continue
        pieces = node.split("\n")
        for k, piece in enumerate(pieces):
            opening = folded.match(piece) if k and folded is not None else None
            if opening:
                out.append(_ENTRY_BREAK)
                piece = piece[opening.end() :]
            elif k:
                out.append(_LINE_BREAK)
            if piece:
                out.append(piece)
    return out


_BOLD = 1  # walking context: inside bold text
_IN_LIST = 2  # walking context: inside a list item
_IN_LINK = 4  # walking context: inside a link (a card whose whole teaser is one <a>)
_LIST_ITEMS = frozenset(["li", "dd"])


class _Linearizer:
    def __init__(self, stats: dict[Element, Stats], forced: set[Element] | None = None) -> None:
        self.stats = stats
        self.forced = forced or set()
        self.blocks: list[Block] = []
        self.pending_gap = 0
        self.separators: list[str] = []
        self.in_list = False
        self.in_link = False  # the blocks being emitted are inside a link
        self.open_item = False  # the next block is the first of a list item

    def walk(self, root: Element) -> None:
        """Emit blocks in document order, iteratively (pages can nest thousands of levels deep)."""
        # (one ancestor at a time: a deep tree's proxies are freed cheaply only from the bottom up)
        ancestors = [t for t in root.iterancestors() if t.tag not in ("body", "html")]
        ctx = _BOLD if (root.tag not in ("body", "html") and _is_bold_tag(root)) else 0
        if any(_is_bold_tag(t) for t in ancestors):
            ctx |= _BOLD
        if any(t.tag in _LIST_ITEMS for t in ancestors):
            ctx |= _IN_LIST
        if on("linked-blocks") and any(
            t.tag == "a" and _one_block(t, self.stats) for t in ancestors
        ):
            ctx |= _IN_LINK
        work: list[tuple[Element, list[Node] | None, int]] = [(root, None, ctx)]
        pop, leaf = work.pop, self.leaf
        while work:
            tag, run, ctx = pop()
            name = tag.tag  # (read once: each read is a call into lxml)
            listed = name in _LIST_ITEMS
            self.in_list = listed or bool(ctx & _IN_LIST)
            self.in_link = bool(ctx & _IN_LINK)
            if run is not None:
                # loose text inside a list item is that item's text
                kind = str(name) if name in LEAF_KINDS else "line"
                self.emit_nodes(run, tag, kind, bool(ctx & _BOLD), split_br=True, whole=False)
                continue
            if listed:
                self.open_item = True
            if not leaf(tag, name, bool(ctx & _BOLD)):
                work.extend(reversed(self.container(tag, ctx)))

    def leaf(self, tag: Element, name: str, bold: bool) -> bool:
        """Emit an element (named ``name``) that is one block (or a rule); False for a container to
        walk into."""
        if name == "p":
            pass  # (the common case: none of the kinds below)
        elif name in HEADINGS or name == "pre":
            nodes = _children(tag)
            mark = _permalink(tag) if name != "pre" else None
            if mark is not None:  # (the heading's own "¶": no part of its text)
                nodes = [n for n in nodes if n is not mark]
            self.emit_nodes(nodes, tag, str(name), bold, split_br=False, whole=True)
            return True
        elif name == "hr":
            self.pending_gap = SEPARATOR_GAP
            return True
        elif name == "table" and self.data_table(tag):
            self.emit_table(tag)
            return True
        figures = self.stats[tag]
        flags = figures[3]
        if flags & HAS_BLOCK:
            return False
        kind = str(name) if name in LEAF_KINDS else "p"
        if flags & HAS_BR and name in BR_CONTAINERS:
            kind = "line"
        if flags & HAS_CHILDREN:
            self.emit_nodes(_children(tag), tag, kind, bold, split_br=True, whole=True)
        else:  # the common case: a paragraph of nothing but text (as measure read it)
            text = figures[7]
            if text:
                self.emit_text(text, tag, kind, bold, figures=figures)
        return True

    def add(self, block: Block, parent: Element, nodes: list[Node] | None = None) -> None:
        if self.in_link:
            _inside_link(block, parent)
        block.item_start = self.open_item
        if block.href and block.link_ratio >= LINK_PAGES.link_share and on("card-titles"):
            block.card = self.card_title(block, parent)
        if self.forced:
            block.forced = _forced(block, parent, nodes or [], self.forced)
        self.open_item = False
        self.blocks.append(block)

    def card_title(self, block: Block, tag: Element) -> bool:
        """Whether a bare link is a card's title: the small box around it (no more than the title's
        text again) holds a picture link to the same place (a home page's top-story cards)."""
        box = tag.getparent()
        figures = self.stats.get(box) if box is not None else None
        if box is None or figures is None or figures[4] > CARDS.box_text * len(block.text):
            return False
        return any(
            a.get("href") == block.href and next(a.iter("img"), None) is not None
            for a in box.iter("a")
        )

    def data_table(self, table: Element) -> bool:
        """A table of data (its cells hold only inline content), not a layout grid, and not a list
        of stories (most rows a headline link: a news column laid out as a table)."""
        stats = self.stats
        if any(
            stats[cell][3] & HAS_BLOCK or cell.find(".//table") is not None
            for cell in table.iter("td", "th")
        ):
            return False
        rows = [row for row in table.iter("tr")]
        if len(rows) < LINK_PAGES.table_rows or not on("link-pages"):
            return True
        linked = sum(1 for row in rows if _headline_link(row))
        return linked < LINK_PAGES.table_share * len(rows)

    def emit_table(self, table: Element) -> None:
        """A data table is one block: its HTML whole, its text a line per row, cells apart by " | "."""
        rows = []
        caption = table.find("caption")
        if caption is not None and text_of(caption):
            rows.append(text_of(caption))
        for row in table.iter("tr"):
            cells = [_nodes_text([cell], self.stats) for cell in row if cell.tag in ("td", "th")]
            if any(cells):
                rows.append(" | ".join(cells))
        if not rows:
            return
        text = "\n".join(rows)
        total, linked = self.stats[table][4:6]
        block = Block(
            text=text,
            html=etree.tostring(table, method="html", encoding="unicode", with_tail=False).strip(),
            tag="table",
            link_ratio=linked / total if total else 0.0,
            gap=self.pending_gap,
            node=self.stats[table][6],
            in_list=self.in_list,
        )
        self.pending_gap = 0
        self.add(block, table)

    def container(self, tag: Element, ctx: int) -> list[tuple[Element, list[Node] | None, int]]:
        """A container's runs of inline content (blocks of their own) and block children, in order."""
        stats = self.stats
        inner = ctx | _IN_LIST if tag.tag in _LIST_ITEMS else ctx
        if tag.tag == "a" and on("linked-blocks") and _one_block(tag, stats):
            inner |= _IN_LINK  # (an <a> around one block: the block is that link's text)
        items: list[tuple[Element, list[Node] | None, int]] = []
        text = tag.text
        current: list[Node] = [text] if text else []
        for child in tag:
            flags = stats[child][3]
            if flags & HAS_BLOCK or child.tag in BLOCK_TAGS:
                if current:
                    items.append((tag, current, ctx))
                    current = []
                items.append((child, None, inner | (_BOLD if flags & SELF_BOLD else 0)))
            else:
                current.append(child)
            tail = child.tail
            if tail:
                current.append(tail)
        if current:
            items.append((tag, current, ctx))
        return items

    def emit_nodes(
        self,
        nodes: list[Node],
        parent: Element,
        kind: str,
        bold: bool,
        *,
        split_br: bool,
        whole: bool,
    ) -> None:
        unwrapped = split_br and _unwrapped(nodes)
        if unwrapped:
            nodes = _source_lines(nodes)
        elif len(nodes) == 1 and isinstance(nodes[0], str):
            self.emit_text(nodes[0], parent, kind, bold, split_br=False)
            return
        if not nodes:
            return
        line: list[Node] = []
        lines: list[list[Node]] = []
        entries: set[int] = set()  # the lines that open a folded list entry
        for node in nodes:
            if split_br and (
                node is _LINE_BREAK
                or node is _ENTRY_BREAK
                or (not isinstance(node, str) and node.tag == "br")
            ):
                lines.append(line)
                line = []
                if node is _ENTRY_BREAK:
                    entries.add(len(lines))
            else:
                line.append(node)
        lines.append(line)
        texts = [_nodes_text(part, self.stats) for part in lines]
        if len(texts) > 1 and sum(1 for text in texts if text) > 1:
            kind = "line" if kind == "p" else kind
        blank = 0
        single = len(lines) == 1
        for index, part in enumerate(lines):
            text = texts[index]
            if not text:
                if index:
                    blank += 1
                continue
            if not text[0].isalnum() and is_separator(text):
                self.pending_gap = SEPARATOR_GAP
                self.separators.append(text)
                continue
            inner = _inner_html(parent) if single and whole else _html(part)
            block = _make_block(part, parent, kind, text, inner.strip(), single, bold, self.stats)
            block.gap = max(blank, self.pending_gap)
            block.in_list = self.in_list or index in entries
            if index in entries:
                self.open_item = True
            blank = 0
            self.pending_gap = 0
            self.add(block, parent, part)

    def emit_text(
        self,
        raw: str,
        parent: Element,
        kind: str,
        bold: bool,
        *,
        split_br: bool = True,
        figures: Stats | None = None,
    ) -> None:
        """The common case of :meth:`emit_nodes`: an element that holds nothing but text
        (``figures``: its :data:`Stats`, when the caller has them at hand)."""
        if split_br and len(raw) > _UNWRAPPED and "\n" in raw and _unwrapped([raw]):
            self.emit_nodes([raw], parent, kind, bold, split_br=True, whole=False)
            return
        text = collapse(raw)
        if not text:
            return
        first = text[0]
        if not first.isalnum() and is_separator(text):
            self.pending_gap = SEPARATOR_GAP
            self.separators.append(text)
            return
        # what _make_block finds for such an element: all bold or none, no links, the element's id
        if figures is None:
            figures = self.stats[parent]
        wrapper = WRAPPERS.get(kind, "p")
        heading = kind in HEADINGS
        block = Block(
            text=text,
            html=f"<{wrapper}>{_escape(raw).strip()}</{wrapper}>",
            tag=kind,
            bold=heading or bold,
            anchor=(parent.get("id") or None) if figures[3] & ANCHORED else None,
            gap=self.pending_gap,
            node=figures[6],
            in_list=self.in_list,
        )
        self.pending_gap = 0
        window = _COLON_WINDOW  # (_colon_early, inlined: the hot path)
        if (
            not block.bold
            and not heading
            and (first in "【[" or text.find(":", 0, window) > 0 or text.find("：", 0, window) > 0)
        ):
            _text_lead(block)
        if self.forced or self.open_item or self.in_link:
            self.add(block, parent)
        else:
            self.blocks.append(block)  # (the common case of add, inlined: the hot path)


def _one_block(link: Element, stats: dict[Element, Stats]) -> bool:
    """A link around one block of text and nothing else of its kind (a card's teaser <p>, a
    heading), not around a list or a widget of many."""
    blocks = [c for c in link if c.tag in BLOCK_TAGS or stats[c][3] & HAS_BLOCK]
    return len(blocks) == 1 and not stats[blocks[0]][3] & HAS_BLOCK


def _inside_link(block: Block, parent: Element) -> None:
    """A block inside a link (``<a href><p>headline</p></a>``, a card's teaser) is all link text,
    leading where that link leads."""
    link = parent if parent.tag == "a" else next(parent.iterancestors("a"), None)
    if link is None:
        return
    block.link_ratio = 1.0
    block.href = block.href or link.get("href")
    if block.lead_kind == "label" and on("link-sections"):
        block.lead = block.lead_kind = None  # (the link's title, colon and all)
        block.rest_text = block.rest_html = ""


def _bold_and_link_len(
    nodes: list[Node], parent_bold: bool, stats: dict[Element, Stats]
) -> tuple[int, int]:
    bold = 0
    linked = 0
    for node in nodes:
        if isinstance(node, str):
            if parent_bold:
                bold += nonws(node)
        else:
            own = stats[node]
            if node.tag in BLOCK_TAGS or own[3] & HAS_BLOCK:
                # block-level content inside a heading or <pre>, which are emitted whole
                text, link, bold_text = _lengths(node)
            else:
                text, link, bold_text = own[:3]
            bold += text if parent_bold else bold_text
            linked += link
    return bold, linked


def _lengths(root: Element) -> tuple[int, int, int]:
    """Text, link and bold lengths of a subtree of any kind (what measure leaves out for
    block-level elements), in one post-order pass."""
    found: dict[Element, tuple[int, int, int]] = {}
    for _event, tag in etree.iterwalk(root, events=("end",)):
        total = nonws(tag.text) if tag.text else 0
        linked = bold = 0
        for child in tag:
            ct, cl, cb = found.pop(child)
            total += ct + (nonws(child.tail) if child.tail else 0)
            linked += cl
            bold += cb
        if tag.tag == "a":
            linked = total
        if _is_bold_tag(tag):
            bold = total
        found[tag] = (total, linked, bold)
    return found[root]


_BRACKET_LEAD = re.compile(
    rf"^\s*([【\[]([^】\]]{{{LENGTHS.bracket_min},{LENGTHS.bracket_max}}})[】\]])\s*(.*)$", re.S
)


def _anchor(node: Element) -> str | None:
    ident = node.get("id")
    if ident:
        return ident
    found = node.find(".//*[@id]")
    if found is not None:
        return found.get("id")
    if node.tag == "a" and node.get("name"):
        return node.get("name")
    named = node.find(".//a[@name]")
    return named.get("name") if named is not None else None


def _make_block(
    nodes: list[Node],
    parent: Element,
    kind: str,
    text: str,
    inner: str,
    whole: bool,
    parent_bold: bool,
    stats: dict[Element, Stats],
) -> Block:
    wrapper = WRAPPERS.get(kind, "p")
    html = f"<{wrapper}>{inner}</{wrapper}>"
    compact = len(text) - text.count(" ")
    bold_len, link_len = _bold_and_link_len(nodes, parent_bold, stats)
    block = Block(
        text=text,
        html=html,
        tag=kind,
        bold=kind in HEADINGS or (bool(compact) and bold_len >= LENGTHS.bold_share * compact),
        link_ratio=link_len / compact if compact else 0.0,
        node=stats[parent][6],
    )
    ident = parent.get("id") if whole else None
    if ident:
        block.anchor = ident
    else:
        for node in nodes:
            if not isinstance(node, str) and stats[node][3] & ANCHORED:
                block.anchor = _anchor(node)
                if block.anchor is not None:
                    break
    if link_len:
        block.href = _first_href(nodes)
    if not block.bold and kind not in HEADINGS:
        _find_lead(block, nodes, stats)
    return block


def _forced(block: Block, parent: Element, nodes: list[Node], forced: set[Element]) -> str:
    """Whether the source's headline selector names this block ("block") or its lead ("lead")."""
    if parent in forced:
        return "block"
    first = next((n for n in nodes if not isinstance(n, str) or n.strip()), None)
    if first is not None and not isinstance(first, str) and first in forced:
        return "lead" if block.lead else "block"
    if any(not isinstance(n, str) and n in forced for n in nodes):
        return "block"
    return ""


def _headline_link(element: Element) -> bool:
    """Whether an element holds a link as long as a headline (not "more", not a page number)."""
    return any(
        len(text_of(a)) >= LINK_PAGES.headline_chars for a in element.iter("a") if a.get("href")
    )


def _escape(text: str) -> str:
    """``html.escape`` without quotes, skipped for the common text that needs none."""
    if "&" in text or "<" in text or ">" in text:
        return htmllib.escape(text, quote=False)
    return text


def _first_href(nodes: list[Node]) -> str | None:
    """Where the first link among the nodes leads."""
    for node in nodes:
        if isinstance(node, str):
            continue
        link = node if node.tag == "a" else node.find(".//a[@href]")
        if link is not None and link.get("href"):
            return link.get("href")
    return None


def _find_lead(block: Block, nodes: list[Node], stats: dict[Element, Stats]) -> None:
    """A bold or linked phrase that opens the block and is followed by more text."""
    if (
        nodes
        and isinstance(nodes[0], str)
        and nodes[0].strip()
        and not (_ALNUM.search(nodes[0]) is None and on("symbol-leads"))
    ):
        _text_lead(block)  # opens with text: no bold or linked lead
        return
    # (an emoji or a bullet sign before the lead is no text: "📜 <a>Title</a>: comment")
    index = next(
        (i for i, n in enumerate(nodes) if not isinstance(n, str) or _ALNUM.search(n)), len(nodes)
    )
    first = nodes[index] if index < len(nodes) else None
    if first is not None and not isinstance(first, str):
        inner = first
        # <b><a>lead</a></b> or <a><b>lead</b></a>
        kind: str | None = None
        if _is_bold_tag(inner):
            kind = "bold"
        elif inner.tag == "a":
            kind = "link"
        elif (
            inner.tag in ("span", "font", "em", "i")
            and not inner.text
            and len(inner) == 1
            and not inner[0].tail
            and _is_bold_tag(inner[0])
        ):
            kind = "bold"
        if kind:
            lead = _nodes_text([first], stats)
            rest_nodes = nodes[index + 1 :]
            rest = _nodes_text(rest_nodes, stats)
            if kind == "bold" and lead and FOOTNOTE_REFERENCES.fullmatch(rest) and on("references"):
                block.bold = True  # "**Headline** [3] [7]": footnote references are no text
                return
            if (
                lead
                and rest
                and nonws(rest) >= LENGTHS.lead_rest_min
                and sum(map(str.isalpha, lead)) >= LENGTHS.lead_letters  # no drop cap, no "1"
            ):
                block.lead = lead.rstrip(":：.-—– ")
                block.lead_kind = kind
                block.rest_text = rest.lstrip(":：-—– ")
                block.rest_html = "<p>" + _html(rest_nodes).strip().lstrip(":：-—– ") + "</p>"
                return
    _text_lead(block)


def _text_lead(block: Block) -> None:
    """A lead set apart by the text itself: 【brackets】, or a label and a colon ("DEAR ABBY: …")."""
    if block.text[:1] in "【[":
        _bracket_lead(block)
    elif (
        on("label-lead")
        and block.tag not in HEADINGS
        and _colon_early(block.text)
        and not (block.link_ratio >= LINKED_HEADLINE and on("link-sections"))
    ):
        _label_lead(block)  # (a line that is one link is that link's title, colon and all)


def _colon_early(text: str) -> bool:
    """A colon where a label's would be (a cheap test before the pattern)."""
    window = _COLON_WINDOW
    return text.find(":", 0, window) > 0 or text.find("：", 0, window) > 0


_COLON_WINDOW = LABELS.max_chars + 2


def _label_lead(block: Block) -> None:
    """A short label closed by a colon that opens a paragraph, followed by more text than itself."""
    match = _LABEL_LEAD.match(block.text)
    if match is None:
        return
    label, rest = match.group(1).strip(), match.group(2).strip()
    if (
        len(label) < LABELS.min_chars
        or not any(c.isalpha() for c in label)
        or rest.startswith("//")
        or (label[-1].isdigit() and rest[0].isdigit())  # a time or a ratio (10:30, 3:1)
        or nonws(rest) < LABELS.rest_vs_label * nonws(label)
    ):
        return
    block.lead = label
    block.lead_kind = "label"
    block.rest_text = rest
    inner = block.html[block.html.index(">") + 1 :]
    plain = "<" not in inner.removesuffix(block.html[block.html.rindex("<") :])
    block.rest_html = "<p>" + htmllib.escape(rest, quote=False) + "</p>"
    if plain:
        cut = next((k for k, c in enumerate(inner) if c in ":："), -1)
        if cut >= 0:
            block.rest_html = "<p>" + inner[cut + 1 :].rsplit("<", 1)[0].strip() + "</p>"


def _bracket_lead(block: Block) -> None:
    """A 【bracketed】 phrase that opens the block and is followed by more text."""
    match = _BRACKET_LEAD.match(block.text)
    if match and match.group(3).strip():
        block.lead = match.group(2).strip()
        block.lead_kind = "bracket"
        block.rest_text = match.group(3).strip()
        html = block.html
        cut = html.find(match.group(1)[-1])
        block.rest_html = (
            "<p>" + htmllib.escape(match.group(3).strip()) + "</p>"
            if cut < 0
            else "<p>" + html[cut + 1 :].removesuffix("</p>").strip() + "</p>"
        )


# a label and a colon opening a paragraph: no sentence punctuation inside the label
_LABEL_LEAD = re.compile(
    rf"^([^\s:：][^:：。.!?！？;；]{{0,{LABELS.max_chars}}}?)\s*[:：]\s*(\S.*)$", re.S
)

_MARK = "data-feedbot-content"
_HEAD = "data-feedbot-headline"


def _select(
    text: str,
    selectors: Selectors,
    dropped: list[tuple[str, str]],
) -> tuple[Element | None, set[Element]]:
    """Apply per-source CSS selectors with soupsieve (the engine the config validates them with) on
    a BeautifulSoup tree, then hand the result back as an lxml tree: the part to split, with the
    excluded parts gone, and the elements the headline selector names. Only sources that set
    selectors pay for the second parse."""
    soup = parse_html(text)
    scope = soup.body if isinstance(soup.body, Tag) else soup
    if selectors.content:
        found = soup.select_one(selectors.content)
        if not isinstance(found, Tag):
            return None, set()
        scope = found
    if selectors.headline:
        for tag in scope.select(selectors.headline):
            tag[_HEAD] = "1"
    exclude = selectors.exclude
    for selector in exclude:
        for tag in scope.select(selector):
            if tag.decomposed:
                continue
            removed = collapse(tag.get_text(" "))
            if removed:
                dropped.append(("excluded", removed))
            tag.decompose()
    if scope is not soup:
        scope[_MARK] = "1"
    root = _prepare(str(soup))
    heads = set(root.iterfind(f".//*[@{_HEAD}]"))
    for element in heads:
        del element.attrib[_HEAD]
    marked = root.find(f".//*[@{_MARK}]")
    if marked is None:
        return _body(root), heads
    del marked.attrib[_MARK]
    return marked, heads


@dataclass(frozen=True)
class Selectors:
    """A source's CSS selectors."""

    content: str | None = None
    exclude: tuple[str, ...] = ()
    headline: str | None = None

    def __bool__(self) -> bool:
        return bool(self.content or self.exclude or self.headline)


def _prepare(text: str) -> Element:
    root = parse_tree(text)
    etree.strip_elements(root, *INVISIBLE_TAGS, with_tail=False)
    return root


def _body(root: Element) -> Element:
    body = root.find("body")
    return body if body is not None else root


def extract_html(
    text: str,
    *,
    content_selector: str | None = None,
    exclude: tuple[str, ...] = (),
    headline_selector: str | None = None,
    paths: bool = False,
) -> Extracted:
    """The page's title, date and blocks. With ``paths``, each element's CSS selector in the page
    (taken before anything is removed) comes along, for the preview."""
    root = parse_tree(text)
    lang, dated = date_hints(root)  # before the scripts go: JSON-LD is a script
    etree.strip_elements(root, *INVISIBLE_TAGS, with_tail=False)
    title = page_title(root)
    published = page_date(root)
    dropped: list[tuple[str, str]] = []
    selectors = Selectors(content_selector, exclude, headline_selector)
    forced: set[Element] = set()
    if selectors:
        scope, forced = _select(text, selectors, dropped)
        if scope is None:
            return Extracted(
                title,
                [],
                dropped,
                published,
                f"(nothing matches {content_selector!r})",
                selector_matched=False,
                lang=lang,
                dated=dated,
            )
    else:
        scope = _body(root)
    where = element_paths(scope) if paths else None
    cut: list[tuple[str, str, str]] = []
    # (held until measure has run: lxml then hands out the same Python objects for the elements
    # instead of making new ones)
    elements = list(scope.iterdescendants())
    remove_furniture(scope, dropped, where, cut, elements)
    parents: list[int] = []
    stats = measure(scope, parents)
    del elements
    content, where_note = (scope, "") if content_selector else find_content(scope, stats)
    lin = _Linearizer(stats, forced)
    lin.walk(content)
    dropped.extend(("separator", text) for text in lin.separators)
    blocks = _without_title(lin.blocks, title, dropped) if not forced else lin.blocks
    ext = Extracted(
        title,
        blocks,
        dropped,
        published,
        path_of(content) + where_note,
        parents=parents,
        lang=lang,
        dated=dated,
    )
    if where is not None:
        _attach_paths(ext, where, stats, cut)
    return ext


def _attach_paths(
    ext: Extracted,
    where: dict[Element, str],
    stats: dict[Element, Stats],
    cut: list[tuple[str, str, str]],
) -> None:
    """For the preview: each measured element's CSS selector, by its place in the walk, and the
    selectors of what was cut as furniture."""
    ext.paths = [""] * len(ext.parents)
    for element, figures in stats.items():
        ext.paths[figures[6]] = where.get(element, "")
    ext.cut_paths = cut


def _without_title(blocks: list[Block], title: str, dropped: list[tuple[str, str]]) -> list[Block]:
    """The page title (usually an <h1> above or inside the content) is not an item."""
    if not title:
        return blocks
    kept: list[Block] = []
    h1s = sum(1 for block in blocks if block.tag == "h1")
    for block in blocks:
        if (
            (block.tag == "h1" and h1s == 1)
            or (block.text == title and len(kept) == 0)
            or (block.text == title and block.tag in HEADINGS and on("title-heading"))
        ):
            dropped.append(("title", block.text))
            continue
        kept.append(block)
    return kept


def element_paths(scope: Element) -> dict[Element, str]:
    """A CSS selector for every element under ``scope`` that finds it in the page as parsed:
    ``body > div:nth-of-type(2) > h3:nth-of-type(4)`` (nth-of-type counts only elements of the same
    name, so the scripts and styles stripped before do not shift it)."""
    top = "body" if scope.tag == "body" else _step(scope)
    found: dict[Element, str] = {scope: top}
    work = [scope]
    while work:
        parent = work.pop()
        base = found[parent]
        seen: dict[str, int] = {}
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            name = str(child.tag)
            seen[name] = seen.get(name, 0) + 1
            found[child] = f"{base} > {name}:nth-of-type({seen[name]})"
            work.append(child)
    return found


def _step(element: Element) -> str:
    parent = element.getparent()
    if parent is None:
        return str(element.tag)
    same = [c for c in parent if c.tag == element.tag]
    return f"{_step(parent)} > {element.tag}:nth-of-type({same.index(element) + 1})"


def extract_text(text: str) -> Extracted:
    """Plain text: one paragraph per line; the first line is the title when it looks like one."""
    blocks: list[Block] = []
    dropped: list[tuple[str, str]] = []
    gap = 0
    for raw in text.splitlines():
        line = collapse(raw)
        if not line:
            gap += 1
            continue
        if is_separator(line):
            gap = SEPARATOR_GAP
            dropped.append(("separator", line))
            continue
        blocks.append(
            Block(
                text=line,
                html=f"<p>{htmllib.escape(line)}</p>",
                tag="line",
                gap=gap if blocks else 0,
            )
        )
        gap = 0
    title = ""
    return Extracted(title, blocks, dropped, None, "text", is_text=True)
