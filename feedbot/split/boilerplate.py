"""Patterns for the text that frames stories but is not part of them: source and attribution lines,
editor credits, copyright and reprint notices, share bars, "read more" links, ads, end marks.

Owns: recognising such lines. Must not: know about HTML trees or the splitter's choices.
"""

from __future__ import annotations

import re

from .rules import (
    AD,
    ATTRIBUTION,
    BRACKETED,
    BYLINE,
    BYLINE_DASHED,
    CONTACT,
    CONTACT_INFO,
    CONTACT_INFO_NEEDLES,
    CONTACT_NEEDLES,
    COPYRIGHT,
    COPYRIGHT_NEEDLES,
    CREDIT,
    CUE,
    DATED_SOURCE,
    DATELINE,
    DATELINE_CJK,
    DIGIT,
    DISCLAIMER,
    EDITOR,
    END_MARK,
    END_NEEDLES,
    END_ONLY,
    END_WINDOW,
    LINE_LENGTHS,
    MAX_LINE,
    PHOTO,
    PHOTO_NEEDLES,
    SHARE,
    SIGNATURE,
    SIGNOFF,
    SIGNOFF_NEEDLES,
    STAFF,
    STAFF_NEEDLES,
    SUBMIT,
    SUBMIT_NEEDLES,
    TEMPLATE,
    on,
)


def _holds(lowered: str, needles: tuple[str, ...]) -> bool:
    """Whether the text holds one of the pieces; each piece is tested by itself (fast for ASCII)."""
    return any(map(lowered.__contains__, needles))


def _gate(*groups: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that finds any of the pieces: a single pass tells a text that holds none of them
    (most lines, and in CJK text the test of each piece by itself is the slower way)."""
    return re.compile("|".join(re.escape(needle) for group in groups for needle in group))


def _may_hold(lowered: str, gate: re.Pattern[str]) -> bool:
    return lowered.isascii() or gate.search(lowered) is not None


# the first characters of a line DATED_SOURCE may find: a year's digits, or a symbol before it
_DATED_OPENINGS = frozenset("12📅🗓📆[【(（") | frozenset("•·-—*#")
_CLASSIFY_GATE = _gate(END_NEEDLES, COPYRIGHT_NEEDLES, CONTACT_NEEDLES, PHOTO_NEEDLES)


def classify(text: str) -> str | None:
    """The kind of boilerplate a short line is, or None when it is content."""
    if not text or len(text) > MAX_LINE:
        return None
    if text[0] == "{" and TEMPLATE.match(text):
        return "template"
    lowered = text.lower()
    gated = _may_hold(lowered, _CLASSIFY_GATE)
    if gated and _holds(lowered, END_NEEDLES) and END_ONLY.match(text):
        return "end mark"
    if gated and _holds(lowered, COPYRIGHT_NEEDLES) and COPYRIGHT.search(text):
        return "copyright"
    if _STARTS.match(text):  # one pattern tells most lines that none of these opens them
        kind = _opening_kind(text)
        if kind:
            return kind
    if gated and _holds(lowered, CONTACT_NEEDLES) and CONTACT.match(text):
        return "contact"
    if (
        gated
        and len(text) <= LINE_LENGTHS.photo
        and _holds(lowered, PHOTO_NEEDLES)
        and PHOTO.search(text)
    ):
        return "photo credit"
    if (
        len(text) <= LINE_LENGTHS.byline
        and text[:1] in _DATED_OPENINGS
        and DATED_SOURCE.match(text)
        and on("dated-source")
    ):
        return "dateline"
    if (
        len(text) <= LINE_LENGTHS.timestamp
        and DIGIT.search(text)
        and (
            DATELINE.match(text) or ("分" in text and on("cjk-clock") and DATELINE_CJK.match(text))
        )
    ):
        return "timestamp"
    return None


def _opening_kind(text: str) -> str | None:
    if AD.match(text):
        return "ad"
    if SHARE.match(text):
        return "share"
    if ATTRIBUTION.match(text):
        return "attribution"
    if EDITOR.match(text) and len(text) <= LINE_LENGTHS.editor:
        return "editor"
    if CREDIT.match(text):
        return "credit"
    if len(text) <= LINE_LENGTHS.byline and (
        BYLINE.match(text) or (BYLINE_DASHED.match(text) and on("dash-bylines"))
    ):
        return "byline"
    if CUE.match(text):
        return "cue"
    return None


# any of the patterns that open a line, as one pattern (case folded: a gate, the patterns decide)
_STARTS = re.compile(
    "|".join(
        f"(?:{p.pattern})"
        for p in (AD, SHARE, ATTRIBUTION, EDITOR, CREDIT, BYLINE, BYLINE_DASHED, CUE)
    ),
    re.I,
)


_TAIL_GATE = _gate(SIGNOFF_NEEDLES, SUBMIT_NEEDLES)


def classify_tail(text: str, *, last: bool = True, plain: bool = False) -> str | None:
    """The kind of closing line a short line is, when it ends a story (``last``: the page's last
    story, where notes on submissions and contacts close the page), else None. ``plain``: the
    caller knows that :func:`classify` finds no kind in the text."""
    kind = None if plain else classify(text)
    if kind:
        return kind
    if not text or len(text) > MAX_LINE:
        return None
    lowered = text.lower()
    gated = _may_hold(lowered, _TAIL_GATE)
    if gated and _holds(lowered, SIGNOFF_NEEDLES) and SIGNOFF.search(text):
        return "sign-off"
    if DISCLAIMER.match(text):
        return "disclaimer"
    if BRACKETED.match(text) or SIGNATURE.match(text):
        return "credit"
    if len(text) <= LINE_LENGTHS.staff and _holds(text, STAFF_NEEDLES) and STAFF.search(text):
        return "editor"
    if last and gated and _holds(lowered, SUBMIT_NEEDLES) and SUBMIT.search(text):
        return "submissions"
    if (
        last
        and len(text) <= LINE_LENGTHS.contact
        and _holds(text, CONTACT_INFO_NEEDLES)
        and CONTACT_INFO.search(text)
    ):
        return "contact"
    return None


def strip_end_mark(text: str) -> str:
    """Remove a trailing （完） or -END- from the last paragraph of a story."""
    # every match runs to the end of the text and holds 完 or END: look at the end only, unless a
    # match there could reach further back (a long run of dashes)
    cut = max(0, len(text) - END_WINDOW)
    window = text[cut:]
    dashes = window.rstrip().endswith(("-", "—", "–"))
    if "完" not in window and "END" not in window and not dashes:
        return text
    match = END_MARK.search(window)
    if match is None and not dashes:
        return text
    if match is not None and (match.start() > 0 or cut == 0):
        return text[: cut + match.start()]
    return END_MARK.sub("", text)


def clean_attribution(text: str) -> str:
    return text.strip().strip("()（）[]【】 ").strip()
