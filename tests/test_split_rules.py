"""The splitter's rules one by one, as data (tests/data/split_rules.json, in the manner of urlwatch's
filter tests): a line or an HTML fragment, and what the rule must make of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feedbot.split import boilerplate
from feedbot.split.dom import extract_html
from feedbot.split.outline import families
from feedbot.split.pipeline import (
    SplitOptions,
    _choose,
    _labels_over_teasers,
    _levels,
    _prepare,
    split_page,
)
from feedbot.split.single import counts_stories, evidence
from feedbot.split.text import marker_of, opening_date, strip_marker

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "split_rules.json").read_text(encoding="utf-8")
)


def _page(fragment: str) -> str:
    return (
        fragment
        if fragment.lstrip().startswith("<html")
        else f"<html><body>{fragment}</body></html>"
    )


def _id(case: dict[str, Any]) -> str:
    subject = case.get("text") or case.get("html") or ""
    return f"{case['rule']}:{subject[:40]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_rule(case: dict[str, Any]) -> None:
    rule = case["rule"]
    if rule == "line":
        assert boilerplate.classify(case["text"]) == case["kind"]
    elif rule == "tail":
        assert boilerplate.classify_tail(case["text"], last=True) == case["kind"]
    elif rule == "marker":
        mark = marker_of(case["text"])
        assert (list(mark) if mark else None) == case["marker"]
    elif rule == "strip":
        assert strip_marker(case["text"]) == case["stripped"]
    elif rule == "text":
        assert [b.text for b in extract_html(_page(case["html"])).blocks] == case["texts"]
    elif rule == "block":
        block = extract_html(_page(case["html"])).blocks[0]
        for name in ("tag", "text", "lead", "lead_kind", "bold", "href", "card"):
            if name in case:
                assert getattr(block, name) == case[name], name
    elif rule == "families":
        page = _prepare(extract_html(_page(case["html"])))
        found = families(page.blocks, set(page.reasons), page.sizes)
        assert sorted(n for n, heads in found.items() if case["index"] in heads) == case["families"]
    elif rule == "title":
        assert extract_html(case["html"]).title == case["title"]
    elif rule == "furniture":
        texts = " ".join(b.text for b in extract_html(_page(case["html"])).blocks)
        texts += " " + extract_html(_page(case["html"])).title
        if "kept" in case:
            assert case["kept"] in texts
        if "gone" in case:
            assert case["gone"] not in texts
    elif rule == "labels-over-teasers":
        page = _prepare(extract_html(_page(case["html"])))
        levels, _ = _levels(page, SplitOptions())
        chosen = next(level for level in levels if level.name == case["level"])
        assert _labels_over_teasers(chosen, levels) == case["gives_way"]
    elif rule == "dated":
        assert opening_date(case["text"]) == case["date"]
    elif rule == "title-count":
        assert counts_stories(case["text"], case["n"]) == case["counts"]
    elif rule == "evidence":
        _evidence_case(case)
    elif rule == "split":
        split = split_page(_page(case["html"]))
        if "single" in case:
            assert split.single_article == case["single"], [c.reasons for c in split.candidates]
        if "headlines" in case:
            assert [item.headline for item in split.items] == case["headlines"]
    else:
        raise AssertionError(f"unknown rule {rule!r}")


def _evidence_case(case: dict[str, Any]) -> None:
    """The pieces of single-article evidence on the page's chosen level: those that must be there,
    those that must not, and the decision."""
    page = _prepare(extract_html(_page(case["html"])))
    levels, _ = _levels(page, SplitOptions())
    level = _choose(page, levels, False).level
    assert level is not None
    found = evidence(
        page.title, level, page.blocks, page.reasons, page.ext.parents, levels, page.chars
    )
    keys = {piece.key for piece in found}
    assert set(case.get("pieces", [])) <= keys, found
    assert not set(case.get("absent", [])) & keys, found
    split = split_page(_page(case["html"]))
    assert split.single_article == case["single"], [c.reasons for c in split.candidates]
