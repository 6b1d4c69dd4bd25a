"""Retrieving pages: one requests session, timeouts, redirects, conditional GET, size limits, charset,
robots.txt and per-host politeness (see :mod:`feedbot.polite`).

Owns: every network and local-file read of a page. Must not: parse HTML (beyond the charset sniff),
touch the state or decide anything about items. Cache validators come in and go out as values.
Thread-safe: the worker threads of a run share one Fetcher (requests' connection pool is). Reads no
clock itself: the run's ``now`` is handed in (like ``sleep`` and ``monotonic``, for the tests).
HTTP proxies come from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), as requests reads them
— once per host and fetcher (:class:`EnvironmentOnce`), not on every request.

Every URL — the source's own, an index's links, each redirect, robots.txt — passes the fetch policy
(:mod:`feedbot.netpolicy`) before it is asked for, and every connection is checked again on its
resolved address (:mod:`feedbot.transport`). Time is bounded on the wall clock, not per socket
read: one request (headers and body) within ``request_timeout``, a whole source (its tries, and an
index's followed pages) within ``deadline``; a server that trickles bytes or never closes is cut
off when its time is up.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import unquote, urljoin, urlsplit

import brotli
import requests

from . import netpolicy, transport
from .clock import utcnow
from .config import DEFAULT_BROWSER, SourceConfig
from .encoding import decode
from .errors import ErrorKind, ExtractError, FetchError, NotModified
from .markup import MarkdownError, Reading, page_format
from .model import Page, PageFormat, Validators
from .polite import ROBOTS_MAX_BYTES, Gate, HostGate, RobotsCache, RobotsFile, SlotTimeout
from .sandbox import markdown_page

if TYPE_CHECKING:
    from requests.sessions import _Settings

    from .browser import Browser

# hosts whose keep-alive connections are kept at once (past that the least recently used host's
# are closed): a worker of a cluster may fetch from a thousand hosts a second
HOST_POOLS = 1024

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ACCEPT_ENCODING = "gzip, deflate, br"  # every coding in DECODERS (x-gzip is gzip's old name)


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10
    tries: int = 3
    backoff: float = 1.0  # seconds before the second try; doubled each time, with jitter
    max_backoff: float = 60.0
    deadline: float = 120.0  # wall-clock seconds per source: its tries and an index's pages
    request_timeout: float = 60.0  # wall-clock seconds for one request, headers and body
    host_concurrency: int = 2  # requests at once to one host (scheme://host:port)
    host_interval: float = 0.0  # seconds between the starts of two requests to one host
    robots_ttl: float = 3600.0  # how long a host's robots.txt is believed
    allow_networks: tuple[netpolicy.IPNetwork, ...] = ()  # internal networks pages may reach
    browser: str = DEFAULT_BROWSER  # the Chromium that sources with render = "browser" use
    render_timeout: float = 30.0  # seconds a page may take in that browser


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sniff_binary(data: bytes) -> str | None:
    """Recognise a few binary formats that servers mislabel, so the error says what came back."""
    signatures = {
        b"%PDF-": "a PDF document",
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"GIF8": "a GIF image",
        b"PK\x03\x04": "a ZIP archive",
    }
    for magic, name in signatures.items():
        if data.startswith(magic):
            return name
    if b"\x00" in data[:1024] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data"
    return None


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class _NoCredentials(requests.auth.AuthBase):
    """What ~/.netrc holds for a host that it does not name: nothing to add to the request."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_CREDENTIALS = _NoCredentials()


class EnvironmentOnce(requests.Session):
    """A session that reads the environment's settings for a host (proxies and NO_PROXY, the CA
    bundle variables, the credentials ~/.netrc gives it) once, the first time it asks that host,
    instead of on every request: requests walks every environment variable per request for them
    and looks for ~/.netrc on the disk, a good part of a short fetch's CPU. The answers are
    requests' own (``merge_environment_settings``, ``get_netrc_auth``), kept per scheme and host."""

    def __init__(self) -> None:
        super().__init__()
        self._per_host: dict[tuple[str, str], dict[str, Any]] = {}
        self._netrc: dict[tuple[str, str], Any] = {}

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        parts = urlsplit(str(request.url))
        # a URL with credentials of its own: requests' way, untouched (they count only when the
        # request has no other auth, and ~/.netrc's come first)
        if self.trust_env and not request.auth and not self.auth and "@" not in parts.netloc:
            key = (parts.scheme, parts.netloc)
            if key not in self._netrc:
                self._netrc[key] = requests.utils.get_netrc_auth(str(request.url))
            # a truthy auth: requests does not look in ~/.netrc again for this request
            request.auth = self._netrc[key] or _NO_CREDENTIALS
        return super().prepare_request(request)

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        if proxies or verify is not None or cert is not None or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        known = self._per_host.get(key)
        if known is None:
            known = dict(super().merge_environment_settings(url, {}, None, None, None))
            self._per_host[key] = known
        settings = {
            **known,
            "proxies": dict(known["proxies"]),
            "stream": self.stream if stream is None else stream,  # as merge_setting does
        }
        return cast("_Settings", settings)


class Fetcher:
    """One requests session shared by every source of a run. A ``session`` handed in must mount
    :class:`feedbot.transport.GuardedAdapter` (as :func:`feedbot.transport.guarded_session` does),
    or connections escape the address check; the URL checks and deadlines apply either way."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        gate: Gate | None = None,
    ) -> None:
        """``now`` is the run's clock (a page's fetch time, Retry-After dates); ``sleep`` and
        ``monotonic`` time the waits between tries and the per-host spacing. ``gate`` replaces the
        in-process per-host gate (the workers of a cluster share one kept in the state, so
        ``host_concurrency`` and ``host_interval`` hold for the whole cluster)."""
        self.settings = settings
        self.now = now
        if session is None:
            # Keep-alive connections for many hosts at once, and as many per host as we allow;
            # every one of them checked against the fetch policy when it connects.
            session = transport.guarded_session(
                pool_connections=HOST_POOLS,
                pool_maxsize=max(10, settings.host_concurrency),
                session=EnvironmentOnce(),
            )
        self.session = session
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept"] = (
            "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"
        )
        self.session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        self.session.max_redirects = settings.max_redirects
        self._sleep = sleep
        self._monotonic = monotonic
        self.gate: Gate = gate or HostGate(
            concurrency=settings.host_concurrency,
            interval=settings.host_interval,
            sleep=sleep,
            monotonic=monotonic,
        )
        self.robots = RobotsCache(
            self._retrieve_robots, ttl=settings.robots_ttl, monotonic=monotonic
        )

        self._browser: Browser | None = None
        self._browser_lock = threading.Lock()

    def browser(self) -> Browser:
        """The headless browser shared by every source of this fetcher with render = "browser";
        started on first use (its process on the first page), closed with the fetcher."""
        from .browser import Browser, BrowserSettings

        with self._browser_lock:
            if self._browser is None:
                self._browser = Browser(
                    BrowserSettings(
                        user_agent=self.settings.user_agent,
                        executable=self.settings.browser,
                        page_timeout=self.settings.render_timeout,
                        connect_timeout=self.settings.connect_timeout,
                        max_bytes=self.settings.max_bytes,
                    )
                )
            return self._browser

    def close(self) -> None:
        self.session.close()
        with self._browser_lock:
            browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()

    def fetch(self, source: SourceConfig, cached: Validators | None = None) -> Page:
        """Retrieve the source's page. Raises NotModified when it did not change, FetchError on failure."""
        return self.fetch_url(source, source.url, cached)

    def fetch_url(
        self,
        source: SourceConfig,
        url: str,
        cached: Validators | None = None,
        *,
        started: float | None = None,
    ) -> Page:
        """Retrieve ``url`` for ``source`` (its own page, or a page its index links to). The
        deadline counts from ``started`` (a :meth:`monotonic` reading: when the source began) or
        from now. A URL the fetch policy refuses is a FetchError saying why, and is never asked
        for."""
        if started is None:
            started = self._monotonic()
        context = self.context(source)
        try:
            netpolicy.check_url(url, context)
        except netpolicy.Refused as exc:
            raise FetchError(source.name, url, str(exc), kind=ErrorKind.REFUSED) from None
        if urlsplit(url).scheme.lower() == "file":
            return self._fetch_file(source, url, cached)
        if source.robots:
            self._check_robots(source, url, context, started)
        return self._fetch_http(source, url, cached, started, context)

    def context(self, source: SourceConfig) -> netpolicy.Context:
        """The fetch policy's context for ``source``: its configured URL and allow_networks."""
        return netpolicy.Context.for_source(source.url, self.settings.allow_networks)

    def monotonic(self) -> float:
        return self._monotonic()

    def _remaining(self, started: float) -> float:
        """Seconds left of the source's deadline."""
        return self.settings.deadline - (self._monotonic() - started)

    def _budget(self, started: float) -> transport.Deadline:
        """The wall-clock deadline of one request: ``request_timeout``, or what is left of the
        source's deadline when that is less."""
        remaining = self._remaining(started)
        if remaining < self.settings.request_timeout:
            return transport.Deadline(remaining, "source")
        return transport.Deadline(self.settings.request_timeout, "request")

    def _deadline_message(self, deadline: transport.Deadline) -> str:
        if deadline.what == "source":
            return (
                f"the source's {self.settings.deadline:g}s deadline passed before the response "
                "was complete (the server sends too slowly or never finishes)"
            )
        return (
            f"no complete response within the {self.settings.request_timeout:g}s request "
            "deadline (the server sends too slowly or never finishes)"
        )

    def _check_robots(
        self, source: SourceConfig, url: str, context: netpolicy.Context, started: float
    ) -> None:
        with transport.scope(context, self._budget(started)):
            answer = self.robots.answer(url)
        if answer.allows(url, self.settings.user_agent):
            return
        if answer.status == "unreachable" and answer.network:
            raise FetchError(
                source.name,
                url,
                f"{answer.detail} (while asking for robots.txt)",
                kind=answer.kind or ErrorKind.UNREACHABLE,
            )
        if answer.status == "unreachable":
            raise FetchError(
                source.name,
                url,
                f"robots.txt unreachable ({answer.detail}); RFC 9309 says to treat that as "
                "robots.txt disallows every page until it answers (set robots = false for pages you own)",
                kind=ErrorKind.ROBOTS,
            )
        raise FetchError(
            source.name,
            url,
            "robots.txt disallows this page for our user agent "
            "(set robots = false for pages you own)",
            kind=ErrorKind.ROBOTS,
        )

    def _retrieve_robots(self, robots_url: str) -> RobotsFile:
        """robots.txt, in the scope (policy context and deadline) of the fetch that asks for it:
        its redirects obey the policy like a page's, and only its first 500 KiB are read."""
        settings = self.settings
        context = transport.current_context()
        deadline = transport._current_deadline()
        try:
            with self.gate.slot(robots_url, timeout=deadline.remaining() if deadline else None):
                response = self.session.get(
                    robots_url,
                    timeout=self._timeouts(deadline),
                    stream=True,
                    allow_redirects=True,
                    hooks={"response": [self._redirect_hook(context)]},
                )
                with response:
                    if response.status_code != 200:
                        return RobotsFile(response.status_code, b"")
                    body = _read_limited(response, ROBOTS_MAX_BYTES)
            if deadline is not None and deadline.expired:
                return RobotsFile(0, b"", self._deadline_message(deadline), ErrorKind.TIMEOUT)
            return RobotsFile(200, body)
        except netpolicy.Refused as exc:
            return RobotsFile(0, b"", str(exc), ErrorKind.REFUSED)
        except SlotTimeout as exc:
            return RobotsFile(0, b"", str(exc), ErrorKind.TIMEOUT)
        except requests.Timeout:
            message = f"no response within {settings.read_timeout:g}s"
            return RobotsFile(0, b"", message, ErrorKind.TIMEOUT)
        except (requests.RequestException, zlib.error, OSError) as exc:
            if deadline is not None and deadline.expired:
                return RobotsFile(0, b"", self._deadline_message(deadline), ErrorKind.TIMEOUT)
            if isinstance(exc, requests.ConnectionError | OSError):
                message = f"cannot connect: {_reason(exc)}"
                return RobotsFile(0, b"", message, ErrorKind.UNREACHABLE)
            return RobotsFile(0, b"", f"unusable robots.txt: {_reason(exc)}", ErrorKind.ROBOTS)

    def _timeouts(self, deadline: transport.Deadline | None) -> tuple[float, float]:
        """requests' (connect, read) timeouts, never longer than what is left of ``deadline``."""
        connect, read = self.settings.connect_timeout, self.settings.read_timeout
        if deadline is not None:
            left = max(0.001, deadline.remaining())
            connect, read = min(connect, left), min(read, left)
        return connect, read

    def _redirect_hook(self, context: netpolicy.Context) -> Callable[..., Any]:
        """A requests response hook: a redirect the policy refuses ends the request, before it is
        followed."""
        session = self.session

        def check(response: requests.Response, *args: object, **kwargs: object) -> None:
            if not response.is_redirect:
                return
            target = session.get_redirect_target(response)
            if not target:
                return
            url = urljoin(response.url, target)
            try:
                netpolicy.check_url(url, context)
            except netpolicy.Refused as exc:
                response.close()
                raise netpolicy.Refused(url, f"redirect to {url}: {exc.reason}") from None

        return check

    def _fetch_file(self, source: SourceConfig, url: str, cached: Validators | None) -> Page:
        path = Path(unquote(urlsplit(url).path))
        try:
            if path.stat().st_size > self.settings.max_bytes:
                raise FetchError(
                    source.name,
                    url,
                    f"file larger than {self.settings.max_bytes} bytes",
                    kind=ErrorKind.TOO_LARGE,
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise FetchError(source.name, url, "file not found", kind=ErrorKind.NOT_FOUND) from None
        except IsADirectoryError:
            message = "is a directory, not a page"
            raise FetchError(source.name, url, message, kind=ErrorKind.NOT_A_PAGE) from None
        except OSError as exc:
            message = f"cannot read: {exc.strerror}"
            raise FetchError(source.name, url, message, kind=ErrorKind.UNREADABLE) from None
        kind = page_format("", path.name, source.format)
        return self._page(source, url, url, data, kind, None, None, None, cached)

    def _page(
        self,
        source: SourceConfig,
        url: str,
        final_url: str,
        data: bytes,
        kind: Reading | None,
        header_charset: str | None,
        etag: str | None,
        last_modified: str | None,
        cached: Validators | None,
        language: str | None = None,
    ) -> Page:
        binary = _sniff_binary(data)
        if binary:
            message = f"got {binary}, not an HTML or text page"
            raise FetchError(source.name, url, message, kind=ErrorKind.NOT_A_PAGE)
        if kind is None:
            raise FetchError(
                source.name, url, "not an HTML or text page", kind=ErrorKind.NOT_A_PAGE
            )
        if not data.strip():
            message = "empty page (0 bytes of content)"
            raise FetchError(source.name, url, message, kind=ErrorKind.EMPTY)
        digest = content_hash(data)
        if cached is not None and cached.content_hash == digest:
            raise NotModified(url)
        html = kind.format is PageFormat.HTML
        text, codec = decode(
            data, header_charset=header_charset, override=source.encoding, html=html
        )
        if kind.format is PageFormat.MARKDOWN:
            try:
                text = markdown_page(text)
            except MarkdownError as exc:
                raise ExtractError(source.name, url, f"{exc}; the feed is left as it was") from None
        return Page(
            url=url,
            final_url=final_url,
            text=text,
            content_type="text/plain" if kind.format is PageFormat.TEXT else "text/html",
            encoding=codec,
            content_hash=digest,
            fetched_at=self.now(),
            etag=etag,
            last_modified=last_modified,
            markup=kind.format,
            markup_reason=kind.reason,
            language=language,
        )

    def _fetch_http(
        self,
        source: SourceConfig,
        url: str,
        cached: Validators | None,
        started: float,
        context: netpolicy.Context,
    ) -> Page:
        settings = self.settings
        delay = settings.backoff
        last_error = "no attempt made"
        last_kind = ErrorKind.FETCH
        for attempt in range(1, settings.tries + 1):
            wait: float | None = None
            if self._remaining(started) <= 0:
                if attempt == 1:
                    raise FetchError(
                        source.name,
                        url,
                        f"the source's {settings.deadline:g}s deadline passed before this page "
                        "could be asked for",
                        kind=ErrorKind.TIMEOUT,
                    )
                attempt -= 1
                last_error += f" (giving up: the {settings.deadline:g}s deadline passed)"
                break
            try:
                return self._attempt(source, url, cached, context, started)
            except _Retryable as exc:
                last_error, last_kind = exc.message, exc.kind
                wait = exc.retry_after
            if attempt == settings.tries:
                break
            if wait is None:
                wait = min(settings.max_backoff, delay) * (0.5 + random.random() / 2)
                delay *= 2
            if self._monotonic() - started + wait > settings.deadline:
                last_error += (
                    f" (giving up: the next try would pass the {settings.deadline:g}s deadline)"
                )
                break
            self._sleep(wait)
        raise FetchError(
            source.name,
            url,
            f"{last_error} (after {attempt} tr{'y' if attempt == 1 else 'ies'})",
            kind=last_kind,
        )

    def _attempt(
        self,
        source: SourceConfig,
        url: str,
        cached: Validators | None,
        context: netpolicy.Context,
        started: float,
    ) -> Page:
        deadline = self._budget(started)
        try:
            with (
                self.gate.slot(url, timeout=deadline.remaining()),
                transport.scope(context, deadline),
            ):
                return self._request(source, url, cached, context, deadline)
        except SlotTimeout as exc:
            if deadline.what == "source":
                message = f"{exc}; {self._deadline_message(deadline)}"
                raise FetchError(source.name, url, message, kind=ErrorKind.TIMEOUT) from None
            raise _Retryable(str(exc), kind=ErrorKind.TIMEOUT) from None

    def _request(
        self,
        source: SourceConfig,
        url: str,
        cached: Validators | None,
        context: netpolicy.Context,
        deadline: transport.Deadline,
    ) -> Page:
        try:
            return self._exchange(source, url, cached, context, deadline)
        except netpolicy.Refused as exc:
            raise FetchError(source.name, url, str(exc), kind=ErrorKind.REFUSED) from None
        except NotModified:
            raise
        except Exception:
            if deadline.expired:
                if deadline.what == "source":
                    message = self._deadline_message(deadline)
                    raise FetchError(source.name, url, message, kind=ErrorKind.TIMEOUT) from None
                raise _Retryable(self._deadline_message(deadline), kind=ErrorKind.TIMEOUT) from None
            raise

    def _exchange(
        self,
        source: SourceConfig,
        url: str,
        cached: Validators | None,
        context: netpolicy.Context,
        deadline: transport.Deadline,
    ) -> Page:
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        settings = self.settings
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=self._timeouts(deadline),
                stream=True,
                allow_redirects=True,
                hooks={"response": [self._redirect_hook(context)]},
            )
        except requests.TooManyRedirects:
            raise FetchError(
                source.name,
                url,
                f"more than {settings.max_redirects} redirects",
                kind=ErrorKind.TOO_MANY_REDIRECTS,
            ) from None
        except requests.ConnectTimeout:
            message = f"connection timed out after {settings.connect_timeout:g}s"
            raise _Retryable(message, kind=ErrorKind.TIMEOUT) from None
        except requests.ReadTimeout:
            message = f"no response within {settings.read_timeout:g}s"
            raise _Retryable(message, kind=ErrorKind.TIMEOUT) from None
        except requests.ConnectionError as exc:
            message = f"cannot connect: {_reason(exc)}"
            raise _Retryable(message, kind=ErrorKind.UNREACHABLE) from None
        except requests.RequestException as exc:
            raise FetchError(source.name, url, f"request failed: {exc}") from None
        with response:
            status = response.status_code
            if status == 304:
                # a 304 has no body: reading it (nothing; urllib3 reads no byte of a 304) hands
                # the connection back to the pool for the next request — left unread, the
                # response's close closed it, and a re-poll paid a new connection per page
                _ = response.content
                raise NotModified(url)
            if status in RETRY_STATUSES:
                after = retry_after(response.headers.get("Retry-After"), self.now())
                message = f"HTTP {status} {response.reason or ''}".rstrip()
                raise _Retryable(message, after, kind=ErrorKind.HTTP_STATUS)
            if status >= 400:
                message = f"HTTP {status} {response.reason or ''}".rstrip()
                raise FetchError(source.name, url, message, kind=ErrorKind.HTTP_STATUS)
            content_type = response.headers.get("Content-Type", "")
            final_url = response.url or url
            kind = page_format(content_type, urlsplit(final_url).path, source.format)
            if kind is None:
                mime = content_type.split(";")[0].strip() or "(none)"
                message = f"content type {mime} is not HTML or text"
                raise FetchError(source.name, url, message, kind=ErrorKind.NOT_A_PAGE)
            data = self._read_body(source, url, response)
            deadline.close()  # read in full: a deadline passing from now on cut nothing short
            if deadline.expired:
                raise _Retryable(self._deadline_message(deadline), kind=ErrorKind.TIMEOUT)
            return self._page(
                source,
                url,
                final_url,
                data,
                kind,
                _charset(content_type),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                cached,
                response.headers.get("Content-Language"),
            )

    def _read_body(self, source: SourceConfig, url: str, response: requests.Response) -> bytes:
        """Read the body, stopping at the size limit both before and after decompression."""
        limit = self.settings.max_bytes
        declared = response.headers.get("Content-Length", "")
        header = response.headers.get("Content-Encoding", "")
        if declared.isdigit() and int(declared) > limit and not header:
            raise FetchError(
                source.name,
                url,
                f"response of {declared} bytes is over the {limit}-byte limit",
                kind=ErrorKind.TOO_LARGE,
            )
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        unknown = [c for c in codings if c not in DECODERS]
        if unknown:
            raise FetchError(
                source.name,
                url,
                f"unsupported content encoding {unknown[0]!r} (we accept {ACCEPT_ENCODING})",
                kind=ErrorKind.CORRUPT_BODY,
            )
        # applied in the reverse of the order they were listed (RFC 9110 8.4)
        decoders = [DECODERS[c]() for c in reversed(codings)]
        encoding = ", ".join(codings)
        chunks: list[bytes] = []
        size = 0
        try:
            for raw in response.raw.stream(64 * 1024, decode_content=False):
                chunk = raw
                for decoder in decoders:
                    chunk = decoder.feed(chunk, limit + 1 - size)
                    if len(chunk) > limit - size:
                        break
                size += len(chunk)
                if size > limit:
                    what = "decompressed body" if decoders else "body"
                    message = f"{what} is over the {limit}-byte limit"
                    raise FetchError(source.name, url, message, kind=ErrorKind.TOO_LARGE)
                chunks.append(chunk)
            for decoder in decoders:
                if not decoder.finished():
                    message = f"truncated {encoding} body (the stream ends early)"
                    raise FetchError(source.name, url, message, kind=ErrorKind.CORRUPT_BODY)
        except (zlib.error, brotli.error) as exc:
            message = f"corrupt {encoding} body: {exc}"
            raise FetchError(source.name, url, message, kind=ErrorKind.CORRUPT_BODY) from None
        except requests.exceptions.ReadTimeout:
            message = f"body not received within {self.settings.read_timeout:g}s"
            raise _Retryable(message, kind=ErrorKind.TIMEOUT) from None
        except (requests.ConnectionError, OSError) as exc:
            message = f"connection lost while reading the body: {_reason(exc)}"
            raise _Retryable(message, kind=ErrorKind.UNREACHABLE) from None
        except Exception as exc:  # urllib3 wraps socket errors in its own exception types
            name = type(exc).__name__
            if "Timeout" in name:
                message = f"body not received within {self.settings.read_timeout:g}s"
                raise _Retryable(message, kind=ErrorKind.TIMEOUT) from None
            if "Protocol" in name or "IncompleteRead" in name or "Connection" in name:
                message = f"connection lost while reading the body: {name}"
                raise _Retryable(message, kind=ErrorKind.UNREACHABLE) from None
            raise
        return b"".join(chunks)


class _Decoder(Protocol):
    """One content coding, decoded a chunk at a time with the output bounded (a bomb is stopped
    after ``limit`` bytes, not after it has filled the memory)."""

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``; return at most about ``limit`` bytes more than a caller can use, so
        that going over the size limit is noticed (then the rest is never decoded)."""
        ...

    def finished(self) -> bool:
        """Whether the stream ended where its format says it ends (else it was cut short)."""
        ...


class _Zlib:
    """gzip (RFC 1952), and deflate: zlib-wrapped as RFC 9110 says, or raw (RFC 1951), as many
    servers send it — told apart by the zlib header's check bits, as browsers do."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.inner: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self.head = b""

    def feed(self, data: bytes, limit: int) -> bytes:
        if self.inner is None:
            self.head += data
            if len(self.head) < 2:
                return b""
            cmf, flg = self.head[0], self.head[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self.inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self.head = self.head, b""
        out = self.inner.decompress(data, max(1, limit))
        while self.inner.unconsumed_tail and len(out) <= limit:
            out += self.inner.decompress(self.inner.unconsumed_tail, max(1, limit - len(out)))
        return bytes(out)

    def finished(self) -> bool:
        # deflate is not held to its end: servers that stream it often never finish the stream
        return not self.gzip or (self.inner is not None and self.inner.eof)


class _Brotli:
    """br (RFC 7932), with Google's decoder."""

    def __init__(self) -> None:
        self.inner = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> bytes:
        budget = max(1, limit)
        out = self.inner.process(data, output_buffer_limit=budget)
        while not self.inner.can_accept_more_data() and len(out) <= limit:
            out += self.inner.process(b"", output_buffer_limit=budget)
        return bytes(out)

    def finished(self) -> bool:
        return bool(self.inner.is_finished())


DECODERS: dict[str, Callable[[], _Decoder]] = {
    "gzip": lambda: _Zlib(gzip=True),
    "x-gzip": lambda: _Zlib(gzip=True),
    "deflate": lambda: _Zlib(gzip=False),
    "br": _Brotli,
}


def _read_limited(response: requests.Response, limit: int) -> bytes:
    """The decoded body of a small response (robots.txt): its first ``limit`` bytes and a little
    more (so the reader can tell it was cut); the rest is never read."""
    data = b""
    for chunk in response.iter_content(16 * 1024):
        data += chunk
        if len(data) > limit:
            break
    return data


class _Retryable(Exception):
    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        kind: ErrorKind = ErrorKind.FETCH,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retry_after = retry_after


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Connection reset",
        "timed out",
        "Temporary failure in name resolution",
    ):
        if marker in text:
            return marker.lower()
    return text[:200]
