"""From page text to a linear list of blocks inside the content area.

Owns: parsing (through :mod:`feedbot.parse`: lxml's own tree on the hot path; a BeautifulSoup tree only
for per-source CSS selectors), removing page furniture (navigation, ads, share bars,
"related" lists, comments, footers), finding the content area, and flattening it into blocks — one per
heading, paragraph, list item or ``<br>``-separated line — with the features the splitter needs.
Must not: decide which blocks are headlines (that is :mod:`feedbot.split`), or do any I/O.
"""

from __future__ import annotations

import html as htmllib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeAlias, cast

from bs4.element import Tag
from lxml import etree

from .parse import parse_html, parse_tree

Element: TypeAlias = etree._Element
# a block's content: text (an element's text or a child's tail) and inline elements, in document order
Node: TypeAlias = str | etree._Element

DROP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "svg",
        "canvas",
        "template",
        "nav",
        "aside",
        "footer",
        "link",
        "meta",
        "head",
        "map",
        "audio",
        "video",
        "source",
        "track",
        "dialog",
        "menu",
    ]
)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "tbody",
        "thead",
        "tfoot",
        "caption",
        "figure",
        "figcaption",
        "header",
        "hr",
        "address",
        "details",
        "summary",
        "center",
        "fieldset",
        "form",
        "body",
        "html",
    ]
)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
LEAF_KINDS = frozenset(["li", "td", "th", "dt", "dd", "blockquote", "figure", "figcaption"])
BR_CONTAINERS = frozenset(
    ["div", "section", "article", "td", "body", "main", "center", "blockquote"]
)
WRAPPERS = {
    "pre": "pre",
    "blockquote": "blockquote",
    "figure": "figure",
    "h1": "h1",
    "h2": "h2",
    "h3": "h3",
    "h4": "h4",
    "h5": "h5",
    "h6": "h6",
}
# class / id tokens that mark page furniture (matched as whole tokens, so "content" is not "ad")
FURNITURE = frozenset(
    [
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menus",
        "breadcrumb",
        "breadcrumbs",
        "crumb",
        "crumbs",
        "ad",
        "ads",
        "adv",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsbygoogle",
        "sponsor",
        "sponsored",
        "promo",
        "promotion",
        "share",
        "shares",
        "sharing",
        "sharebar",
        "social",
        "related",
        "recommend",
        "recommended",
        "recommendation",
        "recommendations",
        "comment",
        "comments",
        "footer",
        "copyright",
        "sidebar",
        "widget",
        "widgets",
        "cookie",
        "cookies",
        "consent",
        "newsletter",
        "signup",
        "subscribe",
        "subscription",
        "popup",
        "modal",
        "toolbar",
        "pagination",
        "pager",
        "tags",
        "tagcloud",
        "masthead",
        "topbar",
        "header",
        "disqus",
        "outbrain",
        "taboola",
        "carousel",
        "slideshow",
        "hot-list",
        "hotlist",
        "ranking",
        "rank",
        "toplist",
        "most-read",
        "mostread",
        "trending",
        "byline",
        "dateline",
        "author-box",
    ]
)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_DATE_RE = re.compile(
    r"(20\d\d|19\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def collapse(text: str) -> str:
    """White space runs folded to one space, ends trimmed (str.split's white space is re's ``\\s``)."""
    return " ".join(text.split())


def nonws(text: str) -> int:
    """The number of characters that are not white space (the unit of every length below)."""
    if text.isascii():
        n = len(text) - text.count(" ")
        for space in "\n\t\r\x0b\x0c":
            if space in text:
                n -= text.count(space)
        return n
    return len("".join(text.split()))


@dataclass
class Block:
    """One unit of the content area, in document order."""

    text: str
    html: str
    tag: str  # h1..h6, p, li, line (br-separated or plain text), td, pre, blockquote, figure, ...
    bold: bool = False  # the whole text is bold (or a heading)
    lead: str | None = None  # a bold / linked / bracketed lead at the start, followed by more text
    lead_kind: str | None = None  # "bold", "link", "bracket"
    rest_html: str = ""  # the block's HTML after the lead
    rest_text: str = ""  # the block's text after the lead
    link_ratio: float = 0.0  # share of the text inside links
    anchor: str | None = None
    container: str = ""  # signature of the parent element (tag#id or tag.class)
    gap: int = 0  # separation before the block: blank lines (text, <br><br>), 3 for a rule or <hr>
    element: Element | None = field(default=None, repr=False, compare=False)


@dataclass
class Extracted:
    title: str
    blocks: list[Block]
    dropped: list[tuple[str, str]]
    published: (
        datetime | None
    )  # as the page wrote it: without a zone when it gave none (feedbot.dates)
    content_path: str
    is_text: bool = False
    lang: str | None = None  # the page's <html lang>
    dated: tuple[str, ...] = ()  # date values that may state an offset (meta, <time>, JSON-LD)


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
    if tokens & FURNITURE:
        return True
    role = tag.get("role")
    if role in ("navigation", "banner", "contentinfo", "complementary", "search"):
        return True
    style = tag.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return tag.get("hidden") is not None or tag.get("aria-hidden") == "true"


def _strings(tag: Element) -> Iterator[str]:
    """The strings of an element's subtree in document order (an HTML tree holds no bytes)."""
    return cast("Iterator[str]", tag.itertext())


def text_of(tag: Element) -> str:
    """An element's text, its strings joined by a space (BeautifulSoup's ``get_text(" ")``)."""
    return collapse(" ".join(_strings(tag)))


def _text_len(tag: Element) -> int:
    return len(text_of(tag))


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
    h1 = next(root.iter("h1"), None)
    if h1 is not None:
        text = text_of(h1)
        if text:
            return text
    meta = next((m for m in root.iter("meta") if m.get("property") == "og:title"), None)
    if meta is not None and meta.get("content") is not None:
        return collapse(meta.get("content") or "")
    title = next(root.iter("title"), None)
    if title is not None:
        text = text_of(title)
        # "Headline - Site name": keep the headline part
        return re.split(r"\s+[-|–—_]\s+", text)[0] if text else ""
    return ""


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        match = _DATE_RE.search(value)
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


_META_DATES = (
    ("property", "article:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("itemprop", "datePublished"),
    ("name", "date"),
)


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
    for attr, value in _META_DATES:
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
        for sibling in itertools.islice(elements, 8):
            if not isinstance(sibling.tag, str) or sibling.tag in HEADINGS:
                continue
            if _longer_than(sibling, 80):
                continue  # (a container: no need to join all of its text to know it is long)
            text = text_of(sibling)
            if len(text) < 80:
                match = _DATE_RE.search(text)
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


# elements that are always removed silently (BeautifulSoup never counted their text either)
_INVISIBLE = ("script", "style", "template")
_SILENT = ("noscript", "head", "link", "meta")


def remove_furniture(root: Element, dropped: list[tuple[str, str]]) -> None:
    """Remove page furniture in place. An element holding most of the page's text is never removed.

    "The page's text" is its length before anything was removed, white space between words counted.
    Measuring that exactly means joining all of the text, so bounds decide first: the characters
    that are not white space (counted in C) are a lower bound and twice them an upper one. The exact
    lengths are taken only when the bounds do not settle it (the page's as what is left plus what
    was removed), so nested furniture costs one serialisation per element, not a join of its text."""
    rough = _rough_len(root)
    removed = 0
    exact: list[int] = []  # the page's exact length, then one entry per large element met
    lengths: dict[Element, int] = {}

    def holds_most(tag: Element) -> bool:
        if not rough:
            return False
        if lengths:
            return lengths[tag] > 0.5 * exact[0]
        size = _rough_len(tag)
        if 2 * size <= 0.5 * rough:
            return False
        # a large element: after a few, measure every element at once (nested furniture would
        # otherwise cost a serialisation and a join per level)
        if not exact:
            exact.append(_text_len(root) + removed)
        exact.append(0)
        if len(exact) > 8:
            lengths.update(_exact_lengths(root))
            return lengths[tag] > 0.5 * exact[0]
        if size > 0.5 * exact[0]:
            return True
        if 2 * size <= 0.5 * exact[0]:
            return False
        return _text_len(tag) > 0.5 * exact[0]

    # elements with attributes or a name to drop, found first so that removing does not disturb the walk
    found = [tag for tag in root.iterdescendants() if tag.tag in DROP_TAGS or tag.attrib]
    gone: set[Element] = set()
    for tag in found:
        if tag in gone:
            continue
        name = tag.tag
        if name in DROP_TAGS:
            if name == "form" and holds_most(tag):
                # ASP.NET-style pages wrap the whole page in one <form>
                continue
            gone.update(tag.iter())
            if name in _SILENT or name in _INVISIBLE:
                text = text_of(tag) if name == "noscript" else ""
                removed += len(text) + 1 if text else 0
                _remove(tag)
            else:
                removed += _drop(tag, str(name), dropped)
        elif name not in ("html", "body") and _is_furniture(tag):
            if holds_most(tag):
                continue
            gone.update(tag.iter())
            removed += _drop(tag, "furniture", dropped)


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
    text = text_of(tag)
    if text:
        dropped.append((reason, text))
    _remove(tag)
    return len(text) + 1 if text else 0


_BOLD_NAMES = frozenset(["b", "strong", *HEADINGS])


def _is_bold_tag(tag: Element) -> bool:
    if tag.tag in _BOLD_NAMES:
        return True
    style = tag.get("style")
    return bool(style) and bool(_BOLD_STYLE.search(style or ""))


# per-element figures from one post-order pass: (text length, text inside links, bold text, flags,
# stripped length, stripped length inside links). Lengths count characters that are not white space;
# the stripped ones count each string's characters after stripping its ends (what find_content
# always compared: the spaces inside a string count there).
Stats: TypeAlias = tuple[int, int, int, int, int, int]
HAS_BLOCK = 1  # holds a block-level element
HAS_BR = 2  # holds a <br>
ANCHORED = 4  # holds (or is) an element with an id, or an <a name>
SELF_BOLD = 8  # is bold itself (<b>, <strong>, a heading, a bold style); not passed to its parents
_INHERITED = HAS_BLOCK | HAS_BR | ANCHORED


def measure(root: Element) -> dict[Element, Stats]:
    """Text, link and bold lengths and flags of every element, in one post-order pass (iterative,
    for deep trees) instead of walking each subtree again for each question.

    The lengths that count white space exactly (text, links, bold) are only asked of inline
    elements inside a block, so they are only taken for elements with no block-level element in
    or around them; block-level elements get 0. The stripped lengths are taken everywhere."""
    stats: dict[Element, Stats] = {}
    block_tags = BLOCK_TAGS
    for _event, tag in etree.iterwalk(root, events=("end",)):
        name = tag.tag
        text = tag.text
        stripped = len(text.strip()) if text else 0
        total = linked = bold = flags = stripped_linked = 0
        children = len(tag)
        if children:
            for child in tag:
                ct, cl, cb, cf, cs, csl = stats[child]
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
            flags &= _INHERITED
        if name in block_tags or flags & HAS_BLOCK:
            total = linked = bold = 0
        else:
            if text:
                total += nonws(text)
            if children:
                for child in tag:
                    tail = child.tail
                    if tail:
                        total += nonws(tail)
        if name == "a":
            linked = total
            stripped_linked = stripped
        if name in _BOLD_NAMES:
            bold = total
            flags |= SELF_BOLD
        if tag.keys():  # most elements have no attributes at all
            if tag.get("id") is not None or (name == "a" and tag.get("name") is not None):
                flags |= ANCHORED
            style = tag.get("style")
            if style and _BOLD_STYLE.search(style):
                bold = total
                flags |= SELF_BOLD
        stats[tag] = (total, linked, bold, flags, stripped, stripped_linked)
    return stats


def find_content(body: Element, stats: dict[Element, Stats]) -> Element:
    """Descend from <body> into the child that holds nearly all of the non-link text."""
    node = body
    while True:
        text, linked = stats[node][4:6]
        content = text - linked
        if content <= 0:
            return node
        best: Element | None = None
        best_len = 0
        for child in node:
            if child.tag not in BLOCK_TAGS:
                continue
            text, linked = stats[child][4:6]
            if text - linked > best_len:
                best, best_len = child, text - linked
        if best is None or best_len < 0.8 * content:
            return node
        if best.tag in ("li", "p", "pre", "blockquote", "td", "dd") or best.tag in HEADINGS:
            return node
        node = best


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


_ALNUM = re.compile(r"[^\W_]")  # str.isalnum() characters
SEPARATOR_GAP = 3  # the gap a rule (<hr>, "-----", "* * *") stands for


def is_separator(text: str) -> bool:
    """A line with no letters or digits ("-----", "* * *", "###", "▼") separates, it says nothing."""
    return _ALNUM.search(text) is None


def _children(tag: Element) -> list[Node]:
    nodes: list[Node] = []
    if tag.text:
        nodes.append(tag.text)
    for child in tag:
        nodes.append(child)
        if child.tail:
            nodes.append(child.tail)
    return nodes


def _nodes_text(nodes: list[Node]) -> str:
    if len(nodes) == 1 and isinstance(nodes[0], str):
        return collapse(nodes[0])
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        else:
            parts.extend(_strings(node))
    return collapse(" ".join(parts))


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


class _Linearizer:
    def __init__(self, stats: dict[Element, Stats]) -> None:
        self.stats = stats
        self.blocks: list[Block] = []
        self.pending_gap = 0
        self.separators: list[str] = []

    def walk(self, root: Element) -> None:
        """Emit blocks in document order, iteratively (pages can nest thousands of levels deep)."""
        stats = self.stats
        # (one ancestor at a time: a deep tree's proxies are freed cheaply only from the bottom up)
        bold = (root.tag not in ("body", "html") and _is_bold_tag(root)) or any(
            _is_bold_tag(t) for t in root.iterancestors() if t.tag not in ("body", "html")
        )
        work: list[tuple[Element, list[Node] | None, bool]] = [(root, None, bold)]
        while work:
            tag, run, bold = work.pop()
            name = tag.tag
            if run is not None:
                # loose text inside a list item is that item's text
                kind = str(name) if name in LEAF_KINDS else "line"
                self.emit_nodes(run, tag, kind, bold, split_br=True, whole=False)
                continue
            if name in HEADINGS:
                self.emit_nodes(_children(tag), tag, str(name), bold, split_br=False, whole=True)
                continue
            if name == "hr":
                self.pending_gap = SEPARATOR_GAP
                continue
            if name == "pre":
                self.emit_nodes(_children(tag), tag, "pre", bold, split_br=False, whole=True)
                continue
            flags = stats[tag][3]
            if not flags & HAS_BLOCK:
                kind = str(name) if name in LEAF_KINDS else "p"
                if name in BR_CONTAINERS and flags & HAS_BR:
                    kind = "line"
                if len(tag):
                    self.emit_nodes(_children(tag), tag, kind, bold, split_br=True, whole=True)
                elif tag.text:  # the common case: a paragraph of nothing but text
                    self.emit_text(tag.text, tag, kind, bold)
                continue
            # a container: runs of inline content become blocks, block children are walked in order
            items: list[tuple[Element, list[Node] | None, bool]] = []
            current: list[Node] = []
            if tag.text:
                current.append(tag.text)
            for child in tag:
                if child.tag in BLOCK_TAGS or stats[child][3] & HAS_BLOCK:
                    if current:
                        items.append((tag, current, bold))
                        current = []
                    items.append((child, None, bold or bool(stats[child][3] & SELF_BOLD)))
                else:
                    current.append(child)
                if child.tail:
                    current.append(child.tail)
            if current:
                items.append((tag, current, bold))
            work.extend(reversed(items))

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
        if len(nodes) == 1 and isinstance(nodes[0], str):
            self.emit_text(nodes[0], parent, kind, bold)
            return
        if not nodes:
            return
        line: list[Node] = []
        lines: list[list[Node]] = []
        for node in nodes:
            if split_br and not isinstance(node, str) and node.tag == "br":
                lines.append(line)
                line = []
            else:
                line.append(node)
        lines.append(line)
        texts = [_nodes_text(part) for part in lines]
        if sum(1 for text in texts if text) > 1:
            kind = "line" if kind == "p" else kind
        container = _signature(parent)
        blank = 0
        single = len(lines) == 1
        for index, part in enumerate(lines):
            text = texts[index]
            if not text:
                if index:
                    blank += 1
                continue
            if is_separator(text):
                self.pending_gap = SEPARATOR_GAP
                self.separators.append(text)
                continue
            inner = _inner_html(parent) if single and whole else _html(part)
            block = _make_block(
                part, parent, kind, text, inner.strip(), container, single, bold, self.stats
            )
            block.gap = max(blank, self.pending_gap)
            blank = 0
            self.pending_gap = 0
            self.blocks.append(block)

    def emit_text(self, raw: str, parent: Element, kind: str, bold: bool) -> None:
        """The common case of :meth:`emit_nodes`: an element that holds nothing but text."""
        text = collapse(raw)
        if not text:
            return
        if not text[0].isalnum() and is_separator(text):
            self.pending_gap = SEPARATOR_GAP
            self.separators.append(text)
            return
        # what _make_block finds for such an element: all bold or none, no links, the element's id
        wrapper = WRAPPERS.get(kind, "p")
        block = Block(
            text=text,
            html=f"<{wrapper}>{htmllib.escape(raw, quote=False).strip()}</{wrapper}>",
            tag=kind,
            bold=kind in HEADINGS or bold,
            anchor=parent.get("id") or None,
            container=_signature(parent),
            gap=self.pending_gap,
            element=parent,
        )
        self.pending_gap = 0
        if not block.bold and text[0] in "【[":  # (the text is collapsed: no leading space)
            _bracket_lead(block)
        self.blocks.append(block)


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


_BRACKET_LEAD = re.compile(r"^\s*([【\[]([^】\]]{2,60})[】\]])\s*(.*)$", re.S)


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
    container: str,
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
        bold=kind in HEADINGS or (bool(compact) and bold_len >= 0.9 * compact),
        link_ratio=link_len / compact if compact else 0.0,
        container=container,
        element=parent,
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
    if not block.bold and kind not in HEADINGS:
        _find_lead(block, nodes)
    return block


def _find_lead(block: Block, nodes: list[Node]) -> None:
    """A bold or linked phrase that opens the block and is followed by more text."""
    if nodes and isinstance(nodes[0], str) and nodes[0].strip():
        _bracket_lead(block)  # opens with text: no bold or linked lead
        return
    index = next(
        (i for i, n in enumerate(nodes) if not isinstance(n, str) or n.strip()), len(nodes)
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
            lead = text_of(first)
            rest_nodes = nodes[index + 1 :]
            rest = _nodes_text(rest_nodes)
            if lead and rest and nonws(rest) >= 2:
                block.lead = lead.rstrip(":：.-—– ")
                block.lead_kind = kind
                block.rest_text = rest.lstrip(":：-—– ")
                block.rest_html = "<p>" + _html(rest_nodes).strip().lstrip(":：-—– ") + "</p>"
                return
    _bracket_lead(block)


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


_MARK = "data-feedbot-content"


def _select(
    text: str,
    content_selector: str | None,
    exclude: tuple[str, ...],
    dropped: list[tuple[str, str]],
) -> Element | None:
    """Apply per-source CSS selectors with soupsieve (the engine the config validates them with) on
    a BeautifulSoup tree, then hand the result back as an lxml tree: the part to split, with the
    excluded parts gone. Only sources that set selectors pay for the second parse."""
    soup = parse_html(text)
    scope = soup.body if isinstance(soup.body, Tag) else soup
    if content_selector:
        found = soup.select_one(content_selector)
        if not isinstance(found, Tag):
            return None
        scope = found
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
    marked = root.find(f".//*[@{_MARK}]")
    if marked is None:
        return _body(root)
    del marked.attrib[_MARK]
    return marked


def _prepare(text: str) -> Element:
    root = parse_tree(text)
    etree.strip_elements(root, *_INVISIBLE, with_tail=False)
    return root


def _body(root: Element) -> Element:
    body = root.find("body")
    return body if body is not None else root


def extract_html(
    text: str, *, content_selector: str | None = None, exclude: tuple[str, ...] = ()
) -> Extracted:
    root = parse_tree(text)
    lang, dated = date_hints(root)
    etree.strip_elements(root, *_INVISIBLE, with_tail=False)
    title = page_title(root)
    published = page_date(root)
    dropped: list[tuple[str, str]] = []
    if content_selector or exclude:
        scope = _select(text, content_selector, exclude, dropped)
        if scope is None:
            return Extracted(
                title,
                [],
                dropped,
                published,
                f"(nothing matches {content_selector!r})",
                False,
                lang,
                dated,
            )
    else:
        scope = _body(root)
    remove_furniture(scope, dropped)
    stats = measure(scope)
    content = scope if content_selector else find_content(scope, stats)
    lin = _Linearizer(stats)
    lin.walk(content)
    blocks = lin.blocks
    dropped.extend(("separator", text) for text in lin.separators)
    # the page title (usually an <h1> above or inside the content) is not an item
    if title:
        kept: list[Block] = []
        h1s = sum(1 for block in blocks if block.tag == "h1")
        for block in blocks:
            if (block.tag == "h1" and h1s == 1) or (block.text == title and len(kept) == 0):
                dropped.append(("title", block.text))
                continue
            kept.append(block)
        blocks = kept
    return Extracted(title, blocks, dropped, published, path_of(content), False, lang, dated)


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
                container="text",
                gap=gap if blocks else 0,
            )
        )
        gap = 0
    title = ""
    return Extracted(title, blocks, dropped, None, "text", is_text=True)


def local_tz(offset_hours: float) -> timezone:
    return timezone(timedelta(hours=offset_hours))
