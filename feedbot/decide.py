"""Deciding what each item of a page means for the feed: new, updated, or unchanged.

Owns: the same-story decision, and the update policy: :func:`write_for` is the one place that reads
``update_policy`` to say what the store writes, :func:`marks_updates` the one that says whether the
feed marks updates. Pure: items and stored entries in, changes out; the store applies them.
The stored entries given are the ones a page may match — those sharing an item's headline key,
its fingerprint, or a band of its signature (``Store.candidates``) — not the whole feed.

Rules (see docs/DESIGN.md, "Identity and change tracking — the heart of it"):
- same headline key and same fingerprint: unchanged;
- same key and a similar body: updated (an edit); same key and an unrelated body: new (a recurring
  section heading such as "Markets" reused for another story), unless the headline is a link off
  the page to the same target as the entry's: then the same story, its text rewritten (a
  repository's name over a new description on a trending page);
- another key and a near-identical body: the same story (reworded headline, other Chinese script,
  another source) — updated when its own source changed the headline, unchanged otherwise; not
  when the body is empty (no evidence), nor when the headlines of one source link to two places;
- anything else: new. One stored entry matches at most one item of a page.
- Only the source that made an entry (its owner) updates it. Another source's version of the
  story is the same story only when near-identical, and leaves the entry as it is: two sources
  printing the same headline over different bodies get an entry each, and an entry never flips
  between two sources' versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .identify import shingles, similarity
from .model import Change, Identified, Outcome, StoredEntry, UpdatePolicy, Write
from .signature import estimate


@dataclass(frozen=True)
class Thresholds:
    # same headline key: an edit keeps at least this much of the shorter text's shingles
    edit_containment: float = 0.35
    edit_jaccard: float = 0.2
    # another key: the bodies must be near-identical
    same_jaccard: float = 0.6
    same_containment: float = 0.85
    same_containment_jaccard: float = 0.4
    # another key: a stored entry whose signature estimates the Jaccard similarity below this is
    # not compared exactly. The rules above need at least 0.4; the estimate's standard error is at
    # most 0.045 (126 values), so a pair at 0.4 estimates below 0.25 in fewer than 1 case in 1,000.
    candidate_estimate: float = 0.25
    # how many entries under one headline key (newest first) a page reads: a recurring heading
    # ("Markets", "本周话题") gathers one entry per issue, and an edit is made to a story the page
    # showed lately, not to the one of 64 issues ago
    same_key_candidates: int = 64
    # how many entries with one fingerprint (newest first) a page reads: several are the same
    # story from several sources; one matches
    same_fingerprint_candidates: int = 8


DEFAULT = Thresholds()


def same_story(
    a_key: str,
    a_body: frozenset[int],
    b_key: str,
    b_body: frozenset[int],
    thresholds: Thresholds = DEFAULT,
) -> tuple[bool, float]:
    """The same-story decision for one pair, with the similarity it rests on."""
    jaccard, containment = similarity(a_body, b_body)
    if a_key == b_key:
        if not a_body and not b_body:
            return True, 1.0
        same = containment >= thresholds.edit_containment or jaccard >= thresholds.edit_jaccard
        return same, max(jaccard, containment)
    return near_identical(jaccard, containment, thresholds), jaccard


def near_identical(jaccard: float, containment: float, thresholds: Thresholds = DEFAULT) -> bool:
    """The bar for the same story under another headline, or from another source."""
    return jaccard >= thresholds.same_jaccard or (
        containment >= thresholds.same_containment
        and jaccard >= thresholds.same_containment_jaccard
    )


def _owns(entry: StoredEntry, source: str) -> bool:
    return not entry.owner or entry.owner == source


def write_for(outcome: Outcome, policy: UpdatePolicy) -> Write:
    """What the store does with an item of this outcome under the feed's update policy: a new story
    is a new entry; an edited one is a new revision of its entry, or under "new-entry" a new entry
    that replaces it; an unchanged one is only seen again."""
    if outcome is Outcome.NEW:
        return Write.INSERT
    if outcome is Outcome.UPDATED:
        return Write.INSERT if policy == UpdatePolicy.NEW_ENTRY else Write.REVISE
    return Write.TOUCH


def marks_updates(policy: UpdatePolicy) -> bool:
    """Whether the feed shows an updated entry as updated ("[updated]" and what changed)."""
    return policy == UpdatePolicy.MARK


def decide(
    items: Sequence[Identified],
    stored: Sequence[StoredEntry],
    *,
    source: str,
    policy: UpdatePolicy = UpdatePolicy.MARK,
    thresholds: Thresholds = DEFAULT,
) -> list[Change]:
    """Match the items of one page against the entries of its feed they may match; each change
    says what the store writes for it under ``policy``."""

    def change(
        outcome: Outcome,
        item: Identified,
        entry: StoredEntry | None,
        reason: str,
        similarity: float = 0.0,
    ) -> Change:
        return Change(outcome, write_for(outcome, policy), item, entry, reason, similarity)

    by_key: dict[str, list[StoredEntry]] = {}
    for entry in stored:
        by_key.setdefault(entry.key, []).append(entry)
    used: set[int] = set()
    result: list[Change | None] = [None] * len(items)
    cache: dict[int, frozenset[int]] = {}

    def sh(entry: StoredEntry) -> frozenset[int]:
        if entry.rowid not in cache:
            cache[entry.rowid] = shingles(entry.norm_body)
        return cache[entry.rowid]

    item_cache: dict[int, frozenset[int]] = {}

    def item_sh(i: int) -> frozenset[int]:  # only for items that get compared (not exact repeats)
        if i not in item_cache:
            item_cache[i] = shingles(items[i].norm_body)
        return item_cache[i]

    # 1. exact repeats
    for i, item in enumerate(items):
        for entry in by_key.get(item.key, ()):
            if entry.fingerprint == item.fingerprint and entry.rowid not in used:
                used.add(entry.rowid)
                result[i] = change(Outcome.UNCHANGED, item, entry, "same headline and body", 1.0)
                break
    # 2. same headline, edited body (by the entry's own source), or another source's version
    for i, item in enumerate(items):
        if result[i] is not None:
            continue
        best: tuple[float, StoredEntry] | None = None
        linked = False
        for entry in by_key.get(item.key, ()):
            if entry.rowid in used or not _owns(entry, source):
                continue
            same, score = same_story(item.key, item_sh(i), entry.key, sh(entry), thresholds)
            # the same headline linking to the same place off the page: the same story
            rewritten = not same and bool(item.target) and entry.target == item.target
            if (same or rewritten) and (best is None or score > best[0]):
                best = (score, entry)
                linked = rewritten
        if best is not None:
            used.add(best[1].rowid)
            why = (
                "same headline and link, body rewritten" if linked else "same headline, body edited"
            )
            result[i] = change(Outcome.UPDATED, item, best[1], why, best[0])
            continue
        for entry in by_key.get(item.key, ()):
            if entry.rowid in used or _owns(entry, source):
                continue
            jaccard, containment = similarity(item_sh(i), sh(entry))
            if near_identical(jaccard, containment, thresholds) and (
                best is None or jaccard > best[0]
            ):
                best = (jaccard, entry)
        if best is not None:
            used.add(best[1].rowid)
            result[i] = change(
                Outcome.UNCHANGED,
                item,
                best[1],
                f"same headline and story from another source ({best[1].owner})",
                best[0],
            )
    # 3. another headline, same body
    for i, item in enumerate(items):
        if result[i] is not None:
            continue
        best = None
        for entry in stored:
            if entry.rowid in used:
                continue
            if entry.key == item.key:
                continue  # same key was judged in step 2: an unrelated body is a new story
            if not item.norm_body or (
                item.target
                and entry.target
                and entry.target != item.target
                and _owns(entry, source)
            ):
                # an empty body is no evidence of a story; and another headline linking elsewhere
                # on the same source is another story, however alike the texts
                continue
            if entry.fingerprint == item.fingerprint:
                score, same = 1.0, True
            elif (
                item.signature
                and entry.signature
                and estimate(item.signature, entry.signature) < thresholds.candidate_estimate
            ):
                continue
            else:
                same, score = same_story(item.key, item_sh(i), entry.key, sh(entry), thresholds)
            if same and (best is None or score > best[0]):
                best = (score, entry)
        if best is not None:
            entry = best[1]
            used.add(entry.rowid)
            if not _owns(entry, source):
                result[i] = change(
                    Outcome.UNCHANGED,
                    item,
                    entry,
                    f"same story from another source ({entry.owner})",
                    best[0],
                )
            elif (
                entry.fingerprint == item.fingerprint and entry.norm_headline == item.norm_headline
            ):
                result[i] = change(Outcome.UNCHANGED, item, entry, "same story", best[0])
            else:
                reason = (
                    "headline reworded"
                    if entry.fingerprint == item.fingerprint
                    else "same story, edited"
                )
                result[i] = change(Outcome.UPDATED, item, entry, reason, best[0])
            continue
        result[i] = change(Outcome.NEW, item, None, "not seen before")
    return [c for c in result if c is not None]
