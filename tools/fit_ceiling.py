"""Prototype: the oracle ceiling over today's candidate levels."""
from __future__ import annotations
import copy, sys, statistics
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from feedbot.eval_real import load_labels, page_input, prf, fine_headlines, own_rules
from feedbot.split.pipeline import _prepare, _levels, run_stages, settle, SplitOptions
from feedbot.split.dom import extract_html, extract_text
from feedbot.split.levels import Choice, link_list, trim_frames, nested, _mix
from feedbot.split.assemble import plan_items, plan_single
from feedbot.split.outline import is_lead_family
from feedbot.split.rules import switched_off, OUTLINE

REAL = Path("tests/fixtures/realpages")

def f1(label, heads):
    if not heads:
        return 0.0
    gold = [i["headline"] for i in label["items"]]
    return max(prf(heads, gold)[2], prf(heads, fine_headlines(label))[2])

def force(page, levels, level):
    lv = copy.deepcopy(level)
    choice = Choice(lv)
    settle(page, levels, choice)
    best = choice.level
    trim_frames(best, page.blocks, choice)
    plan = plan_items(best, page.blocks, page.reasons, page.ext.parents, is_lead_family(best.name), choice.outside)
    return [it.headline for it in plan.items]

def candidates(page, levels, today):
    out = []
    for s in levels:
        if len(s.heads) >= 1:
            out.append(("F" if s.ok else "N", s.name, s))
    links = link_list(page.blocks, page.reasons, page.sizes, page.chars)
    if links is not None:
        out.append(("L", "link-list", links))
    if today is not None:
        out.append(("T", "today:" + today.name, today))
    ok = [s for s in levels if s.ok]
    for c in ok:
        for f in ok:
            if f.rank <= c.rank:
                continue
            cnt = nested(f, c)
            if sum(cnt) < OUTLINE.nested_share * len(f.heads):
                continue
            g = copy.deepcopy(f)
            g.sections = set(c.heads) | c.sections
            out.append(("D", f"{f.name}<{c.name}", g))
            m = _mix(c, f, page.chars)
            if m is not None:
                out.append(("D", f"mix {f.name}<{c.name}", m))
    return out

def main():
    loso = "--loso" in sys.argv
    rows = []
    for label in load_labels(REAL):
        text, kind = page_input(REAL, label)
        rules = own_rules(label) if loso else []
        with switched_off(rules):
            ext = extract_text(text) if kind == "text/plain" else extract_html(text)
            res = run_stages(ext, SplitOptions(), text)
            today_heads = [i.headline for i in res.split.items]
            page = _prepare(ext)
            levels, _ = _levels(page, SplitOptions())
            today_level = None
            # today's choice before settle: re-run choose
            from feedbot.split.pipeline import _choose
            lv2, _ = _levels(page, SplitOptions())
            from feedbot.split.levels import choose
            ch = choose(lv2, page.chars)
            today_level = ch.level
            cands = candidates(page, levels, today_level)
            scored = [(k, n, f1(label, force(page, levels, s)) if label["kind"] == "digest" else None) for k, n, s in cands]
        rows.append((label, res, today_heads, scored))
    digests = [r for r in rows if r[0]["kind"] == "digest"]
    def ceil(kinds):
        return statistics.mean(max([x[2] for x in r[3] if x[0] in kinds], default=0.0) for r in digests)
    today = statistics.mean(f1(r[0], r[2]) if not r[1].single else f1(r[0], r[2]) for r in digests)
    print("today (as run)", round(today, 3))
    for kinds in ["F", "FL", "FLT", "FLTD", "FLTDN"]:
        print("ceiling", kinds, round(ceil(set(kinds)), 3))
    for r in digests:
        best = max(r[3], key=lambda x: x[2], default=("-", "-", 0.0))
        print(f"{r[0]['id']:42s} today {f1(r[0], r[2]):.2f} {r[1].split.structure:14s} best {best[2]:.2f} {best[0]} {best[1]}  ({len(r[3])} cands)")
    singles = [r for r in rows if r[0]["kind"] == "single"]
    ok1 = sum(len(plan_single(r[1].page.title, r[1].page.blocks, r[1].page.reasons).items) == 1 for r in singles)
    print("single ceiling: plan_single gives one item on", ok1, "/", len(singles), "; today", sum(len(r[2]) == 1 for r in singles))

main()
