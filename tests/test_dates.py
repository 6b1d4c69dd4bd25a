"""Dates in the page's own time zone. A page that writes "2026-06-18 08:12" means 08:12 where it is
published: a Beijing page's 08:12 is 00:12 UTC (before this, it became 08:12Z: eight hours wrong in
every Chinese feed). The zone: the source's ``timezone``; else an explicit offset in the page's own
markup; else the zone its ``<html lang>`` or ``Content-Language`` pins; else UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedbot.config import load_config
from feedbot.dates import ZONE_BY_LANGUAGE, ZONE_BY_REGION, in_zone, page_zone, zone_for_language
from feedbot.errors import ConfigError
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.run import run_once, split_options
from feedbot.split import SplitOptions, split_page

from .helpers import Clock, Response, Server, check_feedparser, write_config

STORIES = "".join(
    f"<h2>Story {n} of the morning</h2><p>{'The body of the story goes on for a while. ' * 6}</p>"
    for n in range(1, 5)
)


def page(
    date_line: str,
    *,
    lang: str | None = None,
    head: str = "",
    body: str = "",
    stories: str = STORIES,
) -> str:
    """A digest page whose date sits under its <h1>, where the splitter looks for it."""
    attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!DOCTYPE html><html{attr}><head><meta charset='utf-8'><title>Morning digest</title>"
        f"{head}</head><body><article><h1>Morning digest</h1><p class='time'>{date_line}</p>"
        f"{body}{stories}</article></body></html>"
    )


def published(text: str, **options: str) -> datetime | None:
    return split_page(text, "text/html", SplitOptions(**options)).published  # type: ignore[arg-type]


def test_a_beijing_page() -> None:
    assert published(page("2026-06-18 08:12", lang="zh-CN")) == datetime(
        2026, 6, 18, 0, 12, tzinfo=UTC
    )


def test_a_tokyo_page() -> None:
    text = page("2026年6月18日 08:12", lang="ja")
    assert published(text) == datetime(2026, 6, 17, 23, 12, tzinfo=UTC)


def test_a_language_spread_over_many_zones_stays_utc() -> None:
    for lang in ("en", "en-US", "es", "fr", "pt-BR", "ar", "ru", None):
        assert published(page("2026-06-18 08:12", lang=lang)) == datetime(
            2026, 6, 18, 8, 12, tzinfo=UTC
        )
    # a region that pins one zone does
    assert published(page("2026-06-18 08:12", lang="en-GB")) == datetime(
        2026, 6, 18, 7, 12, tzinfo=UTC
    )


def test_a_date_with_its_own_offset_keeps_it() -> None:
    meta = '<meta property="article:published_time" content="2026-06-18T08:12:00+09:00">'
    text = page("", lang="zh-CN", head=meta)
    assert published(text) == datetime(2026, 6, 17, 23, 12, tzinfo=UTC)
    # the source's timezone does not move a date that states its offset
    assert published(text, timezone="America/New_York") == datetime(2026, 6, 17, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "markup",
    [
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"dateModified": "2026-06-19T10:00:00+05:30"}</script>',
        '<meta name="last-modified" content="2026-06-19 10:00:00 +0530">',
    ],
    ids=["json-ld", "meta"],
)
def test_an_offset_in_the_markup_is_the_zone_of_the_pages_other_dates(markup: str) -> None:
    """The visible date has no zone, but the page's machine dates state +05:30: that wins over
    the language (en says nothing here)."""
    text = page("2026-06-18 08:12", lang="en", head=markup)
    assert published(text) == datetime(2026, 6, 18, 2, 42, tzinfo=UTC)


def test_a_zero_offset_in_the_markup_is_no_evidence() -> None:
    """Many sites write every machine date in UTC whatever their own clock: a Z says nothing of
    the page's zone, so the Beijing page's language still decides."""
    head = '<meta name="generated" content="2026-06-18T01:00:00Z">'
    text = page("2026-06-18 08:12", lang="zh-CN", head=head)
    assert published(text) == datetime(2026, 6, 18, 0, 12, tzinfo=UTC)


def test_the_sources_timezone_wins() -> None:
    text = page("2026-06-18 08:12", lang="zh-CN")
    assert published(text, timezone="America/New_York") == datetime(2026, 6, 18, 12, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "zone", "utc"),
    [
        # Berlin, 2024-10-27: clocks go back at 03:00 CEST; 02:30 happens twice -> the first
        (datetime(2024, 10, 27, 2, 30), "Europe/Berlin", datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),
        # Berlin, 2024-03-31: clocks go forward at 02:00; 02:30 never happens -> the offset before
        (datetime(2024, 3, 31, 2, 30), "Europe/Berlin", datetime(2024, 3, 31, 1, 30, tzinfo=UTC)),
        # New York, 2024-11-03: 01:30 twice -> the first (EDT)
        (
            datetime(2024, 11, 3, 1, 30),
            "America/New_York",
            datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
        ),
        # New York, 2024-03-10: 02:30 skipped -> EST's offset
        (
            datetime(2024, 3, 10, 2, 30),
            "America/New_York",
            datetime(2024, 3, 10, 7, 30, tzinfo=UTC),
        ),
        # ordinary times either side
        (datetime(2024, 7, 1, 12, 0), "Europe/Berlin", datetime(2024, 7, 1, 10, 0, tzinfo=UTC)),
        (datetime(2024, 1, 1, 12, 0), "Europe/Berlin", datetime(2024, 1, 1, 11, 0, tzinfo=UTC)),
    ],
    ids=["berlin-fold", "berlin-gap", "newyork-fold", "newyork-gap", "summer", "winter"],
)
def test_summer_time_ambiguities_have_one_reading(wall: datetime, zone: str, utc: datetime) -> None:
    assert in_zone(wall, ZoneInfo(zone)) == utc
    # the same through a page of a source in that zone, every time
    text = page(wall.strftime("%Y-%m-%d %H:%M"))
    assert published(text, timezone=zone) == utc


# tag -> zone (None: the tag pins none, dates stay UTC)
LANGUAGES = [
    ("zh-CN", "Asia/Shanghai"),
    ("zh", "Asia/Shanghai"),
    ("zh-Hans", "Asia/Shanghai"),
    ("zh-Hant", "Asia/Taipei"),
    ("zh-TW", "Asia/Taipei"),
    ("zh_tw", "Asia/Taipei"),
    ("zh-HK", "Asia/Hong_Kong"),
    ("zh-Hant-HK", "Asia/Hong_Kong"),
    ("zh-SG", "Asia/Singapore"),
    ("ja", "Asia/Tokyo"),
    ("ja-JP", "Asia/Tokyo"),
    ("ko", "Asia/Seoul"),
    ("de", "Europe/Berlin"),
    ("de-AT", "Europe/Vienna"),
    ("en-GB", "Europe/London"),
    ("en-IN", "Asia/Kolkata"),
    ("es-ES", "Europe/Madrid"),
    ("fr-FR", "Europe/Paris"),
    ("en", None),
    ("en-US", None),
    ("es", None),
    ("es-MX", None),
    ("fr", None),
    ("fr-CA", None),
    ("pt", None),
    ("pt-BR", None),
    ("ar", None),
    ("ru", None),
    ("ru-RU", None),
    ("de-US", None),  # a region spread over zones pins none, whatever the language
    ("zh-Hant-US", None),
    ("", None),
    ("not a tag", None),
]


@pytest.mark.parametrize(("tag", "zone"), LANGUAGES)
def test_which_languages_pin_a_zone(tag: str, zone: str | None) -> None:
    found = zone_for_language(tag)
    assert (found[0] if found else None) == zone


def test_every_zone_in_the_tables_exists() -> None:
    for name in {*ZONE_BY_REGION.values(), *ZONE_BY_LANGUAGE.values()}:
        ZoneInfo(name)


def test_the_zone_and_its_reason_are_reported() -> None:
    zone = page_zone(lang="zh-CN")
    assert str(zone.zone) == "Asia/Shanghai" and "zh-CN" in zone.reason
    split = split_page(page("2026-06-18 08:12", lang="ja"), "text/html")
    assert "Asia/Tokyo" in split.date_zone and "ja" in split.date_zone
    stated = split_page(
        page('<time datetime="2026-06-18T08:12:00+09:00">June 18</time>'), "text/html"
    )
    assert stated.published == datetime(2026, 6, 17, 23, 12, tzinfo=UTC)
    assert stated.date_zone == ""  # a date that states its offset needed no zone


def test_invalid_zone_in_config(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, [{"name": "cn", "url": "https://example.org/", "timezone": "Asia/Beijing"}]
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "sources[0] (cn)" in message and "timezone" in message
    assert "'Asia/Beijing' is not an IANA time zone name" in message
    path = write_config(
        tmp_path, [{"name": "cn", "url": "https://example.org/", "timezone": "asia/shanghai"}]
    )
    with pytest.raises(ConfigError, match="did you mean 'Asia/Shanghai'"):
        load_config(path)
    for bad in ("../../etc/passwd", "/usr/share/zoneinfo/UTC", ""):
        path = write_config(
            tmp_path, [{"name": "x", "url": "https://example.org/", "timezone": bad}]
        )
        with pytest.raises(ConfigError, match="timezone"):
            load_config(path)


def test_a_valid_zone_reaches_the_splitter(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, [{"name": "ny", "url": "https://example.org/", "timezone": "America/New_York"}]
    )
    source = load_config(path).sources[0]
    assert source.timezone == "America/New_York"
    assert split_options(source).timezone == "America/New_York"


def test_content_language_header(server: Server, tmp_path: Path) -> None:
    """A page with no <html lang> served with Content-Language: zh-TW is read in Taipei time; the
    page's own lang wins over the header."""
    server.routes["/tw"] = Response(
        200, page("2026-06-18 08:12").encode(), {"Content-Language": "zh-TW, en;q=0.5"}
    )
    server.routes["/ja"] = Response(
        200, page("2026-06-18 08:12", lang="ja").encode(), {"Content-Language": "en-US"}
    )
    config = load_config(
        write_config(
            tmp_path,
            [
                {"name": "tw", "url": server.url("/tw"), "robots": False},
                {"name": "ja", "url": server.url("/ja"), "robots": False},
            ],
        )
    )
    fetcher = Fetcher(FetchSettings(user_agent="t (+http://127.0.0.1/)", tries=1))
    try:
        pages = [fetcher.fetch(source) for source in config.sources]
    finally:
        fetcher.close()
    assert pages[0].language == "zh-TW, en;q=0.5"
    got = [
        split_page(p.text, p.content_type, split_options(source, p)).published
        for source, p in zip(config.sources, pages, strict=True)
    ]
    assert got == [
        datetime(2026, 6, 18, 0, 12, tzinfo=UTC),
        datetime(2026, 6, 17, 23, 12, tzinfo=UTC),
    ]


def test_a_beijing_feed_end_to_end(server: Server, tmp_path: Path) -> None:
    """Through a run: the Beijing page's entries are published at 00:12 UTC, not 08:12."""
    server.routes["/cn"] = Response(200, page("2026-06-18 08:12", lang="zh-CN").encode())
    config = load_config(
        write_config(tmp_path, [{"name": "cn", "url": server.url("/cn"), "robots": False}])
    )
    [result] = run_once(config, now=Clock(datetime(2026, 6, 18, 9, 0, tzinfo=UTC)))
    assert result.ok, result.error
    feed = check_feedparser((config.feeds_dir / "cn.atom").read_bytes())
    assert len(feed.entries) == 4
    assert {e.published for e in feed.entries} == {"2026-06-18T00:12:00+00:00"}


CHINESE = "".join(
    f"<h2>第{n}条新闻的标题在这里</h2><p>{'这是新闻的正文内容，讲述了当天发生的事情。' * 6}</p>"
    for n in range(1, 5)
)
JAPANESE = "".join(
    f"<h2>{n}番目のニュースの見出し</h2><p>{'これはニュースの本文で、その日に起きたことを伝えています。' * 5}</p>"
    for n in range(1, 5)
)
KOREAN = "".join(
    f"<h2>{n}번째 뉴스의 제목입니다</h2><p>{'이것은 그날 일어난 일을 전하는 뉴스 본문입니다. ' * 5}</p>"
    for n in range(1, 5)
)


@pytest.mark.parametrize(
    ("lang", "body", "utc"),
    [
        (None, CHINESE, datetime(2026, 6, 18, 0, 12, tzinfo=UTC)),
        ("en", CHINESE, datetime(2026, 6, 18, 0, 12, tzinfo=UTC)),  # a template's default lang
        (None, JAPANESE, datetime(2026, 6, 17, 23, 12, tzinfo=UTC)),
        (None, KOREAN, datetime(2026, 6, 17, 23, 12, tzinfo=UTC)),
        (
            None,
            "<p>An interview with 习近平 and 李强 about 中国.</p>",
            datetime(2026, 6, 18, 8, 12, tzinfo=UTC),
        ),
    ],
    ids=["chinese", "chinese-tagged-en", "japanese", "korean", "english-quoting-chinese"],
)
def test_the_script_of_an_untagged_page(lang: str | None, body: str, utc: datetime) -> None:
    """A page whose tags pin no zone is read by its script: Chinese text is UTC+8 (every place
    that writes Chinese keeps it), Japanese (kana) Tokyo, Korean Seoul; a few quoted Han
    characters in an English page are not Chinese."""
    assert published(page("2026-06-18 08:12", lang=lang, body=body, stories="")) == utc


def test_a_chinese_markdown_newsletter_without_a_language_tag() -> None:
    """The CCTV transcript (Markdown, front matter date "2026-06-18", no lang): Beijing's day."""
    from feedbot.markup import markdown_page

    path = Path(__file__).parent / "fixtures/realpages/pages/zh-cctv-xwlb-transcript-20260618.md"
    split = split_page(markdown_page(path.read_text("utf-8")), "text/html")
    assert split.published == datetime(2026, 6, 17, 16, 0, tzinfo=UTC)
    assert "Chinese" in split.date_zone
