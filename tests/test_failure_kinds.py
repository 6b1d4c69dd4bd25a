"""The failure kinds of the real-pages issue, each on the real pages that showed it (the Markdown
pages are rendered as their sites publish them; reading Markdown sources is another issue's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedbot.eval_real import page_input
from feedbot.model import Split, SplitMode
from feedbot.split import SplitOptions, split_page
from feedbot.split.explain import explain_page

REAL = Path(__file__).parent / "fixtures" / "realpages"


def _page(page_id: str) -> tuple[str, str]:
    label = json.loads((REAL / "labels" / f"{page_id}.json").read_text(encoding="utf-8"))
    return page_input(REAL, label)


def _split(page_id: str, options: SplitOptions | None = None) -> Split:
    text, kind = _page(page_id)
    return split_page(text, kind, options)


def _headlines(page_id: str) -> list[str]:
    return [item.headline for item in _split(page_id).items]


@pytest.mark.parametrize(
    ("page_id", "stories"),
    [
        ("de-basicthinking-twitter-tips", 12),  # numbered <h2> listicle
        ("en-bgr-black-friday-apple-deals", 10),  # product cards, a "commission" line in each
        ("en-zdnet-best-gadgets-2019", 11),  # product <h3>s, "See it now:" in each
        ("zhtw-techbridge-home-20191206", 10),  # a Hexo blog home page of post teasers
        ("zhtw-lazyjerry-weekly-20251122", 13),  # a weekly with ## parts and ### categories
        ("zh-60s-dushijie-20230315", 15),  # a plain-text briefing of numbered one-line stories
        ("fr-rfi-journal-facile-20180529", 10),  # a radio bulletin's transcript, speakers in turn
        ("zh-spring4all-thisweekinspring-20170926", 22),  # "N: text" paragraphs, each with its URL
        ("de-kubuntu-kwn-30", 12),  # setext sections left unrendered: lines over <hr> rules
    ],
)
def test_1_the_single_article_test_does_not_swallow_digests(page_id: str, stories: int) -> None:
    split = _split(page_id)
    assert not split.single_article
    assert len(split.items) == stories


def test_2_a_wrapper_level_gives_way_to_the_stories_inside_it() -> None:
    # four ## sections (news, a review club, releases, code changes) over bold-lead list entries
    headlines = _headlines("zh-bitcoinops-newsletter-20250613")
    assert headlines[:4] == [
        "计算自私挖矿的危险阈值",
        "通过头部交易池集合协调实现中继的抗审查性",
        "更新 BIP390 以允许在 musig() 表达式中重复参与者密钥",
        "描述符加密库",
    ]
    assert "新闻" not in headlines and len(headlines) >= 12


@pytest.mark.parametrize(
    ("page_id", "first", "not_items"),
    [
        ("zh-iosweekly-318", "Calling Hidden Swift Functions", ["文章", "代码", "音视频"]),
        ("en-floridatoday-hs-roundup", "Palm Bay d. Rockledge 70-44", ["GIRLS BASKETBALL"]),
        ("en-haskellweekly-300", "Haskell series part 10", ["Featured", "In brief"]),
    ],
)
def test_3_category_headings_give_way_to_the_entries_they_group(
    page_id: str, first: str, not_items: list[str]
) -> None:
    headlines = _headlines(page_id)
    assert first in headlines[0]
    assert not set(not_items) & set(headlines)


def test_2_linked_post_titles_are_no_wrappers_over_the_links_they_round_up() -> None:
    # a blog home of ten <h1> posts, each a round-up of bold links to other sites' articles
    headlines = _headlines("de-bildblog-home-20180319")
    assert len(headlines) == 10
    assert headlines[0] == "Bolz-Account, Palandt-Tätergedenken, Bitte keine Unfallfotos"


def test_2_a_heading_with_no_text_gives_way_to_its_named_sub_headings() -> None:
    # "Un peu de contenu" wraps three <h3> topics whose names are shorter than it
    headlines = _headlines("fr-winsos-bookmarks-29")
    assert headlines[-3:] == ["Développement", "Misc", "Graphisme, design & co"]
    assert "Un peu de contenu" not in headlines


def test_4_sections_of_bare_link_bullets_are_the_stories() -> None:
    # five emoji-headed ## sections of link bullets, three of them links only
    assert _headlines("fr-twir-201") == [
        "⚛️ React",
        "📱 React-Native",
        "🇫🇷 En français",
        "🔀 Autre",
        "🤭 Fun",
    ]


def test_4_link_entries_under_one_issue_heading_are_the_stories() -> None:
    # one ## issue heading, three ### parts, 41 numbered entries, most folded by the Markdown
    # renderer into the paragraph before them ("…\n1. [title](url)")
    headlines = _headlines("en-devopsish-100")
    assert len(headlines) == 41
    assert headlines[:2] == [
        "Conference: All Things Open 2018",
        "All Things Open 2018 – Conference Wrap-Up",
    ]


def test_6_numbered_lines_of_a_briefing_are_stories_without_bodies() -> None:
    headlines = _headlines("zh-60s-dushijie-20230315")
    assert len(headlines) == 15
    assert headlines[0].startswith("外交部领事司：3月15日起驻外签证机关恢复审发")


def test_4_link_bullets_stay_inside_the_sections_that_hold_them() -> None:
    # six ## topic sections; two of them are round-ups of one-line link bullets
    headlines = _headlines("ru-bem-digest-3")
    assert headlines == [
        "Новости технологий",
        "Новости документации",
        "Новости сайта bem.info",
        "Новости разделов «Блог», «Статьи» и «Выступления»",
        "Интересное на форуме",
        "В мире БЭМ",
    ]


@pytest.mark.parametrize(
    "page_id",
    [
        "single-de-lady50plus-sekre",  # <h3> sections, and <h3> sidebar widgets and comments
        "single-en-blogger-greenpak",  # <h2> sections, and <h2> sidebar widgets
        "single-zh-163-longhu",  # bold cross-heads, <h3> link lists of other stories
        "single-zhtw-techbridge-tensorflow-mnist",  # a long Traditional-Chinese post, code tables
        "single-zh-wechat-yiriyiji",  # prose and code, short lines that introduce code
        "single-de-apache-httpd-konfigurationsdateien",  # <h2><a name> sections in div.section boxes
        "single-en-webstruct-tutorial",  # a Sphinx tutorial: "¶" headings in div.section boxes
        "single-lv-lsm-norvegija",  # one story among a date line, the site's name, sidebar titles
    ],
)
def test_5_single_articles_are_not_chopped(page_id: str) -> None:
    split = _split(page_id)
    assert split.single_article and len(split.items) == 1


@pytest.mark.parametrize(
    ("page_id", "words"),
    [
        ("single-en-reuters-parasite-sag", "South Korean thriller “Parasite” was the upset winner"),
        ("single-de-landwirt-sensortechnik", "Viertelgemelke"),
        ("single-ja-yahoo4-wifi", "トレンドマイクロは3月9日"),
    ],
)
def test_6_a_page_without_headings_is_one_item_not_an_error(page_id: str, words: str) -> None:
    split = _split(page_id)
    assert len(split.items) == 1
    assert words in split.items[0].body_text


def test_6_whole_always_yields_the_main_text() -> None:
    split = _split("single-de-cdu-erfurt-waldorfschule", SplitOptions(mode=SplitMode.WHOLE))
    assert len(split.items) == 1
    assert "Waldorfschule in Bischleben" in split.items[0].body_text


def test_6_plain_text_headline_lines_of_a_morning_briefing_are_found() -> None:
    headlines = _headlines("zh-sspai-paizaobao-20260526")
    for story in (
        "法拉利发布首款纯电跑车 Luce",
        "森海塞尔发布 Momentum 5 耳机",
        "三星图库将不再支持与 OneDrive 直接同步",
    ):
        assert story in headlines


def test_6_a_home_page_of_headline_links_gives_one_item_per_link() -> None:
    split = _split("ja-entamenext-home-20180317")
    assert len(split.items) >= 10
    assert all(len(item.headline) >= 10 for item in split.items)


def test_6_a_link_list_keeps_its_menu_and_pager_lines_out() -> None:
    headlines = _headlines("ru-opennet-home-20180317")
    assert len(headlines) == 20
    assert not [h for h in headlines if "|" in h or ">>" in h]
    assert headlines[0].startswith("Доступна система фильтрации спама Rspamd 1.7")


def test_6_a_line_of_several_links_is_no_story_of_a_link_list() -> None:
    headlines = _headlines("ru-webstandards-podcast-150")
    assert headlines[0] == "10 видео с WSD в Минске"
    assert not [h for h in headlines if h.startswith(("Слушайте", "Читайте", "Поддержите"))]


def test_6_a_portals_teaser_headlines_win_over_its_tickers_and_related_links() -> None:
    split = _split("en-newscomau-home-20100111")
    headlines = [item.headline for item in split.items]
    # (38 labelled: its <h4> teasers, promo boxes' teasers among them, not the boxes' <h2> labels)
    assert 38 <= len(headlines) <= 45
    assert {"Bali 'confession' to help mate", "Hit and run", "Kicked out"} <= set(headlines)
    assert not {"Adelaide", "Business", "Travel"} & set(headlines)
    assert not [h for h in headlines if h[:1].isdigit() and "M " in h[:8]]  # "12:27PM …" tickers
    assert all(item.body_text for item in split.items)


@pytest.mark.parametrize(
    "page_id", ["zhhk-hkcnews-home-20180323", "zhhk-hkcnews-home-20180323-big5hkscs"]
)
def test_6_the_top_headline_link_of_a_link_page_is_a_story_not_the_title(page_id: str) -> None:
    headlines = _headlines(page_id)
    assert headlines[0].startswith("【旺角衝突】向天開兩槍交警")
    assert headlines[1].startswith("鄭若驊遷入山頂官邸")


def test_7_inline_tags_put_no_space_inside_words() -> None:
    body = _split("single-zh-163-longhu").items[0].body_text
    assert "龙湖集团即将迎来赴港上市10周年" in body
    code = _split("single-zh-wechat-yiriyiji").items[0].body_text
    assert "add_ts函数都会正常运行" in code


def test_7_tables_stay_tables() -> None:
    items = _split("ja-garyohosu-ai-weekly-2026w03").items
    tables = [item for item in items if "<table" in item.body_html]
    assert tables
    assert any(" | " in line for item in tables for line in item.body_text.splitlines())


def test_7_nothing_between_two_headlines_is_lost_when_a_level_is_forced() -> None:
    text, kind = _page("zhtw-lazyjerry-weekly-20251122")
    bold = next(v for v in explain_page(text, kind).levels if v.name == "bold")
    forced = split_page(text, kind, SplitOptions(headline_selector=bold.selector))
    assert len(forced.items) == 13
    # the category heading between the first two stories stays in the first story's text
    assert "資訊安全" in forced.items[0].body_text
