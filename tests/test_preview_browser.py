"""The preview page in a real browser (Debian's headless Chromium, driven by Playwright as a user
would use it): open it, click a heading, see the new split and the config lines; pick a content
area and a block to leave out; write the lines with --allow-edit. The screenshot in the README
(docs/preview.png) is taken here: FEEDBOT_UPDATE_SCREENSHOT=1 writes it."""

from __future__ import annotations

import os
import shutil
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from feedbot.browser import CHROMIUM_ARGS, DEFAULT_EXECUTABLE
from feedbot.config import Config, load_config
from feedbot.serve import FeedServer

from .helpers import Response, Server, write_config

ROOT = Path(__file__).parent.parent

ROUNDUP = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Weekend round-up</title></head>
<body><div class="masthead"><a href="/">Home</a> <a href="/about">About us</a></div>
<div id="main">
<h2 class="section">Politics</h2>
<p class="story-title"><b>Council approves the new budget</b></p>
<p>The council approved next year's budget on Thursday by a wide margin after a long debate.</p>
<p class="story-title"><b>Mayor opens the harbour office</b></p>
<p>The mayor opened the new harbour office on Friday, promising shorter queues for permits.</p>
<h2 class="section">Sport</h2>
<p class="story-title"><b>Rowing club wins the regatta</b></p>
<p>The town's rowing club won the autumn regatta for the third year in a row on Saturday.</p>
<p class="story-title"><b>New pitch for the youth league</b></p>
<p>The youth league gets a new pitch next spring, paid for by a local sponsor and the council.</p>
</div></body></html>"""

STORIES = [
    "Council approves the new budget",
    "Mayor opens the harbour office",
    "Rowing club wins the regatta",
    "New pitch for the youth league",
]


@pytest.fixture(scope="session")
def user_browser() -> Iterator[Any]:
    """The user's browser: the system's Chromium, one for the session."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=DEFAULT_EXECUTABLE, args=args)
        yield browser
        browser.close()


@pytest.fixture
def tab(user_browser: Any) -> Iterator[Any]:
    context = user_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []  # no script error, no resource the CSP refused


@contextmanager
def running(config: Config, **options: Any) -> Iterator[str]:
    """``feedbot serve --preview`` on 127.0.0.1 (a free port) while the block runs."""
    server = FeedServer(config, "127.0.0.1", 0, poll=0.05, preview=True, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.url.rstrip("/")
    finally:
        server.close()
        thread.join(5)


@pytest.fixture
def roundup(server: Server, tmp_path: Path) -> Path:
    server.routes["/roundup.html"] = Response(200, ROUNDUP)
    return write_config(
        tmp_path, [{"name": "roundup", "url": server.url("/roundup.html"), "robots": False}]
    )


def items(tab: Any) -> list[str]:
    return [str(t) for t in tab.locator("#items li strong").all_inner_texts()]


def test_click_a_heading_to_choose_the_level(tab: Any, roundup: Path) -> None:
    with running(load_config(roundup)) as base:
        tab.goto(f"{base}/preview")
        tab.select_option("#source-select", "roundup")
        tab.click("#go")
        tab.wait_for_url("**source=roundup*")
        assert items(tab) == STORIES
        assert tab.locator('#page [data-fb-role="headline"]').count() == 4
        # "this level": a click on a section heading
        tab.click("#page h2 >> text=Politics")
        tab.wait_for_url("**headline_selector=*")
        assert items(tab) == ["Politics", "Sport"]
        assert 'headline_selector = "h2.section"' in tab.inner_text("#config-lines")
        marked = tab.locator('#page [data-fb-role="headline"]')
        assert [t.split()[-1] for t in marked.all_inner_texts()] == ["Politics", "Sport"]
        assert marked.evaluate_all("els => els.map(e => e.dataset.fbN)") == ["1", "2"]
        # and back: a click on a story's bold title
        tab.click("#page b >> text=Rowing club wins the regatta")
        tab.wait_for_url("**headline_selector=p+%3E+b*")
        assert items(tab) == STORIES
        assert 'headline_selector = "p > b"' in tab.inner_text("#config-lines")


def test_pick_the_content_area_and_leave_a_block_out(tab: Any, roundup: Path) -> None:
    with running(load_config(roundup)) as base:
        tab.goto(f"{base}/preview?source=roundup")
        tab.check('input[name="mode"][value="content"]')
        tab.hover("#page h2 >> text=Sport")  # the box around it lights up
        assert tab.locator("#page .fb-hover").count() == 1
        tab.click("#page h2 >> text=Sport")
        tab.wait_for_url("**content_selector=*")
        assert 'content_selector = "#main"' in tab.inner_text("#config-lines")
        assert items(tab) == STORIES
        tab.check('input[name="mode"][value="exclude"]')
        tab.click("#page b >> text=Mayor opens the harbour office")
        tab.wait_for_url("**exclude=*")
        assert items(tab) == [STORIES[0], *STORIES[2:]]
        lines = tab.inner_text("#config-lines")
        assert 'exclude_selectors = ["#main > p:nth-of-type(3) > b"]' in lines
        # a change can be taken back
        tab.click("#changes >> text=remove >> nth=-1")
        tab.wait_for_load_state()
        assert "exclude" not in tab.url
        assert items(tab) == STORIES


def test_allow_edit_writes_the_config_lines(tab: Any, roundup: Path) -> None:
    with running(load_config(roundup), allow_edit=True) as base:
        tab.goto(f"{base}/preview?source=roundup")
        tab.click("#page h2 >> text=Politics")
        tab.wait_for_url("**headline_selector=*")
        tab.click("#write")
        tab.wait_for_url("**written=1*")
        assert "Written to" in tab.inner_text("#written")
        assert load_config(roundup).source("roundup").headline_selector == "h2.section"
        assert items(tab) == ["Politics", "Sport"]  # the written config is what it now shows


def test_screenshot_of_the_example_digest(tab: Any, tmp_path: Path) -> None:
    """The preview of the bundled example (the README shows this screenshot)."""
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples)
    config = load_config(examples / "feedbot.toml")
    with running(config) as base:
        tab.goto(f"{base}/preview?source=ukraine-0306")
        assert len(items(tab)) == 5
        assert tab.locator('#page [data-fb-role="cut"]').count() >= 5
        shot = tmp_path / "preview.png"
        tab.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 1000)
    if os.environ.get("FEEDBOT_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "preview.png")
