"""The configuration: a TOML file validated into frozen dataclasses.

Owns: reading the file, checking every key and value, resolving paths relative to the file.
Must not: touch the network, the state or the feeds.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .errors import ConfigError
from .model import FeedFormat, SourceKind, SplitMode, UpdatePolicy
from .schedule import Schedule, parse_duration

E = TypeVar("E", bound=StrEnum)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_USER_AGENT = "feedbot/0.1 (+https://github.com/feedbot/feedbot)"
DEFAULT_CONCURRENCY = 4  # sources processed at once: a run's worker threads, the daemon's --workers
DEFAULT_SCHEDULE = Schedule.parse("1h")
DEFAULT_STATE_DIR = "state"  # relative to the config file
DEFAULT_FEEDS_DIR = "feeds"


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str  # http(s) URL, or an absolute file:// URL (local paths are resolved to file://)
    feed: str
    feed_title: str | None = None
    content_selector: str | None = None
    exclude_selectors: tuple[str, ...] = ()
    headline_selector: str | None = None
    headline_regex: str | None = None
    split: SplitMode = SplitMode.AUTO
    encoding: str | None = None
    schedule: Schedule | None = None  # None: the [feedbot] default
    volatile_patterns: tuple[str, ...] = ()
    kind: SourceKind = SourceKind.PAGE
    link_selector: str | None = None  # index: CSS selector for the links (or elements holding them)
    link_pattern: str | None = None  # index: regular expression the absolute link URL must match
    follow: int = 5  # index: how many of the newest links are followed
    newest: str = "first"  # index: whether the index lists its newest link "first" or "last"
    recheck: int = 3 * 86400  # index: seconds during which a processed page is re-fetched for edits
    robots: bool = True  # respect robots.txt (set false for pages the user owns)

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file://")


@dataclass(frozen=True)
class FeedConfig:
    name: str
    title: str
    entries: int
    update_policy: UpdatePolicy = UpdatePolicy.MARK
    formats: tuple[FeedFormat, ...] = (FeedFormat.ATOM,)
    retention_days: int | None = None
    show_provenance: bool = False
    websub_hub: str | None = None  # a WebSub hub: <link rel="hub"> and a publish ping on change
    archive: bool = False  # RFC 5005 paged archives of the Atom feed


@dataclass(frozen=True)
class ServeConfig:
    """``[serve]``: where ``feedbot serve`` (and the daemon's server) listens."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class Config:
    """The whole configuration. The defaults here are the only ones: :func:`parse_config` reads
    them from these dataclasses (:func:`_defaults`)."""

    path: Path
    state_dir: Path
    feeds_dir: Path
    sources: tuple[SourceConfig, ...]
    feeds: tuple[FeedConfig, ...]
    user_agent: str = DEFAULT_USER_AGENT
    schedule: Schedule = DEFAULT_SCHEDULE  # of sources without their own
    entries_per_feed: int = 50
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    lock_timeout: float = 60.0
    base_url: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY  # sources fetched at the same time
    host_concurrency: int = 2  # requests at the same time to one host (host:port)
    host_interval: float = 1.0  # seconds between the starts of two requests to one host
    serve: ServeConfig = ServeConfig()
    state: str | None = None  # a postgresql:// URL: the shared state (default: SQLite in state_dir)

    def source(self, name: str) -> SourceConfig:
        return self._sources_by_name[name]

    def feed(self, name: str) -> FeedConfig:
        return self._feeds_by_name[name]

    def site_link(self, feed: str) -> str | None:
        """The site a feed is made from: the first http(s) page among its sources (a feed's
        alternate link, OPML's htmlUrl); None for a feed made only from local files."""
        return next(
            (s.url for s in self.sources if s.feed == feed and s.url.startswith("http")), None
        )

    def public_url(self, filename: str) -> str | None:
        """Where a feed document is served, when ``base_url`` says."""
        return f"{self.base_url}{filename}" if self.base_url else None

    def schedule_of(self, source: SourceConfig) -> Schedule:
        """The source's own schedule, else the ``[feedbot]`` default."""
        return source.schedule or self.schedule

    # by name, built once: a lookup per source and per feed was quadratic with thousands of sources
    @cached_property
    def _sources_by_name(self) -> dict[str, SourceConfig]:
        return {source.name: source for source in self.sources}

    @cached_property
    def _feeds_by_name(self) -> dict[str, FeedConfig]:
        return {feed.name: feed for feed in self.feeds}

    @property
    def db_path(self) -> Path:
        return self.state_dir / "feedbot.sqlite3"

    @property
    def store_location(self) -> Path | str:
        """Where the state lives: the ``state`` URL (PostgreSQL), else the SQLite file."""
        return self.state if self.state is not None else self.db_path

    @property
    def shared_state(self) -> bool:
        """Whether the state is PostgreSQL, shared by every node (feeds then live there too)."""
        return self.state is not None


def _defaults(cls: type) -> dict[str, Any]:
    """The default of each field of a config dataclass that has one."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


class _Table:
    """Typed access to one TOML table that reports the file and the dotted key on error."""

    def __init__(self, path: Path, prefix: str, data: Any) -> None:
        self.path = path
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ConfigError(str(path), prefix or None, "must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(str(self.path), self.key(name), message)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) and kind is not bool:
            raise self.error(name, f"must be {_kind_name(kind)}, not a boolean")
        if not isinstance(value, kind):
            raise self.error(name, f"must be {_kind_name(kind)}, not {type(value).__name__}")
        return value

    def require(self, name: str, kind: type) -> Any:
        if name not in self.data:
            raise self.error(name, "is required")
        return self.get(name, kind)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name, str, default)
        if value is not None and not value.strip():
            raise self.error(name, "must not be empty")
        return value  # type: ignore[no-any-return]

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.get(name, list, [])
        for index, element in enumerate(value):
            if not isinstance(element, str) or not element.strip():
                raise self.error(f"{name}[{index}]", "must be a non-empty string")
        return tuple(value)

    def positive(self, name: str, kind: type, default: Any) -> Any:
        value = self.get(name, (int, float) if kind is float else int, default)
        if value is not None and value <= 0:
            raise self.error(name, "must be greater than zero")
        return value

    def choice(self, name: str, enum: type[E], default: E) -> E:
        """One of an option's values (``enum``'s), ``default`` when the key is absent."""
        value = self.get(name, str, None)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            raise self.error(name, f"must be one of {_values(enum)}") from None

    def member(self, name: str, enum: type[E], value: str) -> E:
        """``value``, an element of the list ``name``, as one of ``enum``'s values."""
        try:
            return enum(value)
        except ValueError:
            raise self.error(name, f"{value!r} is not one of {_values(enum)}") from None

    def check_unknown(self) -> None:
        for name in self.data:
            if name not in self.used:
                raise self.error(name, "unknown key (check its spelling)")


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _check_selector(table: _Table, name: str, selector: str | None) -> None:
    if selector is None:
        return
    import soupsieve  # a dependency of beautifulsoup4: the CSS selector engine it uses

    try:
        soupsieve.compile(selector)
    except Exception as exc:  # soupsieve raises SelectorSyntaxError, a ValueError subclass
        raise table.error(name, f"is not a valid CSS selector: {exc}") from None


def _resolve_url(table: _Table, base: Path, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.netloc:
            raise table.error("url", f"has no host: {url!r}")
        return url
    if parts.scheme == "file":
        return url
    if parts.scheme and len(parts.scheme) > 1:
        raise table.error(
            "url", f"unsupported scheme {parts.scheme!r} (use http, https, file or a path)"
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = base / path
    return path.resolve().as_uri()


def _source(path: Path, index: int, data: Any) -> SourceConfig:
    table = _Table(path, f"sources[{index}]", data)
    default = _defaults(SourceConfig)
    name = table.require("name", str)
    if not NAME_RE.match(name):
        raise table.error("name", "must be letters, digits, '.', '_' or '-' (at most 64)")
    table.prefix = f"sources[{index}] ({name})"
    feed = table.get("feed", str, name)
    if not NAME_RE.match(feed):
        raise table.error("feed", "must be letters, digits, '.', '_' or '-' (at most 64)")
    split = table.choice("split", SplitMode, default["split"])
    headline_regex = table.text("headline_regex")
    if headline_regex is not None:
        try:
            re.compile(headline_regex)
        except re.error as exc:
            raise table.error(
                "headline_regex", f"is not a valid regular expression: {exc}"
            ) from None
    volatile = table.strings("volatile_patterns")
    for pattern in volatile:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise table.error("volatile_patterns", f"{pattern!r} is not valid: {exc}") from None
    encoding = table.text("encoding")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise table.error("encoding", f"unknown encoding {encoding!r}") from None
    schedule_text = table.text("schedule")
    schedule = _schedule(table, "schedule", schedule_text) if schedule_text else None
    index_settings = _index_settings(table)
    source = SourceConfig(
        name=name,
        url=_resolve_url(table, path.parent, table.require("url", str)),
        feed=feed,
        feed_title=table.text("feed_title"),
        content_selector=table.text("content_selector"),
        exclude_selectors=table.strings("exclude_selectors"),
        headline_selector=table.text("headline_selector"),
        headline_regex=headline_regex,
        split=split,
        encoding=encoding,
        schedule=schedule,
        volatile_patterns=volatile,
        robots=table.get("robots", bool, default["robots"]),
        **index_settings,
    )
    _check_selector(table, "content_selector", source.content_selector)
    _check_selector(table, "headline_selector", source.headline_selector)
    for selector in source.exclude_selectors:
        _check_selector(table, "exclude_selectors", selector)
    table.check_unknown()
    return source


def _index_settings(table: _Table) -> dict[str, Any]:
    """The keys of an index source (``kind = "index"``); an error if they are set on a page source."""
    default = _defaults(SourceConfig)
    kind = table.choice("kind", SourceKind, default["kind"])
    index_keys = ("link_selector", "link_pattern", "follow", "newest", "recheck")
    if kind is SourceKind.PAGE:
        for name in index_keys:
            if name in table.data:
                raise table.error(name, 'is only for index sources (add kind = "index")')
        return {}
    link_selector = table.text("link_selector")
    _check_selector(table, "link_selector", link_selector)
    link_pattern = table.text("link_pattern")
    if link_pattern is not None:
        try:
            re.compile(link_pattern)
        except re.error as exc:
            raise table.error("link_pattern", f"is not a valid regular expression: {exc}") from None
    if link_selector is None and link_pattern is None:
        raise table.error(
            "link_selector", "an index source needs link_selector, link_pattern or both"
        )
    newest = table.get("newest", str, default["newest"])
    if newest not in ("first", "last"):
        raise table.error(
            "newest", "must be 'first' or 'last' (where the index lists its newest link)"
        )
    recheck_text = table.text("recheck")
    try:
        recheck = parse_duration(recheck_text) if recheck_text else default["recheck"]
    except ValueError as exc:
        raise table.error("recheck", str(exc)) from None
    return {
        "kind": kind,
        "link_selector": link_selector,
        "link_pattern": link_pattern,
        "follow": table.positive("follow", int, default["follow"]),
        "newest": newest,
        "recheck": recheck,
    }


def _seconds(table: _Table, name: str, default: float) -> float:
    """A duration as a number of seconds (0 allowed) or a string such as '2s' or '1m'."""
    value = table.get(name, (int, float, str), default)
    if isinstance(value, str):
        try:
            return float(parse_duration(value))
        except ValueError as exc:
            raise table.error(name, str(exc)) from None
    if value < 0:
        raise table.error(name, "must not be negative")
    return float(value)


def _schedule(table: _Table, name: str, value: str) -> Schedule:
    try:
        return Schedule.parse(value)
    except ValueError as exc:
        raise table.error(name, str(exc)) from None


def _feeds(
    path: Path,
    raw: Any,
    sources: tuple[SourceConfig, ...],
    entries_default: int,
    base_url: str | None = None,
) -> tuple[FeedConfig, ...]:
    tables = _Table(path, "feeds", raw if raw is not None else {})
    default = _defaults(FeedConfig)
    result: list[FeedConfig] = []
    names = list(dict.fromkeys(source.feed for source in sources))
    for name in tables.data:
        if name not in names:
            raise tables.error(name, "no source writes to this feed")
    for name in names:
        table = _Table(path, f"feeds.{name}", tables.data.get(name, {}))
        titles = {s.feed_title for s in sources if s.feed == name and s.feed_title}
        title = table.text("title")
        if title is None:
            if len(titles) > 1:
                raise ConfigError(
                    str(path),
                    f"feeds.{name}.title",
                    f"sources writing this feed disagree on feed_title ({', '.join(sorted(titles))}); "
                    "set it once here",
                )
            title = titles.pop() if titles else name
        policy = table.choice("update_policy", UpdatePolicy, default["update_policy"])
        formats = (
            tuple(table.member("formats", FeedFormat, fmt) for fmt in table.strings("formats"))
            or default["formats"]
        )
        hub = table.text("websub_hub")
        if hub is not None:
            parts = urlsplit(hub)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise table.error("websub_hub", f"must be an http or https URL, not {hub!r}")
            if base_url is None:
                raise table.error(
                    "websub_hub",
                    "needs [feedbot] base_url (the hub is told the feed's public URL)",
                )
        archive = table.get("archive", bool, default["archive"])
        if archive and FeedFormat.ATOM not in formats:
            raise table.error("archive", "archives are Atom documents: add 'atom' to formats")
        if archive and "retention_days" in table.data:
            raise table.error(
                "archive", "cannot be combined with retention_days (archive pages never change)"
            )
        result.append(
            FeedConfig(
                name=name,
                title=title,
                entries=table.positive("entries", int, entries_default),
                update_policy=policy,
                formats=tuple(dict.fromkeys(formats)),
                retention_days=table.positive("retention_days", int, default["retention_days"]),
                show_provenance=table.get("show_provenance", bool, default["show_provenance"]),
                websub_hub=hub,
                archive=archive,
            )
        )
        table.check_unknown()
    return tuple(result)


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file. Raises ConfigError naming the file and the key."""
    path = Path(path).expanduser().resolve()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), None, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"invalid TOML: {exc}") from None
    return parse_config(path, data)


def parse_config(path: Path, data: dict[str, Any]) -> Config:
    top = _Table(path, "", data)
    settings = _Table(path, "feedbot", top.get("feedbot", dict, {}))
    default = _defaults(Config)
    base = path.parent
    state_dir = base / settings.get("state_dir", str, DEFAULT_STATE_DIR)
    feeds_dir = base / settings.get("feeds_dir", str, DEFAULT_FEEDS_DIR)
    user_agent = settings.text("user_agent") or default["user_agent"]
    if "http://" not in user_agent and "https://" not in user_agent and "@" not in user_agent:
        raise settings.error(
            "user_agent",
            "must include a contact URL or address, e.g. 'mybot/1.0 (+https://example.org/bot)'",
        )
    schedule_text = settings.text("schedule")
    schedule = (
        _schedule(settings, "schedule", schedule_text) if schedule_text else default["schedule"]
    )
    entries = settings.positive("entries_per_feed", int, default["entries_per_feed"])
    connect_timeout = float(settings.positive("connect_timeout", float, default["connect_timeout"]))
    read_timeout = float(settings.positive("read_timeout", float, default["read_timeout"]))
    lock_timeout = float(settings.get("lock_timeout", (int, float), default["lock_timeout"]))
    if lock_timeout < 0:
        raise settings.error("lock_timeout", "must not be negative")
    concurrency = settings.positive("concurrency", int, default["concurrency"])
    host_concurrency = settings.positive("host_concurrency", int, default["host_concurrency"])
    host_interval = _seconds(settings, "host_interval", default["host_interval"])
    base_url = settings.text("base_url")
    if base_url is not None and urlsplit(base_url).scheme not in ("http", "https"):
        raise settings.error("base_url", "must be an http or https URL")
    state = _state_url(settings)
    settings.check_unknown()

    raw_sources = top.get("sources", list, [])
    if not raw_sources:
        raise ConfigError(str(path), "sources", "at least one [[sources]] entry is required")
    sources = tuple(_source(path, i, s) for i, s in enumerate(raw_sources))
    seen: set[str] = set()
    for i, source in enumerate(sources):
        if source.name in seen:
            raise ConfigError(
                str(path), f"sources[{i}].name", f"duplicate source name {source.name!r}"
            )
        seen.add(source.name)
    feeds = _feeds(path, top.get("feeds", dict, None), sources, entries, base_url)
    serve = _serve(path, top.get("serve", dict, {}))
    top.check_unknown()
    return Config(
        path=path,
        state_dir=state_dir.resolve(),
        feeds_dir=feeds_dir.resolve(),
        user_agent=user_agent,
        schedule=schedule,
        entries_per_feed=entries,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        lock_timeout=lock_timeout,
        base_url=base_url.rstrip("/") + "/" if base_url else None,
        sources=sources,
        feeds=feeds,
        concurrency=concurrency,
        host_concurrency=host_concurrency,
        host_interval=host_interval,
        serve=serve,
        state=state,
    )


def _state_url(settings: _Table) -> str | None:
    """``state``: a PostgreSQL URL (``postgresql://user:password@host:port/database``); absent means
    the SQLite file in ``state_dir``. The password may also come from ``PGPASSWORD`` or
    ``~/.pgpass``, as libpq reads them, to keep it out of the file."""
    value = settings.text("state")
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise settings.error(
            "state",
            "must be a postgresql:// URL (leave it out for the SQLite file in state_dir)",
        )
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise settings.error("state", "names no database (postgresql://host/DATABASE)")
    return value


def _serve(path: Path, data: Any) -> ServeConfig:
    table = _Table(path, "serve", data)
    default = _defaults(ServeConfig)
    host = table.text("host") or default["host"]
    port = table.get("port", int, default["port"])
    if not 0 <= port <= 65535:
        raise table.error("port", "must be between 0 and 65535")
    table.check_unknown()
    return ServeConfig(host=host, port=port)
