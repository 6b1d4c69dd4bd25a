"""Character classes shared by the modules that treat Chinese, Japanese and Korean text apart from
other scripts (one character at a time instead of word by word). Pure: constants only.

:data:`CJK_CHARS` is the one definition of the range: kana (U+3040-30FF), CJK ideographs with
extension A (U+3400-9FFF), compatibility ideographs (U+F900-FAFF) and Hangul syllables
(U+AC00-D7AF). Used by identify (folding, tokens) and history (diffs by character).
"""

from __future__ import annotations

import re

CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af"  # for use inside [...]
CJK = re.compile(f"[{CJK_CHARS}]")
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
