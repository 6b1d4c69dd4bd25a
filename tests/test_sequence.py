"""Ten days of a changing digest into one feed: edits, repeats, the other Chinese script, a reworded
headline, a recurring section heading with new bodies each time, dropped items. Entry counts, ids that
never change, published / updated values and the update policy's output are checked day by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import opencc
import pytest

from feedbot.config import load_config
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import Clock, check_atom, write_config

T = opencc.OpenCC("s2hk")
START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)

BODIES = {
    "A": [
        "中国人民银行5月1日宣布，决定于5月15日下调金融机构存款准备金率0.5个百分点，此次降准将释放长期资金约一万亿元。",
        "央行有关负责人表示，此次降准是为了保持流动性合理充裕，支持实体经济发展，降低社会综合融资成本。",
        "市场人士认为，降准有助于稳定市场预期，预计后续还将有结构性货币政策工具陆续推出。",
    ],
    "B": [
        "北京市气象台1日发布暴雨橙色预警信号，预计当日夜间至次日白天本市大部分地区将出现大到暴雨，局地大暴雨。",
        "市防汛办提醒市民尽量减少外出，远离河道、山区等危险区域，注意防范城市内涝和山洪地质灾害。",
    ],
    "B+": ["截至2日上午，全市平均降雨量已达85毫米，最大降雨出现在门头沟区，多条道路临时封闭。"],
    "C": [
        "国家图书馆新馆定于5月3日起正式对公众开放，读者可通过官方网站和小程序提前预约入馆。",
        "新馆总建筑面积约八万平方米，设有古籍善本展厅、数字阅读体验区和少儿阅览室等多个功能区域。",
        "开馆首周，馆方还将举办系列讲座和典籍展览，介绍馆藏珍贵文献的保护与修复工作。",
    ],
    "C+": ["馆方5日表示，开馆首周预约名额已全部约满，将适当增加每日入馆人数。"],
    "D": [
        "第十五届中国国际航空航天博览会筹备工作进入冲刺阶段，组委会6日通报，已有四十多个国家和地区的参展商确认参展。",
        "本届航展将首次设立低空经济专题展区，展示无人机物流、电动垂直起降飞行器等新型航空器。",
    ],
    "D+": ["组委会7日补充说明，公众开放日门票将于下周一起在官方渠道发售。"],
    "E": [
        "长江流域重点水域十年禁渔进入第四年，农业农村部9日通报，长江江豚种群数量止跌回升，监测发现的江豚群体明显增多。",
        "专家表示，禁渔成效初步显现，但长江生态修复仍是一项长期任务，需要持续加强执法监管。",
    ],
    "F": [
        "全国夏粮收购工作将于6月陆续展开，国家粮食和物资储备局9日召开会议部署，要求各地提前做好仓容准备。",
        "会议强调，要严格执行最低收购价政策，守住农民种粮卖得出的底线，防止出现卖粮难。",
    ],
    "M1": [
        "沪深两市周三低开高走，上证指数收涨0.8%，半导体和新能源板块领涨，两市成交额超过九千亿元。"
    ],
    "M2": ["周四A股震荡调整，创业板指下跌1.2%，医药板块逆势走强，北向资金全天净卖出约三十亿元。"],
    "M3": [
        "周五港股恒生指数大涨2.1%，科技股集体反弹，美团、腾讯涨幅居前，南向资金净买入超过五十亿港元。"
    ],
    "M4": ["下周一人民币对美元中间价调升120个基点，外汇市场交投清淡，国债期货全线小幅收跌。"],
}
HEADLINES = {
    "A": "央行宣布下调存款准备金率0.5个百分点",
    "A'": "降准0.5个百分点 释放长期资金约一万亿元",
    "B": "北京发布暴雨橙色预警",
    "C": "国家图书馆新馆开放",
    "D": "珠海航展筹备进入冲刺阶段",
    "E": "长江江豚种群数量止跌回升",
    "F": "夏粮收购工作即将展开",
    "M": "今日股市",
}


def story(headline: str, *bodies: str, trad: bool = False) -> tuple[str, list[str]]:
    paragraphs = [p for key in bodies for p in BODIES[key]]
    if trad:
        return T.convert(HEADLINES[headline]), [T.convert(p) for p in paragraphs]
    return HEADLINES[headline], paragraphs


DAYS: list[list[tuple[str, list[str]]]] = [
    [story("A", "A"), story("B", "B"), story("M", "M1")],  # 1: three new
    [
        story("A", "A"),
        story("B", "B", "B+"),
        story("M", "M2"),
    ],  # 2: B edited, Markets is a new story
    [
        story("A", "A", trad=True),
        story("B", "B", "B+"),
        story("C", "C"),
    ],  # 3: A in Traditional, C new
    [story("A'", "A"), story("C", "C"), story("M", "M3")],  # 4: A reworded headline, new Markets
    [story("C", "C", "C+"), story("D", "D")],  # 5: A and B dropped, C edited, D new
    [story("C", "C", "C+"), story("D", "D"), story("B", "B", "B+")],  # 6: B back, unchanged
    [story("D", "D", "D+", trad=True)],  # 7: D edited, in Traditional
    [story("M", "M4"), story("D", "D", "D+")],  # 8: new Markets
    [story("E", "E"), story("F", "F"), story("D", "D", "D+")],  # 9: two new
    [story("E", "E"), story("F", "F"), story("C", "C", "C+")],  # 10: repeats only
]
# entries expected after each day, and which stories were updated that day
ENTRIES = [3, 4, 5, 6, 7, 7, 7, 8, 10, 10]
UPDATED_ON = {2: ["B"], 4: ["A"], 5: ["C"], 7: ["D"]}


def page(day: int, stories: list[tuple[str, list[str]]]) -> str:
    parts = [f"<html><head><title>每日要闻 第{day}期</title></head><body>"]
    parts.append("<div class='nav'><a href='/'>首页</a> <a href='/news'>新闻</a></div>")
    parts.append(f"<div class='article'><h1>每日要闻（第{day}期）</h1><div class='content'>")
    parts.append("<p>编者按：以下是今天的主要新闻。</p>")
    for headline, paragraphs in stories:
        parts.append(f"<h2>{headline}</h2>")
        parts.extend(f"<p>{p}</p>" for p in paragraphs)
    parts.append(
        "<p>（来源：综合报道）</p></div></div><div class='footer'>版权所有 © 2024</div></body></html>"
    )
    return "".join(parts)


def _ids(atom: bytes) -> dict[str, tuple[str, str, str]]:
    parsed = check_atom(atom)
    return {e.id: (e.title, e.published, e.updated) for e in parsed.entries}


@pytest.mark.parametrize("policy", ["mark", "silent", "new-entry"])
def test_ten_days(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "digest.html"
    config = load_config(
        write_config(
            tmp_path,
            [{"name": "daily", "url": "digest.html", "feed": "daily"}],
            feeds={"daily": {"update_policy": policy}},
        )
    )
    clock = Clock(START)
    seen: dict[str, tuple[str, str, str]] = {}
    first_title: dict[str, str] = {}
    extra = 0
    for day, stories in enumerate(DAYS, start=1):
        clock.now = START + timedelta(days=day - 1)
        path.write_text(page(day, stories), encoding="utf-8")
        result = run_once(config, now=clock)[0]
        assert result.ok, result.error
        updated_today = UPDATED_ON.get(day, [])
        assert result.updated == len(updated_today), day
        if policy == "new-entry":
            extra += len(updated_today)
        entries = _ids((config.feeds_dir / "daily.atom").read_bytes())
        assert len(entries) == ENTRIES[day - 1] + extra, (
            day,
            sorted(t for t, _, _ in entries.values()),
        )
        # ids never disappear, and their published date never moves
        for entry_id, (_title, published, updated) in seen.items():
            assert entry_id in entries, (day, first_title[entry_id])
            assert entries[entry_id][1] == published
            assert entries[entry_id][2] >= updated
        stamp = clock.now.isoformat()
        for entry_id, (title, published, updated) in entries.items():
            first_title.setdefault(entry_id, title)
            if entry_id not in seen:
                assert published == updated == stamp, (day, title)
            elif updated == stamp and policy != "new-entry":
                assert entries[entry_id] != seen[entry_id]
                if policy == "mark":
                    assert title.endswith("[updated]")
                else:
                    assert "[updated]" not in title
        seen = entries
    titles = [t for t, _, _ in seen.values()]
    assert (
        sum(1 for t in titles if t.startswith(HEADLINES["M"])) == 4
    )  # four different market reports
    with Store(config.db_path) as store:
        assert store.count_entries("daily") == 10 + extra
        if policy != "new-entry":
            history = {e.headline: e.revisions for e in store.feed_entries("daily", 100)}
            assert history[HEADLINES["A'"]] == 2
            assert history[HEADLINES["B"]] == 2
            assert history[HEADLINES["C"]] == 2
            assert history[T.convert(HEADLINES["D"])] == 2


def test_volatile_text_does_not_churn(tmp_path: Path) -> None:
    path = tmp_path / "digest.html"
    config = load_config(
        write_config(
            tmp_path,
            [{"name": "d", "url": "digest.html", "feed": "d", "volatile_patterns": ["广告位\\d+"]}],
        )
    )
    clock = Clock(START)
    for day in range(1, 6):
        clock.now = START + timedelta(hours=day)
        stories = [
            (
                HEADLINES["A"],
                [*BODIES["A"], f"阅读 {day * 1234} 次", f"{day * 7}分钟前更新", f"广告位{day}"],
            ),
            (HEADLINES["B"], BODIES["B"]),
        ]
        path.write_text(page(1, stories), encoding="utf-8")
        result = run_once(config, now=clock)[0]
        assert result.ok
        assert result.updated == 0, day
        assert result.new == (2 if day == 1 else 0)
