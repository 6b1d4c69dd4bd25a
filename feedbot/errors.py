"""One tree of errors. Each carries what failed (the source, the page or the file) so that a log line
or the CLI can name it. Library errors are wrapped at the boundary where they happen; bugs are not."""

from __future__ import annotations


class FeedbotError(Exception):
    """Base of every error feedbot raises on purpose."""


class ConfigError(FeedbotError):
    """The configuration file is missing, unreadable or invalid."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")


class SourceError(FeedbotError):
    """Something went wrong for one source; the others are still processed."""

    def __init__(self, source: str, url: str, message: str) -> None:
        self.source = source
        self.url = url
        self.message = message
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


class StoreError(FeedbotError):
    """The state database cannot be opened, is too new, or a write failed."""


class LockError(FeedbotError):
    """Another feedbot run holds the lock for this state directory."""


class RenderError(FeedbotError):
    """A feed could not be rendered or written."""
