"""Blocks rewritten before the structure is read: a paragraph that strings several labelled stories
together ("当升科技：…。金陵药业：…。运达股份：…。") is split into one block per story.

Owns: :func:`split_run_ins`. Pure: blocks in, blocks out (only plain-text paragraphs are split: their
HTML is their escaped text, so nothing of the page's markup is lost).
"""

from __future__ import annotations

import html as htmllib
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from .blocks import SEPARATOR_GAP, Block
from .rules import (
    CLOSING_STAMP,
    DATED_TEXT_MIN,
    FIRST_SENTENCE,
    MAIL,
    MAIL_SUBJECT,
    MARKER_HEADS,
    MD_IMAGE,
    RUN_INS,
    SCORING,
    SENTENCE_END,
    STAMPED,
    TURNS,
    on,
)
from .text import dated_in_sequence, marker_alone, marker_of, opening_date, units

# a run-in label: at the start of the text or after a sentence (or the dateline's comma), a name
# with no punctuation in it, closed by a colon
_RUN_IN = re.compile(
    rf"(?:^|(?<=[。！？；!?;，,]))\s*([^\s，,。：:；;！？!?“”\"《》()（）]{{{RUN_INS.label_min},{RUN_INS.label_max}}})[：:]"
)


def subject_lines(blocks: Sequence[Block]) -> list[Block]:
    """A letter's subject line ("Subject: Linux on a ThinkPad", "Betreff: …") is its headline: the
    line becomes its subject alone, set apart as a bold line is, when the page holds several."""
    if not on("mail-headers"):
        return list(blocks)
    found = [
        i
        for i, b in enumerate(blocks)
        if b.tag in ("line", "p")
        and len(b.text) <= MAIL.subject_max
        and _colon(b.text)  # (a cheap test before the pattern: a subject line's label has one)
        and MAIL_SUBJECT.match(b.text)
    ]
    if len(found) < MAIL.min_letters:
        return list(blocks)
    out = list(blocks)
    for i in found:
        match = MAIL_SUBJECT.match(out[i].text)
        assert match is not None
        subject = match.group(1).strip()
        out[i] = replace(
            out[i],
            text=subject,
            html=_p(subject),
            bold=True,
            lead=None,
            lead_kind=None,
            rest_text="",
            rest_html="",
            link_ratio=0.0,
            subject=True,
        )
    return out


def dated_entries(blocks: Sequence[Block]) -> list[Block]:
    """Entries that open with a date, in sequence, and have no headline of their own ("20161101:
    uploaded gatling 0.15 (…)", a hand-written page's news list): each entry's first sentence is
    its headline, as a lead, the rest of the entry its body."""
    if not on("dated-entries"):
        return list(blocks)
    found = [
        i
        for i, b in enumerate(blocks)
        if b.text[:1].isalnum()
        and b.tag in ("li", "p", "line")
        and b.lead_kind is None
        and opening_date(b.text)
    ]
    if not dated_in_sequence([blocks[i].text for i in found], SCORING.dated_min):
        return list(blocks)
    out = list(blocks)
    for i in found:
        text = out[i].text
        match = FIRST_SENTENCE.search(text)
        cut = match.end() if match else len(text)
        rest = text[cut:].strip()
        out[i] = replace(
            out[i],
            lead=text[:cut].strip(),
            lead_kind="date",
            rest_text=rest,
            rest_html=_p(rest) if rest else "",
        )
    return out


def _colon(text: str) -> bool:
    return ":" in text or "：" in text


def marker_heads(blocks: Sequence[Block]) -> list[Block]:
    """A numbering marker set apart from its title ("<div class=Title>#6.</div><div class=Title2>
    Insisting They Can't …</div>", a countdown's entry heads): the two are one headline line."""
    if not on("marker-heads"):
        return list(blocks)
    found = [
        i
        for i in range(len(blocks) - 1)
        if len(blocks[i].text) <= MARKER_HEADS.marker_chars
        and blocks[i].tag in _LINES
        and marker_alone(blocks[i].text)
        and _title_after(blocks[i + 1])
    ]
    if len(found) < MARKER_HEADS.min_heads:
        return list(blocks)
    out = list(blocks)
    for i in reversed(found):
        marker, title = out[i], out[i + 1]
        text = f"{marker.text} {title.text}"
        out[i : i + 2] = [
            replace(title, text=text, html=_p(text), gap=marker.gap, item_start=marker.item_start)
        ]
    return out


_LINES = ("p", "line", "div")


def _title_after(block: Block) -> bool:
    """A title line: short, no sentence, no marker of its own."""
    return (
        block.tag in _LINES
        and units(block.text, MARKER_HEADS.title_max) <= MARKER_HEADS.title_max
        and not block.text.endswith(SENTENCE_END)
        and marker_of(block.text) is None
    )


def stamped_posts(blocks: Sequence[Block]) -> list[Block]:
    """Posts that close with their time stamp, in order, and have no headline of their own (a live
    blog: "Tim Cook begins by saying … 10/23/2012 5:03:54 PM"): each post's first sentence is its
    headline, as a lead, the rest of the post its body, the stamp out of the text."""
    if not on("stamped-posts"):
        return list(blocks)
    found: list[tuple[int, int, tuple[int, ...]]] = []  # (block, where its stamp starts, its time)
    texts = 0
    for i, block in enumerate(blocks):
        if block.tag not in ("li", "p", "line"):
            continue
        texts += 1
        if block.lead_kind not in (None, "label") or not block.text[-1:].isalnum():
            continue
        start = max(0, len(block.text) - _STAMP_CHARS)
        if block.text.find(":", start) < 0:
            continue  # (a cheap test before the pattern: every stamp holds its clock's colon)
        stamp = CLOSING_STAMP.search(block.text, start)
        if stamp is None or sum(map(str.isalnum, block.text[: stamp.start()])) < DATED_TEXT_MIN:
            continue
        found.append((i, stamp.start(), _stamp_time(stamp)))
    times = [t for _, _, t in found]
    if (
        len(found) < STAMPED.min_posts
        or len(found) < STAMPED.share * texts
        or len(set(times)) < 2
        or not (times == sorted(times) or times == sorted(times, reverse=True))
    ):
        return list(blocks)
    out = list(blocks)
    for i, start, _ in found:
        text = out[i].text[:start].strip()
        image = MD_IMAGE.match(text)  # (a picture's post: its caption is the headline)
        skip = image.end() if image else 0
        match = FIRST_SENTENCE.search(text, skip)
        cut = match.end() if match else len(text)
        rest = text[cut:].strip()
        out[i] = replace(
            out[i],
            text=text,
            lead=text[skip:cut].strip(),
            lead_kind="date",
            rest_text=rest,
            rest_html=_p(rest) if rest else "",
        )
    return out


_STAMP_CHARS = 40  # a closing stamp is at most this long ("2024-06-13, 12:05:09 p.m." and spaces)


def bulletin_turns(blocks: Sequence[Block]) -> list[Block]:
    """A news bulletin's transcript (speakers' tags opening the paragraphs in turn, the anchor's
    short leads developed by the other speaker): each of the anchor's turns after the opening is a
    story, its first sentence the headline, the turns up to the anchor's next its body (the
    anchor's closing sentence alone is the sign-off)."""
    anchor = _anchor(blocks) if on("bulletin-turns") else None
    if anchor is None:
        return list(blocks)
    rules = [i for i, b in enumerate(blocks) if b.gap >= SEPARATOR_GAP and i]
    turns = [i for i, b in enumerate(blocks) if b.lead_kind == "label" and b.lead == anchor]
    # the headlines read at the opening, before the bulletin's rule, are no stories
    start = next((r for r in rules if sum(t >= r for t in turns) > sum(t < r for t in turns)), 0)
    out = list(blocks)
    for i in turns:
        text = out[i].rest_text
        match = FIRST_SENTENCE.search(text)
        if i < start or match is None:
            continue
        rest = text[match.end() :].strip()
        if not rest and i == len(out) - 1:
            continue  # (the anchor's last word, a sentence alone: the sign-off)
        out[i] = replace(
            out[i],
            text=text,
            lead=text[: match.end()].strip(),
            lead_kind="turn",
            rest_text=rest,
            rest_html=_p(rest) if rest else "",
        )
    return out


def _anchor(blocks: Sequence[Block]) -> str | None:
    """The speaker who opens the stories: of two or three speakers taking turns, the one whose
    turns are short statements beside the other's long ones (an interviewer's are questions)."""
    texts = [b for b in blocks if b.tag in ("p", "li", "line")]
    labelled = [b for b in texts if b.lead_kind == "label" and b.lead]
    speakers = [s for s, n in Counter(b.lead for b in labelled).items() if n >= TURNS.min_turns]
    if not 2 <= len(speakers) <= TURNS.max_speakers:
        return None
    turns = {s: [b.rest_text for b in labelled if b.lead == s] for s in speakers}
    if sum(map(len, turns.values())) < TURNS.share * len(texts):
        return None
    lengths = {s: statistics.median(len(t) for t in said) for s, said in turns.items()}
    anchor = min(speakers, key=lambda s: lengths[s])
    if any(lengths[anchor] > TURNS.anchor_vs_other * lengths[s] for s in speakers if s != anchor):
        return None
    asked = sum(t.rstrip().endswith(("?", "？")) for t in turns[anchor])
    return anchor if asked < TURNS.max_questions * len(turns[anchor]) else None


def _stamp_time(stamp: re.Match[str]) -> tuple[int, ...]:
    """A stamp's date and time as numbers that sort as times do (year first, whichever end of the
    date it is at; day and month in the page's own order, the same for every post)."""
    a, b, c = (int(stamp.group(k)) for k in ("a", "b", "c"))
    year, first, second = (a, b, c) if a > 31 else (c, a, b)
    hour = int(stamp.group("h")) % 12 if stamp.group("ap") else int(stamp.group("h"))
    if (stamp.group("ap") or "").lower().startswith("p"):
        hour += 12
    return (year, first, second, hour, int(stamp.group("mi")), int(stamp.group("s") or 0))


def split_run_ins(blocks: Sequence[Block]) -> list[Block]:
    """Every block, with the paragraphs made of labelled run-in stories split into one each."""
    if not on("run-ins"):
        return list(blocks)
    out: list[Block] = []
    for block in blocks:
        if block.tag in ("p", "line") and _plain(block):
            out.extend(_pieces(block))
        else:
            out.append(block)
    return out


def _plain(block: Block) -> bool:
    if block.tag not in ("p", "line") or block.lead_kind not in (None, "label"):
        return False
    text = block.text
    if len(text) < RUN_INS.min_chars or text.count("：") + text.count(":") < RUN_INS.min_stories:
        return False
    inner = block.html[block.html.find(">") + 1 : block.html.rfind("<")]
    return "<" not in inner


def _pieces(block: Block) -> list[Block]:
    text = block.text
    found = [m for m in _RUN_IN.finditer(text) if _sentence_after(text, m)]
    if len(found) < RUN_INS.min_stories:
        return [block]
    pieces: list[Block] = []
    if found[0].start(1) > 0:
        first = text[: found[0].start(1)].strip()
        if first:
            pieces.append(
                replace(block, text=first, html=_p(first), lead=None, lead_kind=None, rest_text="")
            )
    for k, match in enumerate(found):
        end = found[k + 1].start(1) if k + 1 < len(found) else len(text)
        piece = text[match.start(1) : end].strip()
        rest = text[match.end() : end].strip()
        pieces.append(
            replace(
                block,
                text=piece,
                html=_p(piece),
                lead=match.group(1),
                lead_kind="label",
                rest_text=rest,
                rest_html=_p(rest),
                gap=0 if k else block.gap,
            )
        )
    return pieces


def _sentence_after(text: str, match: re.Match[str]) -> bool:
    """The label opens a sentence of its own (more than a few characters before the next label or
    the end), not a time or a heading."""
    if not any(c.isalpha() for c in match.group(1)):
        return False  # a time or a score (10:30), not a name
    tail = text[match.end() : match.end() + RUN_INS.story_min]
    return len(tail.strip()) >= RUN_INS.story_min - 1


def _p(text: str) -> str:
    return f"<p>{htmllib.escape(text, quote=False)}</p>"
