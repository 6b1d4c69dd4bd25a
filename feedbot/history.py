"""``feedbot history``: an entry's revisions with a readable diff (by character for CJK text,
by word otherwise)."""

from __future__ import annotations

import difflib
import re

from .store import Store
from .text import CJK

_WORDS = re.compile(r"\s+|[^\s]+")


def _units(text: str) -> list[str]:
    if len(CJK.findall(text)) > len(text) / 4:
        return list(text)
    return _WORDS.findall(text)


def diff_text(old: str, new: str) -> str:
    """Inline diff: [-removed-] and {+added+}."""
    a, b = _units(old), _units(new)
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[a1:a2]))
        if op in ("delete", "replace"):
            out.append("[-" + "".join(a[a1:a2]) + "-]")
        if op in ("insert", "replace"):
            out.append("{+" + "".join(b[b1:b2]) + "+}")
    return "".join(out)


def format_history(store: Store, feed: str, entry_id: str | None) -> str:
    if entry_id is None:
        entries = store.feed_entries(feed, 10_000)
        lines = [f"{'revs':>4}  {'updated':<25}  entry id / headline"]
        for e in entries:
            lines.append(
                f"{e.revisions:>4}  {e.updated.isoformat():<25}  {e.entry_id}  {e.headline}"
            )
        return "\n".join(lines)
    revisions = store.revisions(feed, entry_id)
    if not revisions:
        return f"no entry {entry_id} in feed {feed}"
    lines = []
    previous = None
    for rev in revisions:
        lines.append(
            f"revision {rev.number}  {rev.seen_at.isoformat()}  {rev.source}  {rev.page_url}"
        )
        lines.append(f"  headline: {rev.headline}")
        if previous is None:
            lines.append("  " + rev.body_text.replace("\n", "\n  "))
        else:
            if previous.headline != rev.headline:
                lines.append(f"  headline changed: {diff_text(previous.headline, rev.headline)}")
            lines.append("  " + diff_text(previous.body_text, rev.body_text).replace("\n", "\n  "))
        lines.append("")
        previous = rev
    return "\n".join(lines)
