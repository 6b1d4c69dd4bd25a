"""The split pipeline: the stages in order, from page text to a :class:`~feedbot.model.Split`.

Owns: :class:`SplitOptions` and the order of the stages — extraction (:mod:`.dom`), boilerplate lines
(:mod:`.prepass`), the outline's families (:mod:`.outline`), the item level (:mod:`.levels`), single
articles (:mod:`.single`), the items (:mod:`.assemble`). Pure: text in, values out; no network, no
disk, no clock. The explanation (candidates, scores, what was cut) is part of the result, so that
``feedbot preview`` can show why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..dates import page_time, page_zone
from ..model import Candidate, Dropped, Split, SplitMode
from .assemble import Plan, closing_heads, make_items, outside_items, plan_items, plan_single
from .blocks import Block, Extracted
from .boilerplate import classify
from .dom import extract_html, extract_text
from .levels import (
    Choice,
    Level,
    add_records,
    choose,
    link_list,
    score_level,
    teaser_level,
    trim_closing_part,
    trim_frames,
)
from .outline import Outline, families, is_lead_family
from .prepass import body_chars, cut_reasons
from .ranking import PageView, fitted_choice
from .refine import (
    bulletin_turns,
    dated_entries,
    marker_heads,
    split_run_ins,
    stamped_posts,
    subject_lines,
)
from .rules import LINK_PAGES, ONE_TEXT, SENTENCE_END, TITLE_LINE, level_chooser, on
from .single import is_single_article
from .text import units


@dataclass(frozen=True)
class SplitOptions:
    mode: SplitMode = SplitMode.AUTO
    content_selector: str | None = None
    exclude_selectors: tuple[str, ...] = ()
    headline_selector: str | None = None
    headline_regex: str | None = None
    timezone: str | None = None  # the source's: the zone of dates the page writes without one
    language: str | None = None  # the page's Content-Language header (a hint of its zone)


def split_page(
    text: str,
    content_type: str = "text/html",
    options: SplitOptions | None = None,
) -> Split:
    """Split one page into items. Never raises on odd input; an empty result has no items."""
    options = options or SplitOptions()
    return split_blocks(extract_page(text, content_type, options), options, page_text=text)


def extract_page(
    text: str, content_type: str, options: SplitOptions, *, paths: bool = False
) -> Extracted:
    """The page's blocks as the source's options select them (``paths``: with the CSS-like path
    of every element, for the preview)."""
    if content_type == "text/plain":
        return extract_text(text)
    return extract_html(
        text,
        content_selector=options.content_selector,
        exclude=options.exclude_selectors,
        headline_selector=options.headline_selector,
        paths=paths,
    )


@dataclass
class _Page:
    """What the stages know of a page while it is split."""

    ext: Extracted
    blocks: list[Block]
    title: str
    reasons: dict[int, str]  # blocks cut whatever the structure, with the reason
    sizes: list[
        float
    ]  # each block's units, exact up to the longest headline, else some value above
    chars: list[float]  # each block's body characters, 0 for the cut ones
    total: float
    linked: bool = False  # the page is made mostly of links
    kinds: list[str | None] | None = None  # each block's boilerplate kind (boilerplate.classify)


@dataclass
class Result:
    """Everything the pipeline decided about a page: the split, and the evidence for the preview."""

    split: Split
    page: _Page
    levels: list[Level]
    choice: Choice
    plan: Plan
    single: bool
    forced: bool


def split_blocks(ext: Extracted, options: SplitOptions, page_text: str = "") -> Split:
    return run_stages(ext, options, page_text).split


def run_stages(ext: Extracted, options: SplitOptions, page_text: str = "") -> Result:
    """The stages after extraction, in order."""
    page = _prepare(ext)
    levels, forced = _levels(page, options)
    candidates = [Candidate(s.name, len(s.heads), s.score, tuple(s.reasons)) for s in levels]
    candidates.sort(key=lambda c: (-c.score, c.name))
    choice = _choose(page, levels, forced)
    single, verdict = _single(page, choice.level, levels, options, forced)
    if verdict is not None:
        candidates.append(verdict)
    best = choice.level
    if not single and best is not None and not forced:
        trim_frames(best, page.blocks, choice)
        trim_closing_part(best, levels, choice)
    if single:
        plan = plan_single(page.title, page.blocks, page.reasons)
        structure = "whole"
    elif best is None:
        plan = Plan()
        for i, block in enumerate(page.blocks):
            plan.cut(i, page.reasons.get(i, "no headline structure"), block.text)
        structure = "none"
    else:
        plan = plan_items(
            best,
            page.blocks,
            page.reasons,
            ext.parents,
            is_lead_family(best.name),
            choice.outside,
            kinds=page.kinds,
        )
        structure = best.name
    split = _finish(page, plan, structure, single, candidates, options)
    return Result(split, page, levels, choice, plan, single, forced)


def _single(
    page: _Page, best: Level | None, levels: Sequence[Level], options: SplitOptions, forced: bool
) -> tuple[bool, Candidate | None]:
    """Whether the page is one article, and the evidence as a candidate line for the preview."""
    if options.mode == SplitMode.WHOLE:
        return True, None
    if options.mode != SplitMode.AUTO or forced:
        return False, None
    if best is None:
        single, why = one_text(page.total)
        return single, Candidate("one-text", int(single), float(single), why)
    if is_lead_family(best.name) and best.name != "label":
        return False, None
    single, evidence = is_single_article(
        page.title, best, page.blocks, page.reasons, page.ext.parents, levels, page.chars
    )
    return single, Candidate("single-article", int(single), float(single), tuple(evidence))


def one_text(chars: float) -> tuple[bool, tuple[str, ...]]:
    """A page with no item structure is one article when it holds a main text of its own: more
    than a line or two (an empty page, a "Coming soon", a page of links stays an error)."""
    if chars >= ONE_TEXT.min_chars:
        return True, (f"no headline structure, and a main text of {chars:.0f} characters",)
    return False, (f"no headline structure, and only {chars:.0f} characters of text",)


def _prepare(ext: Extracted) -> _Page:
    blocks = bulletin_turns(
        stamped_posts(dated_entries(subject_lines(split_run_ins(marker_heads(ext.blocks)))))
    )
    sizes = [units(b.text, TITLE_LINE.measure) for b in blocks]
    kinds = [classify(b.text) for b in blocks]  # (again at the stories' ends: read once)
    reasons = cut_reasons(blocks, sizes, kinds)
    title = ext.title
    # plain text: the first line is the title when it stands alone before the first headline
    if (
        ext.is_text
        and len(blocks) > TITLE_LINE.min_lines
        and units(blocks[0].text, TITLE_LINE.max) <= TITLE_LINE.max
        and not blocks[0].text.endswith(SENTENCE_END[:7])
        and units(blocks[1].text, TITLE_LINE.max) <= TITLE_LINE.max
    ):
        title = blocks[0].text
        reasons[0] = "title"
    chars = [0.0 if i in reasons else body_chars(b) for i, b in enumerate(blocks)]
    text = sum(len(b.text) for b in blocks)
    links = sum(len(b.text) * b.link_ratio for b in blocks)
    linked = bool(text) and links > LINK_PAGES.linked_share * text
    return _Page(ext, blocks, title, reasons, sizes, chars, sum(chars), linked, kinds)


def _levels(page: _Page, options: SplitOptions) -> tuple[list[Level], bool]:
    """Every candidate level scored (or the one the source forces), and whether it was forced."""
    blocks, reasons = page.blocks, page.reasons
    if options.headline_regex:
        pattern = re.compile(options.headline_regex)
        heads = [i for i, b in enumerate(blocks) if i not in reasons and pattern.search(b.text)]
        return [score_level("regex", heads, blocks, _flat(blocks), page.total, page.chars)], True
    if options.headline_selector:
        heads = [i for i, b in enumerate(blocks) if i not in reasons and b.forced]
        leads = all(blocks[i].forced == "lead" for i in heads) and bool(heads)
        name = "selector-lead" if leads else "selector"
        return [score_level(name, heads, blocks, _flat(blocks), page.total, page.chars)], True
    outline = Outline(families(blocks, set(reasons), page.sizes), len(blocks))
    return [
        score_level(name, heads, blocks, outline, page.total, page.chars, cut=reasons)
        for name, heads in outline.families.items()
    ], False


def _labels_over_teasers(chosen: Level, levels: Sequence[Level]) -> bool:
    """Whether the chosen level's headlines are boxes' labels over a level of headline links that
    each have a teaser (a portal's section titles, some of them not links, over its stories): the
    teasers are more, and the labels are links less often than a level of headline links is."""
    if not on("labels-over-teasers"):
        return False
    teasers = teaser_level(levels)
    return (
        teasers is not None
        and teasers is not chosen
        and chosen.linked < LINK_PAGES.teaser_linked
        and len(teasers.heads) > len(chosen.heads)
    )


def _flat(blocks: Sequence[Block]) -> Outline:
    """A forced level has no sections: everything between two of its headlines is the story's."""
    return Outline({}, len(blocks))


def _choose(page: _Page, levels: list[Level], forced: bool) -> Choice:
    if forced:
        viable = [s for s in levels if s.heads]
        return Choice(viable[0] if viable else None, ["forced by the source's settings"])
    choice = choose(levels, page.chars)
    links = link_list(page.blocks, page.reasons, page.sizes, page.chars)
    if links is not None and (
        choice.level is None
        or (page.linked and len(choice.level.heads) < LINK_PAGES.over_level * len(links.heads))
        or _labels_over_teasers(choice.level, levels)
    ):
        teasers = teaser_level(levels)
        if teasers is not None:
            over = (
                f"over {choice.level.name}'s {len(choice.level.heads)} headlines, "
                f"{choice.level.linked:.0%} of them links (boxes' labels)"
                if choice.level is not None and _labels_over_teasers(choice.level, levels)
                else f"over the page's {len(links.heads)} headline links (tickers, related links)"
            )
            choice.level = teasers
            choice.why.append(
                f"{teasers.name}: its {len(teasers.heads)} headline links each have a teaser, {over}"
            )
        else:
            choice.level = links
            choice.why.append(f"the page is a list of {len(links.heads)} headline links")
            choice.why.extend(links.reasons[1:])
    if level_chooser() == "fitted":
        view = PageView(
            page.title,
            page.blocks,
            page.reasons,
            page.ext.parents,
            page.chars,
            page.total,
            page.linked,
        )
        fitted_choice(view, levels, choice, links)
    settle(page, levels, choice)
    return choice


def settle(page: _Page, levels: Sequence[Level], choice: Choice) -> None:
    """The chosen level made final: a second run of stories beside it added, the closing notes
    after the last rule left out, and the blocks outside the stories' own elements found."""
    best = choice.level
    if best is None:
        return
    outside = outside_items(best.heads, best.ends, page.blocks, set(page.reasons), page.ext.parents)
    added = add_records(best, levels, outside, choice)
    if added is not best:
        best = choice.level = added
        outside = outside_items(
            best.heads, best.ends, page.blocks, set(page.reasons), page.ext.parents
        )
    choice.outside = outside
    closing = closing_heads(best.heads, page.blocks, page.chars)
    if closing is not None:
        best.keep(0, closing)
        choice.why.append("the headlines after the last rule are the page's closing notes")


def _finish(
    page: _Page,
    plan: Plan,
    structure: str,
    single: bool,
    candidates: Sequence[Candidate],
    options: SplitOptions,
) -> Split:
    published = page.ext.published
    zone = (  # (a page that states no date needs no zone: the script test reads its text)
        page_zone(
            configured=options.timezone,
            dated=page.ext.dated,
            lang=page.ext.lang,
            content_language=options.language,
            text=" ".join([page.title, *(b.text for b in page.blocks[:40])]),
        )
        if published is not None
        else None
    )
    dropped = [Dropped(reason, text) for reason, text in page.ext.dropped]
    dropped += [Dropped(plan.cuts[i], page.blocks[i].text) for i in sorted(plan.cuts)]
    dropped += [Dropped(reason, text) for reason, text in plan.notes]
    return Split(
        title=page.title,
        items=tuple(make_items(plan, page.blocks)),
        structure=structure,
        single_article=single,
        candidates=tuple(candidates),
        dropped=tuple(dropped),
        attribution=plan.attribution,
        published=page_time(published, zone) if zone is not None else None,
        date_zone=zone.reason if zone is not None and published and not published.tzinfo else "",
    )
