"""The preview's explanation: every block's CSS selector finds its element in the page, a level's
selector forces that level as the source's headline_selector, and `feedbot preview --json` carries the
outline, the choice and every block's role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.split import SplitOptions, collapse, split_page
from feedbot.split.explain import explain_page
from feedbot.split.parse import parse_html

from .test_failure_kinds import _page

PAGES = ["zh-iosweekly-318", "en-bgr-black-friday-apple-deals", "zhtw-pycontw-blog-index-2026"]


@pytest.mark.parametrize("page_id", PAGES)
def test_each_block_selector_finds_its_text_in_the_page(page_id: str) -> None:
    text, kind = _page(page_id)
    explained = explain_page(text, kind)
    soup = parse_html(text)
    checked = 0
    for block in explained.blocks:
        assert block.selector, block
        found = soup.select(block.selector)
        assert len(found) == 1, block.selector
        element_text = collapse(found[0].get_text(""))
        assert block.text[:20].strip() in element_text or block.tag == "table", block
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("page_id", PAGES)
def test_the_chosen_level_selector_forces_the_same_items(page_id: str) -> None:
    text, kind = _page(page_id)
    explained = explain_page(text, kind)
    chosen = next(v for v in explained.levels if v.chosen)
    forced = split_page(text, kind, SplitOptions(headline_selector=chosen.selector))
    assert [i.headline for i in forced.items] == [i.headline for i in explained.split.items]


def test_every_block_has_a_role_and_cut_blocks_a_reason() -> None:
    text, kind = _page("zh-iosweekly-318")
    explained = explain_page(text, kind)
    roles = {b.role for b in explained.blocks}
    assert roles == {"headline", "body", "cut"}
    for block in explained.blocks:
        if block.role == "cut":
            assert block.reason and block.item is None
        else:
            assert block.item is not None
    headlines = [b for b in explained.blocks if b.role == "headline"]
    assert len(headlines) == len(explained.split.items)
    rejected = {v.name: v.verdict for v in explained.levels if not v.chosen}
    assert "wrappers" in rejected["h2"] or "category" in rejected["h2"]


def test_preview_json_carries_the_explanation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, _kind = _page("zh-iosweekly-318")
    page = tmp_path / "page.html"
    page.write_text(text, encoding="utf-8")
    assert main(["preview", "--json", str(page)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["choice"]["level"] == data["structure"] == "h3"
    assert data["choice"]["why"]
    assert {"name", "rank", "headlines", "selector", "verdict", "chosen"} <= set(data["levels"][0])
    block = data["blocks"][0]
    assert {"index", "selector", "role", "item", "reason", "text", "tag"} <= set(block)
    assert main(["preview", str(page)]) == 0
    out = capsys.readouterr().out
    assert "outline (families of headlines, coarse first):" in out
    assert "not chosen:" in out and "because" in out
