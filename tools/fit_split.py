"""Fit the splitter's two central decisions on the real corpus, under leave-one-source-out CV.

Development only (needs numpy and scikit-learn, which feedbot does not depend on):

    .venv/bin/pip install numpy scikit-learn
    .venv/bin/python tools/fit_split.py collect      # candidates, features and outcomes per page
    .venv/bin/python tools/fit_split.py ceiling      # the oracle ceiling over today's candidates
    .venv/bin/python tools/fit_split.py pages        # ... page by page, every rule on and LOSO
    .venv/bin/python tools/fit_split.py cv           # the comparison table (in-sample, CV, arrival;
                                                     # also rows where the ranker picks where the
                                                     # outline's moves start: the 'moved' views)
    .venv/bin/python tools/fit_split.py select       # forward selection of the ranker's features
    .venv/bin/python tools/fit_split.py weights      # fit on every page: the table for rules.RANKER
    .venv/bin/python tools/fit_split.py nested       # selection and fit together, cross-validated
    .venv/bin/python tools/fit_split.py singles collect|table|cv   # the single-article decision
                                                     # (tools/fit_single.py)

For every page of ``tests/fixtures/realpages`` each candidate level (the viable family levels, the
page's headline links, and today's choice after its moves on the outline) is forced as the pipeline
assembles it and scored against the label with eval_real's P/R/F1; its features are those of
:mod:`feedbot.split.ranking`. ``collect`` does this twice: with every rule on, and for each source
that rules were made on (``RULE_SOURCES``) its own pages again with those rules off, so that a held-out
source is scored as ``--loso`` scores it (no rule made while looking at it).

The level chooser is a pairwise linear ranker (logistic regression on the feature differences of two
candidates of the same page, target: which one has the higher F1, each pair weighted by the F1 it
decides, each page weighing the same); the single-article decision a logistic classifier on the
evidence pieces and the chosen level's shape. Both L2-regularised, features standardised; C chosen
by an inner grouped CV on the training folds only.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedbot.eval_real import fine_headlines, load_labels, own_rules, page_input, prf
from feedbot.split import levels as levels_module
from feedbot.split.assemble import plan_items, plan_single
from feedbot.split.dom import extract_html, extract_text
from feedbot.split.levels import Choice, choose, link_list, trim_frames
from feedbot.split.outline import is_lead_family
from feedbot.split.pipeline import SplitOptions, _levels, _prepare, run_stages, settle
from feedbot.split.ranking import (
    PageView,
    candidates,
    level_features,
    relative,
    single_features,
)
from feedbot.split.rules import LINK_PAGES, switched_off
from feedbot.split.single import Piece, dialogue, evidence, is_single_article

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "realpages"
CACHE = Path("/tmp/feedbot-fit-cache.json")
# pages scored on arrival: listed in these manifests, never fitted on (their figure is the truest
# estimate of how the splitter does on pages it never saw)
ARRIVALS = ["MANIFEST.c3.md", "MANIFEST.c4.md", "MANIFEST.c5.md"]


def arrivals() -> set[str]:
    ids: set[str] = set()
    for name in ARRIVALS:
        for line in (REAL / name).read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 2 and cells[1] and (REAL / "labels" / f"{cells[1]}.json").exists():
                ids.add(cells[1])
    return ids


def f1(label: dict[str, Any], heads: list[str]) -> float:
    if not heads:
        return 0.0
    gold = [i["headline"] for i in label["items"]]
    return max(prf(heads, gold)[2], prf(heads, fine_headlines(label))[2])


def today_level(page: Any, levels: list[Any], start: str | None = None) -> Any:
    """Today's choice before it is settled: the best score (or the family ``start``) moved on the
    outline, or the links."""
    copies = copy.deepcopy(levels)
    first = next((s for s in copies if s.name == start), None) if start else None
    choice = choose(copies, page.chars, first)
    links = link_list(page.blocks, page.reasons, page.sizes, page.chars)
    if links is not None and (
        choice.level is None
        or (page.linked and len(choice.level.heads) < LINK_PAGES.over_level * len(links.heads))
    ):
        return links
    return choice.level


def candidate_levels(page: Any, levels: list[Any]) -> list[tuple[str, Any, bool]]:
    """(origin, level, is today's choice) for every distinct candidate, as the fitted chooser
    sees them (:func:`feedbot.split.ranking.candidates`)."""
    today = today_level(page, levels)
    links = link_list(page.blocks, page.reasons, page.sizes, page.chars)
    found = []
    for level in candidates(levels, links, today):
        key = (level.heads, level.sections)
        is_today = today is not None and key == (today.heads, today.sections)
        origin = "links" if level is links else ("today" if level is today else "family")
        found.append((origin, level, is_today))
    return found


def forced(page: Any, levels: list[Any], level: Any) -> tuple[list[str], list[Any], Any]:
    """The headlines the pipeline makes of ``level``, the evidence on it, and the settled level."""
    choice = Choice(copy.deepcopy(level))
    settle(page, levels, choice)
    best = choice.level
    pieces = evidence(
        page.title, best, page.blocks, page.reasons, page.ext.parents, levels, page.chars
    )
    hand_single, _ = is_single_article(
        page.title, best, page.blocks, page.reasons, page.ext.parents, levels, page.chars
    )
    settled = copy.deepcopy(best)
    trim_frames(best, page.blocks, choice)
    plan = plan_items(
        best,
        page.blocks,
        page.reasons,
        page.ext.parents,
        is_lead_family(best.name),
        choice.outside,
    )
    return [it.headline for it in plan.items], pieces, (settled, hand_single)


@contextlib.contextmanager
def no_move(name: str) -> Iterator[None]:
    """Experiments only: the outline's moves without one of them (``_ascend`` or ``_descend``)."""
    saved = getattr(levels_module, name)
    setattr(levels_module, name, lambda *args: None)
    try:
        yield
    finally:
        setattr(levels_module, name, saved)


def moved_outcome(
    label: dict[str, Any], page: Any, levels: list[Any], start: Any
) -> dict[str, Any]:
    """What the outline's moves make of the family ``start`` when they begin there (as today's
    chooser begins from its best score): the level's name, headlines, F1 and single decision."""
    level = today_level(page, levels, start.name)
    heads, _pieces, (settled, hand_single) = forced(page, levels, level)
    out = {
        "name": level.name,
        "heads": heads,
        "hand_single": hand_single,
        "lead": is_lead_family(settled.name),
        "label_level": settled.name == "label",
    }
    if label["kind"] == "digest":
        out["f1"] = f1(label, heads)
    return out


def collect_page(label: dict[str, Any], rules: list[str]) -> dict[str, Any]:
    text, kind = page_input(REAL, label)
    with switched_off(rules):
        ext = extract_text(text) if kind == "text/plain" else extract_html(text)
        result = run_stages(ext, SplitOptions(), text)
        page = _prepare(ext)
        levels, _ = _levels(page, SplitOptions())
        view = PageView(
            page.title, page.blocks, page.reasons, ext.parents, page.chars, page.total, page.linked
        )
        viable = [s for s in levels if s.ok]
        cands = []
        for origin, level, is_today in candidate_levels(page, levels):
            heads, pieces, (settled, hand_single) = forced(page, levels, level)
            feats = level_features(level, view, viable)
            feats["today"] = float(is_today)
            feats["linked_page"] = float(page.linked)
            cands.append(
                {
                    "name": level.name,
                    "origin": origin,
                    "today": is_today,
                    "features": feats,
                    "heads": heads,
                    "pieces": [[p.key, p.weight] for p in pieces],
                    "hand_single": hand_single,
                    "lead": is_lead_family(settled.name),
                    "label_level": settled.name == "label",
                    "_settled": settled,
                }
            )
        for c, (origin, level, _t) in zip(cands, candidate_levels(page, levels), strict=True):
            if origin == "family":
                c["moved"] = moved_outcome(label, page, levels, level)
                for key, off in (("moved_up", "_descend"), ("moved_down", "_ascend")):
                    with no_move(off):
                        c[key] = moved_outcome(label, page, levels, level)
        relative([c["features"] for c in cands])
        for c in cands:
            settled = c.pop("_settled")
            pieces = [Piece(k, "", w) for k, w in c["pieces"]]
            c["single_features"] = single_features(pieces, settled, c["features"])
        whole = plan_single(page.title, page.blocks, page.reasons)
        whole_heads = [it.headline for it in whole.items]
    today_heads = [it.headline for it in result.split.items]
    rec: dict[str, Any] = {
        "id": label["id"],
        "source": label.get("repo") or label.get("source"),
        "kind": label["kind"],
        "rules_off": rules,
        "today_heads": today_heads,
        "today_single": result.single,
        "today_structure": result.split.structure,
        "one_text": page.total,
        "dialogue": dialogue(page.blocks),
        "whole_heads": whole_heads,
        "cands": cands,
    }
    if label["kind"] == "digest":
        rec["today_f1"] = f1(label, today_heads)
        rec["whole_f1"] = f1(label, whole_heads)
        for c in cands:
            c["f1"] = f1(label, c["heads"])
    return rec


def collect() -> None:
    labels = load_labels(REAL)
    new = arrivals()
    data: dict[str, Any] = {"all": [], "loso": [], "arrival": [], "arrival_loso": []}
    for label in labels:
        every, held = ("arrival", "arrival_loso") if label["id"] in new else ("all", "loso")
        data[every].append(collect_page(label, []))
        rules = own_rules(label)
        data[held].append(collect_page(label, rules) if rules else data[every][-1])
        print(label["id"], len(data[every][-1]["cands"]), file=sys.stderr)
    CACHE.write_text(json.dumps(data, ensure_ascii=False))


def load() -> dict[str, Any]:
    return json.loads(CACHE.read_text())


def ceiling() -> None:
    data = load()
    for reading in ("all", "loso"):
        recs = [r for r in data[reading] if r["kind"] == "digest"]
        today = statistics.mean(r["today_f1"] for r in recs)
        best = statistics.mean(max([c["f1"] for c in r["cands"]], default=0.0) for r in recs)
        fam = statistics.mean(
            max([c["f1"] for c in r["cands"] if c["origin"] == "family"], default=0.0) for r in recs
        )
        tod = statistics.mean(
            max([c["f1"] for c in r["cands"] if c["today"]], default=0.0) for r in recs
        )
        print(
            f"{reading:5s} digests {len(recs)}: today {today:.3f}; today's level forced "
            f"(never single) {tod:.3f}; best family {fam:.3f}; ceiling over all candidates {best:.3f}"
        )
        singles = [r for r in data[reading] if r["kind"] == "single"]
        whole = sum(len(r["whole_heads"]) == 1 for r in singles)
        some = sum(
            len(r["whole_heads"]) == 1 or any(len(c["heads"]) == 1 for c in r["cands"])
            for r in singles
        )
        today_ok = sum(len(r["today_heads"]) == 1 for r in singles)
        print(
            f"      singles {len(singles)}: today {today_ok}; one item when kept whole {whole}; "
            f"ceiling {some}"
        )


def per_page_ceiling() -> None:
    data = load()
    for a, b in zip(data["all"], data["loso"], strict=True):
        if a["kind"] != "digest":
            continue
        ba = max(a["cands"], key=lambda c: c["f1"], default=None)
        bb = max(b["cands"], key=lambda c: c["f1"], default=None)
        print(
            f"{a['id']:42s} all: today {a['today_f1']:.2f} best {ba['f1'] if ba else 0:.2f} "
            f"{ba['name'] if ba else '-':14s} loso: today {b['today_f1']:.2f} best "
            f"{bb['f1'] if bb else 0:.2f} {bb['name'] if bb else '-'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "what",
        choices=["collect", "ceiling", "pages", "cv", "select", "weights", "nested", "singles"],
    )
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    if args.what == "singles":
        from tools import fit_single

        fit_single.main(args.rest)
        return 0
    if args.what == "collect":
        collect()
    elif args.what == "ceiling":
        ceiling()
    elif args.what == "pages":
        per_page_ceiling()
    else:
        from tools import fit_models

        fit_models.main(args.what, load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
