"""The preview page and the status page as WSGI applications: who may use them, what they fetch
(nothing for a client that may not), what they show, and what --allow-edit writes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup, Tag

from feedbot.config import load_config
from feedbot.errors import ConfigError
from feedbot.model import SourceRun
from feedbot.previewapp import CSP, PreviewApp, write_source

from .helpers import Response, Server, write_config

DIGEST = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Evening digest</title></head>
<body><div class="masthead"><a href="/">Home</a> <a href="/about">About</a></div>
<div id="main">
<h2>Today's stories</h2>
<h3 class="story">Harbour bridge reopens after repairs</h3>
<p>The harbour bridge reopened on Monday after six weeks of repairs to its deck, the city said.</p>
<h3 class="story">Library extends its opening hours</h3>
<p>The central library will stay open until nine in the evening on weekdays from next month.</p>
<h3 class="story">Rail strike called off</h3>
<p>A strike planned for Friday on the regional railway was called off late last night.</p>
<div class="promo"><p>Subscribe to our newsletter for more stories like these every evening.</p></div>
</div>
<script>document.title = "changed"</script>
<img src="http://127.0.0.1:1/tracker.gif" onerror="alert(1)">
</body></html>"""


def one(doc: BeautifulSoup | str, selector: str) -> Tag:
    """The one element ``selector`` matches in a page."""
    if isinstance(doc, str):
        doc = BeautifulSoup(doc, "lxml")
    found = doc.select(selector)
    assert len(found) == 1, (selector, len(found))
    return found[0]


def call(
    app: PreviewApp,
    path: str,
    query: dict[str, Any] | str = "",
    *,
    remote: str = "127.0.0.1",
    host: str = "127.0.0.1:8080",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], str]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query if isinstance(query, str) else urlencode(query, doseq=True),
        "REMOTE_ADDR": remote,
        "HTTP_HOST": host,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for key, value in (headers or {}).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(response_headers)

    out = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], out.decode("utf-8")


@pytest.fixture
def site(server: Server, tmp_path: Path) -> tuple[Server, Path]:
    server.routes["/digest.html"] = Response(200, DIGEST.encode())
    path = write_config(
        tmp_path,
        [{"name": "evening", "url": server.url("/digest.html"), "robots": False}],
    )
    # a comment the write must keep
    path.write_text(path.read_text().replace("[[sources]]", "# my digest\n[[sources]]"))
    return server, path


def app_for(path: Path, **kwargs: Any) -> PreviewApp:
    kwargs.setdefault("preview", True)
    return PreviewApp(load_config(path), **kwargs)


def test_a_local_client_sees_the_page_split_and_marked(site: tuple[Server, Path]) -> None:
    server, path = site
    status, headers, body = call(app_for(path), "/preview", {"source": "evening"})
    assert status == 200
    assert headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "default-src 'none'" in CSP
    doc = BeautifulSoup(body, "lxml")
    heads = doc.select('#page [data-fb-role="headline"]')
    assert [h.get_text() for h in heads] == [
        "Harbour bridge reopens after repairs",
        "Library extends its opening hours",
        "Rail strike called off",
    ]
    assert [h.get("data-fb-n") for h in heads] == ["1", "2", "3"]
    bodies = doc.select('#page [data-fb-role="body"]')
    assert [b.get("data-fb-item") for b in bodies] == ["0", "1", "2"]
    assert [li.get_text() for li in doc.select("#items li strong")] == [h.get_text() for h in heads]
    # the page's own script, image and handler are gone; nothing in it can make a request
    page = str(one(doc, "#page"))
    assert "<script" not in page and "<img" not in page and "onerror" not in page
    assert "href=" not in page and "src=" not in page
    assert [tag.get("src") for tag in doc.select("script")] == ["/static/preview.js"]
    assert server.requests[-1][1] == "/digest.html"


def test_a_remote_client_cannot_make_the_preview_fetch_anything(
    site: tuple[Server, Path],
) -> None:
    server, path = site
    app = app_for(path, token="a-long-preview-token-0123456789")
    queries: list[dict[str, Any]] = [
        {"source": "evening"},
        {"url": server.url("/digest.html")},
        {"url": server.url("/digest.html"), "token": "wrong"},
    ]
    for query in queries:
        for remote in ("192.0.2.10", "2001:db8::5"):
            status, headers, body = call(app, "/preview", query, remote=remote)
            assert status == 403, (query, remote)
            assert "only this machine" in body
            assert headers["Content-Security-Policy"] == CSP
    # a wrong bearer token, a local proxy forwarding someone else, a foreign Host (DNS rebinding)
    assert call(app, "/preview", {"source": "evening"}, remote="192.0.2.10",
                headers={"Authorization": "Bearer nope"})[0] == 403  # fmt: skip
    assert call(app, "/preview", {"source": "evening"},
                headers={"X-Forwarded-For": "192.0.2.10"})[0] == 403  # fmt: skip
    assert call(app, "/preview", {"source": "evening"}, host="attacker.example:8080")[0] == 403
    # a page elsewhere that makes the local browser ask (<img src="http://127.0.0.1:8080/...">)
    for elsewhere in ("cross-site", "same-site"):
        sent = {"Sec-Fetch-Site": elsewhere}
        assert call(app, "/preview", {"source": "evening"}, headers=sent)[0] == 403
    assert server.requests == []  # nothing was fetched for any of them


def test_the_token_lets_a_remote_client_in(site: tuple[Server, Path]) -> None:
    _server, path = site
    token = "a-long-preview-token-0123456789"
    app = app_for(path, token=token)
    status, _, body = call(
        app, "/preview", {"source": "evening"}, remote="192.0.2.10",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert status == 200 and "Rail strike called off" in body
    status, headers, _ = call(
        app, "/preview", {"source": "evening", "token": token}, remote="192.0.2.10"
    )
    assert status == 303
    assert headers["Location"] == "/preview?source=evening"  # the token leaves the address bar
    assert headers["Set-Cookie"].startswith(f"feedbot_preview={token};")
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    status, _, _ = call(
        app, "/preview", {"source": "evening"}, remote="192.0.2.10",
        headers={"Cookie": f"feedbot_preview={token}"},
    )  # fmt: skip
    assert status == 200


def test_the_preview_is_off_unless_asked_for(site: tuple[Server, Path]) -> None:
    server, path = site
    status, _, body = call(app_for(path, preview=False), "/preview", {"source": "evening"})
    assert status == 404 and "--preview" in body
    assert server.requests == []


def test_an_entered_url_follows_the_fetch_rules(site: tuple[Server, Path], tmp_path: Path) -> None:
    """A URL typed into the page is a page from the network: no loopback or private address, no
    local file (only a configured source's own origin may be internal)."""
    server, path = site
    secret = tmp_path / "secret.html"
    secret.write_text("<h2>secret</h2><p>do not show</p>")
    app = app_for(path)
    for url, why in [
        (server.url("/digest.html"), "loopback"),
        ("http://10.0.0.1/digest.html", "private"),
        ("http://localhost:1/", "this machine"),
        (secret.as_uri(), "local file"),
        (str(secret), "local file"),
        ("gopher://example.org/", "only http and https"),
    ]:
        status, _, body = call(app, "/preview", {"url": url})
        assert status == 200
        error = one(body, "#error").get_text()
        assert why in error, (url, error)
        assert "do not show" not in body
    assert server.requests == []


def test_the_url_given_on_the_command_line_is_named_by_the_user(
    site: tuple[Server, Path],
) -> None:
    server, path = site
    url = server.url("/digest.html")
    status, _, body = call(app_for(path, named_urls=[url]), "/preview", {"url": url})
    assert status == 200 and "Rail strike called off" in body


def test_changes_give_the_new_split_and_the_config_lines(site: tuple[Server, Path]) -> None:
    server, path = site
    app = app_for(path)
    query = {
        "source": "evening",
        "headline_selector": "h3.story",
        "content_selector": "#main",
        "exclude": [".promo"],
    }
    status, _, body = call(app, "/preview", query)
    assert status == 200
    doc = BeautifulSoup(body, "lxml")
    lines = one(doc, "#config-lines").get_text()
    assert lines == (
        "[[sources]]\n"
        'name = "evening"\n'
        f'url = "{server.url("/digest.html")}"\n'
        "robots = false\n"
        'content_selector = "#main"\n'
        'headline_selector = "h3.story"\n'
        'exclude_selectors = [".promo"]\n'
    )
    assert "Subscribe" not in one(doc, "#items").get_text()
    assert len(server.requests) == 1  # clicking through settings re-splits the fetched page
    call(app, "/preview", {**query, "headline_selector": "h2"})
    assert len(server.requests) == 1
    call(app, "/preview", {**query, "refresh": "1"})
    assert len(server.requests) == 2
    _status, _, body = call(app, "/preview", {"source": "evening", "headline_selector": "h3["})
    assert "is not a valid CSS selector" in body


def test_allow_edit_writes_the_lines_into_the_config(site: tuple[Server, Path]) -> None:
    _server, path = site
    app = app_for(path, allow_edit=True)
    _, _, body = call(app, "/preview", {"source": "evening", "headline_selector": "h3.story"})
    form = one(body, "#write-form")
    fields = {str(i["name"]): str(i["value"]) for i in form.select("input")}
    assert fields["headline_selector"] == "h3.story" and fields["source"] == "evening"
    before = path.read_text()

    def post(data: dict[str, str], **kwargs: Any) -> tuple[int, dict[str, str], str]:
        return call(app, "/preview/write", method="POST", body=urlencode(data).encode(), **kwargs)

    assert post({**fields, "form_token": "forged"})[0] == 403
    assert post(fields, remote="192.0.2.10")[0] == 403
    assert post(fields, headers={"Origin": "http://attacker.example"})[0] == 403
    status, _, body = post({**fields, "headline_selector": "h3["})
    assert status == 400 and "not a valid CSS selector" in body
    assert path.read_text() == before
    status, headers, _ = post(fields)
    assert status == 303 and headers["Location"] == "/preview?source=evening&written=1"
    text = path.read_text()
    assert "# my digest" in text  # comments and layout kept
    assert load_config(path).source("evening").headline_selector == "h3.story"
    # a server started without --allow-edit, or listening beyond loopback, never writes
    for other in (app_for(path), app_for(path, allow_edit=True, listening_on_loopback=False)):
        assert (
            call(other, "/preview/write", method="POST", body=urlencode(fields).encode())[0] == 403
        )


def test_a_write_that_would_break_the_config_changes_nothing(tmp_path: Path) -> None:
    path = write_config(tmp_path, [{"name": "a", "url": "page.html"}])
    before = path.read_text()
    with pytest.raises(ConfigError, match="headline_selector: is not a valid CSS selector"):
        write_source(path, "a", "", {"headline_selector": "h3["}, new=False)
    assert path.read_text() == before
    assert list(tmp_path.glob(".feedbot-*")) == []
    write_source(path, "b", "https://example.org/d.html", {"split": "whole"}, new=True)
    config = load_config(path)
    assert [s.name for s in config.sources] == ["a", "b"]
    assert config.source("b").split == "whole"


def test_the_status_page_lists_every_source(site: tuple[Server, Path]) -> None:
    """Every source with its last run, a chart of its recent runs' items, its error and its feed
    links; any client may see it (it fetches nothing), credentials never shown."""
    _, path = site
    at = datetime(2024, 3, 1, 9, tzinfo=UTC)
    run = SourceRun(
        source="evening",
        last_run=at,
        last_success=None,
        result="error",
        error="source 'evening': https://u:pw@x.example/: HTTP 500",
        failures=2,
        new=0,
        updated=0,
        items=3,
        recent=(3, 5, None),
    )
    app = app_for(path, read_runs=lambda c: {"evening": run})
    status, headers, body = call(app, "/status", remote="192.0.2.10")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    doc = BeautifulSoup(body, "lxml")
    (row,) = doc.select('#sources tr[data-source="evening"]')
    assert row["class"] == ["failing"]
    assert "HTTP 500" in row.get_text() and "pw" not in row.get_text()
    bars = row.select("svg rect")
    assert [b["class"] for b in bars] == [["ok"], ["ok"], ["failed"]]
    assert int(str(bars[1]["height"])) > int(str(bars[0]["height"]))
    assert "atom (not written yet)" in row.get_text()


def test_the_status_page_reads_the_recent_runs_from_the_state(
    server: Server, tmp_path: Path
) -> None:
    from feedbot.run import run_once

    from .helpers import Clock

    server.routes["/digest.html"] = Response(200, DIGEST.encode())
    path = write_config(tmp_path, [{"name": "evening", "url": server.url("/digest.html")}])
    config = load_config(path)
    clock = Clock()
    run_once(config, now=clock)  # 3 items
    run_once(config, now=clock)  # not modified: as many as before
    server.routes["/digest.html"] = Response(404, b"gone")
    run_once(config, now=clock)  # failed
    _, _, body = call(PreviewApp(config), "/status")
    (row,) = BeautifulSoup(body, "lxml").select('#sources tr[data-source="evening"]')
    assert [b["class"] for b in row.select("svg rect")] == [["ok"], ["ok"], ["failed"]]
    assert [t.get_text() for t in row.select("svg rect title")] == ["3 items", "3 items", "failed"]
    assert 'href="/evening.atom"' in str(row)


def test_the_outline_shows_headings_and_headlines_at_their_depth(site: tuple[Server, Path]) -> None:
    _, path = site
    _, _, body = call(app_for(path), "/preview", {"source": "evening"})
    lines = one(body, "#outline").select("li")
    assert [(li["class"][0], li.get_text(" ", strip=True)) for li in lines] == [
        ("d2", "h2 Today's stories"),
        ("d3", "1 h3 Harbour bridge reopens after repairs"),
        ("d3", "2 h3 Library extends its opening hours"),
        ("d3", "3 h3 Rail strike called off"),
    ]


def test_an_entered_name_that_resolves_to_this_machine_is_refused(
    site: tuple[Server, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL typed into the page is judged on the address its name resolves to when the preview
    connects (as a DNS answer can make any name point here), not only on what it says."""
    import socket

    server, path = site
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "intranet.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = server.httpd.server_address[1]
    url = f"http://intranet.test:{port}/digest.html"
    status, _, body = call(app_for(path), "/preview", {"url": url})
    assert status == 200
    error = one(body, "#error").get_text()
    assert "intranet.test is 127.0.0.1, 127.0.0.1 is a loopback address" in error
    assert server.requests == []
    # the same name, given on the command line (`feedbot preview --open URL`), is the user's own
    status, _, body = call(app_for(path, named_urls=[url]), "/preview", {"url": url})
    assert "Rail strike called off" in body
