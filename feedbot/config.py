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

from . import redact
from .errors import ConfigError
from .model import FeedFormat, PageFormat, RenderMode, SourceKind, SplitMode, UpdatePolicy
from .netpolicy import IPNetwork, parse_networks
from .schedule import Schedule, parse_duration

E = TypeVar("E", bound=StrEnum)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_USER_AGENT = "feedbot/0.1 (+https://github.com/feedbot/feedbot)"
DEFAULT_BROWSER = "/usr/bin/chromium"  # Debian's chromium package
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
    format: PageFormat = PageFormat.AUTO  # what the page's bytes are (feedbot.markup.page_format)
    timezone: str | None = None  # IANA zone of dates the page writes without one (feedbot.dates)
    render: RenderMode = RenderMode.STATIC  # "browser": run the page's scripts in headless Chromium

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
    preview_token: str | None = None  # lets clients beyond this machine use the preview page


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
    # worker processes that split, identify and sanitise pages (feedbot.pool): None = one per
    # core, 0 = none (the worker threads do it)
    processes: int | None = None
    host_concurrency: int = 2  # requests at the same time to one host (host:port)
    host_interval: float = 1.0  # seconds between the starts of two requests to one host
    request_timeout: float = 60.0  # wall-clock seconds for one request, headers and body
    source_timeout: float = 120.0  # wall-clock seconds for a source: its tries, an index's pages
    allow_networks: tuple[IPNetwork, ...] = ()  # internal networks that pages may lead to
    secret_params: tuple[str, ...] = redact.SECRET_PARAMS  # query parameters never shown
    serve: ServeConfig = ServeConfig()
    state: str | None = None  # a postgresql:// URL: the shared state (default: SQLite in state_dir)
    browser: str = DEFAULT_BROWSER  # the Chromium that render = "browser" drives
    render_timeout: float = 30.0  # seconds a page may take in the browser: load, scripts, settling

    def source(self, name: str) -> SourceConfig:
        return self._sources_by_name[name]

    def feed(self, name: str) -> FeedConfig:
        return self._feeds_by_name[name]

    def site_link(self, feed: str) -> str | None:
        """The site a feed is made from: the first http(s) page among its sources (a feed's
        alternate link, OPML's htmlUrl), without its credentials; None for a feed made only from
        local files."""
        url = next(
            (s.url for s in self.sources if s.feed == feed and s.url.startswith("http")), None
        )
        return self.shown(url) if url else None

    def shown(self, url: str) -> str:
        """``url`` as a public output may show it: no user-info, no ``secret_params``."""
        return redact.public_url(url, self.secret_params)

    def scrub(self, text: str) -> str:
        """``text`` (an error message, a log line) with every URL in it as :meth:`shown`."""
        return redact.scrub(text, self.secret_params)

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

    def warnings(self) -> list[str]:
        """What is valid but probably not meant (a run logs each once)."""
        found = []
        if self.base_url is None:
            found.append(
                f"{self.path}: no [feedbot] base_url, so the feeds are written without their own "
                'address (Atom and RSS rel="self", JSON Feed feed_url): readers use it to follow a '
                "feed that moves, and feed validators warn without it. Set base_url to where the "
                "feeds are served (feedbot serve's default: http://127.0.0.1:8080/)"
            )
        return found


def _defaults(cls: type) -> dict[str, Any]:
    """The default of each field of a config dataclass that has one."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


class _Table:
    """Typed access to one TOML table that reports the file and the dotted key of each problem.

    A problem is recorded (in ``problems``, shared by every table of one file) and checking goes on
    with the key's default, so that one report names every problem of the file."""

    def __init__(self, path: Path, prefix: str, data: Any, problems: list[ConfigError]) -> None:
        self.path = path
        self.prefix = prefix
        self.problems = problems
        if not isinstance(data, dict):
            self.problems.append(ConfigError(str(path), prefix or None, "must be a table"))
            data = {}
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, message: str) -> None:
        """Record a problem with the key ``name``."""
        self.problems.append(ConfigError(str(self.path), self.key(name), message))

    def table(self, prefix: str, data: Any) -> _Table:
        return _Table(self.path, prefix, data, self.problems)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) and kind is not bool:
            self.fail(name, f"must be {_kind_name(kind)}, not a boolean")
            return default
        if not isinstance(value, kind):
            self.fail(name, f"must be {_kind_name(kind)}, not {type(value).__name__}")
            return default
        return value

    def require(self, name: str, kind: type, advice: str = "") -> Any:
        if name not in self.data:
            self.used.add(name)
            self.fail(name, "is required" + (f": {advice}" if advice else ""))
            return None
        return self.get(name, kind)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name, str, default)
        if value is not None and not value.strip():
            self.fail(name, "must not be empty")
            return default
        return value  # type: ignore[no-any-return]

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.get(name, list, [])
        good = []
        for index, element in enumerate(value):
            if not isinstance(element, str) or not element.strip():
                self.fail(f"{name}[{index}]", "must be a non-empty string")
            else:
                good.append(element)
        return tuple(good)

    def positive(self, name: str, kind: type, default: Any) -> Any:
        value = self.get(name, (int, float) if kind is float else int, default)
        if value is not None and value <= 0:
            self.fail(name, "must be greater than zero")
            return default
        return value

    def choice(self, name: str, enum: type[E], default: E) -> E:
        """One of an option's values (``enum``'s), ``default`` when the key is absent."""
        value = self.get(name, str, None)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            self.fail(name, f"must be one of {_values(enum)}")
            return default

    def member(self, name: str, enum: type[E], value: str) -> E | None:
        """``value``, an element of the list ``name``, as one of ``enum``'s values."""
        try:
            return enum(value)
        except ValueError:
            self.fail(name, f"{value!r} is not one of {_values(enum)}")
            return None

    def pattern(self, name: str, value: str | None, what: str = "is not a valid") -> str | None:
        """``value`` when it compiles as a regular expression."""
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            self.fail(name, f"{what} regular expression: {exc}")
            return None
        return value

    def selector(self, name: str, selector: str | None) -> str | None:
        """``selector`` when soupsieve (the CSS engine the splitter uses) reads it."""
        if selector is None:
            return None
        import soupsieve  # a dependency of beautifulsoup4: the CSS selector engine it uses

        try:
            soupsieve.compile(selector)
        except Exception as exc:  # soupsieve raises SelectorSyntaxError, a ValueError subclass
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.fail(name, f"is not a valid CSS selector: {reason}")
            return None
        return selector

    def check_unknown(self) -> None:
        for name in self.data:
            if name not in self.used:
                self.fail(name, "unknown key (check its spelling)")


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


def _resolve_url(table: _Table, base: Path, url: str | None) -> str:
    if url is None:
        return ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.netloc:
            table.fail("url", f"has no host: {url!r}")
        return url
    if parts.scheme == "file":
        return url
    if parts.scheme and len(parts.scheme) > 1:
        table.fail("url", f"unsupported scheme {parts.scheme!r} (use http, https, file or a path)")
        return url
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = base / path
    return path.resolve().as_uri()


def _name(table: _Table, key: str, value: str | None) -> str:
    if value is not None and not NAME_RE.match(value):
        table.fail(key, "must be letters, digits, '.', '_' or '-' (at most 64)")
    return value or ""


def _source(top: _Table, index: int, data: Any) -> SourceConfig:
    table = top.table(f"sources[{index}]", data)
    default = _defaults(SourceConfig)
    name = table.require("name", str)
    if name is not None and NAME_RE.match(name):
        table.prefix = f"sources[{index}] ({name})"
    else:
        name = _name(table, "name", name)
    own_feed = table.get("feed", str, None)
    feed = _name(table, "feed", own_feed) if own_feed is not None else name
    split = table.choice("split", SplitMode, default["split"])
    headline_regex = table.pattern("headline_regex", table.text("headline_regex"))
    volatile = tuple(
        pattern
        for pattern in table.strings("volatile_patterns")
        if table.pattern("volatile_patterns", pattern, f"{pattern!r} is not a valid")
    )
    encoding = table.text("encoding")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            table.fail("encoding", f"unknown encoding {encoding!r}")
            encoding = None
    schedule_text = table.text("schedule")
    schedule = _schedule(table, "schedule", schedule_text) if schedule_text else None
    index_settings = _index_settings(table)
    timezone = table.text("timezone")
    if timezone is not None:
        from .dates import zone_named

        try:
            zone_named(timezone)
        except ValueError as exc:
            table.fail("timezone", str(exc))
            timezone = None
    source = SourceConfig(
        name=name,
        url=_resolve_url(table, top.path.parent, table.require("url", str)),
        feed=feed,
        feed_title=table.text("feed_title"),
        content_selector=table.selector("content_selector", table.text("content_selector")),
        exclude_selectors=tuple(
            s for s in table.strings("exclude_selectors") if table.selector("exclude_selectors", s)
        ),
        headline_selector=table.selector("headline_selector", table.text("headline_selector")),
        headline_regex=headline_regex,
        split=split,
        encoding=encoding,
        schedule=schedule,
        volatile_patterns=volatile,
        robots=table.get("robots", bool, default["robots"]),
        format=table.choice("format", PageFormat, default["format"]),
        timezone=timezone,
        render=table.choice("render", RenderMode, default["render"]),
        **index_settings,
    )
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
                table.used.add(name)
                table.fail(name, 'is only for index sources (add kind = "index")')
        return {}
    link_selector = table.selector("link_selector", table.text("link_selector"))
    link_pattern = table.pattern("link_pattern", table.text("link_pattern"))
    if "link_selector" not in table.data and "link_pattern" not in table.data:
        table.fail("link_selector", "an index source needs link_selector, link_pattern or both")
    newest = table.get("newest", str, default["newest"])
    if newest not in ("first", "last"):
        table.fail("newest", "must be 'first' or 'last' (where the index lists its newest link)")
        newest = default["newest"]
    recheck_text = table.text("recheck")
    recheck = default["recheck"]
    if recheck_text:
        try:
            recheck = parse_duration(recheck_text)
        except ValueError as exc:
            table.fail("recheck", str(exc))
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
            table.fail(name, str(exc))
            return default
    if value < 0:
        table.fail(name, "must not be negative")
        return default
    return float(value)


def _schedule(table: _Table, name: str, value: str) -> Schedule | None:
    try:
        return Schedule.parse(value)
    except ValueError as exc:
        table.fail(name, str(exc))
        return None


def _feeds(
    top: _Table,
    raw: Any,
    sources: tuple[SourceConfig, ...],
    entries_default: int,
    base_url: str | None = None,
) -> tuple[FeedConfig, ...]:
    tables = top.table("feeds", raw if raw is not None else {})
    default = _defaults(FeedConfig)
    result: list[FeedConfig] = []
    names = list(dict.fromkeys(source.feed for source in sources if source.feed))
    for name in tables.data:
        if name not in names:
            tables.fail(name, "no source writes to this feed")
    for name in names:
        table = top.table(f"feeds.{name}", tables.data.get(name, {}))
        titles = {s.feed_title for s in sources if s.feed == name and s.feed_title}
        title = table.text("title")
        if title is None:
            if len(titles) > 1:
                table.fail(
                    "title",
                    f"sources writing this feed disagree on feed_title ({', '.join(sorted(titles))}); "
                    "set it once here",
                )
            title = sorted(titles)[0] if titles else name
        policy = table.choice("update_policy", UpdatePolicy, default["update_policy"])
        listed = [table.member("formats", FeedFormat, fmt) for fmt in table.strings("formats")]
        formats = tuple(f for f in listed if f is not None) or default["formats"]
        hub = table.text("websub_hub")
        if hub is not None:
            parts = urlsplit(hub)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                table.fail("websub_hub", f"must be an http or https URL, not {hub!r}")
            elif base_url is None:
                table.fail(
                    "websub_hub", "needs [feedbot] base_url (the hub is told the feed's public URL)"
                )
        archive = table.get("archive", bool, default["archive"])
        if archive and FeedFormat.ATOM not in formats:
            table.fail("archive", "archives are Atom documents: add 'atom' to formats")
        if archive and "retention_days" in table.data:
            table.fail(
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
    """Read and validate a configuration file. Raises ConfigError naming the file and the key of
    every problem in it (:attr:`ConfigError.problems`)."""
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


USER_AGENT_ADVICE = (
    "every site feedbot reads sees it, so it must say who runs this feedbot and how to reach "
    'them, e.g. user_agent = "mybot/1.0 (+https://example.org/contact)" or '
    '"mybot/1.0 (you@example.org)"'
)


def parse_config(path: Path, data: dict[str, Any]) -> Config:
    """Validate a parsed config. Raises one ConfigError for every problem found."""
    problems: list[ConfigError] = []
    top = _Table(path, "", data, problems)
    settings = top.table("feedbot", top.get("feedbot", dict, {}))
    default = _defaults(Config)
    base = path.parent
    state_dir = base / settings.get("state_dir", str, DEFAULT_STATE_DIR)
    feeds_dir = base / settings.get("feeds_dir", str, DEFAULT_FEEDS_DIR)
    user_agent = settings.require("user_agent", str, USER_AGENT_ADVICE)
    if user_agent is not None and not user_agent.strip():
        settings.fail("user_agent", f"must not be empty: {USER_AGENT_ADVICE}")
    elif user_agent is not None and not (
        "http://" in user_agent or "https://" in user_agent or "@" in user_agent
    ):
        settings.fail(
            "user_agent",
            "must include a contact URL or address, e.g. 'mybot/1.0 (+https://example.org/bot)'",
        )
    schedule_text = settings.text("schedule")
    schedule = (
        _schedule(settings, "schedule", schedule_text) if schedule_text else None
    ) or default["schedule"]
    entries = settings.positive("entries_per_feed", int, default["entries_per_feed"])
    connect_timeout = float(settings.positive("connect_timeout", float, default["connect_timeout"]))
    read_timeout = float(settings.positive("read_timeout", float, default["read_timeout"]))
    lock_timeout = float(settings.get("lock_timeout", (int, float), default["lock_timeout"]))
    if lock_timeout < 0:
        settings.fail("lock_timeout", "must not be negative")
    concurrency = settings.positive("concurrency", int, default["concurrency"])
    host_concurrency = settings.positive("host_concurrency", int, default["host_concurrency"])
    processes = settings.get("processes", int, default["processes"])
    if processes is not None and processes < 0:
        settings.fail("processes", "must be 0 (none: the worker threads split pages) or more")
        processes = default["processes"]
    host_interval = _seconds(settings, "host_interval", default["host_interval"])
    request_timeout = _seconds(settings, "request_timeout", default["request_timeout"])
    source_timeout = _seconds(settings, "source_timeout", default["source_timeout"])
    for name, value in (("request_timeout", request_timeout), ("source_timeout", source_timeout)):
        if value <= 0:
            settings.fail(name, "must be greater than zero")
    allow_networks: tuple[IPNetwork, ...] = ()
    try:
        allow_networks = parse_networks(settings.strings("allow_networks"))
    except ValueError as exc:
        settings.fail("allow_networks", str(exc))
    secret_params = (
        tuple(p.strip() for p in settings.strings("secret_params"))
        if "secret_params" in settings.data
        else default["secret_params"]
    )
    base_url = settings.text("base_url")
    if base_url is not None and urlsplit(base_url).scheme not in ("http", "https"):
        settings.fail("base_url", "must be an http or https URL")
        base_url = None
    browser = settings.text("browser") or default["browser"]
    render_timeout = _seconds(settings, "render_timeout", default["render_timeout"])
    if render_timeout <= 0:
        settings.fail("render_timeout", "must be greater than zero")
    state = _state_url(settings)
    settings.check_unknown()

    raw_sources = top.get("sources", list, [])
    if not raw_sources and isinstance(top.data.get("sources", []), list):
        top.fail("sources", "at least one [[sources]] entry is required")
    sources = tuple(_source(top, i, s) for i, s in enumerate(raw_sources))
    seen: set[str] = set()
    for i, source in enumerate(sources):
        if source.name and source.name in seen:
            top.fail(f"sources[{i}].name", f"duplicate source name {source.name!r}")
        seen.add(source.name)
    feeds = _feeds(top, top.get("feeds", dict, None), sources, entries, base_url)
    serve = _serve(top, top.get("serve", dict, {}))
    top.check_unknown()
    if problems:
        raise ConfigError.of(problems)
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
        processes=processes,
        host_concurrency=host_concurrency,
        host_interval=host_interval,
        request_timeout=request_timeout,
        source_timeout=source_timeout,
        allow_networks=allow_networks,
        secret_params=secret_params,
        serve=serve,
        browser=browser,
        render_timeout=render_timeout,
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
        settings.fail(
            "state",
            "must be a postgresql:// URL (leave it out for the SQLite file in state_dir)",
        )
        return None
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        settings.fail("state", "names no database (postgresql://host/DATABASE)")
        return None
    return value


PREVIEW_TOKEN_MIN = 16  # characters: a token short enough to guess is no lock


def _serve(top: _Table, data: Any) -> ServeConfig:
    table = top.table("serve", data)
    default = _defaults(ServeConfig)
    host = table.text("host") or default["host"]
    port = table.get("port", int, default["port"])
    if not 0 <= port <= 65535:
        table.fail("port", "must be between 0 and 65535")
        port = default["port"]
    token = table.text("preview_token")
    if token is not None and len(token) < PREVIEW_TOKEN_MIN:
        table.fail(
            "preview_token",
            f"must be at least {PREVIEW_TOKEN_MIN} characters (e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(24))'`)",
        )
        token = None
    table.check_unknown()
    return ServeConfig(host=host, port=port, preview_token=token)
