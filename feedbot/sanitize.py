"""Making item HTML safe to put in a feed: absolute URLs, no scripts or event handlers, no
``javascript:`` links, no characters XML forbids.

Owns: the one place HTML from a page is made safe. Uses nh3 (the Ammonia sanitiser, an allow-list
maintained for exactly this) rather than hand-written filtering.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3

# XML 1.0 forbids C0 controls other than tab, LF and CR, lone surrogates and U+FFFE / U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_URL_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
}


def xml_safe(text: str) -> str:
    """Remove characters that cannot appear in an XML document."""
    return _XML_INVALID.sub("", text)


def absolutize(html: str, base_url: str) -> str:
    def fix(match: re.Match[str]) -> str:
        url = match.group(3).strip()
        if url.startswith("#") or not url:
            return str(match.group(0))
        head, quote_ = str(match.group(1)), str(match.group(2))
        try:
            url = str(urljoin(base_url, url))
        except ValueError:
            return head + quote_ + quote_
        return head + quote_ + url + quote_

    return _URL_ATTR.sub(fix, html)


def truncate_html(html: str, limit: int) -> str:
    """The first ``limit`` characters of ``html``, cut at a word or tag boundary when one is near,
    then re-parsed so that open elements are closed and a half-written tag or entity is dropped."""
    if len(html) <= limit:
        return html
    cut = html[:limit]
    boundary = max(cut.rfind(">"), cut.rfind(" "), cut.rfind("\n"))
    if boundary > limit - 2000:
        cut = cut[: boundary + 1]
    lt = cut.rfind("<")
    if lt > cut.rfind(">"):
        cut = cut[:lt]  # a tag cut in half
    return nh3.clean(cut, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"})


def clean_html(html: str, base_url: str) -> str:
    """Sanitised HTML with absolute links, safe for a feed's content."""
    html = xml_safe(html)
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return xml_safe(absolutize(cleaned, base_url))
