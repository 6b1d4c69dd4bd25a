"""Property tests: splitting never raises, and on plain text every character of the page ends up in
exactly one item (headline or body) or in what was reported as cut."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbot.identify import identify
from feedbot.sanitize import clean_html, xml_safe
from feedbot.split import split_page

HEADLINE_WORDS = [
    "央行宣布降准",
    "北京暴雨预警",
    "Markets rally",
    "Storm hits coast",
    "新馆开放",
    "1.",
    "一、",
    "【要闻】",
    "①",
]
SENTENCES = [
    "中国人民银行宣布下调存款准备金率。",
    "The storm is expected to reach the coast on Tuesday.",
    "來源：新華社",
    "（完）",
    "Source: Reuters",
    "版權聲明：本文轉載自網絡。",
    "Read more",
    "市场人士认为，此举将释放长期资金约一万亿元，有助于稳定经济增长。",
]

line = st.one_of(
    st.sampled_from(HEADLINE_WORDS),
    st.sampled_from(SENTENCES),
    st.text(min_size=1, max_size=80),
    st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4).map("".join),
)


MARKER_CHARS = (
    set(
        "0123456789.．、，,)）(（#:：[]【】■□●○◆◇▲△★☆▶►◎※一二三四五六七八九十第条則则项項完-—–ENDend"
    )
    | {chr(c) for c in range(0x2460, 0x2474)}
    | {chr(c) for c in range(0x3251, 0x3260)}
)


def _chars(text: str) -> Counter[str]:
    return Counter(ch for ch in text if not ch.isspace())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=0, max_size=30))
def test_plain_text_accounts_for_every_character(lines: list[str]) -> None:
    text = "\n".join(lines)
    split = split_page(text, "text/plain")
    out: Counter[str] = Counter()
    for item in split.items:
        out += _chars(item.headline)
        out += _chars(item.body_text)
    for dropped in split.dropped:
        out += _chars(dropped.text)
    page: Counter[str] = Counter()
    for raw in text.splitlines():
        page += _chars(" ".join(raw.split()))
    # nothing is duplicated, and nothing is lost but enumeration markers, brackets and end marks
    assert not out - page, out - page
    lost = page - out
    assert set(lost) <= MARKER_CHARS, lost


tags = st.sampled_from(
    ["p", "div", "h2", "h3", "li", "ul", "b", "strong", "span", "br", "table", "td", "a", "section"]
)


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    parts = ["<html><body>"]
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(tags)
        content = draw(st.one_of(line, st.text(max_size=30)))
        if draw(st.booleans()):
            parts.append(f"<{tag}>{content}</{tag}>")
        else:
            parts.append(
                f"<{tag} class='{draw(st.sampled_from(['ad', 'content', 'share', 'x']))}'>{content}"
            )
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_pages())
def test_html_split_never_raises_and_gives_valid_items(page: str) -> None:
    split = split_page(page, "text/html")
    for item in split.items:
        assert item.headline.strip()
        html = clean_html(item.body_html, "http://127.0.0.1/page")
        assert xml_safe(html) == html
        assert "<script" not in html
    identify(split.items)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_as_html_never_raises(page: str) -> None:
    split_page(page, "text/html")
    split_page(page, "text/plain")
