"""A morning in a real group, through the simulator with the real classifier: who hears what.

The conversation is the demo district's (data/demo/registry.yaml): residents of 新家园1-5栋邻里群, its
property desk (an exempt account), the grid worker 周敏, the social worker 李婷 and the district's leaders.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import App
from core.db import session_scope
from tickets.models import Ticket, TicketReporter

from .simulate import say, simulate, to

GROUP = "xjy-1@chatroom"
GRID_WORKER, SOCIAL_WORKER, PROPERTY = "wxid_wg_zhou", "wxid_sg_li", "wxid_wy_xjy"
LEADERS = ("wxid_ld_chen", "wxid_ld_sun")


def line(at: str, who: str, text: str, **extra: Any) -> dict[str, Any]:
    return say(f"11-09T{at}", who, text, group=GROUP, **extra)


MORNING = [
    line("07:41", "wxid_r0002", "早上好啊各位"),
    line("07:52", "wxid_r0004", "5栋电梯又坏了 门一直关不上 我住16楼 买菜都下不去"),
    line("07:53", "wxid_r0006", "+1 送孩子上学只能走楼梯"),
    line("07:55", "wxid_r0012", "是的 我家也是"),
    line("08:10", PROPERTY, "您好 5栋电梯已报维保公司 师傅半小时内到 给大家带来不便非常抱歉"),
    line("08:40", "wxid_r0009", "请问社区医院打流感疫苗要预约吗"),
    line("08:52", "wxid_r0011", "要的 在健康南京app上约 带身份证就行"),
    line("09:30", "wxid_r0007", "谁家快递放错到我家门口了 顺丰的 来2栋103拿一下"),
    line("10:02", "wxid_r0003", "接龙 土鸡蛋 2栋504 两箱"),
    line("10:03", "wxid_r0001", "+1 1栋602 一箱"),
    line("11:20", "wxid_r0013", "家里的绿萝养得好好的 怎么突然黄叶了"),
    line("12:05", "wxid_r0008", "着火了！！！哈哈 我家火锅 辣到冒烟"),
    line("14:31", "wxid_r0010", "隔壁独居的老爷爷三天没见着人了 敲门不应 屋里电视一直开着 感觉不对劲"),
    line("14:33", "wxid_r0010", "2栋902"),
    line("14:34", SOCIAL_WORKER, "#签收 2"),
    line("14:52", "wxid_r0002", "120进小区了 东门"),
    line("15:20", SOCIAL_WORKER, "#办结 2 已联系家属开门，老人在家摔倒，已送医"),
    line("19:30", "wxid_r0006", "消防检测的警报声吓我一跳 还以为出啥事了"),
    say("11-11T09:20", "wxid_r0004", "我前天反映的那个电梯的事咋样了", group=GROUP),
]


def test_a_morning_in_the_group_opens_two_tickets_and_pages_nobody_for_chatter(district: App) -> None:
    out = simulate(district, MORNING)
    with session_scope(district.engine) as session:
        tickets = list(session.exec(select(Ticket).order_by(Ticket.id)))
        reporters = {
            t.number: sorted(
                session.exec(select(TicketReporter.person_id).where(TicketReporter.ticket_id == t.id))
            )
            for t in tickets
        }
    # the lift (with its two neighbours) and the old man: nothing else
    assert [(t.number, t.urgent) for t in tickets] == [(1, False), (2, True)]
    assert reporters[1] == ["wxid_r0004", "wxid_r0006", "wxid_r0012"]
    assert reporters[2] == ["wxid_r0002", "wxid_r0010"]

    # the resident who reported the lift hears once that it was filed, and later where it stands
    heard = to(out, "wxid_r0004")
    assert heard[0].startswith("收到！您反映的“5栋电梯又坏了")
    assert heard[1].startswith("您说的“5栋电梯又坏了") and "1号工单" in heard[1]
    assert len(heard) == 2
    # neighbours who only agreed, the property desk, the neighbour who answered a question, the parcel,
    # the group buy, the houseplant, the hotpot joke and the fire-alarm test: nobody hears anything
    for person in ("wxid_r0006", "wxid_r0012", PROPERTY, "wxid_r0011", "wxid_r0007", "wxid_r0003"):
        assert to(out, person) == [], person
    for person in ("wxid_r0001", "wxid_r0013", "wxid_r0008"):
        assert to(out, person) == [], person

    # the old man (养老助残: the social worker's): the group is told once, staff at once; the room number
    # and the ambulance reach her privately; once she has accepted, nobody is escalated to the leaders
    alerts = [o for o in out if o["group"] == GROUP and o["text"].startswith("紧急情况！")]
    assert len(alerts) == 1 and "独居的老爷爷" in alerts[0]["text"]
    assert any(t.startswith("【紧急】2号工单") for t in to(out, GRID_WORKER))
    details = [o["text"] for o in out if o["to"] == SOCIAL_WORKER and "补充" in o["text"]]
    assert any("2栋902" in d for d in details) and any("120进小区了" in d for d in details)
    for leader in LEADERS:
        assert to(out, leader) == [], leader
    # all the bot said in the group, for 18 lines of people's (data/groups/noise.yaml): the lift's receipt,
    # the alert with what to do, who took the old man, where the lift stands; the vaccine answer and the
    # old man's end went to those who asked and reported, privately
    in_group = [o["text"][:6] for o in out if o["group"] == GROUP]
    assert in_group == ["收到！您反映", "紧急情况！@", "新家园社工李", "您说的“5栋"]
    assert any(o["text"].startswith("流感疫苗一般") and o["to"] is not None for o in out)
