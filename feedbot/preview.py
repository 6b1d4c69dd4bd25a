"""What the preview page shows: a page's split laid over the page itself, and the config lines that
would fix it.

Owns: finding each item's headline and body and each cut block in the page's own tree (:func:`marks`),
the selectors a click turns into (:func:`css_path`, :func:`level_selector`), the annotated and
sanitised copy of the page that the preview shows (:func:`annotate`: no scripts, no styles, no
requests of any kind), the levels the splitter considered (:func:`levels`), and the ``[[sources]]``
lines for the config (:func:`source_lines`). Pure: values in, values out; no network, no disk.

Where each block's element is comes from the splitter's own explanation
(:func:`feedbot.split.explain.explain_page`: a selector per block and per region it cut,
:func:`explained_marks`); a plain-text page has no elements, so its lines are found by their text
(:func:`marks`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
import tomlkit
from lxml import etree

from .errors import FeedbotError
from .model import Split
from .split.dom import element_paths
from .split.explain import Explanation
from .split.parse import parse_tree

Element = etree._Element

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# elements a headline or a body block can be (the splitter's blocks come from these)
BLOCKS = frozenset(
    {
        *HEADINGS,
        "p",
        "li",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "td",
        "th",
        "figcaption",
        "figure",
        "table",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "main",
        "ul",
        "ol",
        "dl",
        "address",
    }
)
INLINE_HEADS = frozenset({"strong", "b", "a", "em", "span"})
# elements a user may pick as the content area
BOXES = frozenset({"div", "section", "article", "main", "table", "ul", "ol", "dl", "body"})
# what the preview shows of the page: structure and text, no forms, media, scripts or styles
SHOWN_TAGS = frozenset(
    {
        *HEADINGS,
        *BLOCKS,
        "a",
        "abbr",
        "b",
        "br",
        "caption",
        "cite",
        "code",
        "del",
        "em",
        "hr",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "tbody",
        "tfoot",
        "thead",
        "time",
        "tr",
        "u",
    }
)
ATTR_PREFIX = "data-fb-"
_SIMPLE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_SIMPLE_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# class names that say where a block is, not what it is: a level selector leaves them out
_POSITIONAL_CLASS = re.compile(r"(^|[-_])(first|last|odd|even|active|current|selected|\d+)($|[-_])")


@dataclass(frozen=True)
class Mark:
    """One element of the page and the part it plays in the split."""

    path: str  # CSS selector of the element (unique in the page)
    role: str  # "headline", "body" or "cut"
    item: int | None = None  # headline and body: the item's index (0-based)
    reason: str | None = None  # cut: why


@dataclass(frozen=True)
class Level:
    """A headline level the splitter considered."""

    name: str
    count: int
    score: float
    reasons: tuple[str, ...]
    chosen: bool
    selector: str | None  # a headline_selector that forces it, when one is known


def squash(text: str) -> str:
    """Text without any white space: the key two renderings of the same text share."""
    return "".join(text.split())


def element_text(element: Element) -> str:
    return " ".join(" ".join(t for t in element.itertext() if isinstance(t, str)).split())


def _is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def page_tree(text: str, content_type: str) -> Element:
    """The page as the preview shows it: HTML parsed, plain text as one paragraph per line."""
    if content_type == "text/plain":
        root = etree.fromstring("<html><body></body></html>", etree.HTMLParser())
        body = root.find("body")
        assert body is not None
        for line in text.splitlines():
            if line.strip():
                etree.SubElement(body, "p").text = line.strip()
        return root
    return parse_tree(text)


class Paths:
    """CSS selectors that each match one element of a page: from the nearest ancestor with a
    unique, simple id (or from ``body``), each step a tag with ``:nth-of-type`` where it has
    siblings of the same tag. Built once per page, top-down."""

    def __init__(self, root: Element) -> None:
        counts: dict[str, int] = {}
        for element in root.iter():
            ident = element.get("id") if _is_element(element) else None
            if ident:
                counts[ident] = counts.get(ident, 0) + 1
        self._unique = {i for i, n in counts.items() if n == 1 and _SIMPLE_ID.match(i)}
        self._paths: dict[Element, str] = {}

    def __call__(self, element: Element) -> str:
        known = self._paths.get(element)
        if known is not None:
            return known
        tag = str(element.tag)
        ident = element.get("id")
        parent = element.getparent()
        if tag in ("html", "body") or parent is None:
            path = "body" if tag == "body" else tag
        elif ident and ident in self._unique:
            path = f"#{ident}"
        else:
            same = [child for child in parent if child.tag == tag]
            step = tag if len(same) == 1 else f"{tag}:nth-of-type({same.index(element) + 1})"
            above = "" if parent.tag == "html" else self(parent)
            path = f"{above} > {step}" if above else step
        self._paths[element] = path
        return path


def css_path(element: Element) -> str:
    """A CSS selector that matches ``element`` alone (see :class:`Paths`)."""
    return Paths(element.getroottree().getroot())(element)


def level_selector(element: Element) -> str:
    """The headline_selector for "every headline like this one": the element's tag with its
    descriptive classes; an inline headline (a bold lead) with its block's tag before it."""
    tag = str(element.tag)
    classes = [
        c
        for c in (element.get("class") or "").split()
        if _SIMPLE_CLASS.match(c) and not _POSITIONAL_CLASS.search(c)
    ]
    own = tag + "".join(f".{c}" for c in classes)
    parent = element.getparent()
    if tag in INLINE_HEADS and parent is not None and _is_element(parent):
        return f"{parent.tag} > {own}"
    return own


def _descend(element: Element, key: str, keys: Mapping[Element, str]) -> Element:
    """The innermost element under ``element`` with the same text (``<p><strong>X</strong></p>``:
    the ``strong``)."""
    while True:
        inner = next((c for c in element if _is_element(c) and keys.get(c) == key), None)
        if inner is None:
            return element
        element = inner


def _lead_of(element: Element, key: str, keys: Mapping[Element, str]) -> Element:
    """The element under ``element`` (whose text starts with the headline) that holds the
    headline: the deepest block whose text still starts with it, then an inline element there whose
    text is the headline (a bold lead), else that block."""
    while True:
        inner = next(
            (c for c in element if _is_element(c) and keys.get(c, "").startswith(key)), None
        )
        if inner is None:
            return element
        if keys.get(inner) == key:
            return _descend(inner, key, keys)
        element = inner


def marks(root: Element, split: Split) -> list[tuple[Element, Mark]]:
    """Each item's headline and body blocks and each cut block, found in ``root`` by their text in
    document order. Text found nowhere (the splitter joins and trims some) is left unmarked; the
    preview lists every item and cut beside the page anyway."""
    body = root.find("body")
    scope = body if body is not None else root
    order = [
        e for e in scope.iter() if _is_element(e) and (e.tag in BLOCKS or e.tag in INLINE_HEADS)
    ]
    keys = {e: squash(element_text(e)) for e in order}
    position = {e: i for i, e in enumerate(order)}
    path = Paths(root)
    found: list[tuple[Element, Mark]] = []
    taken: set[Element] = set()
    cursor = 0
    heads: list[Element | None] = []
    for n, item in enumerate(split.items):
        key = squash(item.headline)
        head: Element | None = None
        for i in range(cursor, len(order)):
            element = order[i]
            text = keys[element]
            if not key or element in taken:
                continue
            if text == key or (text.endswith(key) and len(text) - len(key) <= 6):
                head = _descend(element, text, keys)
            elif text.startswith(key) and element.tag in BLOCKS:
                head = _lead_of(element, key, keys)
            if head is not None:
                cursor = position.get(head, i) + 1
                break
        heads.append(head)
        if head is not None:
            taken.add(head)
            found.append((head, Mark(path(head), "headline", n)))
    for n, item in enumerate(split.items):
        head = heads[n]
        if head is None:
            continue
        start = position.get(head, 0) + 1
        nxt = next((h for h in heads[n + 1 :] if h is not None), None)
        end = position[nxt] if nxt is not None else len(order)
        text = squash(item.body_text)
        ancestors = set(head.iterancestors())
        block = next((a for a in head.iterancestors() if a.tag in BLOCKS), None)
        # a headline that leads its block ("**Title** text"): the block is the item's body
        if (
            block is not None
            and head.tag in INLINE_HEADS
            and block not in taken
            and len(keys[block]) > len(keys[head])
            and keys[block][len(keys[head]) :] in text
        ):
            taken.add(block)
            found.append((block, Mark(path(block), "body", n)))
        for element in order[start:end]:
            key = keys[element]
            if (
                element in taken
                or element in ancestors
                or not key
                or element.tag not in BLOCKS
                or any(a in taken for a in element.iterancestors())
                or key not in text
            ):
                continue
            taken.add(element)
            found.append((element, Mark(path(element), "body", n)))
    for dropped in split.dropped:
        key = squash(dropped.text)
        if not key:
            continue
        for element in order:
            if element in taken or keys[element] != key:
                continue
            if any(a in taken for a in element.iterancestors()):
                continue
            taken.add(element)
            found.append((element, Mark(path(element), "cut", reason=dropped.reason)))
            break
    return found


def explained_marks(root: Element, explained: Explanation) -> list[tuple[Element, Mark]]:
    """Each block's element and part as the splitter reports them (``explained.blocks``: headline,
    body or cut, with its item and reason) and the regions it removed as furniture
    (``explained.cut_regions``), found in ``root`` by their selectors. An element that holds several
    blocks (lines split at ``<br>``) takes the first headline's part, else the first block's."""
    where = {path: element for element, path in element_paths(_scope(root)).items()}
    chosen: dict[Element, Mark] = {}
    for block in explained.blocks:
        element = where.get(block.selector) if block.selector else None
        if element is None:
            continue
        mark = Mark(block.selector, block.role, block.item, block.reason)
        known = chosen.get(element)
        if known is None or (block.role == "headline" and known.role != "headline"):
            chosen[element] = mark
    for reason, _text, selector in explained.cut_regions:
        element = where.get(selector)
        if element is not None and element not in chosen:
            chosen[element] = Mark(selector, "cut", None, reason)
    return list(chosen.items())


def _scope(root: Element) -> Element:
    body = root.find("body")
    return body if body is not None else root


def explained_levels(explained: Explanation) -> list[Level]:
    """The levels the splitter considered, in its order, each with the selector that forces it and
    its verdict (why it was chosen or not) first among its reasons."""
    return [
        Level(
            level.name,
            level.headlines,
            level.score,
            tuple(r for r in (level.verdict, *level.reasons) if r),
            level.chosen,
            level.selector or None,
        )
        for level in explained.levels
    ]


def levels(split: Split, head_elements: Sequence[Element] = ()) -> list[Level]:
    """The levels the splitter considered, best first, each with a selector that forces it when
    one is known: a heading level is its tag; the chosen level is its headlines' selector."""
    chosen_selector = None
    if head_elements:
        first = head_elements[0]
        # a paragraph or a line says nothing of its level; a heading, a bold lead or a class does
        if first.tag in HEADINGS or first.tag in INLINE_HEADS or first.get("class"):
            chosen_selector = level_selector(first)
    result = []
    for candidate in split.candidates:
        chosen = candidate.name == split.structure
        selector: str | None = None
        if chosen and chosen_selector:
            selector = chosen_selector
        elif candidate.name in HEADINGS:
            selector = candidate.name
        result.append(
            Level(
                candidate.name,
                candidate.count,
                candidate.score,
                candidate.reasons,
                chosen,
                selector if candidate.name != "single-article" else None,
            )
        )
    return result


@dataclass(frozen=True)
class Heading:
    """One line of the page's outline: a heading or a headline, its depth and its item."""

    depth: int  # 1 for h1 ... 6 for h6; a headline that is no heading sits below the last heading
    text: str
    tag: str
    item: int | None  # the item it heads, when it is one of the split's headlines
    path: str


def outline(root: Element, found: Iterable[tuple[Element, Mark]]) -> list[Heading]:
    """The page's outline as the preview shows it: its headings (h1-h6) and the split's headlines,
    in document order, each at its depth."""
    heads = {element: mark.item for element, mark in found if mark.role == "headline"}
    body = root.find("body")
    scope = body if body is not None else root
    path = Paths(root)
    lines: list[Heading] = []
    depth = 0
    for element in scope.iter():
        if not _is_element(element):
            continue
        if element.tag in HEADINGS:
            depth = int(str(element.tag)[1])
            level = depth
        elif element in heads:
            level = depth + 1
        else:
            continue
        text = element_text(element)
        if text:
            lines.append(Heading(level, text, str(element.tag), heads.get(element), path(element)))
    return lines


def annotate(root: Element, found: Iterable[tuple[Element, Mark]]) -> str:
    """The page's body as safe HTML for the preview: every block and box carries its selector
    (``data-fb-path``), headline-like elements their level (``data-fb-level``), marked elements
    their role, item number and reason. Sanitised with nh3 afterwards: no scripts, styles, event
    handlers, forms, media or URLs survive, so showing it makes no request of any kind."""
    for element in root.iter():
        if not _is_element(element):
            continue
        for name in [a for a in element.attrib if str(a).startswith(ATTR_PREFIX)]:
            del element.attrib[name]  # the page's own data-fb-* attributes are not ours
    for element, mark in found:
        element.set("data-fb-role", mark.role)
        if mark.item is not None:
            element.set("data-fb-item", str(mark.item))
            element.set("data-fb-n", str(mark.item + 1))
            element.set("data-fb-parity", "odd" if mark.item % 2 else "even")
        if mark.reason:
            element.set("data-fb-reason", mark.reason)
    body = root.find("body")
    scope = body if body is not None else root
    path = Paths(root)
    for element in scope.iter():
        if not _is_element(element):
            continue
        if element.tag in BLOCKS or element.tag in INLINE_HEADS:
            element.set("data-fb-path", path(element))
        if element.tag in HEADINGS or element.tag in INLINE_HEADS or element.tag in BLOCKS:
            element.set("data-fb-level", level_selector(element))
        if element.tag in BOXES:
            element.set("data-fb-box", "1")
    scope.set("data-fb-path", "body")
    html = etree.tostring(scope, encoding="unicode", method="html")
    return nh3.clean(
        html,
        tags=set(SHOWN_TAGS),
        clean_content_tags={"script", "style", "template", "noscript", "textarea", "title"},
        attributes={},
        generic_attribute_prefixes={ATTR_PREFIX},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


# --- config lines ----------------------------------------------------------------------------
SPLIT_KEYS = ("split", "content_selector", "exclude_selectors", "headline_selector")


def source_lines(table: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
    """The ``[[sources]]`` table ``table`` (as the config file has it, or a new one) with
    ``changes`` applied — a value of None or an empty list removes the key — as TOML to paste."""
    doc = tomlkit.document()
    aot = tomlkit.aot()
    entry = tomlkit.table()
    merged = apply_changes(table, changes)
    for key, value in merged.items():
        entry.add(key, value)
    aot.append(entry)
    doc.add("sources", aot)
    return tomlkit.dumps(doc).strip() + "\n"


def check_selector(key: str, selector: str) -> None:
    """Raise FeedbotError unless soupsieve (the engine the splitter uses) reads ``selector``."""
    import soupsieve

    try:
        soupsieve.compile(selector)
    except Exception as exc:  # soupsieve's SelectorSyntaxError (a ValueError) and friends
        raise FeedbotError(f"{key} {selector!r} is not a valid CSS selector: {exc}") from None


def apply_changes(table: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in table.items()}
    for key, value in changes.items():
        if value is None or value == [] or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if merged.get("split") == "auto":
        merged.pop("split")
    return merged
