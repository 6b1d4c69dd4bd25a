"""The fitted level chooser: the features of a candidate level, the linear ranker of rules.RANKER and
the explanation the preview gives of its pick."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from feedbot.eval_real import load_labels, page_input
from feedbot.split import SplitOptions
from feedbot.split.dom import extract_html
from feedbot.split.explain import explain_page
from feedbot.split.pipeline import Result, run_stages
from feedbot.split.ranking import PageView, candidates, level_features, linear
from feedbot.split.rules import RANKER, level_chooser, using_chooser

REAL = Path(__file__).parent / "fixtures" / "realpages"

NUMBERED = """<html><head><title>3 things to know</title></head><body><article>
<h2>1. Rivers rise in the north</h2><p>Heavy rain lifted three rivers over their banks overnight.</p>
<h2>2. A bridge reopens</h2><p>The old bridge carries traffic again after two years of repairs.</p>
<h2>3. Schools stay shut</h2><p>Classes are cancelled until the roads are cleared next week.</p>
</article></body></html>"""


def _stages(html: str) -> Result:
    return run_stages(extract_html(html), SplitOptions())


def _view(result: Result) -> PageView:
    page = result.page
    return PageView(
        page.title,
        page.blocks,
        page.reasons,
        page.ext.parents,
        page.chars,
        page.total,
        page.linked,
    )


def test_a_numbered_run_of_headings_reads_as_such() -> None:
    result = _stages(NUMBERED)
    h2 = next(level for level in result.levels if level.name == "h2")
    viable = [level for level in result.levels if level.ok]
    found = level_features(h2, _view(result), viable)
    assert found["log_heads"] == pytest.approx(math.log(3))
    assert found["heading"] == 1.0 and found["lead"] == 0.0
    assert found["numbered"] == 1.0 and found["unnumbered"] == 0.0
    assert found["body_share"] == 1.0
    assert found["coverage"] > 0.9
    assert found["title_count"] == 1.0  # "3 things to know" over three headlines
    assert found["same_shape"] == 1.0  # every record is a heading over one paragraph


def test_every_weighted_feature_is_one_the_features_compute() -> None:
    result = _stages(NUMBERED)
    viable = [level for level in result.levels if level.ok]
    names = set(level_features(viable[0], _view(result), viable))
    assert {name for name, _weight, _centre in RANKER.weights} <= names


def test_the_outline_chooser_is_the_default() -> None:
    assert level_chooser() == "outline"
    with using_chooser("fitted"):
        assert level_chooser() == "fitted"
    assert level_chooser() == "outline"


def _label(page_id: str) -> dict[str, object]:
    return next(label for label in load_labels(REAL) if label["id"] == page_id)


def test_a_candidates_score_is_the_sum_of_its_weighted_features() -> None:
    weights = {"coverage": (2.0, 0.5), "heading": (1.0, 0.0), "log_heads": (0.5, 2.0)}
    parts = linear(weights, {"coverage": 1.0, "heading": 1.0, "log_heads": 1.0})
    assert parts == [("heading", 1.0), ("coverage", 1.0), ("log_heads", -0.5)] or parts == [
        ("coverage", 1.0),
        ("heading", 1.0),
        ("log_heads", -0.5),
    ]
    assert sum(value for _name, value in parts) == pytest.approx(1.5)


def _score(text: str) -> float:
    return float(re.search(r"([+-]\d+\.\d+) ", text + " ").group(1))  # type: ignore[union-attr]


def test_the_fitted_ranker_picks_the_candidate_with_the_best_score() -> None:
    """On a weekly where the two choosers differ, the ranker's pick outscores every other
    candidate, and each candidate's score is what its weighted features sum to."""
    text, _kind = page_input(REAL, _label("zh-pychina-weekly-491"))
    outline = run_stages(extract_html(text), SplitOptions())
    with using_chooser("fitted"):
        fitted = run_stages(extract_html(text), SplitOptions())
    assert outline.choice.level is not None and fitted.choice.level is not None
    assert fitted.choice.level.name != outline.choice.level.name
    picked = next(w for w in fitted.choice.why if w.startswith("the fitted ranker picks"))
    top = _score(picked.split(": ", 1)[1])
    others = [
        _score(v.split("ranker score ", 1)[1]) for v in fitted.choice.why if "ranker score" in v
    ] + [
        _score(v.split("ranker score ", 1)[1])
        for v in fitted.choice.rejected.values()
        if "ranker score" in v
    ]
    assert others and all(score < top for score in others)
    view = _view(fitted)
    viable = [level for level in fitted.levels if level.ok]
    weights = {name: (weight, centre) for name, weight, centre in RANKER.weights}
    for level in candidates(fitted.levels, None, None):
        if level.name in fitted.choice.rejected:
            total = sum(v for _n, v in linear(weights, level_features(level, view, viable)))
            assert f"ranker score {total:+.2f}" in fitted.choice.rejected[level.name]


def test_the_preview_explains_the_fitted_pick_with_each_candidates_score() -> None:
    text, kind = page_input(REAL, _label("zh-pychina-weekly-491"))
    with using_chooser("fitted"):
        explained = explain_page(text, kind)
    picked = [why for why in explained.why if why.startswith("the fitted ranker picks")]
    assert len(picked) == 1
    assert explained.chosen in picked[0]
    # the largest contributions are named: feature and signed value
    assert any(f"{name} " in picked[0] for name, _w, _c in RANKER.weights)
    rejected = [view for view in explained.levels if view.viable and not view.chosen]
    assert rejected
    assert all("ranker score" in view.verdict for view in rejected)
