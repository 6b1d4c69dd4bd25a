"""The preview-and-fix page and the status page of ``feedbot serve``.

Owns: ``/preview`` (enter a URL or pick a configured source; the page itself, sanitised, with each
item outlined and numbered, its headline marked and what was cut shaded with its reason; beside it
the items, the levels considered and the config lines; a click on the page picks a headline level, a
content area or a block to leave out), ``/preview/write`` (with ``--allow-edit``: the config lines
written into the config file), ``/status`` (every source's last runs with a small chart of their
item counts, errors and feed links) and the two static files they use. Server-rendered HTML with a
little plain JavaScript; every response carries a strict Content-Security-Policy.

Who may use it: the preview fetches pages, so it is off unless ``serve`` is started with
``--preview``, answers only loopback clients (whose ``Host`` is a loopback name, against DNS
rebinding, and whose request carries no proxy's forwarding header) unless the configured
``[serve] preview_token`` is presented, and writes the config only for a loopback client of a server
listening on loopback, with the form's own token. Every fetch obeys the fetch policy: a configured
source (or the URL given to ``feedbot preview --open``) as the run would fetch it; any other URL as a
page reached from the network (public addresses only, no local files). Must not: write the state.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import tomlkit

from . import netpolicy
from .clock import utcnow
from .config import Config, SourceConfig, load_config
from .errors import ConfigError, FeedbotError, SourceError, StoreError
from .fetch import Fetcher
from .model import Page, RenderMode, SourceRun, Split
from .preview import (
    SPLIT_KEYS,
    Heading,
    Level,
    Mark,
    annotate,
    check_selector,
    explained_levels,
    explained_marks,
    levels,
    marks,
    outline,
    page_tree,
    source_lines,
)
from .render import feed_filename
from .run import split_options
from .split.explain import explain_page
from .store import read_source_runs

log = logging.getLogger("feedbot.preview")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Referrer-Policy",
        "same-origin",
    ),  # the write form's Origin is checked; no-referrer makes it "null"
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)
FORWARDING_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_REAL_IP",
    "HTTP_X_FORWARDED_PROTO",
)
TOKEN_COOKIE = "feedbot_preview"
STATIC = {
    "/static/preview.css": ("preview.css", "text/css; charset=utf-8"),
    "/static/preview.js": ("preview.js", "text/javascript; charset=utf-8"),
    "/static/icon.svg": ("icon.svg", "image/svg+xml"),
}
PAGE_CACHE_SECONDS = 300.0  # a fetched page is re-split from memory while the user clicks
PAGE_CACHE_SIZE = 16
MAX_FORM_BYTES = 64 * 1024
STATUS_RUNS = 20  # runs shown per source in the status page's chart
_CREDENTIALS = re.compile(r"(?<=://)[^/\s@:]+(?::[^/\s@]*)?@")


@dataclass(frozen=True)
class PreviewOptions:
    """How ``feedbot serve`` was started: with the preview page (``--preview``), allowed to write
    the config (``--allow-edit``, only on loopback), and the URLs named on its command line."""

    enabled: bool = False
    allow_edit: bool = False
    listening_on_loopback: bool = True
    named_urls: tuple[str, ...] = ()


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Fetched:
    """A page as the preview fetched it, and (rendered by the browser) what it asked for."""

    page: Page
    requests: tuple[Any, ...] = ()
    at: float = 0.0


@dataclass(frozen=True)
class View:
    """Everything one preview shows."""

    source: SourceConfig
    configured: bool
    changes: dict[str, Any]
    page: Page | None = None
    split: Split | None = None
    marks: tuple[Mark, ...] = ()
    levels: tuple[Level, ...] = ()
    outline: tuple[Heading, ...] = ()
    html: str = ""
    error: str | None = None
    lines: str = ""
    requests: tuple[Any, ...] = ()


def redact(text: str) -> str:
    """Credentials in URLs (``https://user:secret@host/``) left out of what the pages show."""
    return _CREDENTIALS.sub("", text)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def loopback_host(host: str) -> bool:
    """Whether a ``Host`` header names this machine by a loopback address or ``localhost``."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    return name == "localhost" or is_loopback(name)


class PreviewApp:
    """The preview and status pages; a WSGI application of its own, mounted by
    :class:`feedbot.serve.FeedApp` when ``serve`` runs with ``--preview``."""

    PATHS = ("/preview", "/preview/write", "/status", *STATIC)

    def __init__(
        self,
        config: Config,
        *,
        preview: bool = False,
        allow_edit: bool = False,
        listening_on_loopback: bool = True,
        named_urls: Iterable[str] = (),
        token: str | None = None,
        allow_networks: Sequence[netpolicy.IPNetwork] = (),
        read_runs: Callable[[Config], Mapping[str, SourceRun]] | None = None,
        exists: Callable[[str], bool] | None = None,
        fetch: PreviewFetcher | Callable[[SourceConfig, netpolicy.Context], Fetched] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.preview = preview
        self.allow_edit = allow_edit and listening_on_loopback
        self.named_urls = frozenset(named_urls)
        self.token = token
        self.allow_networks = tuple(allow_networks)
        self.form_token = secrets.token_urlsafe(24)  # a per-server token in the write form
        self._read_runs = read_runs or (lambda c: read_source_runs(c.db_path))
        self._exists = exists or (lambda name: (config.feeds_dir / name).is_file())
        self._fetch = fetch or PreviewFetcher(config)
        self.now = now
        self._cache: OrderedDict[tuple[str, str], Fetched] = OrderedDict()
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return path in self.PATHS

    def close(self) -> None:
        """Let go of the fetcher (and its browser) the preview started."""
        if isinstance(self._fetch, PreviewFetcher):
            self._fetch.close()

    # --- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        answer = self.respond(environ)
        phrase = HTTPStatus(answer.status).phrase
        start_response(f"{answer.status} {phrase}", self.headers(answer))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [answer.body]

    @staticmethod
    def headers(answer: Answer) -> list[tuple[str, str]]:
        """The response headers: the content type, the security headers (the CSP), the rest."""
        return [
            ("Content-Type", answer.content_type),
            *SECURITY_HEADERS,
            *answer.headers,
            ("Content-Length", str(len(answer.body))),
        ]

    def respond(self, environ: dict[str, Any]) -> Answer:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path in STATIC:
            return self._static(path)
        if path == "/status":
            if method not in ("GET", "HEAD"):
                return _plain(405, "only GET and HEAD\n")
            return Answer(200, self.status_html())
        if not self.preview:
            return _plain(404, "the preview is off (start feedbot serve with --preview)\n")
        allowed, why = self.authorised(environ)
        if not allowed:
            log.warning(
                "preview: refused %s (%s): %s",
                environ.get("REMOTE_ADDR", "-"),
                _one_line(environ.get("HTTP_HOST", "")),
                why,
            )
            return _plain(403, f"forbidden: {why}\n")
        if environ.get("HTTP_SEC_FETCH_SITE") in ("cross-site", "same-site"):
            # a page elsewhere (another site, or another port of this machine) made the browser
            # ask: it may not make the preview fetch or write anything
            return _plain(403, "forbidden: the preview answers only its own pages and you\n")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=False)
        if path == "/preview/write":
            if method != "POST":
                return _plain(405, "only POST\n")
            return self._write(environ)
        if path != "/preview":
            return _plain(404, "not found\n")
        if method not in ("GET", "HEAD"):
            return _plain(405, "only GET and HEAD\n")
        token = (query.get("token") or [""])[0]
        if token and self._token_ok(token):
            # the token goes into a cookie and out of the address bar (and of the history)
            rest = {k: v for k, v in query.items() if k != "token"}
            return Answer(
                303,
                b"",
                headers=[
                    ("Location", "/preview" + ("?" + urlencode(rest, doseq=True) if rest else "")),
                    (
                        "Set-Cookie",
                        f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict",
                    ),
                ],
            )
        return Answer(200, self.preview_html(query))

    # --- who may use the preview -------------------------------------------------------------
    def _token_ok(self, presented: str) -> bool:
        expected = self.token
        return (
            bool(expected)
            and expected is not None
            and hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))
        )

    def _presented_token(self, environ: Mapping[str, Any]) -> str | None:
        auth = str(environ.get("HTTP_AUTHORIZATION", ""))
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        for part in str(environ.get("HTTP_COOKIE", "")).split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE:
                return value
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        tokens = query.get("token")
        return tokens[0] if tokens else None

    def local(self, environ: Mapping[str, Any]) -> bool:
        """A client on this machine that asked for this machine, not through a proxy."""
        if not is_loopback(str(environ.get("REMOTE_ADDR", ""))):
            return False
        if any(environ.get(h) for h in FORWARDING_HEADERS):
            return False  # a proxy on this machine forwards someone else's request
        return loopback_host(str(environ.get("HTTP_HOST", "")))

    def authorised(self, environ: Mapping[str, Any]) -> tuple[bool, str]:
        if self.local(environ):
            return True, ""
        token = self._presented_token(environ)
        if token and self._token_ok(token):
            return True, ""
        if self.token:
            return (
                False,
                "the preview answers only this machine, or a client with the preview token",
            )
        return False, "the preview answers only this machine (set [serve] preview_token for others)"

    # --- fetching and splitting --------------------------------------------------------------
    def context(self, source: SourceConfig, configured: bool) -> netpolicy.Context:
        if configured or source.url in self.named_urls:
            return netpolicy.Context.for_source(source.url, self.allow_networks)
        return netpolicy.Context(allow_networks=self.allow_networks)

    def fetched(self, source: SourceConfig, configured: bool, refresh: bool) -> Fetched:
        key = (source.url, getattr(source, "render", "static"))
        with self._lock:
            cached = self._cache.get(key)
            if (
                cached is not None
                and not refresh
                and time.monotonic() - cached.at < PAGE_CACHE_SECONDS
            ):
                self._cache.move_to_end(key)
                return cached
        result = self._fetch(source, self.context(source, configured))
        result = replace(result, at=time.monotonic())
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > PAGE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def resolve(self, query: Mapping[str, list[str]]) -> tuple[SourceConfig | None, bool, str]:
        """The source a query names: a configured one (``source``) or a URL (``url``)."""
        name = (query.get("source") or [""])[0]
        if name:
            try:
                return self.config.source(name), True, ""
            except KeyError:
                return None, False, f"no configured source named {name!r}"
        url = (query.get("url") or [""])[0].strip()
        if not url:
            return None, False, ""
        if "://" not in url:
            path = Path(url).expanduser()
            url = path.resolve().as_uri() if path.is_absolute() else "https://" + url
        feed = re.sub(r"[^A-Za-z0-9._-]+", "-", urlsplit(url).netloc or "preview").strip("-.")
        return SourceConfig(name="preview", url=url, feed=feed[:64] or "preview"), False, ""

    def view(self, query: Mapping[str, list[str]]) -> View | None:
        source, configured, problem = self.resolve(query)
        if source is None:
            if problem:
                dummy = SourceConfig(name="preview", url="", feed="preview")
                return View(dummy, False, {}, error=problem)
            return None
        changes = _changes(query)
        try:
            effective = _with_changes(source, changes)
        except FeedbotError as exc:
            return View(source, configured, changes, error=str(exc))
        try:
            fetched = self.fetched(effective, configured, bool(query.get("refresh")))
        except (SourceError, FeedbotError) as exc:
            return View(effective, configured, changes, error=redact(str(exc)))
        page = fetched.page
        explained = explain_page(page.text, page.content_type, split_options(effective, page))
        split = explained.split
        root = page_tree(page.text, page.content_type)
        if page.content_type == "text/plain":  # lines, no elements: found by their text
            found = marks(root, split)
            considered = levels(split)
        else:
            found = explained_marks(root, explained)
            considered = explained_levels(explained)
        error = None
        if not split.items:
            error = "no headline structure found: this page would give an error and leave the feed as it is"
        return View(
            source=effective,
            configured=configured,
            changes=changes,
            page=page,
            split=split,
            marks=tuple(mark for _, mark in found),
            levels=tuple(considered),
            outline=tuple(outline(root, found)),
            html=annotate(root, found),
            error=error,
            lines=source_lines(self.source_table(source, configured), changes),
            requests=fetched.requests,
        )

    def shown_url(self, url: str) -> str:
        """A URL as the page shows it: no credentials; a local file relative to the config."""
        if url.startswith("file://"):
            from urllib.parse import unquote

            path = Path(unquote(urlsplit(url).path))
            if path.is_relative_to(self.config.path.parent):
                return str(path.relative_to(self.config.path.parent))
        return redact(url)

    def source_table(self, source: SourceConfig, configured: bool) -> dict[str, Any]:
        """The source's ``[[sources]]`` table as the config file has it (a new one for a URL)."""
        if configured:
            table = _config_source_table(self.config.path, source.name)
            if table is not None:
                return table
        return {"name": source.name, "url": source.url}

    # --- pages ---------------------------------------------------------------------------------
    def preview_html(self, query: Mapping[str, list[str]]) -> bytes:
        view = self.view(query)
        written = (query.get("written") or [""])[0]
        parts = [_head("feedbot preview"), '<body class="preview">', self._form(view)]
        if written:
            parts.append(
                f'<p class="notice" id="written">Written to {html.escape(str(self.config.path))}.</p>'
            )
        if view is None:
            parts.append(
                '<p class="hint">Enter a URL or pick a configured source to see how it splits.</p>'
            )
        else:
            parts.append(self._result(view, query))
        parts.append('<script src="/static/preview.js"></script></body></html>\n')
        return "".join(parts).encode("utf-8")

    def _form(self, view: View | None) -> str:
        current = view.source.name if view and view.configured else ""
        options = "".join(
            f'<option value="{html.escape(s.name)}"{" selected" if s.name == current else ""}>'
            f"{html.escape(s.name)}</option>"
            for s in self.config.sources
        )
        url = "" if view is None or view.configured else view.source.url
        return (
            '<header class="bar"><h1><a href="/preview">feedbot preview</a></h1>'
            '<form method="get" action="/preview" class="pick">'
            '<label>Source <select name="source" id="source-select"><option value="">—</option>'
            f"{options}</select></label>"
            '<label>or URL <input type="url" name="url" id="url-input" size="40" '
            f'value="{html.escape(url)}" placeholder="https://example.org/digest.html"></label>'
            '<button type="submit" id="go">Preview</button></form>'
            '<fieldset class="modes" id="modes"><legend>A click on the page</legend>'
            '<label><input type="radio" name="mode" value="level" checked> picks the headline level</label>'
            '<label><input type="radio" name="mode" value="content"> picks the content area</label>'
            '<label><input type="radio" name="mode" value="exclude"> leaves a block out</label>'
            '</fieldset><a class="navlink" href="/status">status</a></header>'
        )

    def _result(self, view: View, query: Mapping[str, list[str]]) -> str:
        panel: list[str] = []
        source = view.source
        state = _state_query(view)
        if view.error and view.page is None:
            return (
                f'<main class="layout"><aside class="panel"><p class="error" id="error">'
                f"{html.escape(view.error)}</p></aside></main>"
            )
        page = view.page
        split = view.split
        assert page is not None and split is not None
        panel.append(
            f'<section><h2>{html.escape(source.name)}</h2><p class="where">'
            f"{html.escape(self.shown_url(page.final_url))} · {html.escape(page.encoding)}</p>"
        )
        if view.error:
            panel.append(f'<p class="error" id="error">{html.escape(view.error)}</p>')
        elif split.single_article:
            panel.append('<p id="structure">A single article: kept as one item.</p>')
        else:
            panel.append(
                f'<p id="structure">Split by <code>{html.escape(split.structure)}</code> into '
                f"<strong>{len(split.items)}</strong> items.</p>"
            )
        if page.content_type == "text/plain":
            panel.append(
                '<p class="hint" id="text-hint">A plain-text page: it has no elements to click; '
                "<code>headline_regex</code> picks its headline lines.</p>"
            )
        panel.append("</section>")
        panel.append('<section><h2>Items</h2><ol class="items" id="items">')
        for item in split.items:
            words = item.body_text.replace("\n", " ")
            panel.append(
                f'<li data-fb-item="{item.position}"><strong>{html.escape(item.headline)}</strong>'
                f'<span class="words">{html.escape(words[:90])}{"…" if len(words) > 90 else ""}'
                "</span></li>"
            )
        panel.append("</ol></section>")
        panel.append(self._settings(view, state))
        if view.outline:
            panel.append('<section><h2>Outline</h2><ul class="outline" id="outline">')
            for line in view.outline[:200]:
                number = f'<span class="n">{line.item + 1}</span> ' if line.item is not None else ""
                text = line.text if len(line.text) <= 80 else line.text[:79] + "…"
                panel.append(
                    f'<li class="d{min(line.depth, 7)}{" head" if line.item is not None else ""}">'
                    f"{number}<code>{html.escape(line.tag)}</code> {html.escape(text)}</li>"
                )
            panel.append("</ul></section>")
        panel.append('<section><h2>Levels considered</h2><table class="levels" id="levels">')
        panel.append("<tr><th>level</th><th>headlines</th><th>score</th><th>why</th><th></th></tr>")
        for level in view.levels:
            use = ""
            if level.selector and not level.chosen:
                target = _link({**state, "headline_selector": [level.selector]})
                use = f'<a class="use" href="{html.escape(target)}">use this level</a>'
            panel.append(
                f'<tr class="{"chosen" if level.chosen else ""}"><td><code>{html.escape(level.name)}'
                f"</code></td><td>{level.count}</td><td>{level.score:.2f}</td>"
                f"<td>{html.escape('; '.join(level.reasons))}</td><td>{use}</td></tr>"
            )
        panel.append("</table></section>")
        panel.append('<section><h2>Cut</h2><ul class="cut" id="cut">')
        for dropped in split.dropped:
            text = dropped.text if len(dropped.text) <= 100 else dropped.text[:99] + "…"
            panel.append(
                f'<li><span class="reason">{html.escape(dropped.reason)}</span> '
                f"{html.escape(text)}</li>"
            )
        panel.append("</ul></section>")
        panel.append(self._lines(view, state))
        if view.requests:
            panel.append(
                '<section><h2>Requests of the page</h2><ul class="requests" id="requests">'
            )
            for request in view.requests:
                panel.append(
                    f'<li class="{html.escape(request.outcome)}">{html.escape(request.outcome)} '
                    f"<code>{html.escape(redact(request.url))}</code> {html.escape(request.detail)}</li>"
                )
            panel.append("</ul></section>")
        refresh = _link({**state, "refresh": ["1"]})
        panel.append(f'<p><a href="{html.escape(refresh)}">fetch the page again</a></p>')
        mode = "text" if page.content_type == "text/plain" else "html"
        return (
            f'<main class="layout"><section class="page" id="page" data-fb-kind="{mode}" '
            f'data-fb-state="{html.escape(json.dumps(state))}">{view.html}</section>'
            f'<aside class="panel">{"".join(panel)}</aside></main>'
        )

    def _settings(self, view: View, state: dict[str, list[str]]) -> str:
        rows = []
        for key in SPLIT_KEYS:
            value = view.changes.get(key)
            if value in (None, [], ""):
                continue
            values = value if isinstance(value, list) else [value]
            for one in values:
                rest = dict(state)
                if key == "exclude_selectors":
                    rest["exclude"] = [v for v in state.get("exclude", []) if v != one]
                else:
                    rest.pop(key, None)
                rows.append(
                    f"<li><code>{key}</code> = <code>{html.escape(str(one))}</code> "
                    f'<a class="remove" href="{html.escape(_link(rest))}">remove</a></li>'
                )
        if not rows:
            return ""
        return f'<section><h2>Your changes</h2><ul id="changes">{"".join(rows)}</ul></section>'

    def _lines(self, view: View, state: dict[str, list[str]]) -> str:
        where = html.escape(str(self.config.path))
        out = [
            f"<section><h2>Config lines</h2><p>For <code>{where}</code>:</p>"
            f'<pre id="config-lines">{html.escape(view.lines)}</pre>'
        ]
        if self.allow_edit and view.changes:
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, values in state.items()
                for v in values
            )
            out.append(
                '<form method="post" action="/preview/write" id="write-form">'
                f'<input type="hidden" name="form_token" value="{self.form_token}">{hidden}'
            )
            if not view.configured:
                out.append(
                    '<label>Source name <input name="name" id="new-name" required '
                    'pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}"></label>'
                )
            out.append('<button type="submit" id="write">Write to the config file</button></form>')
        out.append("</section>")
        return "".join(out)

    # --- writing the config --------------------------------------------------------------------
    def _write(self, environ: dict[str, Any]) -> Answer:
        if not self.allow_edit:
            return _plain(403, "forbidden: start feedbot serve with --allow-edit on 127.0.0.1\n")
        if not self.local(environ):
            return _plain(403, "forbidden: the config is written only for this machine\n")
        origin = environ.get("HTTP_ORIGIN")
        if origin and urlsplit(origin).netloc != environ.get("HTTP_HOST"):
            return _plain(403, "forbidden: the form was not sent from this page\n")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_FORM_BYTES:
            return _plain(413, "the form is too large\n")
        raw = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        form = parse_qs(raw, keep_blank_values=True)
        if not hmac.compare_digest((form.get("form_token") or [""])[0], self.form_token):
            return _plain(403, "forbidden: the form's token does not match (reload the page)\n")
        source, configured, problem = self.resolve(form)
        if source is None:
            return _plain(400, f"{problem or 'no source or URL'}\n")
        changes = _changes(form)
        name = source.name if configured else (form.get("name") or [""])[0].strip()
        try:
            write_source(self.config.path, name, source.url, changes, new=not configured)
            self.config = load_config(self.config.path)
        except ConfigError as exc:
            return _plain(400, f"not written: {exc}\n")
        log.warning("preview: wrote the settings of source %s into %s", name, self.config.path)
        return Answer(303, b"", headers=[("Location", _link({"source": [name], "written": ["1"]}))])

    # --- status --------------------------------------------------------------------------------
    def status_html(self) -> bytes:
        try:
            runs = self._read_runs(self.config)
            problem = ""
        except StoreError as exc:
            runs, problem = {}, redact(str(exc))
        rows = []
        for source in self.config.sources:
            run = runs.get(source.name)
            feed = self.config.feed(source.feed)
            links = " · ".join(
                f'<a href="/{quote(feed_filename(feed.name, fmt))}">{fmt}</a>'
                if self._exists(feed_filename(feed.name, fmt))
                else f"{fmt} (not written yet)"
                for fmt in feed.formats
            )
            chart = _chart(source.name, run.recent if run else ())
            last = run.last_run.isoformat() if run else "never"
            result = run.result if run else "never run"
            error = html.escape(redact(run.error)) if run and run.error else ""
            fix = (
                f' <a href="/preview?{urlencode({"source": source.name})}">preview</a>'
                if self.preview
                else ""
            )
            rows.append(
                f'<tr class="{"failing" if run and run.failures else ""}" data-source="'
                f'{html.escape(source.name)}"><td><strong>{html.escape(source.name)}</strong>{fix}'
                f"</td><td>{html.escape(last)}</td><td>{html.escape(result)}</td>"
                f"<td>{run.failures if run else 0}</td><td>{run.items if run else 0}</td>"
                f'<td class="chart">{chart}</td><td>{links}</td><td class="err">{error}</td></tr>'
            )
        return (
            _head("feedbot status")
            + '<body class="status"><header class="bar"><h1>feedbot status</h1>'
            + ('<a class="navlink" href="/preview">preview</a>' if self.preview else "")
            + '<a class="navlink" href="/">feeds</a></header><main>'
            + (f'<p class="error" id="error">{html.escape(problem)}</p>' if problem else "")
            + '<table class="sources" id="sources">'
            + "<tr><th>source</th><th>last run</th><th>result</th><th>failures</th>"
            + f"<th>entries</th><th>items, last {STATUS_RUNS} runs</th><th>feed</th>"
            + "<th>last error</th></tr>"
            + "".join(rows)
            + "</table></main></body></html>\n"
        ).encode("utf-8")

    def _static(self, path: str) -> Answer:
        name, content_type = STATIC[path]
        body = resources.files("feedbot").joinpath("static", name).read_bytes()
        return Answer(
            200, body, content_type, [("ETag", '"' + hashlib.sha256(body).hexdigest()[:16] + '"')]
        )


class PreviewFetcher:
    """How the preview fetches: one fetcher for the server's life (one try per page) and its shared
    headless browser for sources with ``render = "browser"``, every request under the fetch policy
    of the context the page chose (a URL typed into the page: public addresses only; a configured
    source: its own), each connection judged on its resolved address."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._fetcher: _ContextFetcher | None = None
        self._lock = threading.Lock()

    def fetcher(self) -> _ContextFetcher:
        from .run import fetch_settings

        with self._lock:
            if self._fetcher is None:
                settings = replace(fetch_settings(self.config), tries=1)
                self._fetcher = _ContextFetcher(settings)
            return self._fetcher

    def close(self) -> None:
        with self._lock:
            fetcher, self._fetcher = self._fetcher, None
        if fetcher is not None:
            fetcher.close()

    def __call__(self, source: SourceConfig, context: netpolicy.Context) -> Fetched:
        from .browser import render_document

        try:
            netpolicy.check_url(source.url, context)
        except netpolicy.Refused as exc:
            raise FeedbotError(f"{source.url}: {exc}") from None
        fetcher = self.fetcher()
        with fetcher.using(context):
            page = fetcher.fetch(source)
        if source.render is not RenderMode.BROWSER:
            return Fetched(page)
        rendered, what = render_document(fetcher.browser(), source.name, page, context)
        return Fetched(rendered, what.requests)


class _ContextFetcher(Fetcher):
    """The run's fetcher, except that the policy context of a fetch is the one the preview chose
    for it (per thread: waitress serves requests from several), not always the source's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chosen = threading.local()

    @contextmanager
    def using(self, context: netpolicy.Context) -> Iterator[None]:
        self._chosen.context = context
        try:
            yield
        finally:
            self._chosen.context = None

    def context(self, source: SourceConfig) -> netpolicy.Context:
        chosen: netpolicy.Context | None = getattr(self._chosen, "context", None)
        return chosen if chosen is not None else super().context(source)


# --- helpers -------------------------------------------------------------------------------------
def _plain(status: int, text: str) -> Answer:
    return Answer(status, text.encode("utf-8"), "text/plain; charset=utf-8")


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:100]


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/preview.css"></head>'
    )


def _changes(query: Mapping[str, list[str]]) -> dict[str, Any]:
    """The split settings a query (or the write form) asks for."""
    changes: dict[str, Any] = {}
    for key in ("content_selector", "headline_selector"):
        value = (query.get(key) or [""])[0].strip()
        if value:
            changes[key] = value
    excludes = [v.strip() for v in query.get("exclude", []) if v.strip()]
    if excludes:
        changes["exclude_selectors"] = list(dict.fromkeys(excludes))
    split = (query.get("split") or [""])[0]
    if split in ("auto", "headlines", "whole"):
        changes["split"] = split
    return changes


def _with_changes(source: SourceConfig, changes: Mapping[str, Any]) -> SourceConfig:
    """The source with the user's changes; a selector soupsieve cannot read is a FeedbotError."""
    values: dict[str, Any] = {}
    for key, value in changes.items():
        for one in value if isinstance(value, list) else [value]:
            if key != "split":
                check_selector(key, one)
        values[key] = tuple(value) if key == "exclude_selectors" else value
    return replace(source, **values)


def _state_query(view: View) -> dict[str, list[str]]:
    """The query that shows ``view`` again (the source, then the user's changes)."""
    state: dict[str, list[str]] = (
        {"source": [view.source.name]} if view.configured else {"url": [view.source.url]}
    )
    for key, value in view.changes.items():
        if key == "exclude_selectors":
            state["exclude"] = list(value)
        else:
            state[key] = [str(value)]
    return state


def _link(query: Mapping[str, list[str]]) -> str:
    return "/preview?" + urlencode(query, doseq=True)


def _chart(name: str, counts: Sequence[int | None]) -> str:
    """A small bar chart (inline SVG) of the items of a source's last runs, oldest first; a failed
    run is a red mark at the bottom."""
    counts = list(counts)[-STATUS_RUNS:]
    if not counts:
        return '<span class="none">no runs yet</span>'
    width, height, bar = 6 * STATUS_RUNS, 24, 5
    top = max((n for n in counts if n is not None), default=0) or 1
    bars = []
    for i, count in enumerate(counts):
        x = i * 6
        if count is None:
            bars.append(
                f'<rect class="failed" x="{x}" y="{height - 3}" width="{bar}" height="3">'
                "<title>failed</title></rect>"
            )
            continue
        h = max(1, round(count / top * (height - 2)))
        bars.append(
            f'<rect class="ok" x="{x}" y="{height - h}" width="{bar}" height="{h}">'
            f"<title>{count} items</title></rect>"
        )
    label = html.escape(f"{name}: items of the last {len(counts)} runs")
    return (
        f'<svg class="spark" role="img" aria-label="{label}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )


def _config_source_table(path: Path, name: str) -> dict[str, Any] | None:
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, tomlkit.exceptions.TOMLKitError):
        return None
    for table in doc.get("sources", []):
        if table.get("name") == name:
            return {str(k): _plain_value(v) for k, v in table.items()}
    return None


def _plain_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if hasattr(value, "unwrap"):
        return value.unwrap()
    return value


def write_source(path: Path, name: str, url: str, changes: Mapping[str, Any], *, new: bool) -> None:
    """Write the split settings ``changes`` into the ``[[sources]]`` table named ``name`` of the
    config file (comments and layout kept, with tomlkit), or append a new table for ``url``. The
    new text is checked as a whole config before it replaces the file (atomically); an invalid
    result raises ConfigError and leaves the file as it was."""
    text = path.read_text(encoding="utf-8")
    doc = tomlkit.parse(text)
    sources = doc.get("sources")
    if sources is None:
        raise ConfigError(str(path), "sources", "has no [[sources]] to write into")
    target = next((t for t in sources if t.get("name") == name), None)
    if new:
        if target is not None:
            raise ConfigError(str(path), "sources", f"a source named {name!r} exists already")
        target = tomlkit.table()
        target.add("name", name)
        target.add("url", url)
        sources.append(target)
    elif target is None:
        raise ConfigError(str(path), "sources", f"no source named {name!r}")
    for key, value in changes.items():
        if key == "split" and value == "auto":
            target.pop(key, None)  # the default
        else:
            target[key] = value
    new_text = tomlkit.dumps(doc)
    fd, tmp = tempfile.mkstemp(prefix=".feedbot-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            load_config(tmp)  # the whole config must still be valid
        except ConfigError as exc:
            raise ConfigError(str(path), exc.key, exc.message) from None
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
