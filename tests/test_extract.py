"""Extraction on lxml's tree: per-source selectors (applied with soupsieve on a BeautifulSoup tree and
handed back), deeply nested pages, and text and HTML the way a reader sees them."""

from __future__ import annotations

from feedbot.model import SplitMode
from feedbot.split import SplitOptions, split_page

STORIES = "".join(
    f"<h3>Story {n} headline</h3><p>The body of story {n} tells what happened on the day in some "
    f"detail, with a second sentence for good measure.</p>"
    for n in range(1, 4)
)
PAGE = (
    "<html><head><title>Digest</title></head><body>"
    "<div id='apps'><h3>Buy our app</h3><p>The app brings every story to your phone, with alerts "
    "for the stories you follow and a dark mode.</p><h3>Try it free</h3><p>Two months free for "
    "new readers, then a small fee each month, cancel at any time you like.</p></div>"
    f"<div class='stories'>{STORIES}<p class='extra'>Sponsored message inside the stories.</p></div>"
    "</body></html>"
)


def _headlines(page: str, options: SplitOptions | None = None) -> list[str]:
    return [item.headline for item in split_page(page, "text/html", options).items]


def test_content_selector_limits_the_page_to_the_chosen_block() -> None:
    assert _headlines(PAGE) == [
        "Buy our app",
        "Try it free",
        "Story 1 headline",
        "Story 2 headline",
        "Story 3 headline",
    ]
    chosen = _headlines(PAGE, SplitOptions(content_selector="div.stories"))
    assert chosen == ["Story 1 headline", "Story 2 headline", "Story 3 headline"]


def test_exclude_selectors_remove_parts_and_report_them() -> None:
    split = split_page(
        PAGE,
        "text/html",
        SplitOptions(content_selector="div.stories", exclude_selectors=("p.extra",)),
    )
    assert [item.headline for item in split.items][-1] == "Story 3 headline"
    assert "Sponsored" not in split.items[-1].body_text
    assert ("excluded", "Sponsored message inside the stories.") in [
        (d.reason, d.text) for d in split.dropped
    ]
    whole_page = split_page(PAGE, "text/html", SplitOptions(exclude_selectors=("#apps",)))
    assert [item.headline for item in whole_page.items] == [
        "Story 1 headline",
        "Story 2 headline",
        "Story 3 headline",
    ]


def test_a_content_selector_that_matches_nothing_gives_no_items() -> None:
    split = split_page(PAGE, "text/html", SplitOptions(content_selector="div.missing"))
    assert split.items == ()


def test_headline_selector_forces_the_headlines() -> None:
    forced = _headlines(
        PAGE, SplitOptions(content_selector="div.stories", headline_selector="h3:nth-of-type(odd)")
    )
    assert forced == ["Story 1 headline", "Story 3 headline"]


def test_a_page_nested_thousands_deep_keeps_all_its_text() -> None:
    # libxml2's tree builder stops at 256 levels; the page is then parsed through its events
    depth = 3000
    page = (
        "<html><body>"
        + "<div>" * depth
        + STORIES
        + "<p>Last words of the page, after all the stories and their bodies.</p>"
        + "</div>" * depth
        + "</body></html>"
    )
    split = split_page(page, "text/html")
    assert [item.headline for item in split.items] == [
        "Story 1 headline",
        "Story 2 headline",
        "Story 3 headline",
    ]
    assert split.items[-1].body_text.endswith("after all the stories and their bodies.")


def test_inline_text_is_escaped_in_the_item_html() -> None:
    page = (
        "<html><body>"
        "<h3>Markets &amp; money</h3><div>Shares rose 3% &lt;again&gt; as <b>R&amp;D</b> spending "
        "grew, the figures showed on the day.<br>Bonds fell.</div>"
        "<h3>Weather</h3><p>Rain &amp; wind are expected over the coast for the rest of the week.</p>"
        "</body></html>"
    )
    split = split_page(page, "text/html", SplitOptions(mode=SplitMode.HEADLINES))
    assert [item.headline for item in split.items] == ["Markets & money", "Weather"]
    first = split.items[0]
    assert "&lt;again&gt;" in first.body_html
    assert "<again>" not in first.body_html
    assert "R&amp;D" in first.body_html
    assert "Shares rose 3% <again> as R&D spending grew" in first.body_text


def test_removed_furniture_inside_a_line_leaves_the_words_apart() -> None:
    page = (
        "<html><body>"
        "<h3>First story</h3><p>Prices went up<span class='ad'>ADVERT</span>again this week, the "
        "office said in its monthly report on Tuesday.</p>"
        "<h3>Second story</h3><p>The council met on Monday and agreed the new budget for next "
        "year after a long debate.</p>"
        "</body></html>"
    )
    split = split_page(page, "text/html")
    assert "Prices went up again this week" in split.items[0].body_text
    assert "ADVERT" not in split.items[0].body_html
