"""Values passed between the steps of the pipeline, and the values the store hands back. Frozen
dataclasses and enums only: no behaviour, no I/O, no imports of other feedbot modules — every
module may import this one (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum


@dataclass(frozen=True)
class Page:
    """A retrieved page: its decoded text and where it came from."""

    url: str
    final_url: str
    text: str
    content_type: str  # "text/html" or "text/plain": what ``text`` is (Markdown arrives rendered)
    encoding: str
    content_hash: str
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    markup: PageFormat | None = None  # what the bytes were read as (HTML, TEXT or MARKDOWN)
    markup_reason: str = ""  # why: "Content-Type text/markdown", "the URL path ends in .md", ...
    language: str | None = None  # the Content-Language header, when the server sent one


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
    # where the headline links to, as the page writes it, when the headline is a link that leaves
    # its place on the page (not "#…"): a repository's name over its description, a post's title
    link: str | None = None


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
    published: datetime | None = None  # a date found on the page, in UTC
    date_zone: str = ""  # the zone a zone-less page date was read in, and why (feedbot.dates)


class UpdatePolicy(StrEnum):
    """What an edited story becomes in its feed (``[feeds.NAME] update_policy``)."""

    MARK = "mark"  # the same entry, its title marked "[updated]", what changed shown on top
    SILENT = "silent"  # the same entry, updated without a mark
    NEW_ENTRY = "new-entry"  # a new entry that names the one it replaces


class SplitMode(StrEnum):
    """How a page is cut into items (``split`` of a source)."""

    AUTO = "auto"  # find the headline structure; a single article stays one item
    HEADLINES = "headlines"  # always cut at headlines
    WHOLE = "whole"  # the page is one item


class PageFormat(StrEnum):
    """What a source's bytes are (``format`` of a source); AUTO decides per page
    (:func:`feedbot.markup.page_format`)."""

    AUTO = "auto"  # from the Content-Type, then the URL's file extension
    HTML = "html"
    TEXT = "text"  # plain text: one paragraph per line
    MARKDOWN = "markdown"  # rendered to HTML (front matter and MDX syntax out) before splitting


class SourceKind(StrEnum):
    """What a source's URL is (``kind`` of a source)."""

    PAGE = "page"  # one digest page, edited in place
    INDEX = "index"  # a page listing digest pages


class RenderMode(StrEnum):
    """How a source's page becomes the HTML that is split (``render`` of a source)."""

    STATIC = "static"  # the HTML as the server sends it
    BROWSER = "browser"  # after its scripts ran in a headless browser


class FeedFormat(StrEnum):
    """A feed document format (``formats`` of a feed); the value is also the file extension."""

    ATOM = "atom"
    RSS = "rss"
    JSON = "json"


class Outcome(Enum):
    """What an item of a page is to its feed."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Write(Enum):
    """What the store does for one change (the update policy applied: :func:`feedbot.decide.write_for`)."""

    INSERT = (
        "insert"  # a new entry; for an update under "new-entry", one that replaces change.entry
    )
    REVISE = "revise"  # a new revision of change.entry
    TOUCH = "touch"  # change.entry was seen again: only its last-seen time moves


@dataclass(frozen=True)
class Identified:
    """An item with its identity (key) and content fingerprint."""

    item: Item
    key: str
    fingerprint: str
    norm_headline: str
    norm_body: str
    signature: bytes = b""  # MinHash of norm_body (feedbot.signature); empty for an empty body
    bands: tuple[int, ...] = ()  # the signature's band keys in the feed it goes to, when known
    # the headline's link resolved against the page, without its fragment; "" when the headline
    # is no link or links to the page itself
    target: str = ""


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
    target: str = ""  # where its headline linked to (Identified.target), "" for none


@dataclass(frozen=True)
class Change:
    """What to do with one item of a page."""

    outcome: Outcome
    write: Write
    item: Identified
    entry: StoredEntry | None  # the matched entry for UPDATED / UNCHANGED
    reason: str
    similarity: float = 0.0


@dataclass(frozen=True)
class Prepared:
    """What the store writes for one item besides the decision: its safe HTML and its link."""

    body_html: str
    link: str
    published: datetime


@dataclass(frozen=True)
class Validators:
    """What we remember of the last good fetch of a URL (HTTP cache validators and the body's hash)."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class KnownPage:
    """A page of an index source that was processed before."""

    url: str
    first_seen: datetime


@dataclass(frozen=True)
class EntryRow:
    """A stored entry as the renderer needs it."""

    entry_id: str
    headline: str
    body_html: str
    body_text: str
    link: str
    attribution: str | None
    published: datetime
    updated: datetime
    first_seen: datetime
    last_seen: datetime
    revisions: int
    position: int
    replaces: str | None
    previous_text: str | None  # the body of the revision before the last, for "what changed"
    previous_headline: str | None
    sources: tuple[str, ...]
    pages: tuple[str, ...]
    seq: int = 0  # the order entries were first stored in (feeds show the highest first)


@dataclass(frozen=True)
class Revision:
    """One stored version of an entry (``feedbot history``)."""

    number: int
    headline: str
    body_text: str
    seen_at: datetime
    page_url: str
    source: str


@dataclass(frozen=True)
class SourceRun:
    """A source's last run as recorded in the store (``feedbot status``, ``/healthz``, the daemon)."""

    source: str
    last_run: datetime
    last_success: datetime | None
    result: str
    error: str | None
    failures: int
    new: int
    updated: int
    items: int
    error_kind: str | None = None  # an ErrorKind's value: what kind of failure, for public reports
    recent: tuple[int | None, ...] = ()  # items of the last runs, oldest first (None: failed)


@dataclass(frozen=True)
class RunRecord:
    """What the store records of one run of a source (:meth:`feedbot.store.Store.record_runs`).
    ``page_items``: how many items its page gave (None when the page was not modified: as many as
    the run before; a failed run counts none)."""

    source: str
    now: datetime
    ok: bool
    result: str  # "ok", "not modified" or "error"
    error: str | None = None
    error_kind: str | None = None
    new: int = 0
    updated: int = 0
    page_items: int | None = None


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
    error_kind: str | None = None  # an ErrorKind's value (feedbot.errors), when not ok


@dataclass(frozen=True)
class WorkerRow:
    """One ``feedbot worker`` process as it last reported itself in the shared state (``/healthz``)."""

    node: str  # host:pid
    host: str
    pid: int
    started: datetime
    heartbeat: datetime
    concurrency: int
    running: tuple[str, ...] = ()  # sources it is running now
    runs: int = 0  # runs it finished since it started


@dataclass(frozen=True)
class StoredFile:
    """A rendered feed document kept in the shared state (PostgreSQL)."""

    name: str
    body: bytes
    sha256: str
    modified: int  # seconds since the epoch (Last-Modified)
