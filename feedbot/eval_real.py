"""Scoring the splitter on the real-page corpus (``labels/<id>.json`` beside ``pages/<id>.<fmt>``).

Counted exactly as the corpus's own ``score.py`` counts ``feedbot preview --json``, but in-process:
HTML and text pages are decoded from their original bytes as the fetcher decodes a local file;
Markdown pages are rendered first (python-markdown with ``extra``, after removing YAML front matter and
Pelican header lines) into the same HTML page ``score.py`` writes. Per digest page: headline precision,
recall and F1 against the labelled items, or against the items with their ``sub_items`` expanded,
whichever F1 is higher (ties go to the items); headlines match after NFKC, lower-casing and removing
everything but letters and digits, equal or (6 characters at least) one inside the other with a length
ratio above 0.6. A single-article page is right when exactly one item comes out. A page that gives no
item is an error (a digest's F1 is then 0). The macro F1 is the mean over the digest pages.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import markdown

from .encoding import decode
from .model import Split
from .split import SplitOptions, split_page
from .split.rules import RULE_SOURCES, level_chooser, switched_off, using_chooser

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
PELICAN = re.compile(
    r"^(Title|Date|Category|Tags|Slug|Summary|Author|Authors|Modified|Status):.*\n", re.M
)
MIN_CONTAINED = 6  # score.py: a headline inside the other counts from this many characters
MIN_RATIO = 0.6  # score.py: ... and when the shorter is more than this share of the longer


def is_real_corpus(directory: Path) -> bool:
    return (directory / "labels").is_dir() and (directory / "pages").is_dir()


def norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text or "").lower())


def markdown_page(text: str, title: str) -> str:
    """A Markdown newsletter as its site publishes it: front matter out, rendered with ``extra``."""
    text = PELICAN.sub("", FRONT_MATTER.sub("", text))
    body = markdown.markdown(text, extensions=["extra"])
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article>{body}</article></body></html>"
    )


def page_input(directory: Path, label: dict[str, Any]) -> tuple[str, str]:
    """The page's text and content type, as ``feedbot preview`` would get them for ``score.py``."""
    fmt = label["format"]
    path = directory / "pages" / f"{label['id']}.{fmt}"
    data = path.read_bytes()
    if fmt == "md":
        return markdown_page(data.decode("utf-8"), label["id"]), "text/html"
    kind = "text/plain" if fmt in ("txt", "text") else "text/html"
    text, _codec = decode(data, html=kind == "text/html")
    return text, kind


def prf(pred: list[str], gold: list[str]) -> tuple[float, float, float]:
    p = [norm(x) for x in pred if norm(x)]
    g = [norm(x) for x in gold if norm(x)]
    if not g:
        return (1.0, 1.0, 1.0) if not p else (0.0, 1.0, 0.0)
    used: set[int] = set()
    tp = 0
    for x in p:
        for j, y in enumerate(g):
            if j in used:
                continue
            if x == y or (
                len(y) >= MIN_CONTAINED
                and (y in x or x in y)
                and min(len(x), len(y)) / max(len(x), len(y)) > MIN_RATIO
            ):
                used.add(j)
                tp += 1
                break
    precision = tp / len(p) if p else 0.0
    recall = tp / len(g)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def fine_headlines(label: dict[str, Any]) -> list[str]:
    """The labelled items with their sub_items in their place (the finer reading)."""
    fine: list[str] = []
    for item in label["items"]:
        subs = item.get("sub_items") or []
        if not subs:
            fine.append(item["headline"])
            continue
        fine.extend(s if isinstance(s, str) else s.get("headline", "") for s in subs)
    return fine


@dataclass
class RealScore:
    id: str
    kind: str  # digest | single
    predicted: list[str]
    labelled: int
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    error: str | None = None
    structure: str = ""

    @property
    def single_ok(self) -> bool:
        return self.kind == "single" and self.error is None and len(self.predicted) == 1

    def line(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.kind == "single":
            n = len(self.predicted)
            return f"single: {n} items {'ok' if self.single_ok else 'WRONG'}"
        return (
            f"P {self.precision:.2f} R {self.recall:.2f} F1 {self.f1:.2f}  "
            f"({len(self.predicted)} items, {self.labelled} labelled)"
        )


def load_labels(directory: Path, only: list[str] | None = None) -> list[dict[str, Any]]:
    labels = []
    for path in sorted((directory / "labels").glob("*.json")):
        label = json.loads(path.read_text(encoding="utf-8"))
        if not only or label["id"] in only:
            labels.append(label)
    return labels


def split_label(directory: Path, label: dict[str, Any]) -> Split:
    text, kind = page_input(directory, label)
    return split_page(text, kind, SplitOptions())


def own_rules(label: dict[str, Any]) -> list[str]:
    """The rules that were made while looking at this page's source (its repository)."""
    repo = label.get("repo")
    return [
        rule
        for rule, source in RULE_SOURCES.items()
        if source == repo or (isinstance(source, tuple) and repo in source)
    ]


def score_label(directory: Path, label: dict[str, Any], *, loso: bool = False) -> RealScore:
    """One page's score; with ``loso``, with the rules made on the page's own source switched off."""
    if loso:
        with switched_off(own_rules(label)):
            split = split_label(directory, label)
    else:
        split = split_label(directory, label)
    predicted = [item.headline for item in split.items]
    score = RealScore(
        label["id"], label["kind"], predicted, len(label["items"]), structure=split.structure
    )
    if not predicted:
        score.error = "no items (the page would be an error)"
        return score
    if label["kind"] == "digest":
        gold = [item["headline"] for item in label["items"]]
        best = max(prf(predicted, gold), prf(predicted, fine_headlines(label)), key=lambda t: t[2])
        score.precision, score.recall, score.f1 = best
    return score


@dataclass(frozen=True)
class RealTotals:
    digests: int
    macro_precision: float
    macro_recall: float
    macro_f1: float
    singles: int
    singles_right: int
    errors: int


def real_totals(scores: list[RealScore]) -> RealTotals:
    digests = [s for s in scores if s.kind == "digest"]
    singles = [s for s in scores if s.kind == "single"]
    n = len(digests) or 1
    return RealTotals(
        digests=len(digests),
        macro_precision=sum(s.precision for s in digests) / n,
        macro_recall=sum(s.recall for s in digests) / n,
        macro_f1=sum(s.f1 for s in digests) / n,
        singles=len(singles),
        singles_right=sum(s.single_ok for s in singles),
        errors=sum(s.error is not None for s in scores),
    )


def report(
    directory: Path,
    *,
    only: list[str] | None = None,
    verbose: bool = False,
    as_json: bool = False,
    loso: bool = False,
    fitted: bool = False,
) -> int:
    with using_chooser("fitted" if fitted else level_chooser()):
        scores = [
            score_label(directory, label, loso=loso) for label in load_labels(directory, only)
        ]
    total = real_totals(scores)
    if as_json:
        data = {"pages": [asdict(s) for s in scores], "total": asdict(total)}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for s in scores:
        if verbose:
            print(s.id, "->", [x[:40] for x in s.predicted])
    for s in scores:
        print(f"{s.id:40s} {s.line()}")
    if fitted:
        print("(levels chosen by the fitted ranker, rules.RANKER)")
    if loso:
        print(
            "(leave-one-source-out: each page scored with the rules made on its source switched off)"
        )
    print(
        f"digest pages: {total.digests}  macro P {total.macro_precision:.3f} R "
        f"{total.macro_recall:.3f} F1 {total.macro_f1:.3f}; single-article pages "
        f"right: {total.singles_right}/{total.singles}; errors {total.errors}"
    )
    return 0
