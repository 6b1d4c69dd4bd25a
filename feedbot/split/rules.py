"""Every number and word list the splitter decides by, in one place, each with its reason.

Owns: the thresholds (frozen dataclasses, one per stage, in the manner of ``decide.Thresholds``) and
the vocabularies (tables of HTML names, class tokens, multilingual word lists). Must not: hold code
that decides anything — the stages import these and nothing else reads a bare number.

Evidence: "real" is the real-page corpus (tests/fixtures/realpages: 47+ pages nobody here wrote),
"synthetic" the corpus written to pin single rules (tests/fixtures/corpus), "bench" the benchmark pages.
Lengths are in *units* (:func:`feedbot.split.text.units`: a CJK character is 1, a word of another
script 1.6) unless they say characters.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- HTML vocabulary --------------------------------------------------------------------------------

# elements whose content is never text of the page (code, embeds, forms, media, page furniture by name)
DROP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "svg",
        "canvas",
        "template",
        "nav",
        "aside",
        "footer",
        "link",
        "meta",
        "head",
        "map",
        "audio",
        "video",
        "source",
        "track",
        "dialog",
        "menu",
    ]
)
# elements that start a new block (everything else is inline and joins the text around it)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "tbody",
        "thead",
        "tfoot",
        "caption",
        "figure",
        "figcaption",
        "header",
        "hr",
        "address",
        "details",
        "summary",
        "center",
        "fieldset",
        "form",
        "body",
        "html",
    ]
)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# block kinds kept as their element's name (the rest of the inline-only elements are paragraphs)
LEAF_KINDS = frozenset(["li", "td", "th", "dt", "dd", "blockquote", "figure", "figcaption"])
# containers where <br> separates lines (each line a block)
BR_CONTAINERS = frozenset(
    ["div", "section", "article", "td", "body", "main", "center", "blockquote"]
)
# the element a block's HTML is wrapped in, by block kind (a paragraph otherwise)
WRAPPERS = {name: name for name in ("pre", "blockquote", "figure", *HEADINGS)}
# elements that make text bold
BOLD_TAGS = frozenset(["b", "strong", *HEADINGS])
# elements that are always removed without a word (their text is no text of the page)
INVISIBLE_TAGS = ("script", "style", "template")
SILENT_TAGS = ("noscript", "head", "link", "meta")
# ARIA landmark roles of page furniture
FURNITURE_ROLES = frozenset(["navigation", "banner", "contentinfo", "complementary", "search"])
# class / id tokens that mark page furniture (whole tokens, so "content" is not "ad")
FURNITURE_TOKENS = frozenset(
    [
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menus",
        "breadcrumb",
        "breadcrumbs",
        "crumb",
        "crumbs",
        "ad",
        "ads",
        "adv",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsbygoogle",
        "sponsor",
        "sponsored",
        "promo",
        "promotion",
        "share",
        "shares",
        "sharing",
        "sharebar",
        "social",
        "related",
        "recommend",
        "recommended",
        "recommendation",
        "recommendations",
        "comment",
        "comments",
        "footer",
        "copyright",
        "sidebar",
        "widget",
        "widgets",
        "cookie",
        "cookies",
        "consent",
        "newsletter",
        "signup",
        "subscribe",
        "subscription",
        "popup",
        "modal",
        "toolbar",
        "pagination",
        "pager",
        "tags",
        "tagcloud",
        "masthead",
        "topbar",
        "header",
        "disqus",
        "outbrain",
        "taboola",
        "carousel",
        "slideshow",
        "hot-list",
        "hotlist",
        "ranking",
        "rank",
        "toplist",
        "most-read",
        "mostread",
        "trending",
        "byline",
        "dateline",
        "author-box",
    ]
)
# meta tags that state a page's publication date, most trusted first
META_DATES = (
    ("property", "article:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("itemprop", "datePublished"),
    ("name", "date"),
)


@dataclass(frozen=True)
class Lengths:
    """Measures of text that several stages share."""

    # a rule (<hr>, "-----", "* * *") stands for this many blank lines before the next block
    separator_gap: int = 3
    # a bracketed lead 【…】 or […] holds 2-60 characters: shorter is a symbol, longer a sentence
    bracket_min: int = 2
    bracket_max: int = 60
    # a bold or linked lead needs this many characters after it to be a lead (else the block is bold)
    lead_rest_min: int = 2
    # a block is bold when this share of its text is bold (a comma or a space outside the <b> is fine)
    bold_share: float = 0.9
    # units: words of scripts with spaces are longer than a CJK character (an English headline of 8
    # words reads like a Chinese one of 12-14 characters)
    word_units: float = 1.6


LENGTHS = Lengths()


@dataclass(frozen=True)
class Extraction:
    """Finding the content area and keeping the page's own text."""

    # an element holding more than this share of the page's text is never furniture (ASP.NET pages
    # wrap everything in one <form>; a theme may call its main column "sidebar-content")
    holds_most: float = 0.5
    # the content area: descend into a child holding at least this share of the non-link text
    content_share: float = 0.8
    # a date near the title: within this many elements after the <h1>, in a text this short
    date_window: int = 8
    date_text_max: int = 80
    # after this many large elements weighed one by one, measure all elements in one pass
    exact_after: int = 8


EXTRACTION = Extraction()
