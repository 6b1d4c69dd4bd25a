"""One tree of errors. Each carries what failed (the source, the page or the file) so that a log line
or the CLI can name it. Library errors are wrapped at the boundary where they happen; bugs are not."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What kind of failure a source had, for public reports (``/healthz``): a word, never the
    message (which may name files and addresses)."""

    REFUSED = "refused"  # the fetch policy refused a URL (a local file, an internal address)
    TIMEOUT = "timeout"  # no complete answer in time (connect, read or the wall-clock deadline)
    UNREACHABLE = "unreachable"  # no connection (refused, reset, no route, the name unknown)
    HTTP_STATUS = "http-status"  # the server answered with an error status
    ROBOTS = "robots"  # robots.txt disallows the page, or cannot be read
    TOO_LARGE = "too-large"  # over the size limit
    NOT_A_PAGE = "not-a-page"  # not HTML or text (a PDF, an image, JSON...)
    CORRUPT_BODY = "corrupt-body"  # a compressed body that does not decode, or is cut short
    TOO_MANY_REDIRECTS = "too-many-redirects"
    NOT_FOUND = "not-found"  # a local file that is not there
    UNREADABLE = "unreadable"  # a local file that cannot be read
    EMPTY = "empty"  # a page with no content
    NO_ITEMS = "no-items"  # a page where nothing splits
    NO_LINKS = "no-links"  # an index that lists no matching link
    FETCH = "fetch"  # any other failure to retrieve a page
    STORE = "store"  # the state could not be written
    STATE_CORRUPT = "state-corrupt"  # the state database is damaged
    STATE_EMPTY = "state-empty"  # the state database was emptied while feeds hold entries
    RENDER = "render"  # a feed could not be written


class FeedbotError(Exception):
    """Base of every error feedbot raises on purpose."""


class ConfigError(FeedbotError):
    """The configuration file is missing, unreadable or invalid. ``problems`` holds every problem
    found in the file (this one alone, unless :meth:`of` gathered several): a config is checked
    whole, so that one report names them all."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        self.problems: tuple[ConfigError, ...] = (self,)
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")

    @classmethod
    def of(cls, problems: list[ConfigError]) -> ConfigError:
        """One error for all ``problems`` (at least one): the first one's path, key and message,
        every problem in :attr:`problems` and in its text, one per line."""
        first = problems[0]
        if len(problems) == 1:
            return first
        error = cls(first.path, first.key, first.message)
        error.problems = tuple(problems)
        error.args = ("\n".join(str(p) for p in problems),)
        return error


class NotFound(FeedbotError):
    """A feed or an entry a command names does not exist (``feedbot history``)."""


class SourceError(FeedbotError):
    """Something went wrong for one source; the others are still processed. ``kind`` says what
    kind of failure it was, in one word (:class:`ErrorKind`)."""

    kind: ErrorKind = ErrorKind.FETCH

    def __init__(
        self, source: str, url: str, message: str, *, kind: ErrorKind | None = None
    ) -> None:
        self.source = source
        self.url = url
        self.message = message
        if kind is not None:
            self.kind = kind
        super().__init__(source, url, message)

    def __str__(self) -> str:
        # from the attributes, not frozen at construction: the runner fills in a missing url
        return f"source {self.source!r}: {self.url}: {self.message}"


class FetchError(SourceError):
    """The page could not be retrieved (network, HTTP status, size, content type)."""


class NotModified(FeedbotError):
    """Not an error: the page did not change since the last fetch (HTTP 304 or same bytes)."""


class ExtractError(SourceError):
    """The page was retrieved but yields no items (empty, no content, no headline found)."""

    kind = ErrorKind.NO_ITEMS


class StoreError(FeedbotError):
    """The state database cannot be opened, is too new, or a write failed; ``kind`` is
    :attr:`ErrorKind.STATE_CORRUPT` when it is damaged, :attr:`ErrorKind.STATE_EMPTY` when it was
    emptied while the feeds still hold entries."""

    def __init__(self, message: str, *, kind: ErrorKind = ErrorKind.STORE) -> None:
        super().__init__(message)
        self.kind = kind


class LockError(FeedbotError):
    """Another feedbot run holds the lock for this state directory."""


class RenderError(FeedbotError):
    """A feed could not be rendered or written. ``documents`` and ``feeds``: the documents that
    could not be written and the feeds they belong to, when the error says (empty: all those the
    operation concerned)."""

    def __init__(
        self, message: str, *, documents: tuple[str, ...] = (), feeds: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.documents = documents
        self.feeds = feeds
