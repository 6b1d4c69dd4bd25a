"""Patterns for the text that frames stories but is not part of them: source and attribution lines,
editor credits, copyright and reprint notices, share bars, "read more" links, ads, end marks.

Owns: recognising such lines. Must not: know about HTML trees or the splitter's choices.
"""

from __future__ import annotations

import re

_OPEN = r"^[\s(（\[【<《]*"
ATTRIBUTION = re.compile(
    _OPEN
    + r"(來源|来源|出處|出处|資料來源|资料来源|消息來源|消息来源|Sources?|Via|Credit|Quelle|Source\s*:|出典|情報源)\s*[:：]",
    re.I,
)
EDITOR = re.compile(
    _OPEN
    + r"(責任編輯|责任编辑|責編|责编|編輯|编辑|校對|校对|審核|审核|審校|审校|記者|记者|撰文|作者|"
    r"Editor|Edited by|Editing by|Reporting by|Writing by|Compiled by|Redaktion|Rédaction|編集)\s*[:：]",
    re.I,
)
COPYRIGHT = re.compile(
    r"(版權聲明|版权声明|版權所有|版权所有|轉載請註明|转载请注明|未經授權|未经授权|禁止轉載|禁止转载|"
    r"免責聲明|免责声明|All rights reserved|Alle Rechte vorbehalten|Tous droits réservés|無断転載|"
    r"Copyright\s*(©|\(c\)|\d{4})|^©\s*\d{4})",
    re.I,
)
SHARE = re.compile(
    r"^\s*(分享到|分享至|分享|Share( this| on| via|:)|Teilen|Partager|シェア|"
    r"Read more|Read the full|Continue reading|阅读全文|閱讀全文|阅读原文|閱讀原文|查看原文|"
    r"点击查看|點擊查看|点击阅读|點擊閱讀|Click here|Sign up|Subscribe|订阅|訂閱|"
    r"关注我们|關注我們|扫码关注|掃碼關注|Follow us|Related:|相关阅读|相關閱讀|延伸阅读|延伸閱讀|"
    r"More from|See also|猜你喜欢|猜你喜歡|推荐阅读|推薦閱讀|Back to top|返回顶部|返回頂部)",
    re.I,
)
AD = re.compile(
    r"^\s*[(（\[【]?\s*(廣告|广告|推廣|推广|Advertisement|Sponsored|Presented by|Paid content|Anzeige|Publicité|広告|PR)\s*[)）\]】]?\s*([:：|\-—]|$)",
    re.I,
)
END_MARK = re.compile(r"\s*[(（]\s*完\s*[)）]\s*$|\s*[-—–]+\s*(END|完)\s*[-—–]+\s*$|\s*\(END\)\s*$")
END_ONLY = re.compile(r"^\s*([(（]\s*完\s*[)）]|[-—–]*\s*(END|完|Ends)\s*[-—–]*)\s*$", re.I)

MAX_LINE = 200  # a boilerplate line is short; a long paragraph that mentions "source:" is content


def classify(text: str) -> str | None:
    """The kind of boilerplate a short line is, or None when it is content."""
    if not text or len(text) > MAX_LINE:
        return None
    if END_ONLY.match(text):
        return "end mark"
    if COPYRIGHT.search(text):
        return "copyright"
    if AD.match(text):
        return "ad"
    if SHARE.match(text):
        return "share"
    if ATTRIBUTION.match(text):
        return "attribution"
    if EDITOR.match(text) and len(text) <= 60:
        return "editor"
    return None


def strip_end_mark(text: str) -> str:
    """Remove a trailing （完） or -END- from the last paragraph of a story."""
    return END_MARK.sub("", text)


def clean_attribution(text: str) -> str:
    return text.strip().strip("()（）[]【】 ").strip()
