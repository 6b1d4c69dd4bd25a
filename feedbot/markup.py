"""What a page's bytes are written in — HTML, plain text or Markdown — and Markdown made into the
HTML page its site would publish.

Owns: the one decision of how a page is read (:func:`page_format`: the source's ``format``, else the
Content-Type, else the URL's file extension), and :func:`markdown_page`: front matter removed (YAML
``---``, TOML ``+++``, Pelican ``Key: value`` header lines; its title, date and language kept in the
page's head, where the splitter looks for them), MDX syntax removed (``import``/``export`` lines,
``{/* comments */}``, JSX component tags), the rest rendered by python-markdown with ``extra`` — the
rendering the real-page corpus is scored with (``tests/fixtures/realpages/score.py``), so a source's
feed is what the scorer measures. python-markdown has no limits of its own (a few KB of unclosed
brackets take it minutes), so fetched pages are rendered through :mod:`feedbot.sandbox`.
Must not: do I/O, parse the HTML it makes (the splitter does), or decide anything about items.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .model import PageFormat

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
UNTYPED = ("", "application/octet-stream")  # no Content-Type said: the file extension decides
# GitHub linguist's common Markdown extensions, and MDX (Markdown with JSX, Docusaurus and others)
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mdwn", ".mkd", ".mkdn", ".mdx")
TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(frozen=True)
class Reading:
    """How a page's bytes are read, and why (shown by ``feedbot preview``)."""

    format: PageFormat  # HTML, TEXT or MARKDOWN, never AUTO
    reason: str


def _suffix(path: str) -> str:
    name = unquote(urlsplit(path).path if "://" in path else path).rsplit("/", 1)[-1].lower()
    return name[name.rfind(".") :] if "." in name else ""


def page_format(
    content_type: str, path: str, configured: PageFormat = PageFormat.AUTO
) -> Reading | None:
    """How to read a page served with ``content_type`` from ``path`` (a URL or its path; a local
    file has no Content-Type), or None when it is not a page at all (an image, JSON, ...).

    The source's ``format`` wins. Then the Content-Type: Markdown types are Markdown, HTML types
    are HTML (a ``.md`` URL served as HTML was rendered by its server, as GitHub's file view is);
    ``text/plain`` is Markdown when the path has a Markdown extension (raw file hosts serve every
    file as ``text/plain``), else plain text. With no Content-Type, the extension decides: a
    Markdown or text extension as above, an HTML extension, a directory (``/``) or no extension
    at all is HTML."""
    if configured is not PageFormat.AUTO:
        return Reading(configured, f'format = "{configured}" in the config')
    mime = content_type.split(";")[0].strip().lower()
    suffix = _suffix(path)
    served = f"Content-Type {mime}" if mime else "no Content-Type"
    if mime in MARKDOWN_TYPES:
        return Reading(PageFormat.MARKDOWN, served)
    if mime in HTML_TYPES:
        return Reading(PageFormat.HTML, served)
    if mime in TEXT_TYPES or mime in UNTYPED:
        if suffix in MARKDOWN_SUFFIXES:
            return Reading(PageFormat.MARKDOWN, f"the path ends in {suffix} ({served})")
        if mime in TEXT_TYPES:
            return Reading(PageFormat.TEXT, served)
    if mime in UNTYPED:
        if suffix in TEXT_SUFFIXES:
            return Reading(PageFormat.TEXT, f"the path ends in {suffix} ({served})")
        last = urlsplit(path).path if "://" in path else path
        if suffix in HTML_SUFFIXES or last.endswith("/") or not suffix:
            return Reading(PageFormat.HTML, f"the path names an HTML page ({served})")
    return None


# --- front matter -------------------------------------------------------------------------------

_YAML = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TOML = re.compile(r"\A\+\+\+[ \t]*\n(.*?\n)?\+\+\+[ \t]*(?:\n|\Z)", re.S)
# Pelican's and MultiMarkdown's metadata: "Key: value" lines at the very top, ended by a blank line.
# The block must open with one of Pelican's own keys, so that a page whose first line happens to be
# "Update: ..." is not eaten.
PELICAN_KEYS = frozenset(
    [
        "title",
        "date",
        "modified",
        "category",
        "tags",
        "keywords",
        "slug",
        "summary",
        "author",
        "authors",
        "status",
        "lang",
        "translation",
        "template",
        "save_as",
        "url",
    ]
)
_HEADER_LINE = re.compile(r"([A-Za-z][\w-]*):[ \t]*(.*)")
# the keys whose values the page's head keeps (first found wins, in this order)
TITLE_KEYS = ("title",)
DATE_KEYS = ("date", "publishdate", "publish_date", "published", "pubdate", "created")
LANG_KEYS = ("lang", "language", "locale")


@dataclass(frozen=True)
class FrontMatter:
    """What a Markdown document's front matter said, and the document without it."""

    body: str
    kind: str | None = None  # "yaml", "toml", "pelican" or None
    title: str | None = None
    date: str | None = None
    lang: str | None = None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _top_keys(block: str, separator: str) -> dict[str, str]:
    """The top-level ``key: value`` (YAML) or ``key = value`` (TOML) scalars of a front matter
    block, keys lower-cased. Only plain scalars on one line: nested tables, lists and block scalars
    (``>``, ``|``) are skipped — the head needs no more, and no YAML parser is run on fetched data
    (an alias bomb could not be), nor TOML parsed beyond one line."""
    found: dict[str, str] = {}
    pattern = re.compile(rf"([A-Za-z_][\w-]*)[ \t]*{re.escape(separator)}[ \t]*(.*)")
    for line in block.splitlines():
        match = pattern.fullmatch(line.rstrip())
        if not match:
            continue
        key, value = match.group(1).lower(), _unquote(match.group(2))
        if value and value not in (">", "|", ">-", "|-", "[", "{") and key not in found:
            found[key] = value
    return found


def _pelican(text: str) -> tuple[dict[str, str], str] | None:
    lines = text.split("\n")
    keys: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line.strip():
            return (keys, "\n".join(lines[i + 1 :])) if keys else None
        match = _HEADER_LINE.fullmatch(line.rstrip())
        if match and (keys or match.group(1).lower() in PELICAN_KEYS):
            keys.setdefault(match.group(1).lower(), match.group(2).strip())
        elif keys and line[:1] in " \t":
            continue  # a value carried on to the next line
        else:
            return None
    return (keys, "") if keys else None


def _first(keys: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((keys[name] for name in names if keys.get(name)), None)


def _blocks(text: str) -> tuple[str, dict[str, str], str] | None:
    """The front matter's kind, its keys and the body after it; None when there is none."""
    for kind, pattern, separator in (("yaml", _YAML, ":"), ("toml", _TOML, "=")):
        match = pattern.match(text)
        if match:
            return kind, _top_keys(match.group(1) or "", separator), text[match.end() :]
    pelican = _pelican(text)
    return None if pelican is None else ("pelican", *pelican)


def front_matter(text: str) -> FrontMatter:
    """The document without its front matter, and the title, date and language it gave."""
    text = text.lstrip("\ufeff")
    found = _blocks(text)
    if found is None:
        return FrontMatter(text)
    kind, keys, body = found
    return FrontMatter(
        body,
        kind,
        title=_first(keys, TITLE_KEYS),
        date=_first(keys, DATE_KEYS),
        lang=_first(keys, LANG_KEYS),
    )


# --- MDX --------------------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.S | re.M)
# an ESM statement opens an MDX block that runs to the next blank line (MDX's own rule); the shapes
# are strict so that prose that starts with "Import ..." or "export" stays
_ESM = re.compile(
    r"^(?:import\s+(?:[\w$*{}\s,]+\s+from\s+)?[\"'][^\"'\n]+[\"']|import\s*\{"
    r"|export\s+(?:const|let|var|function|class|default|async|\{|\*))[^\n]*(?:\n[^\n]*\S[^\n]*)*",
    re.M,
)
# a JSX attribute value: a string, or an expression with braces nested up to three deep; lengths
# are bounded so that a broken tag costs a bounded scan
_JS_VALUE = r"(?:\"[^\"]{0,2000}\"|'[^']{0,2000}'|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]{0,2000}\}){0,2000}\}){0,2000}\})"
_ATTRS = (
    rf"(?:\s+(?:\{{\.\.\.[^{{}}]{{0,500}}\}}|[^\s=<>/{{}}\"']+(?:\s*=\s*{_JS_VALUE})?)){{0,100}}"
)
# a component (capitalised or dotted name), a fragment (<> </>), or any tag with an expression in it
_JSX_TAG = re.compile(
    rf"</?[A-Z][\w.:-]*{_ATTRS}\s*/?>|</?>"
    rf"|</?[a-z][\w-]*(?=[^>]{{0,2000}}=\s*\{{){_ATTRS}\s*/?>"
)
_EXPRESSION_LINE = re.compile(r"^[ \t]*\{[^\n]*\}[ \t]*$", re.M)
# Raw HTML containers at a line's start: python-markdown leaves their inside raw, so Markdown in
# them would show as text ("**bold**"); with markdown="1" (the md_in_html extension, part of
# extra; kramdown's and GitHub's Jekyll pages write it themselves) their inside is rendered too,
# as CommonMark renders a container's inside after a blank line.
HTML_CONTAINERS = [
    "div",
    "details",
    "section",
    "article",
    "aside",
    "blockquote",
    "figure",
    "header",
    "footer",
    "main",
    "center",
]
_CONTAINER = re.compile(
    rf"^([ \t]{{0,3}}<(?:{'|'.join(HTML_CONTAINERS)}))(?![\w-])(?![^>\n]*\smarkdown\s*=)", re.M
)
_CODE_RUN = re.compile(r"`+")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where the inline code spans are (a backtick run to the next run of the same length), found
    in linear time: the runs of each length are listed once and paired in order."""
    runs: dict[int, list[int]] = {}
    for match in _CODE_RUN.finditer(text):
        runs.setdefault(len(match.group(0)), []).append(match.start())
    spans: list[tuple[int, int]] = []
    for length, starts in runs.items():
        for a, b in zip(starts[::2], starts[1::2], strict=False):
            spans.append((a, b + length))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            continue  # a run inside an earlier span is text of that span
        merged.append((start, end))
    return merged


def _outside_code(text: str, pattern: re.Pattern[str], spans: list[tuple[int, int]]) -> str:
    starts = [s for s, _ in spans]

    def keep(match: re.Match[str]) -> str:
        i = bisect.bisect_right(starts, match.start()) - 1
        inside = i >= 0 and match.start() < spans[i][1]
        return match.group(0) if inside else ""

    return pattern.sub(keep, text)


def strip_mdx(text: str) -> str:
    """MDX's JavaScript out of a Markdown text, outside code: ESM ``import``/``export`` blocks,
    ``{/* comments */}``, lines that are one ``{expression}``, and JSX tags (components, fragments,
    tags with expression attributes) — their children, the text, stay. Raw HTML containers are
    marked ``markdown="1"`` so that the Markdown inside them is rendered."""
    parts: list[str] = []
    last = 0
    for fence in _FENCE.finditer(text):
        parts.append(_strip_mdx_prose(text[last : fence.start()]))
        parts.append(fence.group(0))
        last = fence.end()
    parts.append(_strip_mdx_prose(text[last:]))
    return "".join(parts)


def _strip_mdx_prose(text: str) -> str:
    if "<" not in text and "{" not in text and "import" not in text and "export" not in text:
        return text
    text = _ESM.sub("", text)
    text = _CONTAINER.sub(r'\1 markdown="1"', text)
    text = _drop_comments(text, _code_spans(text))
    for pattern in (_JSX_TAG, _EXPRESSION_LINE):
        text = _outside_code(text, pattern, _code_spans(text))
    return text


def _drop_comments(text: str, spans: list[tuple[int, int]]) -> str:
    """``{/* ... */}`` out, outside code spans; in linear time (an unclosed one ends the search)."""
    starts = [s for s, _ in spans]
    parts: list[str] = []
    last = pos = 0
    while (start := text.find("{/*", pos)) >= 0:
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and start < spans[i][1]:
            pos = spans[i][1]
            continue
        end = text.find("*/}", start + 3)
        if end < 0:
            break
        parts.append(text[last:start])
        last = pos = end + 3
    parts.append(text[last:])
    return "".join(parts)


# --- rendering ----------------------------------------------------------------------------------


class MarkdownError(ValueError):
    """A Markdown page that cannot be rendered within the limits (:mod:`feedbot.sandbox`)."""


def markdown_page(text: str) -> str:
    """A Markdown document as the HTML page its site publishes: front matter out (its title, date
    and language in the head: ``<title>``, ``<meta name="date">``, ``<html lang>``), MDX out, the
    body rendered by python-markdown with ``extra`` into one ``<article>``.

    python-markdown has no limits of its own — a few KB of unclosed brackets take it minutes —
    so fetched pages are rendered through :func:`feedbot.sandbox.markdown_page`, which runs this
    function in a child process with a time and memory limit."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    matter = front_matter(text)
    import markdown  # on first use: a run of HTML pages never needs it

    body = markdown.markdown(strip_mdx(matter.body), extensions=["extra"])
    lang = f' lang="{html.escape(matter.lang)}"' if matter.lang else ""
    head = '<meta charset="utf-8">'
    if matter.title:
        head += f"<title>{html.escape(matter.title)}</title>"
    if matter.date:
        head += f'<meta name="date" content="{html.escape(matter.date)}">'
    return (
        f"<!DOCTYPE html><html{lang}><head>{head}</head>"
        f"<body><article>\n{body}\n</article></body></html>"
    )
