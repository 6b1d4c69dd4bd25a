"""Rendering a feed from stored entries: Atom (feedgen), RSS 2.0 (feedgen), JSON Feed 1.1.

Owns: turning entries into bytes. Pure: the same entries give byte-identical output; nothing here
reads the clock (feedgen's own "now" defaults are always overridden). Must not: touch the store.
"""

from __future__ import annotations

import difflib
import html as htmllib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import __version__
from .errors import RenderError
from .model import EntryRow
from .sanitize import truncate_html, xml_safe

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator
# feedgen (and lxml, dateutil under it) is imported when a feed is first rendered: a run where
# nothing changed renders nothing, and the import was a fifth of feedbot's start-up.

FEED_NAMESPACE = uuid.UUID("a4b0f0d2-5d8e-4c1f-8f0e-3c9b7d2e6a55")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
EXTENSIONS = {"atom": "atom", "rss": "rss", "json": "json"}
MAX_CONTENT = 200_000  # characters of HTML per entry; longer items are cut with a link to the page
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 feed history


@dataclass(frozen=True)
class FeedMeta:
    name: str
    title: str
    link: str | None  # the site or first page the feed is made from
    self_url: str | None  # where the feed itself is served, when known
    mark_updates: bool = (
        True  # updated entries say so: "[updated]" and what changed (policy "mark")
    )
    show_provenance: bool = False
    hub: str | None = None  # a WebSub hub (link rel="hub"; JSON Feed "hubs")
    complete: bool = False  # the document holds every entry of the feed (RFC 5005 fh:complete)
    archive: bool = False  # this document is an archive page (RFC 5005 fh:archive)
    prev_archive: str | None = None  # the newest archive page before this document
    current: str | None = None  # from an archive page: the subscription document


def feed_id(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, name)}"


def item_link(page_url: str, anchor: str | None, headline: str) -> str:
    """The page, with a fragment that leads to the item: its id when it has one, else a text fragment."""
    base = page_url.split("#", 1)[0]
    anchor = xml_safe(anchor or "")  # a lone surrogate cannot be percent-encoded
    if anchor:
        return f"{base}#{quote(anchor, safe='')}"
    words = xml_safe(headline).strip()[:80]
    return f"{base}#:~:text={quote(words, safe='')}"


def _headline(entry: EntryRow, mark_updates: bool) -> str:
    # characters XML forbids (controls, lone surrogates) go in every format; a headline made only
    # of them still needs a title
    headline = xml_safe(entry.headline).strip() or "(untitled)"
    if mark_updates and entry.revisions > 1 and entry.replaces is None:
        return f"{headline} [updated]"
    return headline


def what_changed(old: str, new: str) -> str:
    """A short HTML summary of what an update added and removed."""
    old_parts = [p for p in old.split("\n\n") if p.strip()]
    new_parts = [p for p in new.split("\n\n") if p.strip()]
    added: list[str] = []
    removed: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(
        None, old_parts, new_parts, autojunk=False
    ).get_opcodes():
        if op in ("replace", "delete"):
            removed.extend(old_parts[a1:a2])
        if op in ("replace", "insert"):
            added.extend(new_parts[b1:b2])
    lines = []
    for text in added[:5]:
        lines.append(f"<li>+ {htmllib.escape(_short(text))}</li>")
    for text in removed[:5]:
        lines.append(f"<li>− <del>{htmllib.escape(_short(text))}</del></li>")
    if not lines:
        lines.append("<li>wording changed</li>")
    return "<ul>" + "".join(lines) + "</ul>"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def provenance(entry: EntryRow) -> str:
    pages = "".join(
        f'<li><a href="{htmllib.escape(url)}">{htmllib.escape(url)}</a></li>'
        for url in entry.pages
        if url
    )
    return (
        '<div class="feedbot-provenance"><p><small>First seen '
        f"{entry.first_seen.strftime('%Y-%m-%d %H:%M UTC')}, last seen "
        f"{entry.last_seen.strftime('%Y-%m-%d %H:%M UTC')}; sources: "
        f"{htmllib.escape(', '.join(entry.sources))}</small></p><ul>{pages}</ul></div>"
    )


def entry_content(entry: EntryRow, mark_updates: bool, show_provenance: bool = False) -> str:
    parts: list[str] = []
    if (
        mark_updates
        and entry.revisions > 1
        and entry.previous_text is not None
        and entry.replaces is None
    ):
        when = entry.updated.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(
            f'<div class="feedbot-update"><p><strong>Updated {when}</strong> '
            f"(revision {entry.revisions}):</p>{what_changed(entry.previous_text, entry.body_text)}</div><hr>"
        )
    if entry.replaces is not None:
        parts.append(
            f"<p><em>This story was updated; the earlier version is entry {htmllib.escape(entry.replaces)}.</em></p>"
        )
    body = entry.body_html
    if len(body) > MAX_CONTENT:
        parts.append(truncate_html(body, MAX_CONTENT))
        parts.append(
            f'<p><a href="{htmllib.escape(entry.link)}">Continue reading on the page…</a></p>'
        )
    else:
        parts.append(body)
    if entry.attribution:
        parts.append(f'<p class="feedbot-source">({htmllib.escape(entry.attribution)})</p>')
    if show_provenance:
        parts.append(provenance(entry))
    return xml_safe("\n".join(parts))


def _title(meta: FeedMeta) -> str:
    return xml_safe(meta.title).strip() or meta.name


def feed_updated(entries: Sequence[EntryRow]) -> datetime:
    return max((e.updated for e in entries), default=EPOCH)


@cache
def _extras() -> type[Any]:
    """The feedgen extension for what feedgen cannot say itself: the hub link in RSS, and
    fh:complete / fh:archive in both formats (a class made on first use, as feedgen is imported)."""
    import lxml.etree as etree
    from feedgen.ext.base import BaseExtension

    class Extras(BaseExtension):  # type: ignore[misc]
        hub: str | None = None
        complete: bool = False
        archive: bool = False

        def extend_ns(self) -> dict[str, str]:
            return {"fh": FH_NS} if self.complete or self.archive else {}

        def extend_atom(self, feed: etree._Element) -> etree._Element:
            if self.complete:
                etree.SubElement(feed, f"{{{FH_NS}}}complete")
            if self.archive:
                etree.SubElement(feed, f"{{{FH_NS}}}archive")
            return feed

        def extend_rss(self, rss: etree._Element) -> etree._Element:
            channel = rss[0]
            if self.hub:
                etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self.hub, rel="hub")
            if self.complete:
                etree.SubElement(channel, f"{{{FH_NS}}}complete")
            return rss

    return Extras


def _generator(meta: FeedMeta, entries: Sequence[EntryRow], fmt: str) -> FeedGenerator:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    if meta.hub or meta.complete or meta.archive:
        fg.register_extension("feedbot", _extras(), None)
        fg.feedbot.hub = meta.hub
        fg.feedbot.complete = meta.complete
        fg.feedbot.archive = meta.archive
    fg.id(feed_id(meta.name))
    fg.title(_title(meta))
    fg.author({"name": _title(meta)})
    fg.generator("feedbot", version=__version__, uri="https://github.com/feedbot/feedbot")
    if meta.link:
        fg.link(href=meta.link, rel="alternate")
    if meta.self_url:
        fg.link(href=meta.self_url, rel="self")
    if meta.hub and fmt == "atom":
        fg.link(href=meta.hub, rel="hub")
    if meta.current and fmt == "atom":
        fg.link(href=meta.current, rel="current")
    if meta.prev_archive and fmt == "atom":
        fg.link(href=meta.prev_archive, rel="prev-archive")
    if fmt == "rss":
        fg.description(f"{_title(meta)} (generated by feedbot)")
        if not meta.link:
            fg.link(href=meta.self_url or "http://localhost/", rel="alternate")
    fg.updated(feed_updated(entries))
    fg.lastBuildDate(feed_updated(entries))
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.entry_id)
        fe.title(_headline(entry, meta.mark_updates))
        fe.link(href=entry.link, rel="alternate")
        fe.published(entry.published)
        fe.updated(entry.updated)
        fe.content(entry_content(entry, meta.mark_updates, meta.show_provenance), type="html")
        if fmt == "rss":
            fe.guid(entry.entry_id, permalink=False)
    return fg


def render_atom(meta: FeedMeta, entries: Sequence[EntryRow]) -> bytes:
    try:
        return bytes(_generator(meta, entries, "atom").atom_str(pretty=True, encoding="UTF-8"))
    except ValueError as exc:
        raise RenderError(f"feed {meta.name!r}: cannot render Atom: {exc}") from None


def render_rss(meta: FeedMeta, entries: Sequence[EntryRow]) -> bytes:
    try:
        return bytes(_generator(meta, entries, "rss").rss_str(pretty=True, encoding="UTF-8"))
    except ValueError as exc:
        raise RenderError(f"feed {meta.name!r}: cannot render RSS: {exc}") from None


def render_json(meta: FeedMeta, entries: Sequence[EntryRow]) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(meta),
        "authors": [{"name": _title(meta)}],
    }
    if meta.link:
        feed["home_page_url"] = meta.link
    if meta.self_url:
        feed["feed_url"] = meta.self_url
    if meta.hub:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub}]
    items = []
    for entry in entries:
        item: dict[str, object] = {
            "id": entry.entry_id,
            "url": entry.link,
            "title": xml_safe(_headline(entry, meta.mark_updates)),
            "content_html": entry_content(entry, meta.mark_updates, meta.show_provenance),
            "date_published": entry.published.isoformat(),
            "date_modified": entry.updated.isoformat(),
        }
        if entry.attribution:
            item["_feedbot"] = {
                "about": "https://github.com/feedbot/feedbot",
                "source": xml_safe(entry.attribution),
            }
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def feed_filename(feed: str, fmt: str) -> str:
    """The document of ``feed`` in format ``fmt`` (``ukraine.atom``)."""
    return f"{feed}.{EXTENSIONS[fmt]}"


def archive_filename(feed: str, page: int) -> str:
    """RFC 5005 archive page ``page`` (1 = the oldest entries) of a feed."""
    return f"{feed}.archive-{page}.atom"


RENDERERS = {"atom": render_atom, "rss": render_rss, "json": render_json}
