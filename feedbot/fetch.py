"""Retrieving pages: one requests session, timeouts, redirects, conditional GET, size limits, charset,
robots.txt and per-host politeness (see :mod:`feedbot.polite`).

Owns: every network and local-file read of a page. Must not: parse HTML (beyond the charset sniff),
touch the state or decide anything about items. Cache validators come in and go out as values.
Thread-safe: the worker threads of a run share one Fetcher (requests' connection pool is). Reads no
clock itself: the run's ``now`` is handed in (like ``sleep`` and ``monotonic``, for the tests).
HTTP proxies come from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), as requests reads them
— once per host and fetcher (:class:`EnvironmentOnce`), not on every request.
"""

from __future__ import annotations

import hashlib
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import requests

if TYPE_CHECKING:
    from requests.sessions import _Settings

from .clock import utcnow
from .config import SourceConfig
from .encoding import decode
from .errors import FetchError, NotModified
from .model import Page, Validators
from .polite import Gate, HostGate, RobotsCache, RobotsFile

# hosts whose keep-alive connections are kept at once (past that the least recently used host's
# are closed): a worker of a cluster may fetch from a thousand hosts a second
HOST_POOLS = 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
    deadline: float = 120.0  # total seconds per source, retries included
    host_concurrency: int = 2  # requests at once to one host (scheme://host:port)
    host_interval: float = 0.0  # seconds between the starts of two requests to one host
    robots_ttl: float = 3600.0  # how long a host's robots.txt is believed


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _kind_of(content_type: str, path: str) -> str | None:
    mime = content_type.split(";")[0].strip().lower()
    if mime in HTML_TYPES:
        return "text/html"
    if mime in TEXT_TYPES:
        return "text/plain"
    if not mime or mime == "application/octet-stream":
        lower = path.lower()
        if lower.endswith((".txt", ".text", ".md")):
            return "text/plain"
        if lower.endswith((".html", ".htm", ".xhtml", "/")) or "." not in lower.rsplit("/", 1)[-1]:
            return "text/html"
    return None


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


class EnvironmentOnce(requests.Session):
    """A session that reads the environment's settings for a host (proxies and NO_PROXY, the CA
    bundle variables) once, the first time it asks that host, instead of on every request: requests
    walks every environment variable per request for them, a good part of a short fetch's CPU.
    The answer is requests' own (``merge_environment_settings``), kept per scheme and host."""

    def __init__(self) -> None:
        super().__init__()
        self._per_host: dict[tuple[str, str], dict[str, Any]] = {}

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
    """One requests session shared by every source of a run."""

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
            session = EnvironmentOnce()
            # Keep-alive connections for many hosts at once, and as many per host as we allow.
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=HOST_POOLS, pool_maxsize=max(10, settings.host_concurrency)
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept"] = (
            "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"
        )
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
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

    def close(self) -> None:
        self.session.close()

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
        from now."""
        if url.startswith("file://"):
            return self._fetch_file(source, url, cached)
        if source.robots:
            self._check_robots(source, url)
        return self._fetch_http(source, url, cached, started)

    def monotonic(self) -> float:
        return self._monotonic()

    def _check_robots(self, source: SourceConfig, url: str) -> None:
        answer = self.robots.answer(url)
        if answer.allows(url, self.settings.user_agent):
            return
        if answer.status == "unreachable" and answer.network:
            raise FetchError(source.name, url, f"{answer.detail} (while asking for robots.txt)")
        if answer.status == "unreachable":
            raise FetchError(
                source.name,
                url,
                f"robots.txt unreachable ({answer.detail}); RFC 9309 says to treat that as "
                "robots.txt disallows every page until it answers (set robots = false for pages you own)",
            )
        raise FetchError(
            source.name,
            url,
            "robots.txt disallows this page for our user agent "
            "(set robots = false for pages you own)",
        )

    def _retrieve_robots(self, robots_url: str) -> RobotsFile:
        settings = self.settings
        try:
            with self.gate.slot(robots_url):
                response = self.session.get(
                    robots_url,
                    timeout=(settings.connect_timeout, settings.read_timeout),
                    stream=True,
                    allow_redirects=True,
                )
                with response:
                    if response.status_code != 200:
                        return RobotsFile(response.status_code, b"")
                    body = _read_limited(response, 2 * 500 * 1024)
                    return RobotsFile(200, body)
        except requests.Timeout:
            return RobotsFile(0, b"", f"no response within {settings.read_timeout:g}s")
        except (requests.ConnectionError, OSError) as exc:
            return RobotsFile(0, b"", f"cannot connect: {_reason(exc)}")
        except (requests.RequestException, zlib.error, _TooLarge) as exc:
            return RobotsFile(0, b"", f"unusable robots.txt: {_reason(exc)}")

    def _fetch_file(self, source: SourceConfig, url: str, cached: Validators | None) -> Page:
        path = Path(unquote(urlsplit(url).path))
        try:
            if path.stat().st_size > self.settings.max_bytes:
                raise FetchError(
                    source.name, url, f"file larger than {self.settings.max_bytes} bytes"
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise FetchError(source.name, url, "file not found") from None
        except IsADirectoryError:
            raise FetchError(source.name, url, "is a directory, not a page") from None
        except OSError as exc:
            raise FetchError(source.name, url, f"cannot read: {exc.strerror}") from None
        kind = _kind_of("", path.name)
        return self._page(source, url, url, data, kind, None, None, None, cached)

    def _page(
        self,
        source: SourceConfig,
        url: str,
        final_url: str,
        data: bytes,
        kind: str | None,
        header_charset: str | None,
        etag: str | None,
        last_modified: str | None,
        cached: Validators | None,
    ) -> Page:
        binary = _sniff_binary(data)
        if binary:
            raise FetchError(source.name, url, f"got {binary}, not an HTML or text page")
        if kind is None:
            raise FetchError(source.name, url, "not an HTML or text page")
        if not data.strip():
            raise FetchError(source.name, url, "empty page (0 bytes of content)")
        digest = content_hash(data)
        if cached is not None and cached.content_hash == digest:
            raise NotModified(url)
        text, codec = decode(
            data, header_charset=header_charset, override=source.encoding, html=kind == "text/html"
        )
        return Page(
            url=url,
            final_url=final_url,
            text=text,
            content_type=kind,
            encoding=codec,
            content_hash=digest,
            fetched_at=self.now(),
            etag=etag,
            last_modified=last_modified,
        )

    def _fetch_http(
        self, source: SourceConfig, url: str, cached: Validators | None, started: float | None
    ) -> Page:
        settings = self.settings
        if started is None:
            started = self._monotonic()
        delay = settings.backoff
        last_error = "no attempt made"
        for attempt in range(1, settings.tries + 1):
            wait: float | None = None
            try:
                return self._attempt(source, url, cached)
            except _Retryable as exc:
                last_error = exc.message
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
            source.name, url, f"{last_error} (after {attempt} tr{'y' if attempt == 1 else 'ies'})"
        )

    def _attempt(self, source: SourceConfig, url: str, cached: Validators | None) -> Page:
        with self.gate.slot(url):
            return self._request(source, url, cached)

    def _request(self, source: SourceConfig, url: str, cached: Validators | None) -> Page:
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
                timeout=(settings.connect_timeout, settings.read_timeout),
                stream=True,
                allow_redirects=True,
            )
        except requests.TooManyRedirects:
            raise FetchError(
                source.name, url, f"more than {settings.max_redirects} redirects"
            ) from None
        except requests.ConnectTimeout:
            raise _Retryable(f"connection timed out after {settings.connect_timeout:g}s") from None
        except requests.ReadTimeout:
            raise _Retryable(f"no response within {settings.read_timeout:g}s") from None
        except requests.ConnectionError as exc:
            raise _Retryable(f"cannot connect: {_reason(exc)}") from None
        except requests.RequestException as exc:
            raise FetchError(source.name, url, f"request failed: {exc}") from None
        with response:
            status = response.status_code
            if status == 304:
                raise NotModified(url)
            if status in RETRY_STATUSES:
                after = retry_after(response.headers.get("Retry-After"), self.now())
                raise _Retryable(f"HTTP {status} {response.reason or ''}".rstrip(), after)
            if status >= 400:
                raise FetchError(
                    source.name, url, f"HTTP {status} {response.reason or ''}".rstrip()
                )
            content_type = response.headers.get("Content-Type", "")
            final_url = response.url or url
            kind = _kind_of(content_type, urlsplit(final_url).path)
            if kind is None:
                mime = content_type.split(";")[0].strip() or "(none)"
                raise FetchError(source.name, url, f"content type {mime} is not HTML or text")
            data = self._read_body(source, url, response)
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
            )

    def _read_body(self, source: SourceConfig, url: str, response: requests.Response) -> bytes:
        """Read the body, stopping at the size limit both before and after decompression."""
        limit = self.settings.max_bytes
        declared = response.headers.get("Content-Length", "")
        if (
            declared.isdigit()
            and int(declared) > limit
            and not response.headers.get("Content-Encoding")
        ):
            raise FetchError(
                source.name, url, f"response of {declared} bytes is over the {limit}-byte limit"
            )
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        decompressor = None
        if encoding in ("gzip", "x-gzip"):
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decompressor = zlib.decompressobj()
        chunks: list[bytes] = []
        size = 0
        try:
            for raw in response.raw.stream(64 * 1024, decode_content=False):
                if decompressor is None:
                    chunk = raw
                else:
                    chunk = decompressor.decompress(raw, limit + 1 - size)
                    while decompressor.unconsumed_tail and size + len(chunk) <= limit:
                        chunk += decompressor.decompress(
                            decompressor.unconsumed_tail, limit + 1 - size - len(chunk)
                        )
                size += len(chunk)
                if size > limit:
                    what = "decompressed body" if decompressor else "body"
                    raise FetchError(source.name, url, f"{what} is over the {limit}-byte limit")
                chunks.append(chunk)
            if decompressor is not None and not decompressor.eof and encoding != "deflate":
                raise FetchError(
                    source.name, url, f"truncated {encoding} body (the stream ends early)"
                )
        except zlib.error as exc:
            raise FetchError(source.name, url, f"corrupt {encoding} body: {exc}") from None
        except requests.exceptions.ReadTimeout:
            raise _Retryable(f"body not received within {self.settings.read_timeout:g}s") from None
        except (requests.ConnectionError, OSError) as exc:
            raise _Retryable(f"connection lost while reading the body: {_reason(exc)}") from None
        except Exception as exc:  # urllib3 wraps socket errors in its own exception types
            name = type(exc).__name__
            if "Timeout" in name:
                raise _Retryable(
                    f"body not received within {self.settings.read_timeout:g}s"
                ) from None
            if "Protocol" in name or "IncompleteRead" in name or "Connection" in name:
                raise _Retryable(f"connection lost while reading the body: {name}") from None
            raise
        return b"".join(chunks)


class _TooLarge(Exception):
    pass


def _read_limited(response: requests.Response, limit: int) -> bytes:
    """The decoded body of a small response (robots.txt), refusing more than ``limit`` bytes."""
    data = b""
    for chunk in response.iter_content(16 * 1024):
        data += chunk
        if len(data) > limit:
            raise _TooLarge(f"over {limit} bytes")
    return data


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
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
