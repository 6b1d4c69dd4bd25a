"""``feedbot history``: an entry's revisions with a readable diff (by character for CJK text,
by word otherwise)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from .errors import NotFound
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


def format_history(
    store: Store, feed: str, entry_id: str | None, *, feeds: Sequence[str] = ()
) -> str:
    """An entry's revisions with what changed; without ``entry_id``, the feed's updated entries
    (those with more than one revision). Raises NotFound for a feed that is not among ``feeds``
    (the configured ones) or an entry the feed does not hold."""
    if feeds and feed not in feeds:
        raise NotFound(f"no feed named {feed!r} (the config has {', '.join(feeds)})")
    if entry_id is None:
        entries = store.feed_entries(feed, 10_000)
        updated = [e for e in entries if e.revisions > 1]
        if not updated:
            return (
                f"no updated entries in feed {feed} ({len(entries)} "
                f"entr{'y' if len(entries) == 1 else 'ies'}, none changed since first seen)"
            )
        lines = [f"{'revs':>4}  {'updated':<25}  entry id / headline"]
        for e in updated:
            lines.append(
                f"{e.revisions:>4}  {e.updated.isoformat():<25}  {e.entry_id}  {e.headline}"
            )
        return "\n".join(lines)
    revisions = store.revisions(feed, entry_id)
    if not revisions:
        raise NotFound(f"no entry {entry_id} in feed {feed}")
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
