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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import boilerplate
from .extract import HEADINGS, Block, Extracted, extract_html, extract_text
from .model import Candidate, Dropped, Item, Split

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
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


def units(text: str) -> float:
    """Length in reading units: a CJK character counts 1, a word of other scripts counts 1.6."""
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return cjk + 1.6 * words


def strip_marker(text: str) -> str:
    for _name, pattern in MARKERS:
        match = pattern.match(text)
        if match and match.end() < len(text):
            text = text[match.end() :]
            break
    text = text.strip()
    if text.startswith(("【", "[")) and text.endswith(("】", "]")) and len(text) > 2:
        text = text[1:-1].strip()
    return text.rstrip(":：").strip()


def marker_of(text: str) -> tuple[str, int] | None:
    for name, pattern in MARKERS:
        match = pattern.match(text)
        if match and match.end() < len(text):
            value = match.group(1)
            number = 0
            if value.isdigit():
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


def _families(blocks: Sequence[Block], skip: set[int]) -> dict[str, list[int]]:
    fams: dict[str, list[int]] = {}

    def add(name: str, index: int) -> None:
        fams.setdefault(name, []).append(index)

    for i, block in enumerate(blocks):
        if i in skip:
            continue
        text = block.text
        size = units(text)
        if block.tag in HEADINGS:
            if size <= 80:
                add(block.tag, i)
            continue
        if block.lead and block.lead_kind:
            if block.tag == "li":
                add(f"li-{block.lead_kind}", i)
            elif block.lead_kind == "bracket":
                add("bracket-lead", i)
            elif block.lead_kind == "bold" and units(block.lead) <= 40:
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
        if (
            block.tag in ("line", "p")
            and not block.bold
            and not text.endswith(SENTENCE_END)
            and size <= 40
            and block.link_ratio < 0.5
            and i + 1 < len(blocks)
            and units(blocks[i + 1].text) > size
        ):
            add("short", i)
    return fams


def _score(
    name: str, heads: list[int], blocks: Sequence[Block], skip: set[int], total: float
) -> _Scored:
    reasons: list[str] = []
    n = len(heads)
    if n < 2:
        return _Scored(name, heads, 0.0, ["fewer than 2 headlines"], False)
    lead_family = name.startswith(("li-", "p-bold-lead", "bracket-lead"))
    head_sizes: list[float] = []
    body_sizes: list[float] = []
    covered = 0.0
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < n else len(blocks)
        block = blocks[start]
        head_text = block.lead if lead_family and block.lead else block.text
        head_sizes.append(units(head_text))
        body = 0.0
        if lead_family and block.lead:
            body += len(block.text) - len(block.lead)
        for j in range(start + 1, end):
            if j not in skip:
                body += _body_chars(blocks[j])
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
    title: str, best: _Scored, blocks: Sequence[Block], heads_text: list[str]
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
            if share >= 0.75:
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
    cjk = [c for c in text if _CJK.match(c)]
    grams = {a + b for a, b in itertools.pairwise(cjk)}
    words = {w.lower() for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in _STOP}
    return grams | words


def _bodies_text(heads: list[int], blocks: Sequence[Block]) -> list[str]:
    out = []
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(blocks)
        out.append(" ".join(b.text for b in blocks[start + 1 : end]))
    return out


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
) -> Split:
    """Split one page into items. Never raises on odd input; an empty result has no items."""
    options = options or SplitOptions()
    if content_type == "text/plain":
        ext = extract_text(text)
    else:
        ext = extract_html(
            text, content_selector=options.content_selector, exclude=options.exclude_selectors
        )
    return split_blocks(ext, options, page_text=text)


def split_blocks(ext: Extracted, options: SplitOptions, page_text: str = "") -> Split:
    blocks = ext.blocks
    dropped: list[Dropped] = [Dropped(reason, text) for reason, text in ext.dropped]
    skip: set[int] = set()
    attribution: str | None = None
    for i, block in enumerate(blocks):
        kind = boilerplate.classify(block.text)
        if kind:
            skip.add(i)
    total = sum(_body_chars(b) for i, b in enumerate(blocks) if i not in skip)
    title = ext.title
    # plain text: the first line is the title when it stands alone before the first headline
    if ext.is_text and blocks and units(blocks[0].text) <= 45 and len(blocks) > 2:
        first = blocks[0].text
        if not first.endswith(tuple("。．.；;，,")) and units(blocks[1].text) <= 45:
            title = first
            skip.add(0)

    fams = _families(blocks, skip)
    scored: dict[str, _Scored] = {}
    forced: list[int] = []
    if options.headline_regex:
        forced = _override_heads(blocks, options, skip)
        scored["regex"] = _score("regex", forced, blocks, skip, total)
    elif options.headline_selector:
        wanted = _selector_texts(page_text, options.headline_selector)
        forced = [
            i
            for i, b in enumerate(blocks)
            if i not in skip and (b.text in wanted or (b.lead or "") in wanted)
        ]
        scored["selector"] = _score("selector", forced, blocks, skip, total)
    else:
        for name, heads in fams.items():
            scored[name] = _score(name, heads, blocks, skip, total)
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

    def finish(items: list[Item], structure: str, single: bool) -> Split:
        return Split(
            title=title,
            items=tuple(items),
            structure=structure,
            single_article=single,
            candidates=candidates,
            dropped=tuple(dropped),
            attribution=attribution,
            published=ext.published,
        )

    lead_family = best is not None and best.name.startswith(("li-", "p-bold-lead", "bracket-lead"))
    heads_text = (
        []
        if best is None
        else [strip_marker(_head_text(blocks[i], lead_family)) for i in best.heads]
    )
    single = False
    if options.mode == "whole":
        single = True
    elif options.mode == "auto" and best is not None and not forced and not lead_family:
        single, why = _is_single_article(title, best, blocks, heads_text)
        candidates = (
            *candidates,
            Candidate("single-article", 1 if single else 0, 1.0 if single else 0.0, tuple(why)),
        )

    # what is cut: boilerplate lines, the page-level attribution
    def record_skips(indices: Sequence[int]) -> None:
        nonlocal attribution
        for i in indices:
            kind = boilerplate.classify(blocks[i].text) or "boilerplate"
            if kind == "attribution" and attribution is None:
                attribution = boilerplate.clean_attribution(blocks[i].text)
            dropped.append(Dropped(kind, blocks[i].text))

    if single:
        body = [i for i in range(len(blocks)) if i not in skip]
        record_skips(sorted(skip))
        if not body:
            return finish([], "whole", True)
        item = _make_item(title or blocks[body[0]].text, [blocks[i] for i in body], None, 0, None)
        return finish([item], "whole", True)

    if best is None:
        record_skips(sorted(skip))
        for i, b in enumerate(blocks):
            if i not in skip:
                dropped.append(Dropped("no headline structure", b.text))
        return finish([], "none", False)

    heads = best.heads
    items: list[Item] = []
    for i in range(0, heads[0]):
        if i not in skip:
            dropped.append(Dropped("lead" if i not in section_heads else "section", blocks[i].text))
    record_skips(sorted(i for i in skip if i < heads[0]))
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(blocks)
        head = blocks[start]
        body_idx = [j for j in range(start + 1, end) if j not in skip and j not in section_heads]
        for j in range(start + 1, end):
            if j in section_heads:
                dropped.append(Dropped("section", blocks[j].text))
        own_skips = [j for j in range(start + 1, end) if j in skip]
        item_attr: str | None = None
        last_item = k == len(heads) - 1
        for j in own_skips:
            kind = boilerplate.classify(blocks[j].text)
            if kind == "attribution" and not last_item:
                item_attr = boilerplate.clean_attribution(blocks[j].text)
        record_skips(own_skips)
        headline = strip_marker(head.lead if lead_family and head.lead else head.text)
        body_blocks = [blocks[j] for j in body_idx]
        if lead_family and head.lead:
            rest = Block(text=head.text, html=head.rest_html, tag="p")
            body_blocks.insert(0, rest)
        if not body_blocks and not items and k + 1 < len(heads):
            dropped.append(Dropped("title", head.text))
            continue
        items.append(_make_item(headline, body_blocks, head.anchor, len(items), item_attr))
    return finish(items, best.name, False)


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
