"""Charset handling: header, <meta>, BOM, wrong labels, GBK as GB18030, Big5 as Big5-HKSCS."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from feedbot.config import load_config
from feedbot.encoding import decode, normalise_codec
from feedbot.run import run_once

from .helpers import Clock, Response, Server, check_atom, write_config

DIGEST = """<html><head><meta charset="{meta}"><title>每日要闻</title></head><body><div class="content">
<h2>央行宣布下调存款准备金率</h2><p>中国人民银行宣布，下调金融机构存款准备金率0.5个百分点，释放长期资金约一万亿元。</p>
<h2>北京发布暴雨橙色预警</h2><p>北京市气象台发布暴雨橙色预警信号，预计今天夜间到明天白天有大到暴雨。</p>
<h2>国家图书馆新馆开放</h2><p>国家图书馆新馆今日起对公众开放，读者可通过网上预约入馆参观阅览。</p>
</div></body></html>"""
HEADLINES = ["央行宣布下调存款准备金率", "北京发布暴雨橙色预警", "国家图书馆新馆开放"]


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("big5", "big5hkscs"),
        ("shift_jis", "cp932"),
        ("iso-8859-1", "cp1252"),
        ("utf-8", "utf-8"),
        ("no-such-charset", None),
    ],
)
def test_codec_mapping(label: str, codec: str | None) -> None:
    assert normalise_codec(label) == codec


def test_gbk_page_with_chars_outside_gb2312() -> None:
    text = "镕基与喆 𠀀"  # 镕/喆 are GBK-only; U+20000 needs GB18030
    data = text.encode("gb18030")
    decoded, codec = decode(b"<meta charset='gb2312'>" + data)
    assert codec == "gb18030" and decoded.endswith(text)


def test_big5_hkscs_characters() -> None:
    text = "香港特區政府宣佈𥚃"  # the last one is an HKSCS extension character
    data = text.encode("big5hkscs")
    decoded, codec = decode(b'<meta charset="big5">' + data)
    assert codec == "big5hkscs" and text in decoded


def test_utf8_page_with_a_wrong_meta_and_header() -> None:
    data = DIGEST.format(meta="gb2312").encode("utf-8")
    decoded, codec = decode(data, header_charset="iso-8859-1")
    assert codec == "utf-8" and "央行" in decoded


def test_bom_wins() -> None:
    decoded, codec = decode(codecs.BOM_UTF8 + "央行".encode(), header_charset="gbk")
    assert decoded == "央行" and codec == "utf-8"


def test_override_wins() -> None:
    data = "日本語のページ".encode("shift_jis")
    decoded, _ = decode(data, override="shift_jis", header_charset="utf-8")
    assert decoded == "日本語のページ"


def test_detection_without_any_label() -> None:
    text = "這是一段沒有任何字元集標示的繁體中文網頁內容，用來測試自動偵測是否可靠。" * 5
    decoded, _ = decode(text.encode("big5"), html=False)
    assert decoded == text


@pytest.mark.parametrize(
    ("encoding", "meta", "header"),
    [
        ("gbk", "gbk", None),
        ("gb2312", "gb2312", "text/html"),
        ("gbk", "utf-8", "text/html; charset=gbk"),
        ("utf-8", "gb2312", "text/html; charset=gb2312"),
        ("big5", "big5", None),
    ],
)
def test_no_mojibake_reaches_the_feed(
    tmp_path: Path, server: Server, encoding: str, meta: str, header: str | None
) -> None:
    page = DIGEST.format(meta=meta)
    if encoding == "big5":
        import opencc

        page = opencc.OpenCC("s2t").convert(page)
    body = page.encode("big5hkscs" if encoding == "big5" else encoding)
    headers = {"Content-Type": header} if header else {"Content-Type": "text/html"}
    server.routes["/p"] = Response(200, body, headers)
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/p"), "feed": "f"}])
    )
    results = run_once(config, now=Clock())
    assert results[0].ok, results[0].error
    parsed = check_atom((config.feeds_dir / "f.atom").read_bytes())
    titles = [e.title for e in parsed.entries]
    if encoding == "big5":
        import opencc

        titles = [opencc.OpenCC("t2s").convert(t) for t in titles]
    assert titles == HEADLINES
    for entry in parsed.entries:
        assert "\ufffd" not in entry.content[0].value
