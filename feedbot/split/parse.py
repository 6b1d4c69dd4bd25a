"""The functions that parse HTML into a tree. Kept behind one door so that the splitter never needs to
know how a page was parsed.

``parse_tree`` is the hot path: lxml's own HTML parser (libxml2) builds its tree in C, about ten times
faster than BeautifulSoup builds its tree from the same parser's events. ``parse_html`` builds a
BeautifulSoup tree, used where soupsieve's CSS selectors are needed (per-source selectors, which the
config validates with the same engine), off the hot path.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from lxml import etree

_EMPTY = b"<html><body></body></html>"
# C0 control characters other than tab, line feed and carriage return: not allowed in HTML text, and
# lxml refuses them when text is moved (a removed element's tail). In UTF-8 these bytes never occur
# inside a multi-byte sequence, so deleting them from the bytes is safe.
_CONTROLS = bytes([*range(0, 9), 11, 12, *range(14, 32)])
# a self-closing <html ... />, <head/> or <body/> start tag (XHTML habits: en-cracked-6-things' page
# opens with <html id=… xmlns:fb=… />): HTML ignores the slash on an element that is not void, and
# libxml2 closes the element there, leaving an empty page; the slash is dropped before parsing
_SELF_CLOSED = re.compile(rb"(<(?:html|head|body)\b[^<>]*?)\s*/>", re.I)
_SELF_CLOSED_REACH = 8192  # such a tag opens the page: looked for this far only


def parse_html(text: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(text, "lxml")


def _parser(*, target: bool = False) -> etree.HTMLParser:
    return etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        huge_tree=target,
        target=etree.TreeBuilder() if target else None,
    )


def parse_tree(text: str) -> etree._Element:
    """An lxml tree of the page: always an ``<html>`` root, comments and processing instructions
    left out. A page nested deeper than libxml2's tree builder allows (256 levels) is parsed again
    through the parser's event interface, which has no such limit, so no text is ever lost."""
    data = text.encode("utf-8", "replace").translate(None, _CONTROLS)
    head = data[:_SELF_CLOSED_REACH]
    if b"/>" in head and _SELF_CLOSED.search(head):
        data = _SELF_CLOSED.sub(rb"\1>", head) + data[_SELF_CLOSED_REACH:]
    if not data.strip():
        data = _EMPTY
    parser = _parser()
    root: etree._Element | None
    try:
        root = etree.fromstring(data, parser)
    except etree.LxmlError:
        root = None
    if root is None or any(e.level >= etree.ErrorLevels.FATAL for e in parser.error_log):
        try:
            root = etree.fromstring(data, _parser(target=True))
        except etree.LxmlError:
            root = None
    if root is None or not isinstance(root.tag, str):
        root = etree.fromstring(_EMPTY, _parser())
    return root
