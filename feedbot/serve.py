"""Serving the feeds over HTTP the way feed readers expect: ``feedbot serve`` (and the daemon's server).

Owns: the WSGI application and its waitress server. Every configured feed document (read through
a :class:`feedbot.write.FeedSink`: by default the files in ``feeds_dir``) with its Content-Type; a
strong ``ETag`` from its bytes and ``Last-Modified`` from when they were written (documents are
rewritten only when their bytes change, so both move only when the feed does — never "now"); ``304 Not Modified`` for ``If-None-Match`` / ``If-Modified-Since``; gzip when
the client accepts it (its own ETag, ``Vary: Accept-Encoding``); HEAD; ``Cache-Control: max-age`` from
the shortest schedule of the feed's sources; an index page with ``<link rel="alternate">``
autodiscovery; ``/opml``; ``/healthz``; 404 for everything else; an access log.

Paths are never joined from the request: a request names a feed file only by matching one of the
configured ``NAME.EXT`` routes exactly, so ``../``, encoded dots or slashes and absolute paths can only
ever reach a 404. Must not: write anything (the store is opened read-only, for ``/healthz``).

With a PostgreSQL ``state`` the documents come from the shared state (:class:`feedbot.write.StateSink`
on a small pool of connections), so every node serves the same bytes with the same validators, and
``/healthz`` also lists every node's workers (503 when none is alive).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import quote
from wsgiref.util import application_uri

import lxml.etree as etree

from .clock import epoch_seconds, utcnow
from .config import Config, FeedConfig
from .errors import StoreError
from .health import WorkerHealth, feed_max_age, health, worker_health
from .previewapp import PreviewOptions, loopback_host
from .render import CONTENT_TYPES, feed_filename
from .sanitize import xml_safe
from .store import StateError, StorePool, display_location, read_source_runs, read_state_error
from .write import FeedSink, FileSink, StateSink

log = logging.getLogger("feedbot.serve")

# Serving under hostile clients: every limit named, with its reason. waitress's defaults (100
# connections, 120 s idle) let one client holding 100 idle or slowloris connections refuse everyone
# else for two minutes.
CONNECTION_LIMIT = 1000  # open at once: hundreds of readers polling together, and room to spare
# while hundreds of idle or slowloris connections are open (they are evicted at the limit, below)
IDLE_TIMEOUT = 30  # seconds a connection may stay open sending nothing (a keep-alive between polls)
REQUEST_TIMEOUT = 10  # seconds from a request's first byte to its last: slowloris sends a byte now
# and then, so it is never idle; a real client sends a whole GET in one packet
SWEEP_INTERVAL = 1  # seconds between two sweeps for connections past those limits
MAX_HEADER_BYTES = 32 * 1024  # a feed reader's GET is well under 2 KiB
MAX_BODY_BYTES = 16 * 1024  # only GET and HEAD are served: nothing needs a body
EVICT_SHARE = 10  # at the limit, the longest-waiting tenth of the connections (those with no
# complete request) make room for new ones, so no number of connections locks anyone out
FD_RESERVE = 64  # file descriptors kept for the state, the feeds and the log beside connections
_ARCHIVE = re.compile(r"^/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.archive-([1-9][0-9]{0,8})\.atom$")
ARCHIVE_MAX_AGE = 365 * 86400  # archive pages never change once written
access_log = logging.getLogger("feedbot.access")
SHARED_CONNECTIONS = 8  # PostgreSQL connections of one server (waitress runs 4 threads by default)

FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
# A Host header good enough to build OPML's URLs from (RFC 3986 reg-name of DNS labels, or an IPv6
# literal, and a port): anything else — quotes, spaces, slashes, user-info — is not used.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_HEADER = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STATUS = {
    200: "200 OK",
    304: "304 Not Modified",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    503: "503 Service Unavailable",
}


class StartResponse(Protocol):
    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = ..., /
    ) -> Callable[[bytes], object]: ...


WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Route:
    feed: FeedConfig
    fmt: str
    filename: str
    max_age: int


@dataclass(frozen=True)
class _Representation:
    """One file's bytes as served: plain and gzipped, each with its own strong ETag."""

    stamp: (
        Hashable  # the document's version when read (FeedSink.version; files: inode, size, mtime)
    )
    body: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str
    modified: int  # seconds since the epoch (HTTP dates have one-second resolution)
    last_modified: str  # the same as an HTTP date


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def http_date(seconds: int) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``gzip;q=0`` refuses it)."""
    if not header:
        return False
    star: bool | None = None
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name in ("gzip", "x-gzip"):
            return q > 0
        if name == "*":
            star = q > 0
    return bool(star)


def _not_modified(environ: dict[str, Any], etags: tuple[str, ...], modified: int | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        if inm.strip() == "*":
            return True
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return any(tag in tags for tag in etags)
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims and modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified <= since.timestamp()
    return False


class FeedApp:
    """The WSGI application. Thread-safe: waitress calls it from several worker threads."""

    def __init__(
        self,
        config: Config,
        *,
        now: Callable[[], datetime] = utcnow,
        sink: FeedSink | None = None,
        pages: PreviewOptions | None = None,
    ) -> None:
        """``pages``: the preview page (off unless asked for) and the status page's settings."""
        from .previewapp import PreviewApp

        self.config = config
        self.now = now
        # PostgreSQL: the feeds (and /healthz) come from the shared state, on pooled connections
        self._shared = (
            StorePool(config.state, size=SHARED_CONNECTIONS, name="feedbot-serve")
            if config.state is not None
            else None
        )
        if sink is None:
            sink = (
                StateSink(self._shared.store, now)
                if self._shared is not None
                else FileSink(config.feeds_dir)
            )
        self.sink: FeedSink = sink
        self.routes: dict[str, Route] = {}
        for feed in config.feeds:
            max_age = feed_max_age(config, feed.name)
            for fmt in feed.formats:
                filename = feed_filename(feed.name, fmt)
                self.routes["/" + filename] = Route(feed, fmt, filename, max_age)
        self.archived = {feed.name: feed for feed in config.feeds if feed.archive}
        self.fallback_base: str | None = None  # the server's own address (FeedServer sets it)
        self._cache: dict[str, _Representation] = {}
        self._lock = threading.Lock()
        options = pages or PreviewOptions()
        self.pages = PreviewApp(
            config,
            preview=options.enabled,
            allow_edit=options.allow_edit,
            listening_on_loopback=options.listening_on_loopback,
            named_urls=options.named_urls,
            token=config.serve.preview_token,
            allow_networks=config.allow_networks,
            exists=self.sink.exists,
            now=now,
        )

    def close(self) -> None:
        """Let go of what the preview started (its fetcher and headless browser), and of the
        connections to the shared state."""
        self.pages.close()
        if self._shared is not None:
            self._shared.close()

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if self.pages.handles(environ.get("PATH_INFO", "")):
            answer = self.pages.respond(environ)
            headers = self.pages.headers(answer)
            start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
            self._log(environ, answer.status, 0 if method == "HEAD" else len(answer.body))
            return [] if method == "HEAD" else [answer.body]
        if method not in ("GET", "HEAD"):
            response = _Response(405, b"only GET and HEAD\n", [("Allow", "GET, HEAD")])
            response.headers.append(("Content-Type", "text/plain; charset=utf-8"))
        else:
            try:
                response = self.respond(environ)
            except Exception:
                log.exception("serving %s failed", environ.get("PATH_INFO"))
                raise
        body = response.body
        headers = list(response.headers)
        if response.status != 304:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS[response.status], headers)
        self._log(
            environ, response.status, 0 if method == "HEAD" or response.status == 304 else len(body)
        )
        return [] if method == "HEAD" or response.status == 304 else [body]

    def respond(self, environ: dict[str, Any]) -> _Response:
        path = environ.get("PATH_INFO", "") or "/"
        route = self.routes.get(path) or self._archive_route(path)
        if route is not None:
            return self._feed(environ, route)
        if path in ("/", "/index.html"):
            return self._generated(environ, self.index_html(), "text/html; charset=utf-8")
        if path == "/opml":
            return self._generated(
                environ, self.opml(self._base(environ)), "text/x-opml; charset=utf-8"
            )
        if path == "/healthz":
            return self._healthz()
        return _Response(404, b"not found\n", [("Content-Type", "text/plain; charset=utf-8")])

    def _archive_route(self, path: str) -> Route | None:
        match = _ARCHIVE.match(path)
        if not match or match.group(1) not in self.archived:
            return None
        return Route(self.archived[match.group(1)], "atom", path[1:], ARCHIVE_MAX_AGE)

    # --- feeds -----------------------------------------------------------------------------
    def _read(self, filename: str) -> _Representation | None:
        stamp = self.sink.version(filename)
        if stamp is None:
            return None
        with self._lock:
            cached = self._cache.get(filename)
        if cached is not None and cached.stamp == stamp:
            return cached
        document = self.sink.read(filename)
        if document is None:
            return None
        body = document.body
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)  # mtime=0: same bytes, same ETag
        plain = _etag(body)
        rep = _Representation(
            stamp=document.version,  # the version read, which may be newer than ``stamp``
            body=body,
            gzipped=gzipped,
            etag=plain,
            gzip_etag=plain[:-1] + '-gzip"',
            modified=int(document.modified),
            last_modified=http_date(int(document.modified)),
        )
        with self._lock:
            self._cache[filename] = rep
        return rep

    def _feed(self, environ: dict[str, Any], route: Route) -> _Response:
        rep = self._read(route.filename)
        if rep is None:
            return _Response(
                404,
                f"{route.filename} has not been written yet (no successful run)\n".encode(),
                [("Content-Type", "text/plain; charset=utf-8")],
            )
        use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        etag = rep.gzip_etag if use_gzip else rep.etag
        headers = [
            ("Content-Type", CONTENT_TYPES[route.fmt]),
            ("ETag", etag),
            ("Last-Modified", rep.last_modified),
            (
                "Cache-Control",
                f"public, max-age={route.max_age}"
                + (", immutable" if route.max_age == ARCHIVE_MAX_AGE else ""),
            ),
            ("Vary", "Accept-Encoding"),
        ]
        if _not_modified(environ, (rep.etag, rep.gzip_etag), rep.modified):
            return _Response(304, b"", headers)
        if use_gzip:
            headers.append(("Content-Encoding", "gzip"))
            return _Response(200, rep.gzipped, headers)
        return _Response(200, rep.body, headers)

    def _generated(self, environ: dict[str, Any], body: bytes, content_type: str) -> _Response:
        """A page made per request (index, OPML): validated by its ETag, revalidated every time."""
        use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        etag = _etag(body)
        gzip_etag = etag[:-1] + '-gzip"'
        headers = [
            ("Content-Type", content_type),
            ("ETag", gzip_etag if use_gzip else etag),
            ("Cache-Control", "no-cache"),
            ("Vary", "Accept-Encoding"),
        ]
        if _not_modified(environ, (etag, gzip_etag), None):
            return _Response(304, b"", headers)
        if use_gzip:
            headers.append(("Content-Encoding", "gzip"))
            return _Response(200, gzip.compress(body, mtime=0), headers)
        return _Response(200, body, headers)

    # --- index, OPML, health ---------------------------------------------------------------
    def index_html(self) -> bytes:
        """The index: every feed with autodiscovery links (only files that exist are advertised)."""
        head: list[str] = []
        rows: list[str] = []
        for feed in self.config.feeds:
            links = []
            for fmt in feed.formats:
                filename = feed_filename(feed.name, fmt)
                mime = CONTENT_TYPES[fmt].split(";")[0]
                title = html.escape(xml_safe(f"{feed.title} ({FORMAT_NAMES[fmt]})"))
                if self.sink.exists(filename):
                    href = html.escape(quote(filename))
                    head.append(
                        f'<link rel="alternate" type="{mime}" title="{title}" href="{href}">'
                    )
                    links.append(f'<a href="{href}" type="{mime}">{FORMAT_NAMES[fmt]}</a>')
                else:
                    links.append(f"{FORMAT_NAMES[fmt]} (not written yet)")
            rows.append(
                f"<li><strong>{html.escape(xml_safe(feed.title))}</strong> "
                f"<code>{html.escape(feed.name)}</code>: {' · '.join(links)}</li>"
            )
        page = (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            "<title>feedbot feeds</title>\n"
            + "".join(line + "\n" for line in head)
            + "</head>\n<body>\n<h1>feedbot feeds</h1>\n<ul>\n"
            + "".join(line + "\n" for line in rows)
            + '</ul>\n<p><a href="opml">All feeds as OPML</a> (import into a feed reader) · '
            '<a href="healthz">health</a></p>\n</body>\n</html>\n'
        )
        return page.encode("utf-8")

    def _base(self, environ: dict[str, Any]) -> str:
        """Where the feeds are, for OPML's absolute URLs: ``base_url``; else the request's Host
        header when it is a well-formed host and port (nothing else can reach the document); else
        the server's own address."""
        if self.config.base_url:
            return self.config.base_url
        host = environ.get("HTTP_HOST", "")
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        if _HOST_HEADER.match(host):
            return f"{scheme}://{host}/"
        if self.fallback_base:
            return self.fallback_base
        return application_uri({**environ, "HTTP_HOST": ""}).rstrip("/") + "/"

    def opml(self, base: str) -> bytes:
        """OPML 2.0 with one outline per feed (its first format), ready to import into a reader."""
        root = etree.Element("opml", version="2.0")
        head = etree.SubElement(root, "head")
        etree.SubElement(head, "title").text = "feedbot feeds"
        body = etree.SubElement(root, "body")
        for feed in self.config.feeds:
            fmt = feed.formats[0]
            title = xml_safe(feed.title)  # a control character would make the document invalid
            attrs = {
                "type": "rss",
                "text": title,
                "title": title,
                "xmlUrl": base + quote(feed_filename(feed.name, fmt)),
            }
            site = self.config.site_link(feed.name)
            if site:
                attrs["htmlUrl"] = site
            etree.SubElement(body, "outline", attrs)
        return bytes(
            etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
        )

    def _healthz(self) -> _Response:
        now = self.now()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ]
        workers: list[WorkerHealth] | None = None
        # what failed, in one word: a message would show the database's path
        state = read_state_error(self.config.state_dir)
        try:
            if self._shared is not None:
                with self._shared.store() as store:
                    runs = store.source_runs()
                    workers = worker_health(store.workers(), now)
            else:
                runs = read_source_runs(self.config.db_path)
        except StoreError as exc:
            state = state or StateError(str(exc.kind), "", now)
            runs = {}
        if state is not None:
            failed: dict[str, object] = {
                "status": "error",
                "error_kind": state.kind,
                "since": state.at.isoformat(),
                "sources": [],
            }
            return _Response(503, _json(failed), headers)
        sources = health(self.config, runs, now)
        stale = [s.source for s in sources if s.stale]
        status = "stale" if stale else "ok"
        body: dict[str, object] = {"status": status, "checked": now.isoformat(), "stale": stale}
        if workers is not None:
            # with a shared state, the cluster is healthy only while some worker is alive
            alive = [w for w in workers if w.alive]
            if not alive and status == "ok":
                status = "no worker"
            body["status"] = status
            body["workers_alive"] = len(alive)
            body["workers"] = [w.as_json(now) for w in workers]
        body["sources"] = [s.as_json(now) for s in sources]
        return _Response(200 if status == "ok" else 503, _json(body), headers)

    # --- access log --------------------------------------------------------------------------
    def _log(self, environ: dict[str, Any], status: int, size: int) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        now = self.now().astimezone(UTC)
        stamp = (
            f"{now.day:02d}/{_MONTHS[now.month - 1]}/{now.year}:"
            f"{now.hour:02d}:{now.minute:02d}:{now.second:02d} +0000"
        )
        uri = environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
        request = (
            f"{environ.get('REQUEST_METHOD', '-')} {uri} {environ.get('SERVER_PROTOCOL', '-')}"
        )
        access_log.info(
            '%s - - [%s] "%s" %d %s "%s" "%s"',
            environ.get("REMOTE_ADDR", "-"),
            stamp,
            _log_safe(request),
            status,
            size if size else "-",
            _log_safe(environ.get("HTTP_REFERER", "-")),
            _log_safe(environ.get("HTTP_USER_AGENT", "-")),
        )


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _log_safe(text: str) -> str:
    """No line breaks or quotes from the client into the log line."""
    if text.isprintable() and '"' not in text:
        return text
    return "".join(c if c.isprintable() and c != '"' else f"\\x{ord(c):02x}" for c in text)


def make_app(
    config: Config,
    *,
    now: Callable[[], datetime] = utcnow,
    sink: FeedSink | None = None,
    pages: PreviewOptions | None = None,
) -> FeedApp:
    """The WSGI application serving ``config``'s feeds (from ``sink``, by default the files), the
    status page and (``pages``) the preview page."""
    return FeedApp(config, now=now, sink=sink, pages=pages)


def _fd_room(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` + :data:`FD_RESERVE` (up to the hard
    limit); return how many connections fit (systemd's default soft limit is 1,024)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - FD_RESERVE))


def _channel_class() -> Any:
    """waitress's channel, noting when the request it is receiving began (for REQUEST_TIMEOUT)."""
    from waitress.channel import HTTPChannel

    class Channel(HTTPChannel):  # type: ignore[misc]
        partial_since: float | None = None  # epoch seconds of an incomplete request's first byte

        def received(self, data: bytes) -> bool:
            if self.request is None and data:
                self.partial_since = epoch_seconds()
            done = bool(super().received(data))
            if self.request is None:
                self.partial_since = None
            return done

    return Channel


def _harden(server: Any, *, limit: int, request_timeout: float) -> None:
    """Give one waitress server the request deadline and the eviction at the connection limit."""
    server.channel_class = _channel_class()
    sweep_idle = server.maintenance
    accepting = server.readable

    def maintenance(now: float) -> None:
        sweep_idle(now)  # waitress's own: idle past IDLE_TIMEOUT (channel_timeout)
        cutoff = now - request_timeout
        for channel in list(server.active_channels.values()):
            since = getattr(channel, "partial_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True

    def readable() -> bool:
        if len(server._map) >= limit:
            _evict(server, limit)
        return bool(accepting())

    server.maintenance = maintenance
    server.readable = readable


def _evict(server: Any, limit: int) -> None:
    """At the connection limit, close the connections that have waited longest without a complete
    request (idle since their last byte, or in the middle of one for the longest): a real client
    sends its request at once and is answered in milliseconds, so it is never among them."""
    waiting = []
    for channel in server.active_channels.values():
        if channel.requests or channel.will_close or channel.total_outbufs_len:
            continue  # being answered, or already going
        since = getattr(channel, "partial_since", None)
        waiting.append((since if since is not None else channel.last_activity, channel))
    waiting.sort(key=lambda pair: pair[0])
    for _, channel in waiting[: max(1, limit // EVICT_SHARE)]:
        channel.will_close = True


def _feeds_from(config: Config) -> str:
    if config.state is not None:
        return f"the shared state {display_location(config.state)}"
    return str(config.feeds_dir)


class FeedServer:
    """A waitress server for the feeds, startable in a thread and stoppable with :meth:`close`.

    ``FeedServer(config, host, port)`` binds at once (``port=0`` picks a free port, see :attr:`url`);
    :meth:`run` serves until :meth:`close` is called from any thread. Hostile clients are bounded
    (:data:`CONNECTION_LIMIT`, :data:`IDLE_TIMEOUT`, :data:`REQUEST_TIMEOUT`): no number of idle or
    slowloris connections keeps another client from being answered.
    """

    def __init__(
        self,
        config: Config,
        host: str | None = None,
        port: int | None = None,
        *,
        threads: int = 4,
        poll: float = 0.5,
        connection_limit: int = CONNECTION_LIMIT,
        idle_timeout: int = IDLE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
        preview: bool = False,
        allow_edit: bool = False,
        named_urls: Sequence[str] = (),
    ) -> None:
        """``preview``: the preview page (``serve --preview``); ``allow_edit``: it may write the
        config (only when listening on loopback); ``named_urls``: URLs the user named on the
        command line, fetched as a configured source would be."""
        import waitress
        from waitress.server import BaseWSGIServer

        host = host if host is not None else config.serve.host
        self.pages = PreviewOptions(
            enabled=preview,
            allow_edit=allow_edit,
            listening_on_loopback=loopback_host(host),
            named_urls=tuple(named_urls),
        )
        self.app = make_app(config, pages=self.pages)
        self.connection_limit = _fd_room(connection_limit)
        self.server: Any = waitress.create_server(
            self.app,
            host=host,
            port=port if port is not None else config.serve.port,
            threads=threads,
            ident="feedbot",
            # with the preview on, a proxy's forwarding headers reach the application, which then
            # refuses the request as not local (they are never trusted for the client's address)
            clear_untrusted_proxy_headers=not preview,
            connection_limit=self.connection_limit,
            channel_timeout=idle_timeout,
            cleanup_interval=SWEEP_INTERVAL,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_BODY_BYTES,
            asyncore_use_poll=True,  # select() stops at 1,024 file descriptors
        )
        for dispatcher in list(self.server._map.values()):
            if isinstance(dispatcher, BaseWSGIServer):
                _harden(dispatcher, limit=self.connection_limit, request_timeout=request_timeout)
        self.app.fallback_base = self.url
        self.poll = poll  # seconds: how soon run() notices close()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        return str(self.server.effective_host)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve until :meth:`close`. The loop wakes at least every ``poll`` seconds to look at the
        stop flag, and everything is closed in this thread (waitress's loop is not thread-safe)."""
        from waitress import wasyncore

        server = self.server
        self._running.set()
        try:
            while not self._stop.is_set() and server._map:
                wasyncore.loop(timeout=self.poll, map=server._map, use_poll=True, count=1)
        finally:
            wasyncore.close_all(server._map, ignore_all=True)
            server.task_dispatcher.shutdown()
            self._stopped.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving: returns when :meth:`run` has closed the listening socket and every
        connection (at once when it never ran)."""
        from waitress import wasyncore

        self._stop.set()
        try:
            if not self._running.is_set():
                wasyncore.close_all(self.server._map, ignore_all=True)
                self.server.task_dispatcher.shutdown()
                return
            self._stopped.wait(timeout)
        finally:
            if isinstance(self.app, FeedApp):
                self.app.close()


def serve(
    config: Config,
    host: str | None = None,
    port: int | None = None,
    *,
    preview: bool = False,
    allow_edit: bool = False,
    named_urls: Sequence[str] = (),
    ready: Callable[[FeedServer], None] | None = None,
) -> None:
    """Serve the feeds until interrupted (``feedbot serve``); ``ready`` is called once the server
    listens (``feedbot preview --open`` opens the browser then)."""
    server = FeedServer(
        config, host, port, preview=preview, allow_edit=allow_edit, named_urls=named_urls
    )
    log.info("serving %d feeds from %s on %s", len(config.feeds), _feeds_from(config), server.url)
    if preview:
        log.info("preview page on %spreview", server.url)
    if ready is not None:
        ready(server)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


class ServeService:
    """``feedbot daemon --serve``: the feed server in a thread of the daemon, for as long as it runs.

    On a config reload (SIGHUP) the server keeps its socket and serves the new feeds at once; a new
    ``[serve]`` host or port needs a restart, which is logged."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        self.host = host
        self.port = port
        self.server: FeedServer | None = None
        self.thread: threading.Thread | None = None

    def start(self, config: Config) -> None:
        self.server = FeedServer(config, self.host, self.port)
        self.thread = threading.Thread(target=self.server.run, name="feedbot-serve", daemon=True)
        self.thread.start()
        log.info(
            "serving %d feeds from %s on %s",
            len(config.feeds),
            _feeds_from(config),
            self.server.url,
        )

    def reload(self, config: Config) -> None:
        if self.server is None:
            return
        old, self.server.app = self.server.app, make_app(config, pages=self.server.pages)
        self.server.app.fallback_base = self.server.url
        self.server.server.application = self.server.app
        if isinstance(old, FeedApp):
            old.close()
        wanted = (self.host or config.serve.host, self.port or config.serve.port)
        if self.port != 0 and wanted != (self.server.host, self.server.port):
            log.warning(
                "serve: the new address %s:%s takes effect at the next restart; still on %s",
                *wanted,
                self.server.url,
            )

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.thread is not None:
            self.thread.join(5.0)
