"""The single-article decision measured on the real corpus: its evidence over every single and every
digest, and its weights fitted under leave-one-source-out cross-validation (development only).

    .venv/bin/python tools/fit_split.py singles collect   # pieces and measures of every page
    .venv/bin/python tools/fit_split.py singles table     # each piece's distribution: singles, digests
    .venv/bin/python tools/fit_split.py singles cv        # hand weights against fitted ones, by source

Every page is read twice: as the corpus scorer writes it (a Markdown page titled by its label's id,
which holds "single-" or "weekly": a leak for any evidence read from the title) and as feedbot reads
a Markdown source (feedbot.markup: the front matter's title, or none). A figure holds only when it
holds both ways. For each page the decision's inputs (the chosen level, the evidence pieces, a few
raw measures) and its two outcomes (the page kept whole; the page split at its level) are stored, so
that a decision rule is scored without splitting again: a single is right when it is kept whole (or
its level gives one item anyway), a digest scores the F1 of the outcome the rule picks; a digest kept
whole is "swallowed".

The fitted decision is an L2 logistic regression on the pieces present (0/1) and the raw measures,
standardised, each page weighted by what the decision is worth on it; C from an inner grouped CV.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from feedbot.eval_real import fine_headlines, load_labels, page_input, prf
from feedbot.markup import markdown_page
from feedbot.model import SplitMode
from feedbot.split import SplitOptions, split_page
from feedbot.split.dom import extract_html, extract_text
from feedbot.split.outline import is_lead_family
from feedbot.split.pipeline import _choose, _levels, _prepare
from feedbot.split.rules import SINGLE
from feedbot.split.single import evidence
from feedbot.split.text import terms

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "realpages"
CACHE = Path("/tmp/feedbot-fit-single.json")
READINGS = ("scorer", "feedbot")
MEASURES = ["log_heads", "max_share", "jaccard", "log_median_span", "head_units", "intro_ratio"]


def page_text(label: dict[str, Any], reading: str) -> tuple[str, str]:
    if reading == "feedbot" and label["format"] == "md":
        text = (REAL / "pages" / f"{label['id']}.md").read_text(encoding="utf-8")
        return markdown_page(text), "text/html"
    return page_input(REAL, label)


def _f1(label: dict[str, Any], heads: list[str]) -> float:
    if not heads or label["kind"] != "digest":
        return 0.0
    gold = [i["headline"] for i in label["items"]]
    return max(prf(heads, gold)[2], prf(heads, fine_headlines(label))[2])


def measures(page: Any, level: Any) -> dict[str, float]:
    """Raw measures of the chosen level (candidates for evidence beside the pieces)."""
    import math

    spans = level.spans or [0.0]
    lead = sum(page.chars[: level.heads[0]])
    sets = []
    for head, end in list(zip(level.heads, level.ends, strict=True))[: SINGLE.sample_sections]:
        text = " ".join(b.text for b in page.blocks[head + 1 : min(end, head + 41)])
        sets.append(terms(text[: SINGLE.sample_chars]))
    pairs = [len(a & b) / (len(a | b) or 1) for a, b in itertools.combinations(sets, 2)]
    median = statistics.median(spans)
    return {
        "log_heads": math.log(len(level.heads)),
        "max_share": max(spans) / (sum(spans) or 1.0),
        "jaccard": statistics.mean(pairs) if pairs else 0.0,
        "log_median_span": math.log1p(median),
        "head_units": level.mean_head(),
        "intro_ratio": min(lead / median, 5.0) if median else 0.0,
    }


def collect_page(label: dict[str, Any], reading: str) -> dict[str, Any]:
    text, kind = page_text(label, reading)
    auto = split_page(text, kind, SplitOptions())
    split = split_page(text, kind, SplitOptions(mode=SplitMode.HEADLINES))
    whole = split_page(text, kind, SplitOptions(mode=SplitMode.WHOLE))
    ext = extract_text(text) if kind == "text/plain" else extract_html(text)
    page = _prepare(ext)
    levels, _ = _levels(page, SplitOptions())
    level = _choose(page, levels, False).level
    decided = level is not None and (level.name == "label" or not is_lead_family(level.name))
    rec: dict[str, Any] = {
        "id": label["id"],
        "source": label.get("repo") or label.get("source"),
        "kind": label["kind"],
        "decided": decided,
        "auto_items": len(auto.items),
        "split_items": len(split.items),
        "split_f1": _f1(label, [i.headline for i in split.items]),
        "whole_f1": _f1(label, [i.headline for i in whole.items]),
        "pieces": {},
        "measures": {},
    }
    if decided and level is not None:
        found = evidence(
            page.title, level, page.blocks, page.reasons, page.ext.parents, levels, page.chars
        )
        rec["pieces"] = {p.key: p.weight for p in found}
        rec["measures"] = measures(page, level)
        rec["level"] = level.name
        rec["heads"] = len(level.heads)
    return rec


def collect() -> None:
    data: dict[str, list[dict[str, Any]]] = {}
    for reading in READINGS:
        data[reading] = [collect_page(label, reading) for label in load_labels(REAL)]
        print(reading, len(data[reading]), file=sys.stderr)
    CACHE.write_text(json.dumps(data, ensure_ascii=False))


def outcome(rec: dict[str, Any], single: bool) -> tuple[float, bool, bool]:
    """(a digest's F1, a single right, a digest swallowed) when the decision says ``single``."""
    if not rec["decided"]:
        single = rec["auto_items"] == 1 and rec["split_items"] != 1
    if rec["kind"] == "single":
        return 0.0, single or rec["split_items"] == 1, False
    if single:
        return rec["whole_f1"], False, True
    return rec["split_f1"], False, False


def reading(recs: list[dict[str, Any]], decide: dict[str, bool]) -> str:
    digests = [r for r in recs if r["kind"] == "digest"]
    singles = [r for r in recs if r["kind"] == "single"]
    f1 = statistics.mean(outcome(r, decide.get(r["id"], False))[0] for r in digests)
    right = sum(outcome(r, decide.get(r["id"], False))[1] for r in singles)
    eaten = [r["id"] for r in digests if outcome(r, decide.get(r["id"], False))[2]]
    return f"digests F1 {f1:.3f}  singles {right}/{len(singles)}  swallowed {len(eaten)} {eaten}"


def hand(rec: dict[str, Any]) -> bool:
    if len(rec["pieces"]) == 0 and not rec["decided"]:
        return False
    if rec.get("heads", 0) > SINGLE.max_sections:
        return False
    return sum(rec["pieces"].values()) >= SINGLE.threshold


def table() -> None:
    data = json.loads(CACHE.read_text())
    for name, recs in data.items():
        decided = [r for r in recs if r["decided"]]
        singles = [r for r in decided if r["kind"] == "single"]
        digests = [r for r in decided if r["kind"] == "digest"]
        print(f"\n{name} reading: {len(singles)} singles and {len(digests)} digests decided")
        print(f"{'piece':18s} {'weight':>6s} {'singles':>8s} {'digests':>8s}")
        keys = sorted({k for r in decided for k in r["pieces"]})
        for key in keys:
            weights = [r["pieces"][key] for r in decided if key in r["pieces"]]
            s = sum(key in r["pieces"] for r in singles)
            d = sum(key in r["pieces"] for r in digests)
            print(f"{key:18s} {statistics.mean(weights):+6.1f} {s:8d} {d:8d}")
        print(f"{'measure':18s} {'singles q1/median/q3':>24s}   digests q1/median/q3")
        for key in MEASURES:
            print(
                f"{key:18s} {_quartiles([r['measures'][key] for r in singles])}   "
                f"{_quartiles([r['measures'][key] for r in digests])}"
            )
        totals = sorted((sum(r["pieces"].values()), r["kind"][0], r["id"]) for r in decided)
        print("evidence totals (s: single, d: digest), the threshold", SINGLE.threshold)
        print("  " + "  ".join(f"{t:+.1f}{k}" for t, k, _ in totals))
        print(" ", reading(recs, {r["id"]: hand(r) for r in recs}))


def _quartiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{q[0]:7.2f} {q[1]:7.2f} {q[2]:7.2f}"


def _rows(recs: list[dict[str, Any]], names: list[str]) -> list[list[float]]:
    return [
        [float(n in r["pieces"]) if not n.startswith("m:") else r["measures"][n[2:]] for n in names]
        for r in recs
    ]


def _stake(rec: dict[str, Any]) -> float:
    if rec["kind"] == "single":
        return 1.0
    return max(rec["split_f1"] - rec["whole_f1"], 0.1)


def fit(recs: list[dict[str, Any]], names: list[str], c: float) -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = [r for r in recs if r["decided"]]
    x = np.array(_rows(train, names))
    y = np.array([int(r["kind"] == "single") for r in train])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
    model.fit(x, y, logisticregression__sample_weight=np.array([_stake(r) for r in train]))
    return model


def loso(recs: list[dict[str, Any]], names: list[str], c: float | None) -> dict[str, bool]:
    """Each source's pages decided by a model fitted on the other sources (C by an inner CV)."""
    import numpy as np

    groups = defaultdict(list)
    for r in recs:
        groups[r["source"]].append(r)
    decide: dict[str, bool] = {}
    for source, held in groups.items():
        train = [r for r in recs if r["source"] != source]
        chosen = c if c is not None else _inner_c(train, names)
        model = fit(train, names, chosen)
        for r in held:
            if r["decided"]:
                x = np.array(_rows([r], names))
                decide[r["id"]] = bool(model.predict_proba(x)[0, 1] >= 0.5)
    return decide


def _inner_c(recs: list[dict[str, Any]], names: list[str]) -> float:
    best, best_c = -1.0, 1.0
    for c in (0.03, 0.1, 0.3, 1.0, 3.0):
        decide = loso(recs, names, c)
        singles = [r for r in recs if r["kind"] == "single"]
        digests = [r for r in recs if r["kind"] == "digest"]
        value = statistics.mean(outcome(r, decide.get(r["id"], False))[0] for r in digests) + (
            statistics.mean(outcome(r, decide.get(r["id"], False))[1] for r in singles)
        )
        if value > best:
            best, best_c = value, c
    return best_c


def cv() -> None:
    data = json.loads(CACHE.read_text())
    pieces = sorted({k for recs in data.values() for r in recs for k in r["pieces"]})
    sets = {
        "pieces": pieces,
        "pieces+measures": [*pieces, *(f"m:{m}" for m in MEASURES)],
    }
    for name, recs in data.items():
        print(f"\n{name} reading")
        print(
            f"  hand weights (rules.SINGLE), in-sample: {reading(recs, {r['id']: hand(r) for r in recs})}"
        )
        for label, names in sets.items():
            decide = loso(recs, names, 0.3)
            print(f"  fitted on {label}, LOSO (C=0.3): {reading(recs, decide)}")
        model = fit(recs, sets["pieces"], 0.3)
        coef = model[-1].coef_[0] / model[0].scale_
        print("  fitted weights on every page (pieces, per unit):")
        print(
            "   ",
            ", ".join(
                f"{n} {w:+.1f}"
                for n, w in sorted(zip(pieces, coef, strict=True), key=lambda t: t[1])
            ),
        )


def main(args: list[str]) -> None:
    what = args[0] if args else "table"
    {"collect": collect, "table": table, "cv": cv}[what]()
