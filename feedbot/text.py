"""Character classes shared by the modules that treat Chinese, Japanese and Korean text apart from
other scripts (one character at a time instead of word by word). Pure: constants only.

:data:`CJK_RANGES` is the one definition of the range, each block with its name; :data:`CJK_CHARS`
is the same for use inside a regular expression's ``[...]``. Used by identify (folding, tokens) and
history (diffs by character).
"""

from __future__ import annotations

import re

# Scripts written without spaces between words, tokenised one character at a time (a word would
# be a whole clause). Every Han block is here, not only the basic one: OpenCC maps characters into
# Extensions A to G (埬 -> 𪣆 in Extension B, 繐 -> 𰬸 in Extension G; tests/test_identify.py walks
# every Han code point through the converter), and pages use them directly. Ranges are given
# explicitly, not as Unicode properties: Python 3.11's own database is Unicode 14, which does not
# know Extensions H and I yet (it would not even count them as letters).
CJK_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x1100, 0x11FF, "Hangul Jamo"),
    (0x3005, 0x3007, "ideographic iteration mark, closing mark, number zero (々 〆 〇)"),
    (0x3021, 0x3029, "Hangzhou numerals"),
    (0x3038, 0x303B, "Hangzhou numerals ten to thirty, vertical iteration mark"),
    (0x3041, 0x309F, "Hiragana"),
    (0x30A1, 0x30FA, "Katakana (not the double hyphen and the middle dot: punctuation)"),
    (0x30FC, 0x30FF, "Katakana prolonged sound and iteration marks, digraph koto"),
    (0x3105, 0x312F, "Bopomofo"),
    (0x3131, 0x318E, "Hangul Compatibility Jamo"),
    (0x31A0, 0x31BF, "Bopomofo Extended"),
    (0x31F0, 0x31FF, "Katakana Phonetic Extensions"),
    (0x3400, 0x4DBF, "CJK Unified Ideographs Extension A"),
    (0x4E00, 0x9FFF, "CJK Unified Ideographs"),
    (0xA960, 0xA97F, "Hangul Jamo Extended-A"),
    (0xAC00, 0xD7A3, "Hangul Syllables"),
    (0xD7B0, 0xD7FF, "Hangul Jamo Extended-B"),
    (0xF900, 0xFAFF, "CJK Compatibility Ideographs"),
    (0xFF66, 0xFF9F, "halfwidth Katakana"),
    (0xFFA0, 0xFFDC, "halfwidth Hangul"),
    (0x1AFF0, 0x1B16F, "Kana Extended-B, Kana Supplement, Kana Extended-A, Small Kana Extension"),
    (0x20000, 0x2A6DF, "CJK Unified Ideographs Extension B"),
    (0x2A700, 0x2B73F, "CJK Unified Ideographs Extension C"),
    (0x2B740, 0x2B81F, "CJK Unified Ideographs Extension D"),
    (0x2B820, 0x2CEAF, "CJK Unified Ideographs Extension E"),
    (0x2CEB0, 0x2EBEF, "CJK Unified Ideographs Extension F"),
    (0x2EBF0, 0x2EE5F, "CJK Unified Ideographs Extension I"),
    (0x2F800, 0x2FA1F, "CJK Compatibility Ideographs Supplement"),
    (0x30000, 0x3134F, "CJK Unified Ideographs Extension G"),
    (0x31350, 0x323AF, "CJK Unified Ideographs Extension H"),
)
CJK_CHARS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi, _ in CJK_RANGES)  # for use inside [...]
CJK = re.compile(f"[{CJK_CHARS}]")
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
