"""The preview's explanation of a split: the outline the splitter saw, the level it chose and why, the
levels it rejected and why, and the part every block played.

Owns: :func:`explain_page` and the values it returns. For a browser preview where a reader clicks a
heading to choose "this level" or marks a block as no item, every block carries a CSS selector that
finds its element in the page as parsed (``body > div:nth-of-type(2) > h3:nth-of-type(4)``), and every
considered level a selector that forces it when given as the source's ``headline_selector``. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Split
from .assemble import Plan
from .blocks import Block, Extracted
from .levels import Level
from .outline import head_text, is_lead_family
from .pipeline import Result, SplitOptions, extract_page, run_stages
from .rules import PREVIEW
from .text import strip_marker


@dataclass(frozen=True)
class BlockView:
    """One block of the content area and the part it played."""

    index: int
    tag: str
    text: str
    selector: str  # finds the block's element in the page ("" for plain text)
    role: str  # "headline", "body" or "cut"
    item: int | None  # the item it belongs to (headline or body)
    reason: str | None  # why it was cut


@dataclass(frozen=True)
class LevelView:
    """One family of headlines the splitter considered as the item level."""

    name: str
    rank: int
    headlines: int
    score: float
    viable: bool
    chosen: bool
    verdict: str  # why it was chosen or not
    reasons: tuple[str, ...]
    selector: str  # a headline_selector that forces this level
    sample: tuple[str, ...]  # its first headlines


@dataclass(frozen=True)
class Explanation:
    split: Split
    content: str  # where the content area is (a CSS-like path of signatures)
    chosen: str  # the chosen level's name, "whole" for one article, "none"
    why: tuple[str, ...]
    levels: tuple[LevelView, ...]
    blocks: tuple[BlockView, ...]
    cut_regions: tuple[tuple[str, str, str], ...]  # furniture removed: (reason, text, selector)


def explain_page(
    text: str, content_type: str = "text/html", options: SplitOptions | None = None
) -> Explanation:
    """Split a page as :func:`~feedbot.split.split_page` does, keeping the reasons."""
    options = options or SplitOptions()
    ext = extract_page(text, content_type, options, paths=True)
    result = run_stages(ext, options, page_text=text)
    chosen = result.split.structure
    why = list(result.choice.why)
    if result.single:
        why.append("kept as one article: " + _verdict(result))
    elif result.choice.level is None:
        why.append("no level holds stories")
    return Explanation(
        split=result.split,
        content=ext.content_path,
        chosen=chosen,
        why=tuple(why),
        levels=tuple(_levels(result, ext)),
        blocks=tuple(_blocks(result.page.blocks, result.plan, ext)),
        cut_regions=tuple(ext.cut_paths),
    )


def _verdict(result: Result) -> str:
    for candidate in result.split.candidates:
        if candidate.name in ("single-article", "one-text"):
            return "; ".join(candidate.reasons)
    return "the source's split setting"


def _levels(result: Result, ext: Extracted) -> list[LevelView]:
    chosen = result.choice.level
    views = []
    for level in sorted(result.levels, key=lambda s: (s.rank, -s.score)):
        is_chosen = chosen is not None and level.name == chosen.name and not result.single
        verdict = "chosen" if is_chosen else result.choice.rejected.get(level.name, "")
        views.append(
            LevelView(
                name=level.name,
                rank=level.rank,
                headlines=len(level.heads),
                score=level.score,
                viable=level.ok,
                chosen=is_chosen,
                verdict=verdict,
                reasons=tuple(level.reasons),
                selector=level_selector(level, result.page.blocks, ext),
                sample=tuple(_sample(level, result.page.blocks)),
            )
        )
    return views


def level_selector(level: Level, blocks: Sequence[Block], ext: Extracted) -> str:
    """A ``headline_selector`` that forces ``level``: its headlines' elements (for a lead opening a
    list item or a paragraph, the element of the lead)."""
    if not ext.paths:
        return ""
    lead = is_lead_family(level.name)
    parts = []
    for i in level.heads:
        block = blocks[i]
        if block.node < 0 or not ext.paths[block.node]:
            continue
        path = ext.paths[block.node]
        if lead and block.lead_kind in ("bold", "link"):
            path += " > :first-child"
        parts.append(path)
    return ", ".join(dict.fromkeys(parts))


def _sample(level: Level, blocks: Sequence[Block]) -> list[str]:
    lead = is_lead_family(level.name)
    return [
        strip_marker(head_text(blocks[i], lead))[: PREVIEW.text_chars]
        for i in level.heads[: PREVIEW.sample]
    ]


def _blocks(blocks: Sequence[Block], plan: Plan, ext: Extracted) -> list[BlockView]:
    role: dict[int, tuple[str, int]] = {}
    for k, planned in enumerate(plan.items):
        if planned.head is not None:
            role[planned.head] = ("headline", k)
        for j in planned.body:
            role[j] = ("body", k)
    views = []
    for i, block in enumerate(blocks):
        selector = ext.paths[block.node] if ext.paths and block.node >= 0 else ""
        part, number = role.get(i, ("cut", -1))
        reason = plan.cuts.get(i) if part == "cut" else None
        views.append(
            BlockView(
                index=i,
                tag=block.tag,
                text=block.text[: PREVIEW.text_chars],
                selector=selector,
                role=part,
                item=number if number >= 0 else None,
                reason=reason or ("not in any story" if part == "cut" else None),
            )
        )
    return views
