"""A generator of digest pages for benchmarks: 20-500 KB, Chinese and English, deterministic."""

from __future__ import annotations

import random

ZH_WORDS = [
    "国务院",
    "常务会议",
    "部署",
    "推进",
    "经济",
    "稳定",
    "增长",
    "措施",
    "央行",
    "宣布",
    "下调",
    "存款",
    "准备金率",
    "北京",
    "上海",
    "广州",
    "深圳",
    "暴雨",
    "预警",
    "气象台",
    "发布",
    "交通",
    "运输部",
    "铁路",
    "客流",
    "高峰",
    "教育部",
    "高校",
    "招生",
    "计划",
    "科技",
    "创新",
    "企业",
    "研发",
    "投入",
    "市场",
    "监管",
    "总局",
    "食品",
    "安全",
    "抽检",
    "结果",
    "国际",
    "合作",
    "论坛",
    "开幕",
    "代表",
    "出席",
    "会谈",
    "双方",
    "就",
    "问题",
    "交换",
    "意见",
    "表示",
    "将",
    "继续",
    "加强",
]
EN_WORDS = [
    "government",
    "announced",
    "new",
    "measures",
    "to",
    "support",
    "economic",
    "growth",
    "central",
    "bank",
    "cut",
    "interest",
    "rates",
    "storm",
    "warning",
    "issued",
    "for",
    "coastal",
    "areas",
    "transport",
    "ministry",
    "said",
    "rail",
    "passengers",
    "peak",
    "season",
    "universities",
    "admissions",
    "plan",
    "technology",
    "companies",
    "research",
    "investment",
    "market",
    "regulator",
    "food",
    "safety",
    "inspection",
    "results",
    "international",
    "cooperation",
    "forum",
    "opened",
    "delegates",
    "met",
    "talks",
    "both",
    "sides",
    "exchanged",
    "views",
    "said",
    "would",
    "continue",
    "strengthen",
    "officials",
    "reported",
    "on",
    "tuesday",
    "according",
    "to",
]


def _sentence(rng: random.Random, zh: bool) -> str:
    words = ZH_WORDS if zh else EN_WORDS
    n = rng.randint(12, 30)
    if zh:
        return "".join(rng.choice(words) for _ in range(n)) + "。"
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[0].upper() + text[1:] + "."


def digest_page(seed: int, target_kb: int, zh: bool) -> str:
    """A digest page of about ``target_kb`` kilobytes with navigation, sidebar and footer."""
    rng = random.Random(seed)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Digest</title>"
        "<script>var x=1;</script></head><body>",
        "<div class='header'><ul class='nav'>"
        + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(12))
        + "</ul></div>",
        "<div class='main'><div class='article'><h1>Daily digest "
        + str(seed)
        + "</h1><div class='content'>",
    ]
    size = sum(len(p) for p in parts)
    n = 0
    style = seed % 3
    while size < target_kb * 1024:
        n += 1
        headline = _sentence(rng, zh).rstrip("。.")[: 28 if zh else 90]
        if style == 0:
            head = f"<p><strong>{headline}</strong></p>"
        elif style == 1:
            head = f"<h3>{headline}</h3>"
        else:
            head = f"<p><b>{n}. {headline}</b></p>"
        body = "".join(
            f"<p>{' '.join(_sentence(rng, zh) for _ in range(rng.randint(2, 5)))}</p>"
            for _ in range(rng.randint(2, 5))
        )
        parts.append(head + body)
        size += len(parts[-1].encode("utf-8"))
    parts.append("<p>(Source: feedbot bench)</p></div></div>")
    parts.append(
        "<div class='related'><h3>Related</h3><ul>"
        + "".join(f"<li><a href='/r{i}'>Related story {i}</a></li>" for i in range(10))
        + "</ul></div>"
    )
    parts.append("<div class='footer'>Copyright 2026 All rights reserved</div></div></body></html>")
    return "".join(parts)


def corpus(count: int = 40, seed: int = 0) -> list[str]:
    """Pages from 20 to 500 KB, half Chinese and half English."""
    rng = random.Random(seed)
    return [digest_page(seed + i, rng.randint(20, 500), zh=i % 2 == 0) for i in range(count)]
