"""The split wing's cheap measures give what the plain definitions give (speed work must not change a
split): white space folding and counting, reading length with its memo, and the furniture test that
reads the page's length only as far as it needs."""

from __future__ import annotations

import sys

import pytest

from feedbot.split import split_page
from feedbot.split.blocks import collapse, nonws
from feedbot.split.text import _units, forget, marker_of, strip_marker, units

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]

TEXTS = [
    "",
    " ",
    "plain words",
    "  two  spaces ",
    "tab\there",
    "line\nbreak",
    "中文 句子。第二句",
    "中文句子",
    " 中文",
    "中文 ",
    "中  文",
    "1、标题：内容",
    "（二）标题",
    "Überschrift: Text",
    "control\x01char",
    "del\x7fchar",
    *(f"中文{space}句子" for space in SPACES),
    *(f"word{space}word" for space in SPACES),
]


def test_every_white_space_but_the_space_is_unprintable() -> None:
    # (collapse and nonws skip the split for a printable text: this is what makes that exact)
    assert [s for s in SPACES if s != " " and s.isprintable()] == []


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_folding_and_counting_white_space_match_their_definitions(text: str) -> None:
    assert collapse(text) == " ".join(text.split())
    if text.isascii() and any(c in text for c in "\x1c\x1d\x1e\x1f"):
        # (nonws counts these four separators in ASCII text as characters: the parser deletes
        # them from every page before anything is measured, so no split meets one)
        return
    assert nonws(text) == len("".join(text.split()))


@pytest.mark.parametrize("text", [t for t in TEXTS if t], ids=repr)
def test_remembered_measures_are_the_measures(text: str) -> None:
    forget()
    first = (units(text), strip_marker(text), marker_of(text))
    again = (units(text), strip_marker(text), marker_of(text))
    assert first == again
    assert first[0] == _units(text)


def test_units_counts_cjk_characters_and_words() -> None:
    assert units("中文 and two words") == 2 + 1.6 * 3
    assert units("abc") == 1.6
    assert units("一二三") == 3


def _page(nav_links: int, paragraphs: int) -> str:
    nav = "".join(f"<li><a href='/s{i}'>Section number {i}</a></li>" for i in range(nav_links))
    body = "".join(
        f"<h3>Story {i} headline words</h3><p>{'Body text of the story. ' * 12}</p>"
        for i in range(paragraphs)
    )
    return (
        f"<html><body><div class='nav'><ul>{nav}</ul></div>"
        f"<div class='content'>{body}</div><div class='footer'>Footer line</div></body></html>"
    )


@pytest.mark.parametrize(("nav_links", "paragraphs"), [(3, 12), (40, 12), (200, 4), (400, 2)])
def test_a_menu_is_furniture_unless_it_holds_most_of_the_page(
    nav_links: int, paragraphs: int
) -> None:
    """A menu smaller than the stories is cut; one holding most of the page's text is kept (the
    furniture test then needs the page's whole length, not just its first paragraphs)."""
    split = split_page(_page(nav_links, paragraphs))
    cut = [d for d in split.dropped if d.reason == "furniture" and "Section number" in d.text]
    nav_chars = nav_links * len("Section number 10")
    story_chars = paragraphs * len("Body text of the story. " * 12)
    if 2 * nav_chars < story_chars:
        assert cut, "the menu is furniture"
    if nav_chars > 2 * story_chars:
        assert not cut, "a menu holding most of the text is never furniture"
