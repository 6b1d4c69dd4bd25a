"""Index pages: which digest pages an index lists, and which of them a run should fetch.

Owns: picking links out of an index page (CSS selector and/or URL pattern), ordering them newest
first, and choosing the pages to follow (new ones, and processed ones still inside the re-check
window). Pure: values in, values out — no network, no store, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urldefrag, urljoin, urlsplit

from .config import SourceConfig
from .model import KnownPage

FOLLOWABLE_SCHEMES = ("http", "https", "file")


def index_links(html: str, base_url: str, source: SourceConfig) -> list[str]:
    """The absolute URLs of the digest pages the index lists, newest first, without duplicates."""
    from bs4.element import Tag  # index pages only: BeautifulSoup is not loaded at start-up

    from .split.parse import parse_html

    soup = parse_html(html)
    base = base_url
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base = urljoin(base_url, str(base_tag["href"]))
    if source.link_selector:
        anchors: list[Tag] = []
        for element in soup.select(source.link_selector):
            if element.name == "a" and element.has_attr("href"):
                anchors.append(element)
            else:
                anchors.extend(a for a in element.find_all("a", href=True) if isinstance(a, Tag))
    else:
        anchors = [a for a in soup.find_all("a", href=True) if isinstance(a, Tag)]
    pattern = re.compile(source.link_pattern) if source.link_pattern else None
    own = urldefrag(base_url).url
    links: list[str] = []
    for anchor in anchors:
        href = str(anchor.get("href") or "").strip()
        if not href:
            continue
        url = urldefrag(urljoin(base, href)).url
        if urlsplit(url).scheme not in FOLLOWABLE_SCHEMES or url == own:
            continue
        if pattern is not None and not pattern.search(url):
            continue
        links.append(url)
    links = list(dict.fromkeys(links))
    if source.newest == "last":
        links.reverse()
    return links


def pages_to_follow(
    links: Sequence[str],
    known: Iterable[KnownPage],
    *,
    follow: int,
    recheck: timedelta,
    now: datetime,
) -> list[str]:
    """Of the newest ``follow`` links, the ones to fetch: never processed, or first processed less
    than ``recheck`` ago (so that an edit is still picked up). Oldest first, so that pages are stored
    in the order they were published."""
    seen = {page.url: page for page in known}
    chosen = []
    for url in links[:follow]:
        page = seen.get(url)
        if page is None or now - page.first_seen < recheck:
            chosen.append(url)
    chosen.reverse()
    return chosen


def describe_links(source: SourceConfig) -> str:
    """How the source picks its links, for error messages."""
    parts = []
    if source.link_selector:
        parts.append(f"link_selector {source.link_selector!r}")
    if source.link_pattern:
        parts.append(f"link_pattern {source.link_pattern!r}")
    return " and ".join(parts)
