"""Pages that build their content with JavaScript: rendered by a shared headless Chromium.

Owns: the browser (Playwright for Python driving the system's Chromium, one process shared by every
source of a run and by the preview page), one browser context per page with a wall-clock time limit,
and every request such a page makes. The browser never opens a connection of its own:

- every request the page makes is intercepted (``context.route``), checked against the fetch policy
  (:func:`netpolicy.check_url`) and, when allowed, fetched by feedbot itself through the guarded
  session of :mod:`transport` (each connection checked again on its resolved address, a wall-clock
  deadline, a size limit), then handed to the browser (``route.fulfill``);
- what the interception cannot see (a WebSocket, a preconnect, a request the browser makes for
  itself) goes to a proxy address that refuses every connection, so it fails instead of reaching
  the network;
- no downloads, no service workers, no images, fonts or media (the splitter needs the DOM only).

Must not: split, store or decide anything; read the clock of the pipeline (the time limit is real,
monotonic time).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

import requests

from . import netpolicy, transport
from .config import DEFAULT_BROWSER
from .errors import FeedbotError, FetchError, NotModified
from .model import Page

log = logging.getLogger("feedbot.browser")

DEFAULT_EXECUTABLE = DEFAULT_BROWSER  # [feedbot] browser

# Chromium's own background traffic (updates, sync, field trials, safe browsing) would try the
# network on its own; QUIC would bypass the proxy that catches what the interception cannot see.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB; Chromium's renderers need more
    "--dns-prefetch-disable",
    "--proxy-bypass-list=<-loopback>",  # loopback too goes to the refusing proxy
)

# What a page is allowed to load: its documents, scripts, styles and data. Images, fonts, media and
# the rest do not change the DOM the splitter reads, so they are refused without a request.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
LOADED_TYPES = frozenset({"document", "script", "xhr", "fetch", "stylesheet", "other"})

# Response headers the browser must not see from our fetch: requests has already decoded the body
# and read it whole, so its transfer framing and length are ours, not the server's.
_HOP_HEADERS = frozenset(
    {"connection", "content-encoding", "content-length", "keep-alive", "transfer-encoding"}
)
# Request headers the browser sets that our session sets itself (or must not forward).
_OWN_REQUEST_HEADERS = frozenset(
    {"host", "connection", "accept-encoding", "content-length", "user-agent"}
)


class BrowserError(FeedbotError):
    """The browser is missing, cannot start, or could not render a page in time."""


@dataclass(frozen=True)
class BrowserSettings:
    user_agent: str
    executable: str = DEFAULT_EXECUTABLE
    page_timeout: float = 30.0  # wall-clock seconds for one page: load, scripts, settling
    max_requests: int = 200  # requests one page may make (the rest are refused)
    max_bytes: int = 10 * 1024 * 1024  # per response, and for the rendered document
    connect_timeout: float = 10.0
    fetchers: int = 8  # requests fetched at the same time, for all pages together


@dataclass(frozen=True)
class Request:
    """One request a rendered page made, and what became of it."""

    url: str
    kind: str  # Playwright's resource type: document, script, xhr, fetch, ...
    outcome: str  # "fetched", "refused", "skipped" or "failed"
    detail: str = ""  # the HTTP status, or why it was refused or failed


@dataclass(frozen=True)
class Rendered:
    """A page after its scripts ran: the serialised DOM and what the page asked for."""

    url: str
    html: str
    requests: tuple[Request, ...] = ()
    settled: bool = True  # False when the page was still loading when its time was up


def install_hint(executable: str) -> str:
    return (
        f'no browser at {executable}: render = "browser" needs Chromium (Debian: '
        "apt-get install chromium; tests/system-deps.sh installs it) or [feedbot] browser set to "
        "its path"
    )


def check_available(executable: str) -> None:
    """Raise BrowserError saying what to install when Playwright or the browser is missing."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise BrowserError(
            "render = \"browser\" needs Playwright for Python: pip install 'feedbot[browser]'"
        ) from None
    path = shutil.which(executable) if os.sep not in executable else executable
    if path is None or not os.access(path, os.X_OK):
        raise BrowserError(install_hint(executable))


@dataclass
class _PageState:
    """What one render keeps while its page loads."""

    context: netpolicy.Context
    expires: float  # time.monotonic() when the page's time is up
    document_url: str
    document: str | None  # the page's HTML when feedbot fetched it already (served once)
    requests: list[Request] = field(default_factory=list)


class Browser:
    """One headless Chromium for many pages, usable from any thread.

    Playwright's API is not thread-safe, so the browser lives in a thread of its own with an asyncio
    loop; :meth:`render` hands a page to that loop and waits for it. The browser starts on the first
    :meth:`render` and stops on :meth:`close` (idempotent)."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._refuser: socket.socket | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._session: requests.Session | None = None
        self._closed = False

    # --- lifecycle ---------------------------------------------------------------------------
    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise BrowserError("the browser was closed")
            if self._loop is not None:
                return self._loop
            check_available(self.settings.executable)
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="feedbot-browser", daemon=True)
            thread.start()
            # A socket bound but never listening: connections to it are refused at once. The
            # browser's proxy points here, so nothing it sends past the interception gets out.
            refuser = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            refuser.bind(("127.0.0.1", 0))
            self._refuser = refuser
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.settings.fetchers, thread_name_prefix="feedbot-browser-fetch"
            )
            session = transport.guarded_session(pool_connections=32, pool_maxsize=8)
            session.headers["User-Agent"] = self.settings.user_agent
            session.headers["Accept-Encoding"] = "gzip, deflate"
            self._session = session
            future = asyncio.run_coroutine_threadsafe(self._launch(), loop)
            try:
                future.result(timeout=60)
            except BaseException as exc:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(5)
                self._release()
                if isinstance(exc, BrowserError):
                    raise
                raise BrowserError(
                    f"cannot start {self.settings.executable}: {_first_line(exc)}"
                ) from None
            self._loop, self._thread = loop, thread
            return loop

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        assert self._refuser is not None
        port = self._refuser.getsockname()[1]
        args = [*CHROMIUM_ARGS, f"--proxy-server=http://127.0.0.1:{port}"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.settings.executable, args=args, headless=True
            )
        except BaseException:
            await self._playwright.stop()
            self._playwright = None
            raise
        log.info("browser: %s %s started", self.settings.executable, self._browser.version)

    def close(self) -> None:
        """Stop the browser and its thread (at once when it never started)."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                future.result(timeout=15)
            except Exception as exc:  # closing must not raise over the run's own result
                log.warning("browser: closing failed: %s", _first_line(exc))
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
        self._release()

    async def _shutdown(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    def _release(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._refuser is not None:
            self._refuser.close()
            self._refuser = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rendering ---------------------------------------------------------------------------
    def render(
        self,
        url: str,
        context: netpolicy.Context,
        *,
        document: str | None = None,
        timeout: float | None = None,
    ) -> Rendered:
        """Load ``url``, let its scripts run until the network is quiet or the time limit passes,
        and return the DOM. ``document`` is the page's HTML when feedbot fetched it already (it is
        served to the browser instead of a second request). Every request goes through the policy
        of ``context``. Raises BrowserError."""
        loop = self._start()
        limit = self.settings.page_timeout if timeout is None else timeout
        future = asyncio.run_coroutine_threadsafe(self._render(url, context, document, limit), loop)
        try:
            # the page's own limit is enforced inside; this one only guards against a stuck loop
            return future.result(timeout=limit + 15)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise BrowserError(f"the browser did not answer within {limit + 15:g}s") from None

    async def _render(
        self, url: str, context: netpolicy.Context, document: str | None, limit: float
    ) -> Rendered:
        from playwright.async_api import Error as PlaywrightError

        state = _PageState(context, time.monotonic() + limit, url, document)
        try:
            bcontext = await self._browser.new_context(
                accept_downloads=False,
                service_workers="block",
                user_agent=self.settings.user_agent,
                java_script_enabled=True,
            )
        except PlaywrightError as exc:
            raise BrowserError(f"the browser failed: {_first_line(exc)}") from None
        try:
            await bcontext.route("**/*", lambda route: self._handle(route, state))
            page = await bcontext.new_page()
            return await asyncio.wait_for(self._load(page, url, state, limit), limit)
        except TimeoutError:
            raise BrowserError(
                f"the page was not rendered within its {limit:g}s time limit "
                "(a script that never ends, or a page that never loads)"
            ) from None
        except PlaywrightError as exc:
            raise BrowserError(f"the browser could not load the page: {_first_line(exc)}") from None
        finally:
            try:
                await asyncio.wait_for(bcontext.close(), 10)
            except (TimeoutError, PlaywrightError) as exc:
                log.warning("browser: closing a page failed: %s", _first_line(exc))

    async def _load(self, page: Any, url: str, state: _PageState, limit: float) -> Rendered:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        def left_ms() -> float:
            return max(1.0, (state.expires - time.monotonic()) * 1000)

        try:
            response = await page.goto(url, wait_until="domcontentloaded", timeout=left_ms())
        except PlaywrightTimeout:
            raise TimeoutError from None  # the page's time limit: reported by _render
        if response is not None and response.status >= 400:
            raise BrowserError(f"HTTP {response.status} for the page")
        settled = True
        try:
            # "networkidle": no request for 500 ms — the page's scripts have fetched their data
            await page.wait_for_load_state("networkidle", timeout=left_ms())
        except PlaywrightTimeout:
            settled = False  # a page that polls for ever: what it shows now is what we get
        html = await page.content()
        if len(html.encode("utf-8", "surrogatepass")) > self.settings.max_bytes:
            raise BrowserError(
                f"the rendered page is over the {self.settings.max_bytes}-byte limit"
            )
        if not settled:
            log.info("browser: %s still loading after %gs; taking the page as it is", url, limit)
        return Rendered(url=url, html=html, requests=tuple(state.requests), settled=settled)

    async def _handle(self, route: Any, state: _PageState) -> None:
        request = route.request
        url: str = request.url
        kind: str = request.resource_type
        if kind not in LOADED_TYPES:
            state.requests.append(Request(url, kind, "skipped", "not needed for the DOM"))
            await route.abort("blockedbyclient")
            return
        if len(state.requests) >= self.settings.max_requests:
            state.requests.append(Request(url, kind, "refused", "too many requests"))
            await route.abort("blockedbyclient")
            return
        try:
            netpolicy.check_url(url, state.context)
        except netpolicy.Refused as exc:
            log.info("browser: refused %s: %s", url, exc.reason)
            state.requests.append(Request(url, kind, "refused", exc.reason))
            await route.abort("blockedbyclient")
            return
        if url.split("#", 1)[0] == state.document_url.split("#", 1)[0] and state.document:
            html, state.document = state.document, None
            state.requests.append(Request(url, kind, "fetched", "already fetched"))
            await route.fulfill(
                status=200,
                headers={"Content-Type": "text/html; charset=utf-8"},
                body=html.encode("utf-8", "surrogatepass"),
            )
            return
        if url.split(":", 1)[0].lower() not in netpolicy.WEB_SCHEMES:
            state.requests.append(Request(url, kind, "refused", "not http or https"))
            await route.abort("blockedbyclient")
            return
        remaining = state.expires - time.monotonic()
        if remaining <= 0:
            state.requests.append(Request(url, kind, "refused", "the page's time is up"))
            await route.abort("timedout")
            return
        loop = asyncio.get_running_loop()
        assert self._pool is not None
        try:
            status, headers, body = await loop.run_in_executor(
                self._pool,
                self._fetch,
                request.method,
                url,
                await request.all_headers(),
                request.post_data_buffer,
                state.context,
                remaining,
            )
        except _Failed as exc:
            state.requests.append(Request(url, kind, exc.outcome, exc.detail))
            await route.abort("blockedbyclient" if exc.outcome == "refused" else "failed")
            return
        state.requests.append(Request(url, kind, "fetched", str(status)))
        await route.fulfill(status=status, headers=headers, body=body)

    def _fetch(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        context: netpolicy.Context,
        seconds: float,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request of a page, made by feedbot under the fetch policy (a worker thread)."""
        assert self._session is not None
        sent = {k: v for k, v in headers.items() if k.lower() not in _OWN_REQUEST_HEADERS}
        limit = self.settings.max_bytes
        deadline = transport.Deadline(seconds, "request")
        try:
            with transport.scope(context, deadline):
                for _ in range(MAX_REDIRECTS + 1):
                    # each hop is a new URL, judged like the first before it is asked for (and the
                    # connection to it on its address, by the guarded session)
                    netpolicy.check_url(url, context)
                    response = self._session.request(
                        method,
                        url,
                        headers=sent,
                        data=body,
                        timeout=(self.settings.connect_timeout, max(0.1, deadline.remaining())),
                        stream=True,
                        allow_redirects=False,
                    )
                    with response:
                        location = response.headers.get("Location")
                        if response.status_code in REDIRECTS and location:
                            url = urljoin(url, location)
                            if response.status_code == 303 or (
                                response.status_code in (301, 302) and method == "POST"
                            ):
                                method, body = "GET", None  # as browsers do
                            continue
                        data = b""
                        for chunk in response.iter_content(64 * 1024):
                            data += chunk
                            if len(data) > limit:
                                raise _Failed("failed", f"response over the {limit}-byte limit")
                        out = {
                            k: v
                            for k, v in response.headers.items()
                            if k.lower() not in _HOP_HEADERS
                        }
                        return response.status_code, out, data
                raise _Failed("failed", f"more than {MAX_REDIRECTS} redirects")
        except netpolicy.Refused as exc:
            log.info("browser: refused %s: %s", url, exc.reason)
            raise _Failed("refused", exc.reason) from None
        except requests.RequestException as exc:
            refused = _refusal(exc)
            if refused is not None:
                log.info("browser: refused %s: %s", url, refused.reason)
                raise _Failed("refused", refused.reason) from None
            if deadline.expired:
                raise _Failed("failed", f"no complete response within {seconds:.1f}s") from None
            raise _Failed("failed", _first_line(exc)) from None


def rendered_page(
    browser: Browser,
    source: str,
    document: Page,
    context: netpolicy.Context,
    *,
    cached_hash: str | None = None,
) -> Page:
    """``document`` (the page as its server sent it, fetched by the fetcher: robots.txt, politeness
    and the fetch policy applied) after its scripts ran in the browser. The rendered DOM is the
    page from then on: its hash is what decides "not modified" (the HTML a script-built page is
    served as rarely changes when its stories do). Raises FetchError naming the source and the page,
    NotModified when the rendered page is the one stored last time."""
    page, _ = render_document(browser, source, document, context)
    if cached_hash is not None and cached_hash == page.content_hash:
        raise NotModified(document.url)
    return page


def render_document(
    browser: Browser, source: str, document: Page, context: netpolicy.Context
) -> tuple[Page, Rendered]:
    """``document`` rendered (see :func:`rendered_page`), and what its page asked for."""
    if document.content_type != "text/html":
        return document, Rendered(document.final_url, document.text)  # plain text runs no scripts
    try:
        rendered = browser.render(document.final_url, context, document=document.text)
    except BrowserError as exc:
        raise FetchError(source, document.url, f'render = "browser": {exc}') from None
    digest = hashlib.sha256(rendered.html.encode("utf-8", "surrogatepass")).hexdigest()
    page = replace(
        document,
        text=rendered.html,
        encoding="utf-8",
        content_hash=digest,
        etag=None,  # validators of the served HTML say nothing of what the scripts build
        last_modified=None,
    )
    return page, rendered


class _Failed(Exception):
    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


def _refusal(exc: BaseException) -> netpolicy.Refused | None:
    """The policy's refusal inside a requests/urllib3 exception chain, if that is what it was."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, netpolicy.Refused):
            return current
        pending.extend([current.__cause__, current.__context__])
        pending.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
