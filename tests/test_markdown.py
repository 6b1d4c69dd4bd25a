"""Markdown sources: how a page is read (one decision, as data), front matter and MDX out, raw HTML
rendered, and the real Markdown newsletters of tests/fixtures/realpages served the three ways a
user meets them (``text/markdown``, a ``.md`` path, ``format = "markdown"``) giving headlines with
no Markdown syntax left. Before this, a Markdown newsletter was read as plain text and gave
headlines like ``### Official`` and ``[查看原文](https://…)``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedbot import sandbox
from feedbot.config import load_config
from feedbot.errors import ExtractError
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.markup import front_matter, markdown_page, page_format, strip_mdx
from feedbot.model import PageFormat
from feedbot.run import run_once
from feedbot.sandbox import ChildLimits
from feedbot.split import split_page

from .helpers import FIXTURES, Clock, Response, Server, check_feedparser, write_config

M, H, T, AUTO = PageFormat.MARKDOWN, PageFormat.HTML, PageFormat.TEXT, PageFormat.AUTO
REAL = FIXTURES / "realpages"
MARKDOWN_PAGES = sorted((REAL / "pages").glob("*.md"))
# what must not survive into a headline: Markdown marks, raw or escaped HTML, MDX's JavaScript. A
# pair of ** or __ left is emphasis that was not rendered; one stray ** (zh-bitcoinops-yearinreview
# writes "*<!--x-->**脚本恢复：*", a translator's typo) is text no Markdown renderer makes bold.
LEAK = re.compile(
    r"^#{1,6}\s|\*\*[^*]+\*\*|__[^_]+__|\]\(|\]\[|`|^>\s|^[-*+]\s|<[A-Za-z/!]|&lt;|&gt;|\{/\*"
    r"|^(?:import|export)\s"
)

# content type, URL path, the source's format -> how the page is read (None: not a page)
FORMATS = [
    ("text/markdown; charset=utf-8", "/weekly/491", AUTO, M),
    ("text/x-markdown", "/weekly/491", AUTO, M),
    ("text/plain; charset=utf-8", "/repo/main/docs/issue-150.md", AUTO, M),  # raw file hosts
    ("text/plain", "/repo/main/post.MDX", AUTO, M),
    ("text/plain", "/notes.txt", AUTO, T),
    ("text/plain", "/briefing", AUTO, T),
    ("text/html; charset=utf-8", "/repo/blob/main/README.md", AUTO, H),  # rendered by the server
    ("application/xhtml+xml", "/a.md", AUTO, H),
    ("", "issue-150.md", AUTO, M),  # a local file: no Content-Type
    ("", "2024-03.markdown", AUTO, M),
    ("", "post.mdx", AUTO, M),
    ("", "digest.txt", AUTO, T),
    ("", "digest.html", AUTO, H),
    ("", "/digests/", AUTO, H),
    ("", "/digest", AUTO, H),
    ("application/octet-stream", "/issue%2D7.md", AUTO, M),
    ("application/json", "/feed.md", AUTO, None),
    ("image/png", "/a", AUTO, None),
    ("", "cover.png", AUTO, None),
    ("text/html", "/weekly/491", M, M),  # the source's format wins
    ("text/plain", "/a.md", T, T),
    ("text/markdown", "/a.md", H, H),
    ("application/octet-stream", "/a.bin", M, M),
]


@pytest.mark.parametrize(("content_type", "path", "configured", "expected"), FORMATS)
def test_how_a_page_is_read(
    content_type: str, path: str, configured: PageFormat, expected: PageFormat | None
) -> None:
    reading = page_format(content_type, path, configured)
    assert (reading.format if reading else None) == expected
    if reading is not None:
        assert reading.reason  # preview says why


# text -> body after the front matter, (title, date, lang) it gave
FRONT_MATTER = [
    pytest.param(
        "---\ntitle: 'Weekly #1'\ndate: 2024-03-05 08:12\nlang: zh-CN\ntags:\n- a\n---\n# W\n",
        "# W\n",
        ("Weekly #1", "2024-03-05 08:12", "zh-CN"),
        id="yaml",
    ),
    pytest.param("---\ntitle: x\n...\nbody\n", "body\n", ("x", None, None), id="yaml-dots"),
    pytest.param("\ufeff---\ntitle: x\n---\nbody", "body", ("x", None, None), id="yaml-bom"),
    pytest.param(
        "---\ntitle: >\n  folded\npublish_date: '2019-10-05T12:00:15Z'\n---\nb",
        "b",
        (None, "2019-10-05T12:00:15Z", None),
        id="yaml-block-scalar",
    ),
    pytest.param(
        '+++\ntitle = "Weekly"\ndate = 2024-03-05T08:12:00+08:00\n+++\nbody',
        "body",
        ("Weekly", "2024-03-05T08:12:00+08:00", None),
        id="toml",
    ),
    pytest.param(
        "Title: PyCoder 491\nSlug: issue-491\nDate: 2021-09-22 11:42\nTags: Weekly,ZH\n\n> a\n",
        "> a\n",
        ("PyCoder 491", "2021-09-22 11:42", None),
        id="pelican",
    ),
    pytest.param("Update: we moved.\n\nbody", "Update: we moved.\n\nbody", (None,) * 3, id="prose"),
    pytest.param("# T\n\n---\n\ntext\n---\n", "# T\n\n---\n\ntext\n---\n", (None,) * 3, id="rules"),
]


@pytest.mark.parametrize(("text", "body", "meta"), FRONT_MATTER)
def test_front_matter_is_removed(
    text: str, body: str, meta: tuple[str | None, str | None, str | None]
) -> None:
    matter = front_matter(text)
    assert matter.body == body
    assert (matter.title, matter.date, matter.lang) == meta


def test_front_matter_goes_to_the_head() -> None:
    page = markdown_page("---\ntitle: A & B\ndate: 2024-03-05\nlang: ja\n---\n# A & B\n\ntext\n")
    assert page.startswith('<!DOCTYPE html><html lang="ja"><head>')
    assert "<title>A &amp; B</title>" in page
    assert '<meta name="date" content="2024-03-05">' in page
    assert "title:" not in page and "---" not in page


MDX = """import Tabs from '@theme/Tabs';
import {Chart,
  Legend} from "../components/chart";
export const meta = { title: "x" };

# Weekly 12

{/* an editor's note
over two lines */}

## First story

Some text with <span class="x">inline HTML</span>.

<Callout type="info">
Callout body text
</Callout>

<YouTube id="abc" />

<Tabs items={['a', 'b']} onChange={(e) => { go(e > 1); }}>
  <TabItem value="a">Tab A text</TabItem>
</Tabs>

<div class="note">
A **bold** word in a raw HTML block
</div>

<details><summary>More</summary>

Hidden *emphasis*

</details>

## Second story

<>fragment text</>

{new Date().getFullYear()}

Code `<Foo bar={1} />` and `import x from 'y'` stay as code.

```jsx
import X from "y";
<Tabs items={[1]} />
```
"""


def test_mdx_and_raw_html_do_not_leak() -> None:
    cleaned = strip_mdx(MDX)
    for gone in ("import Tabs", "Legend}", "export const", "editor's note", "<Callout", "<YouTube"):
        assert gone not in cleaned.split("```")[0].replace("`<Foo", "").replace("`import x", "")
    page = markdown_page(MDX)

    split = split_page(page, "text/html")
    assert [i.headline for i in split.items] == ["First story", "Second story"]
    text = "\n".join(i.body_text for i in split.items)
    for kept in ("Callout body text", "Tab A text", "inline HTML", "fragment text", "Hidden"):
        assert kept in text
    assert "A bold word in a raw HTML block" in text  # Markdown inside raw HTML is rendered
    assert "Hidden emphasis" in text
    prose = text.split("Code ")[0]
    assert not re.search(r"[<>{}*`]|&lt;|import |export |getFullYear", prose), prose
    # code keeps what it shows, once
    assert "<Foo bar={1} />" in text and 'import X from "y";' in text


def _split_served(
    server: Server, tmp_path: Path, path: str, headers: dict[str, str], body: bytes, **source: str
) -> tuple[list[str], PageFormat | None, str]:
    server.routes[path] = Response(200, body, headers)
    config = load_config(
        write_config(tmp_path, [{"name": "md", "url": server.url(path), "robots": False, **source}])
    )
    fetcher = Fetcher(FetchSettings(user_agent="t (+http://127.0.0.1/)", tries=1))
    try:
        page = fetcher.fetch(config.sources[0])
    finally:
        fetcher.close()
    split = split_page(page.text, page.content_type)
    return [i.headline for i in split.items], page.markup, page.markup_reason


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda p: p.stem)
def test_real_markdown_pages_served_as_markdown(page: Path, server: Server, tmp_path: Path) -> None:
    """Every real Markdown newsletter of the corpus, served as text/markdown from a path without
    an extension: its headlines carry no Markdown, HTML or MDX syntax."""
    headlines, markup, reason = _split_served(
        server,
        tmp_path,
        "/weekly/latest",
        {"Content-Type": "text/markdown; charset=utf-8"},
        page.read_bytes(),
    )
    assert markup is PageFormat.MARKDOWN and "text/markdown" in reason
    leaks = [h for h in headlines if LEAK.search(h)]
    assert not leaks, leaks


def test_plain_text_reading_leaks_the_syntax_the_markdown_reading_removes() -> None:
    """The check above would catch the old reading: the same pages read as plain text give
    headlines full of Markdown on most of them."""

    leaking = [
        p.stem
        for p in MARKDOWN_PAGES
        if any(
            LEAK.search(i.headline) for i in split_page(p.read_text("utf-8"), "text/plain").items
        )
    ]
    assert len(leaking) >= 15, leaking


PYCHINA = REAL / "pages" / "zh-pychina-weekly-491.md"


def test_three_ways_to_a_markdown_source(server: Server, tmp_path: Path) -> None:
    """The same weekly served as text/markdown, as a .md file from a raw-file host (text/plain),
    and with format = "markdown" (text/plain at a path without extension) — and read from a
    local .md file — gives the same feed, with no Markdown syntax in its titles."""

    data = PYCHINA.read_bytes()
    server.routes["/issues/491"] = Response(200, data, {"Content-Type": "text/markdown"})
    server.routes["/raw/main/issue-491.md"] = Response(200, data, {"Content-Type": "text/plain"})
    server.routes["/plain/491"] = Response(200, data, {"Content-Type": "text/plain; charset=utf-8"})
    local = tmp_path / "issue-491.md"
    local.write_bytes(data)
    sources = [
        {"name": "typed", "url": server.url("/issues/491")},
        {"name": "suffix", "url": server.url("/raw/main/issue-491.md")},
        {"name": "configured", "url": server.url("/plain/491"), "format": "markdown"},
        {"name": "local", "url": str(local)},
        {"name": "as-text", "url": server.url("/plain/491")},  # the old reading, for contrast
        {"name": "zoned", "url": server.url("/issues/491"), "timezone": "Asia/Shanghai"},
    ]
    config = load_config(write_config(tmp_path, [{**s, "robots": False} for s in sources]))
    results = run_once(config, now=Clock())
    assert all(r.ok for r in results), [r.error for r in results]
    titles = {}
    for source in sources:
        feed = check_feedparser((config.feeds_dir / f"{source['name']}.atom").read_bytes())
        titles[source["name"]] = [e.title for e in feed.entries]
    assert titles["typed"] == titles["suffix"] == titles["configured"] == titles["local"]
    assert len(titles["typed"]) >= 5
    assert not [t for t in titles["typed"] if LEAK.search(t)]
    assert [
        t for t in titles["as-text"] if LEAK.search(t)
    ]  # "## 文章/教程/嗯哼", "- 210922 [Zoom.Quiet](…)"
    # the Pelican header's Date (2021-09-22 11:42) is every entry's date: the page names no
    # language, so UTC; with the source's timezone, Beijing time
    feed = check_feedparser((config.feeds_dir / "typed.atom").read_bytes())
    assert {e.published for e in feed.entries} == {"2021-09-22T11:42:00+00:00"}
    feed = check_feedparser((config.feeds_dir / "zoned.atom").read_bytes())
    assert {e.published for e in feed.entries} == {"2021-09-22T03:42:00+00:00"}


def test_a_markdown_page_that_would_hold_the_run_is_refused(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-markdown takes minutes on a few KB of unclosed brackets: the child rendering it is
    stopped at the time limit, the source fails with a clear error, the feed stays as it was."""
    monkeypatch.setattr(sandbox, "LIMITS", ChildLimits(seconds=2))

    server.routes["/w.md"] = [
        Response(200, PYCHINA.read_bytes(), {"Content-Type": "text/markdown"}),
        Response(200, b"## A\n\n" + b"[" * 30000, {"Content-Type": "text/markdown"}),
    ]
    config = load_config(write_config(tmp_path, [{"name": "w", "url": server.url("/w.md")}]))
    clock = Clock()
    assert [r.ok for r in run_once(config, now=clock)] == [True]
    before = (config.feeds_dir / "w.atom").read_bytes()
    clock.advance(hours=1)
    [result] = run_once(config, now=clock)
    assert not result.ok
    assert result.error and "source 'w'" in result.error and server.url("/w.md") in result.error
    assert "took over 2 s" in result.error and "feed is left as it was" in result.error
    assert (config.feeds_dir / "w.atom").read_bytes() == before


@pytest.mark.parametrize(
    ("text", "limits", "message"),
    [
        ("- " * 20000 + "x", ChildLimits(), "RecursionError"),  # lists nested 20,000 deep
        (
            " [a]: " + "A" * 20000 + "\n\n" + "[a][]" * 20000,
            ChildLimits(memory=300 << 20),
            "300 MiB",
        ),
    ],
    ids=["nesting", "reference-bomb"],
)
def test_markdown_past_the_limits_is_a_clear_error(
    text: str, limits: ChildLimits, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sandbox.markdown_page(text, limits)


def test_the_child_renders_what_the_library_renders() -> None:
    for page in MARKDOWN_PAGES[:3]:
        text = page.read_text("utf-8")
        assert sandbox.markdown_page(text) == markdown_page(text)


def test_markdown_error_names_source_and_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "LIMITS", ChildLimits(seconds=2))
    local = tmp_path / "bad.md"
    local.write_text("[" * 30000, encoding="utf-8")
    config = load_config(write_config(tmp_path, [{"name": "bad", "url": str(local)}]))
    fetcher = Fetcher(FetchSettings(user_agent="t (+http://127.0.0.1/)"))
    with pytest.raises(ExtractError) as caught:
        fetcher.fetch(config.sources[0])
    assert caught.value.source == "bad" and caught.value.url.endswith("bad.md")


def test_preview_says_how_the_page_was_read_and_its_dates_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedbot.cli import main

    local = tmp_path / "weekly.md"
    local.write_text(
        "---\ntitle: 周报 第 7 期\ndate: 2026-06-18 08:12\nlang: zh-CN\n---\n"
        + "".join(f"## 第{n}条\n\n{'正文内容。' * 30}\n\n" for n in range(1, 5)),
        encoding="utf-8",
    )
    assert main(["preview", str(local)]) == 0
    out = capsys.readouterr().out
    assert "read as:   markdown (the path ends in .md (no Content-Type))" in out
    assert "title:     周报 第 7 期" in out
    assert (
        "date:      2026-06-18T00:12:00+00:00 (read in Asia/Shanghai: the page's <html lang> zh-CN"
        in out
    )
    assert "##" not in out.split("items:")[1]
