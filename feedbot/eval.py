"""Scoring the splitter on a labelled corpus: ``python -m feedbot.eval DIR [--json] [-v] [--only ID]``.

Two label formats, told apart by the folder's layout:

- the synthetic corpus (``tests/fixtures/corpus``): a page (``NAME.html`` or ``NAME.txt``) beside
  ``NAME.expected.json`` (headlines in order, each body's first and last words, the boilerplate that
  must appear in no item, whether the page is a single article, and any per-source overrides). Prints
  per-page and overall headline precision, recall and F1, body-boundary accuracy, single-article
  accuracy and boilerplate leaks.
- the real corpus (``tests/fixtures/realpages``: a ``labels/`` and a ``pages/`` folder): scored exactly
  as its ``score.py`` scores ``feedbot preview --json`` (see :mod:`feedbot.eval_real`): per digest page
  headline precision, recall and F1 against the labelled items or their ``sub_items``, whichever is
  better; a single article is right when exactly one item comes out; a page with no item is an error.
- real day sequences (``tests/fixtures/realseqs``: folders of versions beside an ``expect.json``): the
  versions run one by one into one feed (see :mod:`feedbot.eval_seqs`); distinct entries against the
  acceptable range, and the entries seen as updated.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import eval_real, eval_seqs
from .encoding import decode
from .identify import squash
from .model import SplitMode
from .split import SplitOptions, collapse, split_page, strip_marker


@dataclass
class CaseScore:
    name: str
    expected: int
    predicted: int
    matched: int
    bodies_ok: int
    single_expected: bool
    single_predicted: bool
    leaks: list[str] = field(default_factory=list)
    structure: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return (
            self.matched / self.predicted if self.predicted else (1.0 if not self.expected else 0.0)
        )

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _key(text: str) -> str:
    return squash(strip_marker(collapse(text)))


def _norm(text: str) -> str:
    return collapse(text).replace(" ", "")


def score_case(page: Path, expected: dict[str, Any]) -> CaseScore:
    data = page.read_bytes()
    content_type = "text/plain" if page.suffix == ".txt" else "text/html"
    config = expected.get("config") or {}
    text, _codec = decode(data, override=config.get("encoding"), html=content_type == "text/html")
    options = SplitOptions(
        mode=SplitMode(config.get("split", "auto")),
        content_selector=config.get("content_selector"),
        exclude_selectors=tuple(config.get("exclude_selectors", ())),
        headline_selector=config.get("headline_selector"),
        headline_regex=config.get("headline_regex"),
    )
    split = split_page(text, content_type, options)
    want = expected["items"]
    got = list(split.items)
    want_keys = [_key(w["headline"]) for w in want]
    got_keys = [_key(g.headline) for g in got]
    # match in order (longest common subsequence of headline keys)
    n, m = len(want_keys), len(got_keys)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1
                if want_keys[i] == got_keys[j]
                else max(table[i + 1][j], table[i][j + 1])
            )
    pairs = []
    i = j = 0
    while i < n and j < m:
        if want_keys[i] == got_keys[j]:
            pairs.append((i, j))
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    errors = []
    single_expected = bool(expected.get("single_article"))
    if single_expected and split.single_article and got:
        # a single article: the title may be worded differently; judge the body
        pairs = [(0, 0)]
    bodies_ok = 0
    for i, j in pairs:
        body = _norm(got[j].body_text)
        starts, ends = _norm(want[i]["body_starts"]), _norm(want[i]["body_ends"])
        if body.startswith(starts) and body.endswith(ends):
            bodies_ok += 1
        else:
            errors.append(
                f"body of {want[i]['headline']!r}: starts {body[:30]!r} (want {starts!r}), ends {body[-30:]!r} (want {ends!r})"
            )
    matched = {j for _, j in pairs}
    for j, g in enumerate(got):
        if j not in matched:
            errors.append(f"unexpected item {g.headline!r}")
    found = {i for i, _ in pairs}
    for i, w in enumerate(want):
        if i not in found:
            errors.append(f"missed item {w['headline']!r}")
    leaks = []
    for junk in expected.get("not_in_any_item", []):
        needle = _norm(junk)
        for g in got:
            if needle and (needle in _norm(g.body_text) or needle in _norm(g.headline)):
                leaks.append(junk)
                break
    return CaseScore(
        name=page.stem,
        expected=len(want),
        predicted=len(got),
        matched=len(pairs),
        bodies_ok=bodies_ok,
        single_expected=single_expected,
        single_predicted=split.single_article,
        leaks=leaks,
        structure=split.structure,
        errors=errors,
    )


def load_cases(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    cases = []
    for expected_path in sorted(directory.glob("*.expected.json")):
        stem = expected_path.name.removesuffix(".expected.json")
        pages = [p for p in (directory / f"{stem}.html", directory / f"{stem}.txt") if p.exists()]
        if not pages:
            continue
        cases.append((pages[0], json.loads(expected_path.read_text(encoding="utf-8"))))
    return cases


@dataclass
class Totals:
    pages: int
    precision: float
    recall: float
    f1: float
    body_accuracy: float
    single_accuracy: float
    leaks: int


def totals(scores: list[CaseScore]) -> Totals:
    expected = sum(s.expected for s in scores)
    predicted = sum(s.predicted for s in scores)
    matched = sum(s.matched for s in scores)
    p = matched / predicted if predicted else 0.0
    r = matched / expected if expected else 0.0
    return Totals(
        pages=len(scores),
        precision=p,
        recall=r,
        f1=2 * p * r / (p + r) if p + r else 0.0,
        body_accuracy=sum(s.bodies_ok for s in scores) / matched if matched else 0.0,
        single_accuracy=sum(s.single_expected == s.single_predicted for s in scores) / len(scores)
        if scores
        else 0.0,
        leaks=sum(len(s.leaks) for s in scores),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feedbot.eval", description=__doc__.splitlines()[0]
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="show each page's errors")
    parser.add_argument("--only", nargs="*", help="real corpus: score only these page ids")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="real corpus: score each page with the rules made on its own source switched off",
    )
    parser.add_argument(
        "--fitted",
        action="store_true",
        help="real corpus: choose the item level with the fitted ranker (rules.RANKER)",
    )
    args = parser.parse_args(argv)
    if eval_seqs.is_seq_corpus(args.directory):
        return eval_seqs.report(args.directory, only=args.only, verbose=args.verbose)
    if eval_real.is_real_corpus(args.directory):
        return eval_real.report(
            args.directory,
            only=args.only,
            verbose=args.verbose,
            as_json=args.json,
            loso=args.loso,
            fitted=args.fitted,
        )
    scores = [score_case(page, expected) for page, expected in load_cases(args.directory)]
    total = totals(scores)
    if args.json:
        print(
            json.dumps(
                {"pages": [s.__dict__ for s in scores], "total": total.__dict__},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(
        f"{'page':<42} {'struct':<12} {'exp':>3} {'got':>3} {'P':>5} {'R':>5} {'F1':>5} {'body':>5} {'single':>7} leaks"
    )
    for s in scores:
        single = (
            "ok"
            if s.single_expected == s.single_predicted
            else ("MISS" if s.single_expected else "FALSE")
        )
        body = f"{s.bodies_ok}/{s.matched}"
        print(
            f"{s.name:<42} {s.structure:<12} {s.expected:>3} {s.predicted:>3} {s.precision:>5.2f} {s.recall:>5.2f} "
            f"{s.f1:>5.2f} {body:>5} {single:>7} {len(s.leaks)}"
        )
        if args.verbose:
            for error in s.errors:
                print(f"    - {error}")
            for leak in s.leaks:
                print(f"    - leak: {leak!r}")
    print()
    print(
        f"overall: {total.pages} pages  precision {total.precision:.3f}  recall {total.recall:.3f}  F1 {total.f1:.3f}  "
        f"body boundaries {total.body_accuracy:.3f}  single-article accuracy {total.single_accuracy:.3f}  "
        f"boilerplate leaks {total.leaks}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
