"""Identity and fingerprints: what makes two items the same story, and whether a story changed.

Owns: normalisation for comparison (never for display), headline keys, body fingerprints, shingles
and similarity. Pure: strings in, values out.

Normalisation: Unicode NFKC (full-width and half-width forms fold), zero-width and bidi controls
removed, Traditional and Hong Kong Chinese folded to Simplified with OpenCC (``hk2s``, which also
knows variants such as 衞 -> 卫), case folded, punctuation and white space removed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from .model import Identified, Item
from .signature import band_keys, signature_of_tokens
from .text import CJK, CJK_CHARS

# characters that do not count: invisible format and bidi controls, and lone surrogates (from
# &#xD800; and the like), which cannot even be encoded
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f"
    "\ud800-\udfff]"
)
# A token is one CJK character (every block feedbot.text names) or a run of other letters and
# digits: so "苹果发布iphone手机" is 苹 果 发 布 iphone 手 机, and "2024年3月gdp增长5" is 2024 年 3 月
# gdp 增 长 5 — digits stand apart from CJK, while a Latin word keeps its digits ("iphone15",
# "mp3"): the real sequences label "2.23.11released" -> "2.23.11 released" an edit readers see,
# which splitting digits from letters would hide. Tokens never cross what the previous tokeniser
# (a CJK character or a run of word characters) kept apart, so re-tokenising a stored body gives
# what tokenising its text gives (the similarity-index migration relies on it).
_TOKEN = re.compile(f"[{CJK_CHARS}]|[^\\W_{CJK_CHARS}]+")
# The same tokens, found faster (the regular expression above, tried at every character, was a
# third of identifying a page): an ASCII text is its runs of letters and digits, which translate
# and split find in C; any other text is cut into the stretches no token crosses — runs of letters
# and digits of any script, and single CJK characters Python does not count as letters (U+309B,
# Extension H) — and a stretch of CJK alone is its characters. tests/test_identify.py checks that
# tokens() equals _TOKEN.findall on every text.
_ASCII_GAPS = str.maketrans({c: " " for c in range(128) if not chr(c).isalnum()})
_STRETCH = re.compile(f"[^\\W_]+|[{CJK_CHARS}]")
_NOT_CJK = re.compile(f"[^{CJK_CHARS}]")
# Bits of a page that change on every visit without the story changing.
BUILTIN_VOLATILE = (
    r"\d+\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\s+ago",
    r"\d+\s*(秒|分钟|分鐘|小时|小時|天)前",
    r"(刚刚|剛剛|just now)",
    r"(阅读|閱讀|浏览|瀏覽|点击|點擊|views?|reads?)\s*[:：]?\s*[\d,]+\s*(次|views?)?",
    r"[\d,]+\s*(views|次阅读|次閱讀|次浏览|次瀏覽|人阅读|人閱讀)",
)
# For each built-in pattern, strings one of which every match holds (in folded text: lower case):
# a pattern runs only on the texts that hold one (five regular expressions over every body were
# a third of identifying it).
_BUILTIN_NEEDLES: tuple[tuple[str, ...], ...] = (
    ("ago",),
    ("前",),
    ("刚刚", "剛剛", "just now"),
    ("阅读", "閱讀", "浏览", "瀏覽", "点击", "點擊", "view", "read"),
    ("view", "次", "人"),
)
_BUILTIN = tuple(
    (needles, re.compile(pattern, re.I))
    for needles, pattern in zip(_BUILTIN_NEEDLES, BUILTIN_VOLATILE, strict=True)
)
_converter: Any = None


def _cc() -> Any:
    """OpenCC's hk2s converter, made (and OpenCC imported) on first use."""
    global _converter
    if _converter is None:
        import opencc

        _converter = opencc.OpenCC("hk2s")
    return _converter


def prepare() -> None:
    """Load OpenCC and its dictionaries now (worker processes forked after this share them)."""
    _cc()


def fold(text: str) -> str:
    """Display-independent form: NFKC, no invisible controls, Simplified script, case folded,
    white space collapsed. Punctuation is kept (see :func:`squash`)."""
    # headlines come back run after run and are folded twice per item (key and norm_headline):
    # cached; bodies are not (4,096 cached bodies of a few KB each held tens of MB for nothing)
    return _fold_short(text) if len(text) <= 300 else _fold(text)


@lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():  # NFKC, the invisible controls and OpenCC leave it as it is
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    if not text.isascii() and CJK.search(text):
        text = _cc().convert(text)
    text = text.casefold()
    return " ".join(text.split())


def squash(text: str) -> str:
    """Folded text with every punctuation mark, symbol and space removed."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LN")


def remove_volatile(text: str, patterns: Sequence[str] = ()) -> str:
    """``text`` (folded) without what the built-in patterns and a source's own ``patterns`` match."""
    lowered = text.lower()
    for needles, compiled in _BUILTIN:
        if any(needle in lowered for needle in needles):
            text = compiled.sub(" ", text)
    for pattern in patterns:
        text = re.sub(pattern, " ", text, flags=re.I)
    return text


def headline_key(headline: str) -> str:
    return hashlib.sha1(squash(headline).encode("utf-8")).hexdigest()[:20]


def fingerprint(norm_body: str) -> str:
    return hashlib.sha256(norm_body.encode("utf-8")).hexdigest()[:32]


def normalise_body(body_text: str, volatile: Sequence[str] = ()) -> str:
    """The body as compared: volatile bits removed, folded, tokens separated by single spaces."""
    return " ".join(tokens(remove_volatile(fold(body_text), volatile)))


def tokens(text: str) -> list[str]:
    """CJK characters one by one, other scripts run by run of letters and digits (already folded
    text): a token never holds a CJK character and anything else. ``_TOKEN.findall(text)``."""
    if text.isascii():
        return text.translate(_ASCII_GAPS).split()
    out: list[str] = []
    for stretch in _STRETCH.findall(text):
        if stretch.isascii():
            out.append(stretch)
        elif _NOT_CJK.search(stretch) is None:
            out.extend(stretch)
        else:
            out.extend(_TOKEN.findall(stretch))
    return out


def link_target(link: str | None, page_url: str | None) -> str:
    """Where a headline's link goes, resolved against the page and without its fragment: "" when
    there is no link, or it leads back to the page itself (another place on it is no other story)."""
    if not link:
        return ""
    base = (page_url or "").split("#", 1)[0]
    target = urljoin(base, link.strip()).split("#", 1)[0] if base else link.strip().split("#", 1)[0]
    if not target or target == base or urlsplit(target).scheme not in ("http", "https", ""):
        return ""
    return target


def identify(
    items: Iterable[Item],
    volatile: Sequence[str] = (),
    *,
    feed: str | None = None,
    page_url: str | None = None,
) -> list[Identified]:
    """Each item with its key, fingerprint and signature; with ``feed``, also the signature's band
    keys in that feed (workers compute them, so the thread that stores does not); with
    ``page_url``, headline links are resolved against it."""
    out = []
    for item in items:
        toks = tokens(remove_volatile(fold(item.body_text), volatile))
        norm_body = " ".join(toks)
        sig = signature_of_tokens(toks)
        out.append(
            Identified(
                item=item,
                key=headline_key(item.headline),
                fingerprint=fingerprint(norm_body),
                norm_headline=squash(item.headline),
                norm_body=norm_body,
                signature=sig,
                bands=tuple(band_keys(feed, sig)) if feed is not None else (),
                target=link_target(item.link, page_url),
            )
        )
    return out


def shingles(norm_body: str, size: int = 3) -> frozenset[int]:
    """Hashed n-grams over tokens: character n-grams for CJK, word n-grams for other scripts."""
    toks = norm_body.split(" ")
    if len(toks) < size:
        return frozenset({hash(tuple(toks))}) if toks and toks[0] else frozenset()
    # hashes of token tuples: each token's hash is computed once and cached by str, where hashing a
    # joined string per n-gram would build and hash a new string each time
    return frozenset(map(hash, zip(*(toks[i:] for i in range(size)), strict=False)))


def similarity(a: frozenset[int], b: frozenset[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    common = len(a & b)
    return common / len(a | b), common / min(len(a), len(b))
