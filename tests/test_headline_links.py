"""A headline that links off the page names its story: the same headline linking to the same place
is the same story even when its text is rewritten (a trending list's repository over a new
description), while a recurring heading with no link of its own keeps the body rule (an unrelated
body is a new story). Run through the whole pipeline, as a user's feed would be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedbot.config import load_config
from feedbot.identify import link_target
from feedbot.run import run_once
from feedbot.split import split_page
from feedbot.store import Store

from .helpers import Clock, check_atom, write_config

START = datetime(2026, 4, 26, 6, 0, tzinfo=UTC)

REPOS = {
    "alpha / memsearch": (
        "A Markdown-first memory system, a standalone library for any agent, inspired by notes.",
        "One persistent memory layer for all your assistants, backed by plain files and a vector store.",
    ),
    "beta / voiceink": (
        "Voice to text app for the desktop that transcribes what you say almost instantly.",
        "The best open alternative to paid dictation tools, with no subscription and local models.",
    ),
    "gamma / hackingtool": ("All in one tool for security researchers and students of networks.",)
    * 2,
}
MARKETS = (
    "Shares rose on Wednesday as chip makers led the gains and turnover passed nine hundred billion.",
    "The central bank held its rate on Thursday and said inflation would stay near its target.",
)


def _page(day: int) -> str:
    entries = "".join(
        f'<li><a href="https://github.com/{name.replace(" ", "")}">{name}</a>: {texts[day]}</li>'
        for name, texts in REPOS.items()
    )
    return (
        f"<html><head><title>Trending {day}</title></head><body><article>"
        f"<ul>{entries}<li><b>Markets</b>: {MARKETS[day]}</li></ul></article></body></html>"
    )


def test_the_headline_link_is_carried_on_the_item() -> None:
    split = split_page(_page(0))
    links = {item.headline: item.link for item in split.items}
    assert links["alpha / memsearch"] == "https://github.com/alpha/memsearch"


def test_link_targets_resolve_against_the_page_and_leave_it_out() -> None:
    page = "https://example.org/trending/daily.html"
    assert link_target("/alpha/memsearch#readme", page) == "https://example.org/alpha/memsearch"
    assert link_target("daily.html#top", page) == ""  # the page itself
    assert link_target("javascript:void(0)", page) == ""
    assert link_target(None, page) == ""


def test_a_rewritten_description_under_the_same_linked_headline_is_an_update(
    tmp_path: Path,
) -> None:
    path = tmp_path / "trending.html"
    config = load_config(
        write_config(tmp_path, [{"name": "trending", "url": "trending.html", "feed": "t"}])
    )
    clock = Clock(START)
    results = []
    for day in (0, 1):
        clock.now = START + timedelta(days=day)
        path.write_text(_page(day), encoding="utf-8")
        results.append(run_once(config, now=clock)[0])
        assert results[-1].ok, results[-1].error
    # day 2: two descriptions rewritten (updates, not new stories); the linkless "Markets" heading
    # over an unrelated report is a new story under a recurring heading
    assert (results[1].new, results[1].updated) == (1, 2)
    titles = [e.title for e in check_atom((config.feeds_dir / "t.atom").read_bytes()).entries]
    assert sorted(titles) == [
        "Markets",
        "Markets",
        "alpha / memsearch [updated]",
        "beta / voiceink [updated]",
        "gamma / hackingtool",
    ]
    with Store(config.db_path) as store:
        revisions = {e.headline: e.revisions for e in store.feed_entries("t", 100)}
    assert revisions["alpha / memsearch"] == 2


def test_entries_with_no_text_are_not_one_story(tmp_path: Path) -> None:
    """Two repositories with no description yet share an empty body: that is no evidence that
    they are the same story."""
    path = tmp_path / "trending.html"
    config = load_config(
        write_config(tmp_path, [{"name": "trending", "url": "trending.html", "feed": "t"}])
    )
    clock = Clock(START)
    for day, name in enumerate(("delta / one", "epsilon / two")):
        clock.now = START + timedelta(days=day)
        body = "".join(
            f'<li><a href="https://github.com/{n.replace(" ", "")}">{n}</a>: {t[0]}</li>'
            for n, t in REPOS.items()
        )
        bare = f'<li><a href="https://github.com/{name.replace(" ", "")}">{name}</a>:</li>'
        path.write_text(
            f"<html><body><article><ul>{body}{bare}</ul></article></body></html>", encoding="utf-8"
        )
        result = run_once(config, now=clock)[0]
        assert result.ok, result.error
    assert result.new == 1  # the second bare entry is a story of its own
    titles = {e.title for e in check_atom((config.feeds_dir / "t.atom").read_bytes()).entries}
    assert {"delta / one", "epsilon / two"} <= titles
