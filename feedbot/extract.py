"""From page text to a linear list of blocks inside the content area.

Owns: parsing (through :mod:`feedbot.parse`), removing page furniture (navigation, ads, share bars,
"related" lists, comments, footers), finding the content area, and flattening it into blocks — one per
heading, paragraph, list item or ``<br>``-separated line — with the features the splitter needs.
Must not: decide which blocks are headlines (that is :mod:`feedbot.split`), or do any I/O.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from bs4 import BeautifulSoup
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
)

from .parse import parse_html

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
_WS = re.compile(r"\s+")
_DATE_RE = re.compile(
    r"(20\d\d|19\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


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
    container: str = ""  # signature of the parent element
    gap: int = 0  # separation before the block: blank lines (text, <br><br>), 3 for a rule or <hr>
    element: Tag | None = field(default=None, repr=False, compare=False)


@dataclass
class Extracted:
    title: str
    blocks: list[Block]
    dropped: list[tuple[str, str]]
    published: datetime | None
    content_path: str
    is_text: bool = False


def _tokens(tag: Tag) -> set[str]:
    values: list[str] = []
    for attr in ("class", "id", "role"):
        value = tag.get(attr)
        if isinstance(value, list):
            values.extend(value)
        elif isinstance(value, str):
            values.append(value)
    tokens: set[str] = set()
    for value in values:
        value = _CAMEL.sub("-", value).lower()
        tokens.add(value)
        tokens.update(t for t in _TOKEN_SPLIT.split(value) if t)
    return tokens


def _is_furniture(tag: Tag) -> bool:
    tokens = _tokens(tag)
    if tokens & FURNITURE:
        return True
    role = tag.get("role")
    if role in ("navigation", "banner", "contentinfo", "complementary", "search"):
        return True
    style = tag.get("style")
    if isinstance(style, str) and _HIDDEN_STYLE.search(style):
        return True
    return bool(tag.get("hidden") is not None or tag.get("aria-hidden") == "true")


def _text_len(tag: Tag) -> int:
    return len(collapse(tag.get_text(" ")))


def page_title(soup: BeautifulSoup) -> str:
    h1 = soup.find("h1")
    if isinstance(h1, Tag):
        text = collapse(h1.get_text(" "))
        if text:
            return text
    meta = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(meta, Tag) and isinstance(meta.get("content"), str):
        return collapse(str(meta["content"]))
    title = soup.find("title")
    if isinstance(title, Tag):
        text = collapse(title.get_text(" "))
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
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def page_date(soup: BeautifulSoup) -> datetime | None:
    """A publication date the page states: meta tags, <time datetime>, or a date near the title."""
    meta_attrs: tuple[dict[str, str | bool], ...] = (
        {"property": "article:published_time"},
        {"name": "pubdate"},
        {"name": "publishdate"},
        {"itemprop": "datePublished"},
        {"name": "date"},
    )
    for attrs in meta_attrs:
        meta = soup.find("meta", attrs=dict(attrs))
        if isinstance(meta, Tag) and isinstance(meta.get("content"), str):
            found = _parse_date(str(meta["content"]))
            if found:
                return found
    time_tag = soup.find("time", attrs={"datetime": True})
    if isinstance(time_tag, Tag):
        found = _parse_date(str(time_tag["datetime"]))
        if found:
            return found
    h1 = soup.find("h1")
    if isinstance(h1, Tag):
        for sibling in h1.find_all_next(limit=8):
            if not isinstance(sibling, Tag) or sibling.name in HEADINGS:
                continue
            text = collapse(sibling.get_text(" "))
            if len(text) < 80:
                match = _DATE_RE.search(text)
                if match:
                    return _parse_date(match.group(0))
    return None


def remove_furniture(
    root: Tag, total: int, dropped: list[tuple[str, str]], exclude: tuple[str, ...] = ()
) -> None:
    """Remove page furniture in place. An element holding most of the page's text is never removed."""
    for selector in exclude:
        for tag in root.select(selector):
            _drop(tag, "excluded", dropped)
    for node in list(root.descendants):
        if isinstance(node, Comment | Doctype | Declaration | ProcessingInstruction | CData):
            node.extract()
    for tag in list(root.find_all(True)):
        # not tag.decomposed: bs4 answers that for a live tag by searching its whole subtree for a
        # child tag named "_decomposed" (quadratic on deeply nested pages)
        if vars(tag).get("_decomposed") or tag.parent is None:
            continue
        if tag.name in DROP_TAGS:
            if tag.name == "form" and total and _text_len(tag) > 0.5 * total:
                # ASP.NET-style pages wrap the whole page in one <form>
                continue
            if tag.name in ("script", "style", "noscript", "template", "head", "link", "meta"):
                tag.decompose()
            else:
                _drop(tag, tag.name, dropped)
        elif tag.name not in ("html", "body") and _is_furniture(tag):
            if total and _text_len(tag) > 0.5 * total:
                continue
            _drop(tag, "furniture", dropped)


def _drop(tag: Tag, reason: str, dropped: list[tuple[str, str]]) -> None:
    text = collapse(tag.get_text(" "))
    if text:
        dropped.append((reason, text))
    tag.decompose()


def _own_len(tag: Tag) -> tuple[int, int]:
    """(text length, text length inside links) of a subtree."""
    total = 0
    linked = 0
    for text in tag.find_all(string=True):
        length = len(text.strip())
        if not length:
            continue
        total += length
        parent = text.parent
        while parent is not None and parent is not tag:
            if parent.name == "a":
                linked += length
                break
            parent = parent.parent
    return total, linked


def find_content(body: Tag) -> Tag:
    """Descend from <body> into the child that holds nearly all of the non-link text."""
    node = body
    total, linked = _own_len(node)
    while True:
        content = total - linked
        if content <= 0:
            return node
        best: Tag | None = None
        best_len = 0
        best_counts = (0, 0)
        elements = [c for c in node.children if isinstance(c, Tag)]
        if len(elements) == 1 and not any(
            str(c).strip() for c in node.children if not isinstance(c, Tag)
        ):
            # a pure wrapper holds all its parent's text: no need to count it again (hostile
            # pages nest thousands of wrappers, and counting at every level was quadratic)
            if elements[0].name in BLOCK_TAGS:
                best, best_len, best_counts = elements[0], content, (total, linked)
        else:
            for child in elements:
                if child.name not in BLOCK_TAGS:
                    continue
                t, link = _own_len(child)
                if t - link > best_len:
                    best, best_len, best_counts = child, t - link, (t, link)
        if best is None or best_len < 0.8 * content:
            return node
        if best.name in ("li", "p", "pre", "blockquote", "td", "dd") or best.name in HEADINGS:
            return node
        node = best
        total, linked = best_counts


def path_of(tag: Tag) -> str:
    parts: list[str] = []
    node: Tag | None = tag
    while node is not None and node.name not in ("[document]", "html"):
        name = node.name
        ident = node.get("id")
        classes = node.get("class")
        if isinstance(ident, str) and ident:
            name += "#" + ident
        elif isinstance(classes, list) and classes:
            name += "." + ".".join(classes[:2])
        parts.append(name)
        node = node.parent
    return " > ".join(reversed(parts))


SEPARATOR_GAP = 3  # the gap a rule (<hr>, "-----", "* * *") stands for


def is_separator(text: str) -> bool:
    """A line with no letters or digits ("-----", "* * *", "###", "▼") separates, it says nothing."""
    return not any(ch.isalnum() for ch in text)


class _Linearizer:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.has_block: dict[int, bool] = {}
        self.pending_gap = 0
        self.separators: list[str] = []

    def mark(self, root: Tag) -> None:
        """Post-order: does each element contain a block-level element? (iterative, for deep trees)"""
        stack: list[tuple[Tag, bool]] = [(root, False)]
        while stack:
            tag, done = stack.pop()
            if done:
                flag = False
                for child in tag.children:
                    if isinstance(child, Tag) and (
                        child.name in BLOCK_TAGS or self.has_block.get(id(child), False)
                    ):
                        flag = True
                        break
                self.has_block[id(tag)] = flag
                continue
            stack.append((tag, True))
            for child in tag.children:
                if isinstance(child, Tag):
                    stack.append((child, False))

    def walk(self, root: Tag) -> None:
        """Emit blocks in document order, iteratively (pages can nest thousands of levels deep)."""
        work: list[tuple[Tag, list[NavigableString | Tag] | None]] = [(root, None)]
        while work:
            tag, run = work.pop()
            if run is not None:
                # loose text inside a list item is that item's text
                kind = tag.name if tag.name in LEAF_KINDS else "line"
                self.emit_nodes(run, tag, kind, split_br=True)
                continue
            name = tag.name
            if name in HEADINGS:
                self.emit_nodes(_children(tag), tag, name, split_br=False)
                continue
            if name == "hr":
                self.pending_gap = SEPARATOR_GAP
                continue
            if name == "pre":
                self.emit_nodes(_children(tag), tag, "pre", split_br=False)
                continue
            if not self.has_block.get(id(tag), False):
                kind = name if name in LEAF_KINDS else "p"
                if name in BR_CONTAINERS and tag.find("br") is not None:
                    kind = "line"
                self.emit_nodes(_children(tag), tag, kind, split_br=True)
                continue
            # a container: runs of inline content become blocks, block children are walked in order
            items: list[tuple[Tag, list[NavigableString | Tag] | None]] = []
            current: list[NavigableString | Tag] = []
            for child in tag.children:
                if isinstance(child, Tag) and (
                    child.name in BLOCK_TAGS or self.has_block.get(id(child), False)
                ):
                    if current:
                        items.append((tag, current))
                        current = []
                    items.append((child, None))
                elif isinstance(child, NavigableString | Tag):
                    current.append(child)
            if current:
                items.append((tag, current))
            work.extend(reversed(items))

    def emit_nodes(
        self, nodes: list[NavigableString | Tag], parent: Tag, kind: str, *, split_br: bool
    ) -> None:
        line: list[NavigableString | Tag] = []
        lines: list[list[NavigableString | Tag]] = []
        for node in nodes:
            if split_br and isinstance(node, Tag) and node.name == "br":
                lines.append(line)
                line = []
            else:
                line.append(node)
        lines.append(line)
        if len([ln for ln in lines if _nodes_text(ln)]) > 1:
            kind = "line" if kind == "p" else kind
        container = path_of(parent)
        blank = 0
        for index, part in enumerate(lines):
            text = _nodes_text(part)
            if not text:
                if index:
                    blank += 1
                continue
            if is_separator(text):
                self.pending_gap = SEPARATOR_GAP
                self.separators.append(text)
                continue
            block = _make_block(
                part, parent, kind, text, container, whole=len(lines) == 1 or index == -1
            )
            block.gap = max(blank, self.pending_gap)
            blank = 0
            self.pending_gap = 0
            self.blocks.append(block)


def _children(tag: Tag) -> list[NavigableString | Tag]:
    return [c for c in tag.children if isinstance(c, NavigableString | Tag)]


def _nodes_text(nodes: list[NavigableString | Tag]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Tag):
            parts.append(node.get_text(" "))
        else:
            parts.append(str(node))
    return collapse(" ".join(parts))


def _is_bold_tag(tag: Tag) -> bool:
    if tag.name in ("b", "strong") or tag.name in HEADINGS:
        return True
    style = tag.get("style")
    return isinstance(style, str) and bool(_BOLD_STYLE.search(style))


def _bold_and_link_len(nodes: list[NavigableString | Tag], parent: Tag) -> tuple[int, int]:
    bold = 0
    linked = 0
    parent_bold = any(
        _is_bold_tag(p)
        for p in [parent, *parent.parents]
        if isinstance(p, Tag) and p.name not in ("body", "html", "[document]")
    )
    for node in nodes:
        strings: list[tuple[NavigableString, Tag | None]] = []
        if isinstance(node, Tag):
            strings = [(s, node) for s in node.find_all(string=True)]
        else:
            strings = [(node, None)]
        for text, top in strings:
            length = len(_WS.sub("", str(text)))
            if not length:
                continue
            is_bold = parent_bold
            is_link = False
            element = text.parent
            while element is not None and element is not parent:
                if _is_bold_tag(element):
                    is_bold = True
                if element.name == "a":
                    is_link = True
                element = element.parent
            if is_bold:
                bold += length
            if is_link:
                linked += length
            del top
    return bold, linked


_BRACKET_LEAD = re.compile(r"^\s*([【\[]([^】\]]{2,60})[】\]])\s*(.*)$", re.S)


def _make_block(
    nodes: list[NavigableString | Tag],
    parent: Tag,
    kind: str,
    text: str,
    container: str,
    whole: bool,
) -> Block:
    inner = "".join(str(n) for n in nodes).strip()
    wrapper = WRAPPERS.get(kind, "p")
    html = f"<{wrapper}>{inner}</{wrapper}>"
    compact = _WS.sub("", text)
    bold_len, link_len = _bold_and_link_len(nodes, parent)
    block = Block(
        text=text,
        html=html,
        tag=kind,
        bold=kind in HEADINGS or (bool(compact) and bold_len >= 0.9 * len(compact)),
        link_ratio=link_len / len(compact) if compact else 0.0,
        container=container,
        element=parent,
    )
    ident = parent.get("id") if whole else None
    if isinstance(ident, str) and ident:
        block.anchor = ident
    else:
        for node in nodes:
            if isinstance(node, Tag):
                found = node if node.get("id") else node.find(id=True)
                if isinstance(found, Tag) and isinstance(found.get("id"), str):
                    block.anchor = str(found["id"])
                    break
                named = (
                    node
                    if node.name == "a" and node.get("name")
                    else node.find("a", attrs={"name": True})
                )
                if isinstance(named, Tag) and isinstance(named.get("name"), str):
                    block.anchor = str(named["name"])
                    break
    if not block.bold and kind not in HEADINGS:
        _find_lead(block, nodes)
    return block


def _find_lead(block: Block, nodes: list[NavigableString | Tag]) -> None:
    """A bold or linked phrase that opens the block and is followed by more text."""
    index = next(
        (i for i, n in enumerate(nodes) if isinstance(n, Tag) or str(n).strip()), len(nodes)
    )
    first = nodes[index] if index < len(nodes) and isinstance(nodes[index], Tag) else None
    if isinstance(first, Tag):
        inner = first
        # <b><a>lead</a></b> or <a><b>lead</b></a>
        kind: str | None = None
        if _is_bold_tag(inner):
            kind = "bold"
        elif inner.name == "a":
            kind = "link"
        elif inner.name in ("span", "font", "em", "i") and len(list(inner.children)) == 1:
            child = next(iter(inner.children))
            if isinstance(child, Tag) and _is_bold_tag(child):
                kind = "bold"
        if kind:
            lead = collapse(first.get_text(" "))
            rest_nodes = nodes[index + 1 :]
            rest = _nodes_text(rest_nodes)
            if lead and rest and len(_WS.sub("", rest)) >= 2:
                block.lead = lead.rstrip(":：.-—– ")
                block.lead_kind = kind
                block.rest_text = rest.lstrip(":：-—– ")
                block.rest_html = (
                    "<p>" + "".join(str(n) for n in rest_nodes).strip().lstrip(":：-—– ") + "</p>"
                )
                return
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


def extract_html(
    text: str, *, content_selector: str | None = None, exclude: tuple[str, ...] = ()
) -> Extracted:
    soup = parse_html(text)
    title = page_title(soup)
    published = page_date(soup)
    dropped: list[tuple[str, str]] = []
    body = soup.body if isinstance(soup.body, Tag) else soup
    total = _text_len(body)
    content: Tag | None = None
    if content_selector:
        found = soup.select_one(content_selector)
        content = found if isinstance(found, Tag) else None
        if content is None:
            return Extracted(
                title, [], dropped, published, f"(nothing matches {content_selector!r})"
            )
        remove_furniture(content, _text_len(content), dropped, exclude)
    else:
        remove_furniture(body, total, dropped, exclude)
        content = find_content(body)
    lin = _Linearizer()
    lin.mark(content)
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
    return Extracted(title, blocks, dropped, published, path_of(content))


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
