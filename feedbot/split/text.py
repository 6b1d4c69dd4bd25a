"""Measures of text the stages share: reading length (units), numbering markers, content words.

Owns: :func:`units`, :func:`marker_of` / :func:`strip_marker`, :func:`terms`. Pure functions of strings.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

from ..text import CJK, CJK_RUN
from .rules import (
    CJK_DIGITS,
    DATE_CLOCK,
    DATED_TEXT_MIN,
    LENGTHS,
    MARKER_FIRST,
    MARKERS,
    MEASURE,
    MONTH_NUMBERS,
    OPENING_DATES,
    STOP_WORDS,
    TERM_LETTERS,
)

WORD = re.compile(r"[^\W\d_]+|\d+", re.U)
_MARKERS = [(name, re.compile(pattern)) for name, pattern in MARKERS]
_MARKER_FIRST = frozenset(MARKER_FIRST) | frozenset(
    chr(c) for c in [*range(0x2460, 0x2474), *range(0x3251, 0x3260)]
)
MARKER_OPENINGS = _MARKER_FIRST  # the characters other than digits a numbering marker opens with
_CJK_NUMBERS = {c: i for i, c in enumerate(CJK_DIGITS, start=1)}
# ASCII letters to "a", digits to "0", everything else to a space: words are then the runs of "a"
# and of "0" (what WORD finds in ASCII text), counted with str methods instead of a regex
_ASCII_WORDS = str.maketrans(
    {chr(c): "a" if chr(c).isalpha() else "0" if chr(c).isdigit() else " " for c in range(128)}
)


def units(text: str, limit: float | None = None) -> float:
    """Length in reading units: a CJK character counts 1, a word of other scripts counts 1.6.

    With ``limit``, a long text is measured only as far as needed to tell that it is over the limit:
    the result is then some value above ``limit`` (a prefix never has more units than the whole), so
    comparisons against ``limit`` or anything below it stay exact while paragraphs cost little."""
    if limit is not None and len(text) > MEASURE.surely_longer * limit:
        return float(limit) + 1.0  # (no text this long is as short as the limit in any script)
    if limit is not None and len(text) > int(limit) + MEASURE.cjk_slack:
        short = text[: int(limit) + MEASURE.cjk_slack]
        if not short.isascii():
            cjk = sum(map(len, CJK_RUN.findall(short)))
            if cjk > limit:
                return float(cjk)
            cut = int(MEASURE.mixed_chars_per_unit * limit) + MEASURE.prefix_margin
        else:
            cut = int(MEASURE.ascii_chars_per_unit * limit) + MEASURE.prefix_margin
        if len(text) > cut:
            head = _units(text[:cut])
            if head > limit:
                return head
    # a whole text's measure is remembered: the stages measure the same headlines again (every
    # level a headline belongs to, the single-article test); bounded, and a pure function
    if len(text) > MEASURE.remembered_chars:
        return _units(text)
    found = _MEASURED.get(text)
    if found is None:
        found = _units(text)
        if len(_MEASURED) >= MEASURE.remembered:
            _MEASURED.clear()
        _MEASURED[text] = found
    return found


_MEASURED: dict[str, float] = {}  # text -> units, up to MEASURE.remembered texts


def _units(text: str) -> float:
    word = LENGTHS.word_units
    if text.isascii():
        folded = text.translate(_ASCII_WORDS)
        words = folded.count(" a") + (folded[:1] == "a")
        if "0" in folded:
            words += folded.count(" 0") + (folded[:1] == "0")
            words += folded.count("a0") + folded.count("0a")
        return word * words
    # each run of CJK characters becomes one space: the CJK characters are what the text lost, plus
    # one per run (one pass over the text instead of a findall and a sub)
    rest, runs = CJK_RUN.subn(" ", text)
    if not runs:
        return word * len(WORD.findall(text))
    cjk = len(text) - len(rest) + runs
    words = len(WORD.findall(rest))
    return cjk + word * words


def _may_mark(text: str) -> bool:
    first = text.lstrip()[:1]
    return bool(first) and (first.isdecimal() or first in _MARKER_FIRST)


def strip_marker(text: str) -> str:
    """A headline without its numbering marker, enclosing brackets and closing colon."""
    if len(text) > MEASURE.remembered_chars:
        return _strip_marker(text)
    return _remembered_strip(text)  # (the stages ask again for the same headlines)


def _strip_marker(text: str) -> str:
    for _name, pattern in _MARKERS if _may_mark(text) else ():
        match = pattern.match(text)
        if match and match.end() < len(text):
            text = text[match.end() :]
            break
    text = text.strip()
    if text.startswith(("【", "[")) and text.endswith(("】", "]")) and len(text) > 2:
        text = text[1:-1].strip()
    return text.rstrip(":：").strip()


def marker_alone(text: str) -> bool:
    """Whether the text is a numbering marker and nothing else ("#6.", "3)", "（二）")."""
    if not _may_mark(text):
        return False
    for _name, pattern in _MARKERS:
        match = pattern.match(text)
        if match and match.end() == len(text):
            return True
    return False


def marker_of(text: str) -> tuple[str, int] | None:
    """The numbering marker opening a line and its number (0 for a bullet), or None."""
    if len(text) > MEASURE.remembered_chars:
        return _marker_of(text)
    return _remembered_marker(text)  # (the stages ask again for the same headlines)


def _marker_of(text: str) -> tuple[str, int] | None:
    if not _may_mark(text):
        return None
    for name, pattern in _MARKERS:
        match = pattern.match(text)
        if match and match.end() < len(text):
            value = match.group(1)
            number = 0
            if value.isascii() and value.isdigit():
                number = int(value)
            elif value in _CJK_NUMBERS:
                number = _CJK_NUMBERS[value]
            elif len(value) == 1 and "\u2460" <= value <= "\u2473":
                number = ord(value) - ord("\u2460") + 1  # ① is 1
            return name, number
    return None


# bounded memos of the two (pure) marker readings, for texts as short as a line
_remembered_strip = functools.lru_cache(maxsize=MEASURE.remembered)(_strip_marker)
_remembered_marker = functools.lru_cache(maxsize=MEASURE.remembered)(_marker_of)


def forget() -> None:
    """Empty the memos of this module (a benchmark times each page from cold: what a page costs
    when none of its lines was seen before)."""
    _MEASURED.clear()
    _remembered_strip.cache_clear()
    _remembered_marker.cache_clear()


_NOT_WORD = re.compile(r"[\W_]+")
_DIGIT = re.compile(r"\d")
_DATE_REACH = (
    40  # "Wednesday, September 30, 2024": the day's digits come within this many characters
)


def fold(text: str) -> str:
    """Letters and digits only, case folded (NFKC first): "A – b" and "a - B" compare equal."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def terms(text: str) -> set[str]:
    """Content terms of a text: CJK character pairs and words of four letters or more (no stop words)."""
    cjk = CJK.findall(text)
    grams = {a + b for a, b in itertools.pairwise(cjk)}
    words = {
        w.lower()
        for w in WORD.findall(text)
        if len(w) >= TERM_LETTERS and w.lower() not in STOP_WORDS
    }
    return grams | words


def opening_date(text: str, *, alone: bool = False) -> int | None:
    """The date a text opens with when more text follows it (a dated entry, not a dateline) or,
    with ``alone``, also when it is the whole text, as a number that sorts as dates do
    (YYYYMMDD), or None."""
    first = text[:1]
    if not first.isalnum() or not (first.isdigit() or first.isascii()):
        return None
    if not first.isdigit() and _DIGIT.search(text, 0, _DATE_REACH) is None:
        return None  # (every date written with a month's name has its day within this reach)
    for pattern in OPENING_DATES:
        match = pattern.match(text)
        if match is None:
            continue
        after = DATE_CLOCK.match(text, match.end())
        rest = text[after.end() if after else match.end() :]
        if not alone and sum(map(str.isalnum, rest)) < DATED_TEXT_MIN:
            return None  # a date (and a time) alone: a dateline
        found = match.groupdict()
        month = (
            int(found["m"]) if found.get("m") else MONTH_NUMBERS.get(found["mon"][:3].lower(), 0)
        )
        day = int(found["d"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return int(found["y"]) * 10000 + month * 100 + day
    return None


def dated_in_sequence(texts: list[str], least: int, *, alone: bool = False) -> bool:
    """At least ``least`` texts, all opening with a date (``alone``: or being one), the dates in
    order (newest or oldest first) and not all the same day."""
    if len(texts) < least:
        return False
    dates = []
    for text in texts:
        value = opening_date(text, alone=alone)
        if value is None:
            return False
        dates.append(value)
    pairs = list(itertools.pairwise(dates))
    down = all(a >= b for a, b in pairs)
    up = all(a <= b for a, b in pairs)
    return (down or up) and len(set(dates)) > 1
