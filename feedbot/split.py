"""Splitting a page into stories by headline.

Owns: choosing the headline structure of a page (scoring every candidate structure), recognising
single-article pages, cutting boilerplate at the edges, and building the items. Pure: text in, values
out; no network, no disk, no clock. The explanation (candidates, scores, what was cut) is part of the
result so that ``feedbot preview`` can show why.
"""

from __future__ import annotations

import html as htmllib
import itertools
import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from . import boilerplate
from .dates import page_time, page_zone
from .extract import (
    HEADINGS,
    SEPARATOR_GAP,
    Block,
    Element,
    Extracted,
    extract_html,
    extract_text,
)
from .model import Candidate, Dropped, Item, Split

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W\d_]+|\d+", re.U)
SENTENCE_END = tuple("。．.；;，,、…」』”\"'")
MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("num-dot", re.compile(r"^\s*(\d{1,3})\s*[.．](?!\d)\s*")),
    ("num-comma", re.compile(r"^\s*(\d{1,3})\s*[、，](?!\d)\s*")),
    ("num-paren", re.compile(r"^\s*(\d{1,3})\s*[)）]\s*")),
    ("paren-num", re.compile(r"^\s*[(（]\s*(\d{1,3}|[一二三四五六七八九十]{1,3})\s*[)）]\s*")),
    ("cjk-num", re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*")),
    ("circled", re.compile(r"^\s*([\u2460-\u2473\u3251-\u325f])\s*")),
    ("hash-num", re.compile(r"^\s*#\s*(\d{1,3})\b[:.]?\s*")),
    ("article-num", re.compile(r"^\s*(第[一二三四五六七八九十\d]{1,4}[条則则项項])\s*[：:、]?\s*")),
    ("bullet", re.compile(r"^\s*([■□●○◆◇▲△★☆▶►◎※])\s*")),
]
# every marker pattern opens (after white space) with a decimal digit or one of these characters
_MARKER_FIRST = frozenset("(（#第■□●○◆◇▲△★☆▶►◎※一二三四五六七八九十") | frozenset(
    chr(c) for c in [*range(0x2460, 0x2474), *range(0x3251, 0x3260)]
)
_PREFIX = 64
_CJK_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
DIGEST_CUES = re.compile(
    r"(最新消息|消息汇总|消息彙總|汇总|彙總|早报|早報|晚报|晚報|快讯|快訊|要闻|要聞|速览|速覽|一览|一覽|周刊|週刊|"
    r"日报|日報|联播|聯播|简报|簡報|摘要|精选|精選|盘点|盤點|合集|读者来信|讀者來信|来信|來信|直播|滚动|滾動|实时|"
    r"ニュース|まとめ|速報|brief|briefing|digest|round-?up|newsletter|weekly|daily|this week|"
    r"things to know|need to know|what happened|live|updates|morning|evening|edition|letters|"
    r"headlines|in short|Nachrichten|Überblick|essentiel|actualités|revue)",
    re.I,
)
SECTION_CUES = re.compile(
    r"^(背景|分析|展望|结语|結語|结论|結論|引言|前言|总结|總結|概述|小结|小結|问题|問題|原因|影响|影響|"
    r"对策|對策|建议|建議|现状|現狀|未来|未來|后记|後記|附录|附錄|第[一二三四五六七八九十\d]+[步章节節部分]|"
    r"introduction|background|conclusions?|summary|overview|what'?s next|next steps|the problem|why it matters|"
    r"how it works|getting started|prerequisites|step \d+|faq|method|results|discussion|"
    r"はじめに|まとめ|おわりに|背景|概要|Einleitung|Fazit|Hintergrund|Conclusion|Contexte)",
    re.I,
)
QA_LINE = re.compile(r"^\s*(问|問|答|Q|A|记者|記者|主持人|[A-Z][a-z]+)\s*[:：]")
# families whose headline is a lead phrase opening a block, the rest of the block being body
LEAD_FAMILIES = ("li-", "p-bold-lead", "bracket-lead")
PRIORS = {
    "h2": 0.35,
    "h3": 0.35,
    "h4": 0.3,
    "h5": 0.25,
    "h6": 0.2,
    "h1": 0.2,
    "bold": 0.3,
    "bracket": 0.3,
    "bracket-lead": 0.25,
    "li-bold": 0.3,
    "li-link": 0.25,
    "p-bold-lead": 0.05,
    "short": 0.0,
    "selector": 5.0,
    "regex": 5.0,
}


@dataclass(frozen=True)
class SplitOptions:
    mode: str = "auto"  # auto | headlines | whole
    content_selector: str | None = None
    exclude_selectors: tuple[str, ...] = ()
    headline_selector: str | None = None
    headline_regex: str | None = None
    timezone: str | None = None  # the source's: the zone of dates the page writes without one


def units(text: str, limit: float | None = None) -> float:
    """Length in reading units: a CJK character counts 1, a word of other scripts counts 1.6.

    With ``limit``, a long text is measured only as far as needed to tell that it is over the limit:
    the result is then some value above ``limit`` (a prefix never has more units than the whole), so
    comparisons against ``limit`` or anything below it stay exact while paragraphs cost little."""
    if limit is not None and len(text) > int(limit) + 16:
        # a CJK paragraph is over the limit within limit + 16 characters (its CJK characters alone
        # say so), an English one within about eight characters a unit (long words, one pass)
        short = text[: int(limit) + 16]
        if not short.isascii():
            cjk = sum(map(len, _CJK_RUN.findall(short)))
            if cjk > limit:
                return float(cjk)
            cut = int(4 * limit) + _PREFIX
        else:
            cut = int(8 * limit) + _PREFIX
        if len(text) > cut:
            head = _units(text[:cut])
            if head > limit:
                return head
    return _units(text)


# ASCII letters to "a", digits to "0", everything else to a space: words are then the runs of "a"
# and of "0" (what _WORD finds in ASCII text), counted with str methods instead of a regex
_ASCII_WORDS = str.maketrans(
    {chr(c): "a" if chr(c).isalpha() else "0" if chr(c).isdigit() else " " for c in range(128)}
)


def _units(text: str) -> float:
    if text.isascii():
        folded = text.translate(_ASCII_WORDS)
        words = folded.count(" a") + (folded[:1] == "a")
        if "0" in folded:
            words += folded.count(" 0") + (folded[:1] == "0")
            words += folded.count("a0") + folded.count("0a")
        return 1.6 * words
    runs: list[str] = _CJK_RUN.findall(text)
    if not runs:
        return 1.6 * len(_WORD.findall(text))
    cjk = sum(map(len, runs))
    words = len(_WORD.findall(_CJK_RUN.sub(" ", text)))
    return cjk + 1.6 * words


def _may_mark(text: str) -> bool:
    first = text.lstrip()[:1]
    return bool(first) and (first.isdecimal() or first in _MARKER_FIRST)


def strip_marker(text: str) -> str:
    for _name, pattern in MARKERS if _may_mark(text) else ():
        match = pattern.match(text)
        if match and match.end() < len(text):
            text = text[match.end() :]
            break
    text = text.strip()
    if text.startswith(("【", "[")) and text.endswith(("】", "]")) and len(text) > 2:
        text = text[1:-1].strip()
    return text.rstrip(":：").strip()


def marker_of(text: str) -> tuple[str, int] | None:
    if not _may_mark(text):
        return None
    for name, pattern in MARKERS:
        match = pattern.match(text)
        if match and match.end() < len(text):
            value = match.group(1)
            number = 0
            if value.isascii() and value.isdigit():
                number = int(value)
            elif value in _CJK_DIGITS:
                number = _CJK_DIGITS[value]
            elif len(value) == 1 and "\u2460" <= value <= "\u2473":
                number = ord(value) - 0x245F
            return name, number
    return None


@dataclass
class _Scored:
    name: str
    heads: list[int]
    score: float
    reasons: list[str]
    ok: bool


def _body_chars(block: Block) -> float:
    return len(block.text) * (1.0 - block.link_ratio)


def _chunked(blocks: Sequence[Block]) -> bool:
    """Lines grouped into chunks by blank lines: a story is one chunk, its headline the first line."""
    lines = [b for b in blocks[1:] if b.tag == "line"]
    if len(lines) < 4:
        return False
    together = sum(1 for b in lines if b.gap == 0) / len(lines)
    apart = sum(1 for b in lines if b.gap > 0) / len(lines)
    return together >= 0.25 and apart >= 0.1


def _families(
    blocks: Sequence[Block], skip: set[int], sizes: Sequence[float] | None = None
) -> dict[str, list[int]]:
    fams: dict[str, list[int]] = {}
    if sizes is None:
        sizes = [units(b.text, 80) for b in blocks]
    chunked = _chunked(blocks)

    def add(name: str, index: int) -> None:
        fams.setdefault(name, []).append(index)

    for i, block in enumerate(blocks):
        if i in skip:
            continue
        text = block.text
        size = sizes[i]
        if block.tag in HEADINGS:
            if size <= 80:
                add(block.tag, i)
            continue
        if block.lead and block.lead_kind:
            if block.tag == "li":
                add(f"li-{block.lead_kind}", i)
            elif block.lead_kind == "bracket":
                add("bracket-lead", i)
            elif block.lead_kind == "bold" and units(block.lead, 40) <= 40:
                add("p-bold-lead", i)
        if size > 60:
            continue
        mark = marker_of(text)
        if mark and (block.bold or not text.endswith(SENTENCE_END) or size <= 30):
            add(f"mark:{mark[0]}", i)
        if block.bold and block.tag != "li":
            add("bold", i)
        if text.startswith("【") and text.endswith("】"):
            add("bracket", i)
        nxt = i + 1
        while nxt in skip:
            nxt += 1
        if (
            chunked
            and block.tag == "line"
            and ((i and block.gap == 0) or nxt >= len(blocks) or blocks[nxt].gap > 0)
        ):
            continue  # not the first line of a chunk with more lines
        if (
            block.tag in ("line", "p")
            and not block.bold
            and not text.endswith(SENTENCE_END)
            and size <= 40
            and block.link_ratio < 0.5
            and i + 1 < len(blocks)
            and sizes[i + 1] > size
        ):
            add("short", i)
    return fams


def _score(
    name: str,
    heads: list[int],
    blocks: Sequence[Block],
    skip: set[int],
    total: float,
    chars: Sequence[float] | None = None,
) -> _Scored:
    reasons: list[str] = []
    n = len(heads)
    if n < 2 and not (n == 1 and name in ("h2", "h3", "h4")):
        # one heading can stand for a digest that has a single story today; nothing else can
        return _Scored(name, heads, 0.0, ["fewer than 2 headlines"], False)
    lead_family = name.startswith(LEAD_FAMILIES)
    if chars is None:
        chars = [0.0 if j in skip else _body_chars(b) for j, b in enumerate(blocks)]
    head_sizes: list[float] = []
    body_sizes: list[float] = []
    covered = 0.0
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < n else len(blocks)
        block = blocks[start]
        head_text = _head_text(block, lead_family)
        head_sizes.append(units(head_text))
        body = 0.0
        if lead_family and block.lead:
            body += len(block.text) - len(block.lead)
        body = sum(chars[start + 1 : end], body)  # in order, as a loop would add them
        body_sizes.append(body)
        covered += body + len(head_text)
    with_body = [b >= max(12.0, 0.8 * h) for b, h in zip(body_sizes, head_sizes, strict=True)]
    frac_body = sum(with_body) / n
    coverage = min(1.0, covered / total) if total else 0.0
    mean_head = statistics.fmean(head_sizes)
    cv = statistics.pstdev(head_sizes) / mean_head if mean_head else 1.0
    score = 3.0 * frac_body + 1.5 * coverage + 0.5 * (1.0 - min(cv, 1.0))
    score += PRIORS.get(name, 0.3 if name.startswith("mark:") else 0.1)
    reasons.append(f"{n} headlines, {frac_body:.0%} with a body, cover {coverage:.0%} of the text")
    if name.startswith("mark:"):
        numbers = [marker_of(blocks[i].text) for i in heads]
        values = [m[1] for m in numbers if m]
        if (
            name != "mark:bullet"
            and values
            and all(b - a == 1 for a, b in itertools.pairwise(values))
        ):
            score += 0.6
            reasons.append("numbered in sequence")
        elif name != "mark:bullet":
            score -= 0.4
            reasons.append("numbers out of sequence")
    if mean_head > 45:
        score -= min(2.0, (mean_head - 45) / 20)
        reasons.append(f"long headlines (mean {mean_head:.0f} units)")
    median_body = statistics.median(body_sizes)
    if median_body < 2 * mean_head:
        score -= 0.8
        reasons.append("bodies barely longer than headlines")
    linked = sum(blocks[i].link_ratio > 0.5 for i in heads) / n
    if linked > 0.5 and not name.startswith("li-link"):
        score -= 0.5
        reasons.append("headlines are mostly links (a table of contents?)")
    if n == 1:
        score -= 2.0
        reasons.append("a single headline")
    ok = frac_body >= 0.5 and mean_head <= 80
    if not ok:
        reasons.append(
            "rejected: too few headlines with a body"
            if frac_body < 0.5
            else "rejected: headlines too long"
        )
    return _Scored(name, heads, round(score, 3), reasons, ok)


def _grouping(
    best: _Scored, scored: dict[str, _Scored], blocks: Sequence[Block], skip: set[int]
) -> _Scored | None:
    """If the chosen headlines are section labels each directly followed by finer headlines, the finer
    level is the item level (a round-up grouped under "Politics", "Business", ...)."""
    chosen = set(best.heads)
    for other in sorted(scored.values(), key=lambda s: -s.score):
        if other.name == best.name or not other.ok or len(other.heads) < len(best.heads):
            continue
        others = set(other.heads)
        if others & chosen:
            continue
        followed = 0
        for i in best.heads:
            j = i + 1
            while j in skip:
                j += 1
            if j in others:
                followed += 1
        if followed / len(best.heads) >= 0.7:
            return other
    return None


def _is_single_article(
    title: str,
    best: _Scored,
    blocks: Sequence[Block],
    heads_text: list[str],
    skip: set[int] | None = None,
) -> tuple[bool, list[str]]:
    reasons: list[str] = []
    if title and DIGEST_CUES.search(title):
        return False, [f"title {title!r} names a digest"]
    score = 0.0
    qa = sum(
        1
        for b in blocks
        if (QA_LINE.match(b.text) and b.text[:2] not in ("A:",))
        or b.text.startswith(("问：", "問：", "Q:", "Q："))
    )
    if (
        sum(
            1
            for b in blocks
            if b.text.startswith(("问：", "問：", "Q:", "Q：", "答：", "A:", "A："))
        )
        >= 4
    ):
        score += 2
        reasons.append("question-and-answer paragraphs (an interview)")
    del qa
    sizes = [units(h) for h in heads_text]
    mean = statistics.fmean(sizes) if sizes else 0.0
    if mean <= 7:
        score += 1.2
        reasons.append(f"short section-like headings (mean {mean:.1f} units)")
    elif mean <= 10:
        score += 0.5
    # a single article opens with an introduction as long as one of its sections; a digest opens
    # with a greeting or a one-line summary, if anything
    skipped = skip or set()
    lead = sum(_body_chars(blocks[i]) for i in range(best.heads[0]) if i not in skipped)
    section_sizes = []
    for k, start in enumerate(best.heads):
        end = best.heads[k + 1] if k + 1 < len(best.heads) else len(blocks)
        section_sizes.append(
            sum(_body_chars(blocks[j]) for j in range(start + 1, end) if j not in skipped)
        )
    typical = statistics.median(section_sizes) if section_sizes else 0.0
    if typical and lead >= typical:
        score += 1.5
        reasons.append("an introduction as long as a section")
    elif typical and lead >= 0.55 * typical:
        score += 1.0
        reasons.append("an introduction half as long as a section")
    questions = sum(1 for h in heads_text if h.rstrip().endswith(("?", "？")))
    if heads_text and questions / len(heads_text) >= 0.5:
        score += 1.0
        reasons.append("the headings are questions (an interview or an explainer)")
    cues = sum(1 for h in heads_text if SECTION_CUES.match(strip_marker(h)))
    if heads_text and cues / len(heads_text) >= 0.3:
        score += 1.2
        reasons.append(f"{cues} headings are section names")
    if title:
        terms = _terms(title)
        if terms:
            bodies = _bodies_text(best.heads, blocks)
            hits = sum(1 for body in bodies if len(terms & _terms(body)) >= min(2, len(terms)))
            share = hits / len(bodies) if bodies else 0.0
            if share >= 0.66:
                score += 1.0
                reasons.append(f"the title's words recur in {share:.0%} of the sections")
    return score >= 2.0, reasons or ["headlines look like separate stories"]


_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "are",
        "was",
        "were",
        "will",
        "what",
        "when",
        "where",
        "which",
        "about",
        "into",
        "after",
        "over",
        "more",
        "than",
        "their",
        "they",
        "them",
    ]
)


def _terms(text: str) -> set[str]:
    cjk = _CJK.findall(text)
    grams = {a + b for a, b in itertools.pairwise(cjk)}
    words = {w.lower() for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in _STOP}
    return grams | words


def _bodies_text(heads: list[int], blocks: Sequence[Block]) -> list[str]:
    out = []
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(blocks)
        out.append(" ".join(b.text for b in blocks[start + 1 : end]))
    return out


_LABEL = re.compile(r"^\s*[^:：]{1,30}[:：]\s*\S")


def _link_only(block: Block) -> bool:
    return block.link_ratio >= 0.9 and block.tag not in HEADINGS and units(block.text, 60) <= 60


def _is_heading_like(block: Block) -> bool:
    return block.tag in HEADINGS or (block.bold and block.tag != "li")


def _toc_key(text: str) -> str:
    return "".join(strip_marker(text).split()).lower()


def _prepass(blocks: Sequence[Block], sizes: Sequence[float] | None = None) -> dict[int, str]:
    """Blocks that are no story's text, with the reason: boilerplate lines, runs of bare links (a table
    of contents, a "related" list), a lone link after a story ("Go deeper: ...", "View all"), an entry
    of an in-page table of contents (its text comes again further down), and a heading over nothing
    but links."""
    reasons: dict[int, str] = {}
    n = len(blocks)
    if sizes is None:
        sizes = [units(b.text, 80) for b in blocks]
    for i, block in enumerate(blocks):
        kind = boilerplate.classify(block.text)
        if kind:
            reasons[i] = kind
        elif block.tag in ("figure", "figcaption"):
            reasons[i] = "caption"  # describes a picture the item does not carry
    links = [_link_only(b) and not b.bold for b in blocks]
    for i in range(n):
        if not links[i] or i in reasons:
            continue
        j = i + 1
        while j < n and j in reasons:
            j += 1
        k = i - 1
        while k >= 0 and k in reasons and reasons[k] != "links":
            k -= 1
        if (
            (j < n and links[j])
            or (k >= 0 and links[k] and reasons.get(k) == "links")
            or j >= n
            or _is_heading_like(blocks[j])
            or _LABEL.match(blocks[i].text)
            or " · " in blocks[i].text
            or " | " in blocks[i].text
        ):
            reasons[i] = "links"
    # an in-page table of contents: a short line whose text comes again later
    entries = [
        i
        for i, block in enumerate(blocks)
        if i not in reasons and block.tag not in HEADINGS and sizes[i] <= 60
    ]
    keys = {i: _toc_key(blocks[i].text) for i in entries}
    # a text with the same key has at most a marker, brackets and colons more than the key, not
    # counting white space (a block's text is collapsed: its only white space is single spaces)
    bound = max((len(key) for key in keys.values()), default=0) + 16
    last: dict[str, int] = {}
    for i, block in enumerate(blocks):
        if i in keys:
            last[keys[i]] = i
        elif len(block.text) - block.text.count(" ") <= bound:
            last[_toc_key(block.text)] = i
    for i in entries:
        if last[keys[i]] != i:
            reasons[i] = "table of contents"
    # a heading whose section holds nothing but links ("Related", "Past issues")
    heading_like = [_is_heading_like(block) for block in blocks]
    for i in range(n):
        if i in reasons or not heading_like[i]:
            continue
        j = i + 1
        linked = 0
        text = 0.0
        while j < n and not heading_like[j]:
            if reasons.get(j) == "links":
                linked += 1
            elif j not in reasons:
                text += _body_chars(blocks[j])
            j += 1
        if linked >= 2 and text < 40:
            for k in range(i, j):
                reasons.setdefault(k, "links")
    return reasons


def _override_heads(blocks: Sequence[Block], options: SplitOptions, skip: set[int]) -> list[int]:
    if options.headline_regex:
        pattern = re.compile(options.headline_regex)
        return [i for i, b in enumerate(blocks) if i not in skip and pattern.search(b.text)]
    return []


def _selector_texts(page_text: str, selector: str) -> set[str]:
    from .extract import collapse
    from .parse import parse_html

    soup = parse_html(page_text)
    return {collapse(tag.get_text(" ")) for tag in soup.select(selector)} - {""}


def split_page(
    text: str,
    content_type: str = "text/html",
    options: SplitOptions | None = None,
    *,
    language: str | None = None,
) -> Split:
    """Split one page into items. Never raises on odd input; an empty result has no items.
    ``language`` is the page's Content-Language header (a hint for its time zone)."""
    options = options or SplitOptions()
    if content_type == "text/plain":
        ext = extract_text(text)
    else:
        ext = extract_html(
            text, content_selector=options.content_selector, exclude=options.exclude_selectors
        )
    return split_blocks(ext, options, page_text=text, language=language)


def split_blocks(
    ext: Extracted, options: SplitOptions, page_text: str = "", language: str | None = None
) -> Split:
    blocks = ext.blocks
    dropped: list[Dropped] = [Dropped(reason, text) for reason, text in ext.dropped]
    attribution: str | None = None
    sizes = [units(b.text, 80) for b in blocks]  # exact up to 80, else some value above
    reasons = _prepass(blocks, sizes)
    skip: set[int] = set(reasons)
    body_chars = [_body_chars(b) for b in blocks]
    total = sum(body_chars[i] for i in range(len(blocks)) if i not in skip)
    title = ext.title
    # plain text: the first line is the title when it stands alone before the first headline
    if ext.is_text and blocks and units(blocks[0].text, 45) <= 45 and len(blocks) > 2:
        first = blocks[0].text
        if not first.endswith(tuple("。．.；;，,")) and units(blocks[1].text, 45) <= 45:
            title = first
            skip.add(0)
            reasons[0] = "title"

    fams = _families(blocks, skip, sizes)
    chars = [0.0 if i in skip else body_chars[i] for i in range(len(blocks))]
    scored: dict[str, _Scored] = {}
    forced: list[int] = []
    if options.headline_regex:
        forced = _override_heads(blocks, options, skip)
        scored["regex"] = _score("regex", forced, blocks, skip, total, chars)
    elif options.headline_selector:
        wanted = _selector_texts(page_text, options.headline_selector)
        forced = [
            i
            for i, b in enumerate(blocks)
            if i not in skip and (b.text in wanted or (b.lead or "") in wanted)
        ]
        scored["selector"] = _score("selector", forced, blocks, skip, total, chars)
    else:
        for name, heads in fams.items():
            scored[name] = _score(name, heads, blocks, skip, total, chars)
    candidates = tuple(
        sorted(
            (Candidate(s.name, len(s.heads), s.score, tuple(s.reasons)) for s in scored.values()),
            key=lambda c: (-c.score, c.name),
        )
    )
    viable = (
        [s for s in scored.values() if s.ok]
        if not forced
        else [s for s in scored.values() if s.heads]
    )
    best = max(viable, key=lambda s: (s.score, -len(s.name))) if viable else None
    section_heads: set[int] = set()
    if best is not None and not forced:
        finer = _grouping(best, scored, blocks, skip)
        if finer is not None:
            section_heads = set(best.heads)
            best = finer
    closing: int | None = None
    if best is not None and not forced:
        closing = _closing_heads(best.heads, blocks, skip, chars)
        if closing is not None:
            best = _Scored(best.name, best.heads[:closing], best.score, best.reasons, best.ok)

    zone = page_zone(
        configured=options.timezone,
        dated=ext.dated,
        lang=ext.lang,
        content_language=language,
        text=" ".join([title, *(b.text for b in blocks[:40])]),
    )

    def finish(items: list[Item], structure: str, single: bool) -> Split:
        return Split(
            title=title,
            items=tuple(items),
            structure=structure,
            single_article=single,
            candidates=candidates,
            dropped=tuple(dropped),
            attribution=attribution,
            published=page_time(ext.published, zone),
            date_zone=zone.reason if ext.published and ext.published.tzinfo is None else "",
        )

    lead_family = best is not None and best.name.startswith(LEAD_FAMILIES)
    heads_text = (
        []
        if best is None
        else [strip_marker(_head_text(blocks[i], lead_family)) for i in best.heads]
    )
    single = False
    if options.mode == "whole":
        single = True
    elif options.mode == "auto" and best is not None and not forced and not lead_family:
        single, why = _is_single_article(title, best, blocks, heads_text, skip)
        candidates = (
            *candidates,
            Candidate("single-article", 1 if single else 0, 1.0 if single else 0.0, tuple(why)),
        )

    # what is cut: boilerplate lines, the page-level attribution
    def record_skips(indices: Sequence[int]) -> None:
        nonlocal attribution
        for i in indices:
            kind = reasons.get(i) or boilerplate.classify(blocks[i].text) or "boilerplate"
            if kind == "attribution" and attribution is None:
                attribution = boilerplate.clean_attribution(blocks[i].text)
            dropped.append(Dropped(kind, blocks[i].text))

    if single:
        body = [i for i in range(len(blocks)) if i not in skip]
        # a plain-text title line becomes the article's headline, so it is not reported as cut
        record_skips(sorted(i for i in skip if reasons.get(i) != "title"))
        while len(body) > 1 and units(blocks[body[0]].text, 4) <= 4:
            # a kicker over the article ("Q&A", "Analysis")
            if blocks[body[0]].text.endswith(SENTENCE_END):
                break
            dropped.append(Dropped("kicker", blocks[body.pop(0)].text))
        while body:
            kind = boilerplate.classify_tail(blocks[body[-1]].text, last=True)
            if not kind:
                break
            dropped.append(Dropped(kind, blocks[body.pop()].text))
        if not body:
            return finish([], "whole", True)
        # with no title, the first line is the headline (and so not also the body's first line)
        headline = title or blocks[body.pop(0)].text
        item = _make_item(headline, [blocks[i] for i in body], None, 0, None)
        return finish([item], "whole", True)

    if best is None:
        record_skips(sorted(skip))
        for i, b in enumerate(blocks):
            if i not in skip:
                dropped.append(Dropped("no headline structure", b.text))
        return finish([], "none", False)

    heads = best.heads
    ends = [heads[k + 1] if k + 1 < len(heads) else len(blocks) for k in range(len(heads))]
    outside = _outside_items(heads, ends, blocks, skip)
    trailer = _trailer_start(heads, blocks, skip, reasons)
    items: list[Item] = []
    for i in range(0, heads[0]):
        if i not in skip:
            dropped.append(Dropped("lead" if i not in section_heads else "section", blocks[i].text))
    record_skips(sorted(i for i in skip if i < heads[0]))
    for k, start in enumerate(heads):
        end = ends[k]
        last_item = k == len(heads) - 1
        head = blocks[start]
        body_idx: list[int] = []
        for j in range(start + 1, end):
            if j in skip:
                continue
            if j in section_heads:
                dropped.append(Dropped("section", blocks[j].text))
            elif j in outside:
                dropped.append(Dropped("outside the story", blocks[j].text))
            elif last_item and trailer is not None and j >= trailer:
                dropped.append(Dropped("trailer", blocks[j].text))
            else:
                body_idx.append(j)
        while body_idx:
            kind = boilerplate.classify_tail(blocks[body_idx[-1]].text, last=last_item)
            if not kind:
                break
            dropped.append(Dropped(kind, blocks[body_idx.pop()].text))
        own_skips = [j for j in range(start + 1, end) if j in skip]
        item_attr: str | None = None
        for j in own_skips:
            kind = boilerplate.classify(blocks[j].text)
            if kind == "attribution" and not last_item:
                item_attr = boilerplate.clean_attribution(blocks[j].text)
        record_skips(own_skips)
        headline = strip_marker(_head_text(head, lead_family))
        body_blocks = [blocks[j] for j in body_idx]
        if lead_family and head.lead:
            rest_text = head.rest_text
            if _SOURCE_NOTE.match(rest_text):
                # "<a>Headline</a> (Site name)": the note names where the link goes
                item_attr = item_attr or rest_text.strip("()（） ")
                dropped.append(Dropped("attribution", rest_text))
            else:
                body_blocks.insert(0, Block(text=rest_text, html=head.rest_html, tag="p"))
        if not body_blocks and not items and k + 1 < len(heads):
            dropped.append(Dropped("title", head.text))
            continue
        items.append(_make_item(headline, body_blocks, head.anchor, len(items), item_attr))
    return finish(items, best.name, False)


_SOURCE_NOTE = re.compile(r"^\s*[(（][^()（）]{2,40}[)）]\s*$")


def _ancestors(tag: Element | None) -> Iterator[Element]:
    while tag is not None and tag.tag != "html":
        yield tag
        tag = tag.getparent()


def _outside_items(
    heads: list[int], ends: list[int], blocks: Sequence[Block], skip: set[int]
) -> set[int]:
    """When every story sits in an element of its own (a <section>, an <li>), text after a story's
    element and before the next headline belongs to no story (a gallery, an editors' note)."""
    elements = [blocks[h].element for h in heads]
    if len(heads) < 2 or any(e is None for e in elements):
        return set()
    # each chain runs from the top down: lxml frees an element's Python proxy cheaply only while
    # its parent still has one, and a list lets go of its items from the last one back
    chains = [list(_ancestors(e))[::-1] for e in elements]
    ids = [{id(a) for a in chain} for chain in chains]
    boxes: list[Element] = []
    for k, chain in enumerate(chains):
        others = (ids[k - 1] if k else set()) | (ids[k + 1] if k + 1 < len(chains) else set())
        box = chain[-1]
        for tag in reversed(chain):
            if id(tag) in others:
                break
            box = tag
        boxes.append(box)

    def inside(j: int, box: Element) -> bool:
        return any(tag is box for tag in _ancestors(blocks[j].element))

    out: set[int] = set()
    for k, start in enumerate(heads):
        body = [j for j in range(start + 1, ends[k]) if j not in skip]
        if not body:
            continue
        if not inside(body[0], boxes[k]):
            return set()
        out.update(j for j in body if not inside(j, boxes[k]))
    return out


def _closing_heads(
    heads: list[int],
    blocks: Sequence[Block],
    skip: set[int],
    chars: Sequence[float] | None = None,
) -> int | None:
    """The position in ``heads`` where the page's closing notes begin: the first headline after a
    rule (<hr>, "-----") when no earlier story is set off by one and what follows is shorter than a
    story (an organisation's name over its phone number is no story)."""
    if len(heads) < 3:
        return None
    if chars is None:
        chars = [0.0 if j in skip else _body_chars(b) for j, b in enumerate(blocks)]
    sizes = []
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(blocks)
        sizes.append(sum(chars[start:end]))
    for k in range(2, len(heads)):
        if blocks[heads[k]].gap < SEPARATOR_GAP:
            continue
        if any(blocks[h].gap >= SEPARATOR_GAP for h in heads[1:k]) or len(heads) - k > 2:
            return None
        if sum(sizes[k:]) < statistics.median(sizes[:k]):
            return k
        return None
    return None


def _trailer_start(
    heads: list[int], blocks: Sequence[Block], skip: set[int], reasons: dict[int, str]
) -> int | None:
    """Where the page's closing text starts inside the last story: after an end mark, or at a break
    as wide as the ones between stories (a rule, blank lines) when the stories' own paragraphs are
    never that far apart."""
    last = heads[-1]
    body = [j for j in range(last + 1, len(blocks)) if j not in skip]
    for j in range(last + 1, len(blocks)):
        if reasons.get(j) == "end mark" and any(b < j for b in body):
            return j
    if len(heads) < 2 or len(body) < 2:
        return None

    def gap(j: int) -> int:
        value = blocks[j].gap
        m = j - 1
        while m >= 0 and m in skip:
            value = max(value, blocks[m].gap)
            m -= 1
        return value

    head_gaps = [gap(h) for h in heads[1:]]
    body_gaps = [
        gap(j)
        for k, h in enumerate(heads[:-1])
        for j in range(h + 1, heads[k + 1])
        if j not in skip
    ]
    widest = max(body_gaps, default=0)
    narrowest = min(head_gaps)
    if widest < narrowest:
        threshold = narrowest
    elif widest < SEPARATOR_GAP:
        threshold = SEPARATOR_GAP
    else:
        return None
    for j in body[1:]:
        if gap(j) >= threshold:
            return j
    return None


def _head_text(block: Block, lead_family: bool) -> str:
    return block.lead if lead_family and block.lead else block.text


def _make_item(
    headline: str, body: Sequence[Block], anchor: str | None, position: int, attribution: str | None
) -> Item:
    parts = [b.html for b in body]
    texts = [b.text for b in body]
    if parts:
        cleaned = boilerplate.strip_end_mark(texts[-1])
        if cleaned != texts[-1]:
            texts[-1] = cleaned
            parts[-1] = _strip_end_html(parts[-1])
    return Item(
        headline=headline,
        body_html="\n".join(parts),
        body_text="\n\n".join(t for t in texts if t),
        position=position,
        anchor=anchor,
        attribution=attribution,
    )


_END_HTML = re.compile(
    r"\s*[(（]\s*完\s*[)）]\s*(?=(</\w+>\s*)*$)|\s*[-—–]+\s*(END|完)\s*[-—–]+\s*(?=(</\w+>\s*)*$)"
)


def _strip_end_html(html: str) -> str:
    return _END_HTML.sub("", html)


def escape(text: str) -> str:
    return htmllib.escape(text, quote=False)


Splitter = Callable[[str, str, SplitOptions], Split]
