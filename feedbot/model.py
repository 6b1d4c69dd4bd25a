"""Values passed between the steps of the pipeline. Frozen dataclasses only: no behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True)
class Page:
    """A retrieved page: its decoded text and where it came from."""

    url: str
    final_url: str
    text: str
    content_type: str  # "text/html" or "text/plain"
    encoding: str
    content_hash: str
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Item:
    """One story cut out of a page."""

    headline: str
    body_html: str
    body_text: str
    position: int
    anchor: str | None = None  # an id on the page that leads to the headline, when the page has one
    published: datetime | None = None  # a date found on the page for this item
    attribution: str | None = None  # the item's own source line, when it has one


@dataclass(frozen=True)
class Candidate:
    """One headline structure the splitter considered, with its score and why."""

    name: str
    count: int
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Dropped:
    """Text the splitter cut, and why (lead, boilerplate, attribution, ...)."""

    reason: str
    text: str


@dataclass(frozen=True)
class Split:
    """The result of splitting one page."""

    title: str
    items: tuple[Item, ...]
    structure: str  # the chosen candidate's name, "whole" for a single article, or "none"
    single_article: bool
    candidates: tuple[Candidate, ...]
    dropped: tuple[Dropped, ...]
    attribution: str | None = None
    published: datetime | None = None  # a date found on the page


class Outcome(Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Identified:
    """An item with its identity (key) and content fingerprint."""

    item: Item
    key: str
    fingerprint: str
    norm_headline: str
    norm_body: str
    signature: bytes = b""  # MinHash of norm_body (feedbot.signature); empty for an empty body


@dataclass(frozen=True)
class StoredEntry:
    """What the decision needs to know of an entry already in the store."""

    rowid: int
    entry_id: str
    key: str
    fingerprint: str
    headline: str
    norm_headline: str
    norm_body: str
    sources: tuple[str, ...] = ()
    owner: str = ""  # the source that made the entry: the only one whose edits update it
    signature: bytes = b""


@dataclass(frozen=True)
class Change:
    """What to do with one item of a page."""

    outcome: Outcome
    item: Identified
    entry: StoredEntry | None  # the matched entry for UPDATED / UNCHANGED
    reason: str
    similarity: float = 0.0


@dataclass(frozen=True)
class RunResult:
    """The result of processing one source once."""

    source: str
    ok: bool
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: bool = False
    error: str | None = None
    feeds_written: tuple[str, ...] = field(default_factory=tuple)
