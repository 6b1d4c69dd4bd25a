"""render = "browser": the shared headless Chromium renders a page whose stories only a script
fills in, and every request that page makes obeys the fetch policy (tests/system-deps.sh installs
Debian's chromium; Playwright drives it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from feedbot import netpolicy
from feedbot.browser import Browser, BrowserError, BrowserSettings
from feedbot.cli import main
from feedbot.config import load_config
from feedbot.run import run_once
from feedbot.split import split_page

from .helpers import Clock, Response, Server, check_atom, serve, write_config

UA = "feedbot-tests/1 (+http://127.0.0.1/contact)"

SHELL = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Morning briefing</title></head>
<body><header><a href="/">Home</a></header>
<main id="app"></main>
<script src="/app.js"></script>
</body></html>"""

APP_JS = b"""
fetch('/stories.json').then(r => r.json()).then(stories => {
  const app = document.getElementById('app');
  for (const s of stories) {
    const h = document.createElement('h2'); h.textContent = s.title; app.appendChild(h);
    const p = document.createElement('p'); p.textContent = s.body; app.appendChild(p);
  }
});
"""

STORIES = (
    b'[{"title": "Harbour bridge reopens after repairs", "body": "The harbour bridge reopened on'
    b' Monday after six weeks of repairs to its deck, the city said, with lanes in both directions."},'
    b' {"title": "Library extends its opening hours", "body": "The central library will stay open'
    b' until nine in the evening on weekdays from next month, after a vote by the council."},'
    b' {"title": "Rail strike called off", "body": "A strike planned for Friday on the regional'
    b' railway was called off late last night after the union and the operator reached a deal."}]'
)


def js_site(server: Server) -> str:
    """A page whose stories exist only after its script ran."""
    server.routes["/"] = Response(200, SHELL)
    server.routes["/app.js"] = Response(200, APP_JS, {"Content-Type": "text/javascript"})
    server.routes["/stories.json"] = Response(200, STORIES, {"Content-Type": "application/json"})
    return server.url("/")


def context(url: str) -> netpolicy.Context:
    return netpolicy.Context.for_source(url)


def test_a_script_filled_page_is_rendered_and_splits(server: Server, browser: Browser) -> None:
    url = js_site(server)
    static = split_page(SHELL.decode(), "text/html")
    assert not static.items  # as served, the page has no stories at all
    rendered = browser.render(url, context(url))
    assert rendered.settled
    split = split_page(rendered.html, "text/html")
    assert [i.headline for i in split.items] == [
        "Harbour bridge reopens after repairs",
        "Library extends its opening hours",
        "Rail strike called off",
    ]
    assert split.items[2].body_text.startswith("A strike planned for Friday")
    fetched = [(r.url.removeprefix(server.base), r.outcome) for r in rendered.requests]
    assert fetched == [("/", "fetched"), ("/app.js", "fetched"), ("/stories.json", "fetched")]


def test_every_request_of_the_page_obeys_the_fetch_policy(server: Server, browser: Browser) -> None:
    """The page's origin (the configured one) may be read; another port on loopback, a private
    address, localhost and a redirect to them may not, and nothing the interception cannot see (a
    WebSocket, even to the page's own origin) gets out: the other servers see no request at all."""
    with serve() as internal:
        internal.routes["/secret"] = Response(200, b"secret", {"Content-Type": "text/plain"})
        port = internal.httpd.server_address[1]
        server.routes["/"] = Response(
            200,
            f"""<html><body><h2>Page</h2><p>text</p>
            <iframe src="http://localhost:{port}/secret"></iframe>
            <script>
            fetch('{internal.url("/secret")}').catch(() => 0);
            fetch('http://10.1.2.3:{port}/secret').catch(() => 0);
            fetch('/hop').catch(() => 0);
            try {{ new WebSocket('ws://127.0.0.1:{server.httpd.server_address[1]}/ws'); }} catch (e) {{}}
            </script></body></html>""".encode(),
        )
        server.routes["/hop"] = Response(302, b"", {"Location": internal.url("/secret")})
        url = server.url("/")
        rendered = browser.render(url, context(url))
        assert internal.requests == []
        assert [p for _, p, _ in server.requests] == ["/", "/hop"]  # no /ws: it never arrived
        outcomes = {r.url: (r.outcome, r.detail) for r in rendered.requests}
        assert outcomes[internal.url("/secret")][0] == "refused"
        assert "loopback" in outcomes[internal.url("/secret")][1]
        assert outcomes[f"http://10.1.2.3:{port}/secret"][0] == "refused"
        assert "private" in outcomes[f"http://10.1.2.3:{port}/secret"][1]
        assert outcomes[f"http://localhost:{port}/secret"][0] == "refused"
        assert outcomes[server.url("/hop")][0] == "refused"  # where it leads is refused


def test_images_fonts_and_media_are_not_loaded(server: Server, browser: Browser) -> None:
    server.routes["/"] = Response(
        200,
        b'<html><head><link rel="preload" href="/f.woff2" as="font" crossorigin></head>'
        b'<body><h2>A</h2><p>text</p><img src="/a.png"><video src="/v.mp4"></video></body></html>',
    )
    url = server.url("/")
    rendered = browser.render(url, context(url))
    assert [p for _, p, _ in server.requests] == ["/"]
    skipped = {r.url.removeprefix(server.base) for r in rendered.requests if r.outcome == "skipped"}
    assert {"/a.png", "/f.woff2"} <= skipped


def test_a_page_that_never_ends_cannot_hold_the_browser(server: Server, browser: Browser) -> None:
    server.routes["/loop"] = Response(200, b"<html><body><script>for(;;){}</script></body></html>")
    server.routes["/slow"] = Response(
        200, b"<html><body><h2>x</h2><script src='/slow.js'></script></body></html>"
    )
    server.routes["/slow.js"] = Response(200, b"1;", {"Content-Type": "text/javascript"}, delay=30)
    for path in ("/loop", "/slow"):
        started = time.monotonic()
        with pytest.raises(BrowserError, match="not rendered within its 2s time limit"):
            browser.render(server.url(path), context(server.url(path)), timeout=2)
        assert time.monotonic() - started < 8
    # and the shared browser still renders the next page
    url = js_site(server)
    assert "Rail strike called off" in browser.render(url, context(url)).html


def test_a_page_that_keeps_polling_is_taken_as_it_is(server: Server, browser: Browser) -> None:
    server.routes["/"] = Response(
        200,
        b"<html><body><h2>Polled</h2><p>text</p>"
        b"<script>setInterval(() => fetch('/ping'), 100)</script></body></html>",
    )
    server.routes["/ping"] = Response(200, b"1", {"Content-Type": "text/plain"})
    url = server.url("/")
    rendered = browser.render(url, context(url), timeout=2)
    assert not rendered.settled
    assert "<h2>Polled</h2>" in rendered.html


def test_no_browser_installed_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-chromium")
    with (
        Browser(BrowserSettings(user_agent=UA, executable=missing)) as absent,
        pytest.raises(BrowserError) as info,
    ):
        absent.render("http://127.0.0.1:9/", context("http://127.0.0.1:9/"))
    assert str(info.value) == (
        f'no browser at {missing}: render = "browser" needs Chromium (Debian: apt-get install '
        "chromium; tests/system-deps.sh installs it) or [feedbot] browser set to its path"
    )


def test_a_source_with_render_browser_is_split_into_its_items(
    server: Server, tmp_path: Path
) -> None:
    """The pipeline: the same script-built page gives its three stories with render = "browser"
    and the clear "no headline structure" error without it (its feed left unwritten)."""
    url = js_site(server)
    server.routes["/index.html"] = server.routes["/"]  # the same page under a second URL
    path = write_config(
        tmp_path,
        [
            {"name": "rendered", "url": url, "render": "browser", "robots": False},
            {"name": "as-served", "url": server.url("/index.html"), "robots": False},
        ],
    )
    config = load_config(path)
    rendered, as_served = run_once(config, now=Clock())
    assert rendered.ok and rendered.new == 3, rendered.error
    feed = check_atom((config.feeds_dir / "rendered.atom").read_bytes())
    assert [e.title for e in feed.entries] == [
        "Harbour bridge reopens after repairs",
        "Library extends its opening hours",
        "Rail strike called off",
    ]
    assert not as_served.ok
    assert as_served.error == (
        f"source 'as-served': {server.url('/index.html')}: no headline structure found (best "
        "candidate: one-text, no headline structure, and only 0 characters of text); the feed is "
        "left as it was"
    )
    assert not (config.feeds_dir / "as-served.atom").exists()
    # the next run renders again and finds the same page: nothing changes
    again, _ = run_once(config, now=Clock())
    assert again.ok and again.not_modified


def test_render_browser_without_a_browser_fails_the_source_clearly(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = js_site(server)
    missing = str(tmp_path / "no-chromium")
    path = write_config(
        tmp_path,
        [{"name": "js", "url": url, "render": "browser", "robots": False}],
        browser=missing,
    )
    assert main(["run", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f"feedbot: source 'js': {url}: render = \"browser\": no browser at {missing}: render = "
        '"browser" needs Chromium (Debian: apt-get install chromium; tests/system-deps.sh '
        "installs it) or [feedbot] browser set to its path"
    )


def test_no_playwright_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "playwright", None)  # as without the browser extra
    with (
        Browser(BrowserSettings(user_agent=UA)) as absent,
        pytest.raises(
            BrowserError, match=r"needs Playwright for Python: pip install 'feedbot\[browser\]'"
        ),
    ):
        absent.render("http://127.0.0.1:9/", context("http://127.0.0.1:9/"))


def test_the_preview_page_renders_a_browser_source(server: Server, tmp_path: Path) -> None:
    """The preview shows the rendered page of a render = "browser" source, and what the page asked
    for (a request to another port of this machine refused)."""
    from bs4 import BeautifulSoup

    from feedbot.previewapp import PreviewApp

    from .test_preview_page import call

    url = js_site(server)
    server.routes["/app.js"] = Response(
        200, APP_JS + b"fetch('http://127.0.0.1:9/track').catch(() => 0);",
        {"Content-Type": "text/javascript"},
    )  # fmt: skip
    path = write_config(
        tmp_path, [{"name": "js", "url": url, "render": "browser", "robots": False}]
    )
    app = PreviewApp(load_config(path), preview=True)
    try:
        status, _, body = call(app, "/preview", {"source": "js"})
    finally:
        app.close()
    assert status == 200
    doc = BeautifulSoup(body, "lxml")
    assert [h.get_text() for h in doc.select('#page [data-fb-role="headline"]')] == [
        "Harbour bridge reopens after repairs",
        "Library extends its opening hours",
        "Rail strike called off",
    ]
    outcomes = [li["class"][0] for li in doc.select("#requests li")]
    assert outcomes.count("fetched") == 3 and outcomes.count("refused") == 1
    assert "127.0.0.1:9/track" in doc.select("#requests li.refused")[0].get_text()
