"""The bundled digest page splits into exactly the five stories of ukraine-digest.expected.json."""

from __future__ import annotations

import json

import pytest

from feedbot.split import split_page

from .helpers import FIXTURES

EXPECTED = json.loads((FIXTURES / "ukraine-digest.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("ukraine-digest-2022-03-06.html", "text/html"),
        ("ukraine-digest-2022-03-06.txt", "text/plain"),
    ],
)
def test_splits_into_the_five_expected_items(filename: str, content_type: str) -> None:
    text = (FIXTURES / filename).read_text(encoding="utf-8")
    split = split_page(text, content_type)
    expected = EXPECTED["2022-03-06"]
    assert [i.headline for i in split.items] == [e["headline"] for e in expected["items"]]
    for item, want in zip(split.items, expected["items"], strict=True):
        assert item.body_text.startswith(want["body_starts"]), item.headline
        assert item.body_text.endswith(want["body_ends"]), item.headline
    for item in split.items:
        for junk in expected["not_in_any_item"]:
            assert junk not in item.body_text, (item.headline, junk)
            assert junk not in item.body_html, (item.headline, junk)
            assert junk not in item.headline
    assert split.title == expected["page_title"]
    assert split.attribution == "來源:新華社、央視新聞等"
    assert not split.single_article


def test_attribution_and_footer_are_reported_as_cut() -> None:
    text = (FIXTURES / "ukraine-digest-2022-03-06.html").read_text(encoding="utf-8")
    split = split_page(text)
    reasons = {d.reason for d in split.dropped}
    assert "attribution" in reasons
    cut = " ".join(d.text for d in split.dropped)
    for junk in ("版權聲明", "相關文章", "分享到", "廣告", "首頁"):
        assert junk in cut


def test_next_day_page_splits_too() -> None:
    text = (FIXTURES / "ukraine-digest-2022-03-07.html").read_text(encoding="utf-8")
    split = split_page(text)
    assert [i.headline.strip() for i in split.items] == [
        "烏方代表團確認將於7日舉行第三輪俄烏談判",
        "普京説打擊烏境內軍事基礎設施已接近尾聲",
        "王毅應約同美國國務卿布林肯通電話",
        "日本决定向乌克兰提供军用物资",
        "測試條目:新增消息一則",
    ]
