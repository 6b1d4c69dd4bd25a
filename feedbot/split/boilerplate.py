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
    r"文・写真|文/写真|写真|Text|Texte|Editor|Edited by|Editing by|Reporting by|Writing by|Compiled by|Redaktion|Rédaction|編集)\s*[:：]",
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
    r"^\s*(?:[(（\[【]\s*(廣告|广告|推廣|推广|贊助|赞助|Advertisement|Sponsored|Ad|Anzeige|Publicité|広告|PR)\s*[)）\]】]|"
    r"(廣告|广告|推廣|推广|贊助內容|赞助内容|Advertisement|Sponsored|Presented by|Paid content|Anzeige|Publicité|"
    r"広告|PR|A MESSAGE FROM\b.*)\s*([:：|\-—]|$))",
    re.I,
)
END_MARK = re.compile(r"\s*[(（]\s*完\s*[)）]\s*$|\s*[-—–]+\s*(END|完)\s*[-—–]+\s*$|\s*\(END\)\s*$")
END_ONLY = re.compile(r"^\s*([(（]\s*完\s*[)）]|[-—–]*\s*(END|完|Ends)\s*[-—–]*)\s*$", re.I)

# credits that name no label with a colon: "(Reporting by X; Editing by Y)", "Compiled by ...",
# "Zusammengestellt von ...", "Mit Material von dpa"
CREDIT = re.compile(
    _OPEN
    + r"((Additional )?Reporting by|Writing by|Editing by|Edited by|Compiled by|Curated by|Produced by|"
    r"Photographs? by|Illustrations? by|Interview by|Written by|Reviewed by|Zusammengestellt von|"
    r"Mit Material von|Propos recueillis par|Avec AFP|Mit dpa)\b",
    re.I,
)
# photo credits: "Photo: Jane Doe", "Getty Images", "图/新华社"
PHOTO = re.compile(
    r"^\s*[(（]?\s*(Photo|Photograph|Picture|Image|Foto|Bild|Crédit photo|圖片?|图片?|攝影|摄影|照片|写真|題圖|题图)"
    r"\s*(credit)?\s*[:：/／]|^\s*\S*( ?/ ?)?(Getty Images|AP Photo|AFP|Reuters|EPA|Shutterstock|iStock)\s*$",
    re.I,
)
# a press contact: "Media contact: ...", "Pressekontakt: ..."
CONTACT = re.compile(
    _OPEN
    + r"(Media contacts?|Press contacts?|Media inquiries|Pressekontakt|Contact presse|媒體聯絡|媒体联系)\s*[:：]",
    re.I,
)
# a broadcast cue or stage direction: "(COMMERCIAL BREAK)", "[APPLAUSE]"
CUE = re.compile(r"^\s*[(\[][A-Z][A-Z ,.'-]{2,40}[)\]]\s*$")
# a line that is only a date and/or a time: "March 18, 2024", "2024-06-13 14:32", "2024/06/15 05:30"
_MONTHS = (
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?|"
    r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"Januar|Februar|März|Juni|Juli|Oktober|Dezember)"
)
_DAY = (
    r"(((Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|"
    r"Sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche),?\s*)?"
)
_CLOCK = r"(\s*(,|·|\||at|um|à)?\s*\d{1,2}[:.h]\d{2}(\s*[ap]\.?m\.?)?(\s*[A-Z]{2,4})?\s*(Uhr)?)?"
DATELINE = re.compile(
    r"^\s*(Updated|Published|Posted|Aktualisiert|Publié le|Mis à jour)?\s*:?\s*(" + _DAY + r"("
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|"
    r"\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}|"
    r"(" + _MONTHS + r")\s+\d{1,2},?\s*\d{4}|"
    r"\d{1,2}\.?\s+(" + _MONTHS + r")\s+\d{4}|"
    r"\d{1,2}月\s*\d{1,2}日"
    r")" + _CLOCK + r"|\d{1,2}:\d{2}(\s*[ap]\.?m\.?)?)\s*([(（][^)）]{1,12}[)）])?\s*$",
    re.I,
)

# a byline: "By Jane Doe", "◎林建志（新北市，退休教師）", "記者王小明／台北報導", "文／王小明"
BYLINE = re.compile(
    r"^\s*((By|Von|Par|Por|Door)\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3}\s*([,·|&]|and\b|und\b|et\b|$)|"
    r"[◎○]?\s*(記者|记者|文|圖|图|撰文|採訪|采访|攝影|摄影)\s*[／/|｜]\s*\S|"
    r"[◎○]?\s*(記者|记者)\s*\S{2,4}\s*[／/]\s*\S{1,8}(報導|报道|報道)|"
    r"[◎○]?\s*[\u4e00-\u9fff]{2,4}\s*[（(][^）)]{1,12}[，,、][^）)]{1,12}[）)]\s*$)"
)

# a line of template syntax left unrendered: Liquid ({% include … %}, {{ page.x }}), kramdown's
# attribute lists ({:#anchor}), Hugo shortcodes
TEMPLATE = re.compile(r"^(\s*\{[{%:<][^{}]*\}\}?\s*)+$")

MAX_LINE = 200  # a boilerplate line is short; a long paragraph that mentions "source:" is content

# Python's regular expressions try every alternative at every position of a text; the unanchored
# patterns below are only tried when the (lower-cased) text holds a piece that any match must hold,
# which is far cheaper to test. Each tuple lists such pieces for its pattern.
_COPYRIGHT_NEEDLES = (
    "版權",
    "版权",
    "轉載",
    "转载",
    "未經授權",
    "未经授权",
    "禁止",
    "免責",
    "免责",
    "rights reserved",
    "rechte vorbehalten",
    "droits réservés",
    "無断転載",
    "copyright",
    "©",
)
_PHOTO_NEEDLES = (
    "photo",
    "picture",
    "image",
    "foto",
    "bild",
    "圖",
    "图",
    "攝影",
    "摄影",
    "照片",
    "写真",
    "題圖",
    "题图",
    "getty images",
    "afp",
    "reuters",
    "epa",
    "shutterstock",
    "istock",
)
_CONTACT_NEEDLES = ("contact", "inquiries", "kontakt", "媒體聯絡", "媒体联系")
_END_NEEDLES = ("完", "end")
_DIGIT = re.compile(r"\d")


def _holds(lowered: str, needles: tuple[str, ...]) -> bool:
    """Whether the text holds one of the pieces; each piece is tested by itself (fast for ASCII)."""
    return any(map(lowered.__contains__, needles))


def _gate(*groups: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that finds any of the pieces: a single pass tells a text that holds none of them
    (most lines, and in CJK text the test of each piece by itself is the slower way)."""
    return re.compile("|".join(re.escape(needle) for group in groups for needle in group))


def _may_hold(lowered: str, gate: re.Pattern[str]) -> bool:
    return lowered.isascii() or gate.search(lowered) is not None


_CLASSIFY_GATE = _gate(_END_NEEDLES, _COPYRIGHT_NEEDLES, _CONTACT_NEEDLES)


def classify(text: str) -> str | None:
    """The kind of boilerplate a short line is, or None when it is content."""
    if not text or len(text) > MAX_LINE:
        return None
    if text[0] == "{" and TEMPLATE.match(text):
        return "template"
    lowered = text.lower()
    gated = _may_hold(lowered, _CLASSIFY_GATE)
    if gated and _holds(lowered, _END_NEEDLES) and END_ONLY.match(text):
        return "end mark"
    if gated and _holds(lowered, _COPYRIGHT_NEEDLES) and COPYRIGHT.search(text):
        return "copyright"
    if _STARTS.match(text):  # one pattern tells most lines that none of these opens them
        kind = _opening_kind(text)
        if kind:
            return kind
    if gated and _holds(lowered, _CONTACT_NEEDLES) and CONTACT.match(text):
        return "contact"
    if len(text) <= 80 and _holds(lowered, _PHOTO_NEEDLES) and PHOTO.search(text):
        return "photo credit"
    if len(text) <= 60 and _DIGIT.search(text) and DATELINE.match(text):
        return "timestamp"
    return None


def _opening_kind(text: str) -> str | None:
    if AD.match(text):
        return "ad"
    if SHARE.match(text):
        return "share"
    if ATTRIBUTION.match(text):
        return "attribution"
    if EDITOR.match(text) and len(text) <= 60:
        return "editor"
    if CREDIT.match(text):
        return "credit"
    if len(text) <= 80 and BYLINE.match(text):
        return "byline"
    if CUE.match(text):
        return "cue"
    return None


# any of the patterns that open a line, as one pattern (case folded: a gate, the patterns decide)
_STARTS = re.compile(
    "|".join(f"(?:{p.pattern})" for p in (AD, SHARE, ATTRIBUTION, EDITOR, CREDIT, BYLINE, CUE)),
    re.I,
)


# lines that close a story or a page and may only be cut there: sign-offs, teasers, disclaimers,
# a bracketed credit or signature, submission and contact notes, sponsor notes
SIGNOFF = re.compile(
    r"(Thanks? (you )?for (reading|watching|listening)|That'?s (all|it) for (today|tonight|this week|now)|"
    r"\bthat'?s (the|our) .{0,60} for (today|tonight|this \w+)|\bGood night\.?$|"
    r"Forward (it|this)( email| newsletter)? to a friend|refer a friend|See you (tomorrow|next week)|"
    r"was (copy )?edited by|When we come back|Still ahead|Coming up (next|after)|After the break|"
    r"made possible (in part )?by|is sponsored by|brought to you by|underwritten by|"
    r"Das waren die Nachrichten|nächste Ausgabe|C'est tout pour|播送完了|感谢您的收看|感謝您的收看|"
    r"欢迎转发|歡迎轉發|转发给|轉發給|明天见|下期再见|下期再會|准时更新|準時更新|更多新聞請|更多新闻请|"
    r"下載App|下载App|喜欢就点|喜歡就點|点个.?在看|點個.?在看|以上内容仅供参考|以上內容僅供參考)",
    re.I,
)
DISCLAIMER = re.compile(
    r"^\s*[(（]?\s*(风险提示|風險提示|免责声明|免責聲明|声明|聲明|Disclaimer|Hinweis|注意事項|※|注[:：]|註[:：])",
    re.I,
)
BRACKETED = re.compile(r"^\s*[(（〔\[【][^()（）〔〕\[\]【】]{2,30}[)）〕\]】]\s*$")
SIGNATURE = re.compile(r"^\s*(——|—|--)\s*\S.{0,30}$")
STAFF = re.compile(r"(本期|本期責編|本期责编)?(编辑|編輯|责编|責編|校对|校對|审核|審核)\s*[:：]")
SUBMIT = re.compile(
    r"(To submit|Send (us )?(your )?(announcements|letters|tips|news)|Have news to share|Feedback or tips|"
    r"Letters (to the editor )?(may|should|must) be|投書請寄|投书请寄|來稿|来稿|投稿請|投稿请|"
    r"取消訂閱|取消订阅|unsubscribe|Abmelden|se désinscrire)",
    re.I,
)
_SIGNOFF_NEEDLES = (
    "thank",
    "that's",
    "thats",
    "good night",
    "forward",
    "refer a friend",
    "see you",
    "edited by",
    "come back",
    "still ahead",
    "coming up",
    "after the break",
    "made possible",
    "sponsored by",
    "brought to you by",
    "underwritten by",
    "das waren",
    "nächste ausgabe",
    "c'est tout",
    "播送完了",
    "感谢",
    "感謝",
    "欢迎转发",
    "歡迎轉發",
    "转发给",
    "轉發給",
    "明天见",
    "下期再",
    "准时更新",
    "準時更新",
    "更多新",
    "下載app",
    "下载app",
    "喜欢就点",
    "喜歡就點",
    "点个",
    "點個",
    "以上内容",
    "以上內容",
)
_STAFF_NEEDLES = ("编辑", "編輯", "责编", "責編", "校对", "校對", "审核", "審核")
_SUBMIT_NEEDLES = (
    "to submit",
    "send ",
    "have news",
    "feedback or tips",
    "letters ",
    "投書",
    "投书",
    "來稿",
    "来稿",
    "投稿",
    "取消訂閱",
    "取消订阅",
    "unsubscribe",
    "abmelden",
    "désinscrire",
)
_CONTACT_INFO_NEEDLES = ("@", "-", "電話", "电话", "Tel", "Phone")
CONTACT_INFO = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|\(?\b\d{2,4}\)?[-\s]?\d{3,4}-\d{4}\b|\b1-8\d\d-\d{3}-\d{4}\b|(電話|电话|Tel|Phone)\s*[:：]"
)


_TAIL_GATE = _gate(_SIGNOFF_NEEDLES, _SUBMIT_NEEDLES)


def classify_tail(text: str, *, last: bool = True) -> str | None:
    """The kind of closing line a short line is, when it ends a story (``last``: the page's last
    story, where notes on submissions and contacts close the page), else None."""
    kind = classify(text)
    if kind:
        return kind
    if not text or len(text) > MAX_LINE:
        return None
    lowered = text.lower()
    gated = _may_hold(lowered, _TAIL_GATE)
    if gated and _holds(lowered, _SIGNOFF_NEEDLES) and SIGNOFF.search(text):
        return "sign-off"
    if DISCLAIMER.match(text):
        return "disclaimer"
    if BRACKETED.match(text) or SIGNATURE.match(text):
        return "credit"
    if len(text) <= 80 and _holds(text, _STAFF_NEEDLES) and STAFF.search(text):
        return "editor"
    if last and gated and _holds(lowered, _SUBMIT_NEEDLES) and SUBMIT.search(text):
        return "submissions"
    if (
        last
        and len(text) <= 120
        and _holds(text, _CONTACT_INFO_NEEDLES)
        and CONTACT_INFO.search(text)
    ):
        return "contact"
    return None


_END_WINDOW = 120


def strip_end_mark(text: str) -> str:
    """Remove a trailing （完） or -END- from the last paragraph of a story."""
    # every match runs to the end of the text and holds 完 or END: look at the end only, unless a
    # match there could reach further back (a long run of dashes)
    cut = max(0, len(text) - _END_WINDOW)
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
