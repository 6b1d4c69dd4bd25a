"""Scoring change tracking on real day sequences (``<seq>/1.*``, ``2.*``, … beside ``<seq>/expect.json``).

What the sequences' own ``score.py`` does with ``feedbot run``, in-process: every version of one URL is
written in turn to one local page of a fresh config and run once (the clock moved on a day between
versions), and the Atom feed is read after each run. Counted: the distinct entry ids seen over all runs
against ``expected_distinct_entries`` and its ``acceptable_range``, the entries whose ``updated`` moved
(against the labelled ``updates``), and the failed runs. Markdown versions are rendered as the real
corpus renders them (:func:`feedbot.eval_real.markdown_page`).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from .config import load_config
from .eval_real import FRONT_MATTER
from .run import run_once

ATOM = "{http://www.w3.org/2005/Atom}"
VERSION = re.compile(r"(\d+)\.(md|html)")
START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)  # any fixed start: the runs only need to be apart


def is_seq_corpus(directory: Path) -> bool:
    return any(directory.glob("*/expect.json"))


def version_bytes(path: Path) -> bytes:
    """A version as the page serves it: HTML as it is, Markdown rendered (front matter out)."""
    raw = path.read_bytes()
    if path.suffix != ".md":
        return raw
    import markdown

    text = FRONT_MATTER.sub("", raw.decode("utf-8"))
    body = markdown.markdown(text, extensions=["extra"])
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>digest</title></head><body>'
        f"<article>{body}</article></body></html>"
    ).encode()


def versions(folder: Path) -> list[Path]:
    found = [p for p in folder.iterdir() if VERSION.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(p.name.split(".")[0]))


@dataclass
class SeqScore:
    id: str
    entries: int
    want: int
    low: int
    high: int
    updated: list[str] = field(default_factory=list)  # titles of the entries whose updated moved
    labelled_updates: list[str] = field(default_factory=list)
    failed: int = 0
    runs: int = 0

    @property
    def in_range(self) -> bool:
        return self.low <= self.entries <= self.high

    @property
    def error(self) -> float:
        return 0.0 if self.in_range else abs(self.entries - self.want) / self.want

    def line(self) -> str:
        return (
            f"{self.id:40s} entries {self.entries:4d} (want {self.want}, range {self.low}-"
            f"{self.high}, error {self.error:5.1%}); updated {len(self.updated)} (labelled "
            f"{len(self.labelled_updates)}); failed runs {self.failed}/{self.runs}"
        )


CONFIG = """[feedbot]
state_dir = "state"
feeds_dir = "feeds"
entries_per_feed = 1000
user_agent = "feedbot-seqscore/1 (+http://127.0.0.1/)"

[[sources]]
name = "seq"
url = "page.html"
feed = "seq"
feed_title = "seq"
"""


def _entries(feed: Path) -> dict[str, tuple[str, str]]:
    """Each entry's id -> (updated, title) in an Atom feed."""
    root = etree.parse(str(feed)).getroot()
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        found[entry.findtext(f"{ATOM}id") or ""] = (
            entry.findtext(f"{ATOM}updated") or "",
            entry.findtext(f"{ATOM}title") or "",
        )
    return found


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def score_seq(folder: Path, expect: dict[str, Any]) -> SeqScore:
    files = versions(folder)
    low, high = expect.get("acceptable_range", [expect["expected_distinct_entries"]] * 2)
    score = SeqScore(
        folder.name,
        0,
        expect["expected_distinct_entries"],
        low,
        high,
        labelled_updates=[u["headline"] for u in expect.get("updates", [])],
        runs=len(files),
    )
    seen: dict[str, str] = {}
    updated: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "feedbot.toml").write_text(CONFIG, encoding="utf-8")
        config = load_config(root / "feedbot.toml")
        page = root / "page.html"
        feed = root / "feeds" / "seq.atom"
        for n, path in enumerate(files):
            page.write_bytes(version_bytes(path))
            results = run_once(config, now=_fixed(START + timedelta(days=n)))
            score.failed += not all(r.ok for r in results)
            if not feed.exists():
                continue
            for entry_id, (stamp, title) in _entries(feed).items():
                if entry_id in seen and seen[entry_id] != stamp:
                    updated[entry_id] = title
                seen[entry_id] = stamp
    score.entries = len(seen)
    score.updated = sorted(updated.values())
    return score


def load_seqs(directory: Path, only: list[str] | None = None) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(directory.glob("*/expect.json")):
        if not only or path.parent.name in only:
            found.append((path.parent, json.loads(path.read_text(encoding="utf-8"))))
    return found


def report(directory: Path, *, only: list[str] | None = None, verbose: bool = False) -> int:
    scores = [score_seq(folder, expect) for folder, expect in load_seqs(directory, only)]
    for s in scores:
        print(s.line())
        if verbose:
            for title in s.updated:
                print(f"    updated: {title}")
    mean = sum(s.error for s in scores) / len(scores) if scores else 1.0
    print(f"sequences: {len(scores)}; mean relative error in distinct entries {mean:.1%}")
    return 0
