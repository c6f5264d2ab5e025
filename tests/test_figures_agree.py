"""One month in one community, and the three places staff read its figures: the console's overview, the
#统计 reply in chat and the monthly report. They must show the same 办结率, 满意率 and message count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from bot.app import App
from core.clock import SHANGHAI
from core.db import session_scope
from reports.build import collect, default_segmenter
from reports.period import Month
from reports.texts import leader_message
from web.context import WebContext
from web.server import create_web
from xiaoqi.wiring import create_app

from .simulate import say, simulate, tick, to
from .test_console import Clock, Console

G1, G2, G3 = "g1@chatroom", "g2@chatroom", "g3@chatroom"
COUNTED_AT = datetime(2026, 11, 30, 22, 0, tzinfo=SHANGHAI)
REPORT_BUILT_AT = datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)

# Tickets of 幸福社区 (c1), all filed in November and handled by its social worker 李社工 (wxid_sg):
#   1 满意 · 2 默认满意 (resolved, nobody rated) · 3 不满意 (reopened, open again) · 4 不满意, redone,
#   then 基本满意 · 5 open, never taken · 6 resolved on the 29th, not rated yet · 7 满意
# 办结: 1, 2, 4, 6, 7 of 7 = 71.4%. Rated by residents: 1, 3, 4, 7; satisfied 1, 4, 7 = 75.0%
# (默认满意 is nobody's verdict: counting it as satisfied would give 4 of 5 = 80.0%).
PETITIONS = [
    ("11-02T09:10", "wxid_r1", G1, "#反映 5栋电梯又坏了，老人上不了楼"),
    ("11-02T09:20", "wxid_v1", G1, "#反映 小区东门的路灯不亮了，晚上很黑"),
    ("11-02T09:30", "wxid_r2", G2, "#反映 7栋门口垃圾堆了三天没人清"),
    ("11-02T09:40", "wxid_v3", G2, "#反映 地下车库下水道堵了，一股臭味"),
    ("11-02T09:50", "wxid_v2", G1, "#反映 健身器材的螺丝松了，小孩玩很危险"),
    ("11-02T10:00", "wxid_v5", G1, "#反映 6栋楼顶水箱漏水，顶楼墙面发霉"),
    ("11-02T10:10", "wxid_v6", G2, "#反映 7栋楼道的窗户玻璃碎了"),
]


def month_of_traffic() -> list[dict[str, object]]:
    events: list[dict[str, object]] = [
        # what is not speech: a join, a leave and a recall
        say("11-01T08:00", "wxid_v4", "", group=G2, kind="join", name="小马"),
        say("11-01T08:05", "wxid_v4", "大家好，我是7栋新搬来的", group=G2),
        say("11-01T08:06", "wxid_v4", "m-recalled", group=G2, kind="recall"),
        say("11-01T08:30", "wxid_v2", "早上好", group=G1),
        say("11-01T08:31", "wxid_v2", "[图片]", group=G1, kind="image"),
        say("11-01T09:00", "wxid_r3", "和平社区今天有义诊吗", group=G3),  # another community
    ]
    events += [say(at, who, text, group=group) for at, who, group, text in PETITIONS]
    events.append(say("11-02T11:00", "wxid_r3", "#反映 和平小区的路灯坏了", group=G3))
    handled = {1: "11-03T10:00", 2: "11-03T10:10", 3: "11-03T10:20", 4: "11-03T10:30", 7: "11-03T10:40"}
    for number, at in handled.items():
        events.append(say(at, "wxid_sg", f"#签收 {number}", group=None))
        events.append(say(at.replace("T10", "T15"), "wxid_sg", f"#办结 {number} 已处理完毕", group=None))
    events += [
        say("11-03T16:00", "wxid_r1", "满意", group=G1),
        say("11-03T16:10", "wxid_r2", "不满意 垃圾还在", group=G2),
        say("11-03T16:20", "wxid_v3", "不满意 还是臭", group=G2),
        say("11-03T16:30", "wxid_v6", "满意", group=G2),
        say("11-04T09:00", "wxid_sg", "#签收 4", group=None),
        say("11-04T15:00", "wxid_sg", "#办结 4 已请人疏通", group=None),
        say("11-04T16:00", "wxid_v3", "基本满意", group=G2),
        say("11-03T11:00", "wxid_sg2", "#签收 8", group=None),
        say("11-03T15:00", "wxid_sg2", "#办结 8 已修好", group=None),
        say("11-03T16:00", "wxid_r3", "满意", group=G3),
        tick("11-10T09:00"),  # ticket 2 closes as 默认满意
        say("11-15T20:00", "wxid_v1", "", group=G1, kind="leave"),
        say("11-29T10:00", "wxid_sg", "#签收 6", group=None),
        say("11-29T15:00", "wxid_sg", "#办结 6 已修好", group=None),
        say("11-30T22:00", "wxid_sg", "#统计 本社区 本月", group=None),
    ]
    return sorted(events, key=lambda e: str(e.get("at", "")))


@pytest.fixture
def month(app: App) -> Iterator[tuple[str, Console]]:
    out = simulate(app, month_of_traffic())
    clock = Clock(COUNTED_AT)
    web_app = create_app(app.settings, engine=app.engine, jobs=[])
    with TestClient(create_web(WebContext(web_app, clock=clock)), base_url="https://testserver") as client:
        (stats,) = [t for t in to(out, "wxid_sg") if t.startswith("幸福社区本月")]
        yield stats, Console(client, clock, app, web_app)


def test_the_console_the_chat_and_the_report_show_the_same_figures(
    app: App, month: tuple[str, Console]
) -> None:
    stats, console = month
    console.sign_in("wxid_sg")
    page = console.client.get("/").text
    with session_scope(app.engine) as session:
        report = collect(
            session, Month.parse("2026-11"), "community:c1", REPORT_BUILT_AT, default_segmenter(app.settings)
        )
    letter = leader_message(report)

    chat = re.search(r"本月共 (\d+) 条消息.*本月新工单 (\d+) 件，办结率 ([\d.]+%)，满意率 ([\d.]+%)", stats)
    assert chat is not None, stats
    on_screen = (
        re.search(r"今日消息<b>\d+</b>本月 (\d+)", page),
        re.search(r"今日新工单<b>\d+</b>本月 (\d+)", page),
        re.search(r"本月办结率<b>([\d.]+%)</b>", page),
        re.search(r"本月满意率<b>([\d.]+%)</b>", page),
    )
    assert all(on_screen), page
    console_figures = tuple(m[1] for m in on_screen if m)
    in_letter = re.search(r"群消息 (\d+) 条.*工单 (\d+) 件，办结率 ([\d.]+%)，满意率 ([\d.]+%)", letter, re.S)
    assert in_letter is not None, letter

    # 14 texts and 1 image in 幸福社区's groups: the join, the leave and the recall are not messages,
    # nor is what staff say to Xiaoqi privately, nor 和平社区's messages
    expected = ("15", "7", "71.4%", "75.0%")
    assert console_figures == expected
    assert chat.groups() == expected
    assert in_letter.groups() == expected
    assert report.tickets.default_satisfied == 1
