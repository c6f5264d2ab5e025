"""Flows with several people, through the simulator with the real classifier: an emergency any
alerted staff member can take, a ticket two neighbours reported and rate for themselves, 督办.

The people are the demo district's (data/demo/registry.yaml): residents of 新家园1-5栋邻里群, the grid
worker 周敏, the social worker 李婷, the police desk that takes fire-safety tickets, two leaders.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import App
from core.db import session_scope
from tickets.models import Rating, Ticket, TicketReporter, TicketState

from .simulate import say, simulate, tick, to

GROUP = "xjy-1@chatroom"
GRID_WORKER, SOCIAL_WORKER, POLICE = "wxid_wg_zhou", "wxid_sg_li", "wxid_dept_jw_qx"
LEADERS = ("wxid_ld_chen", "wxid_ld_sun")
REPORTER, NEIGHBOUR, BYSTANDER = "wxid_r0003", "wxid_r0005", "wxid_r0004"
OTHER_GRID, OTHER_SOCIAL = "wxid_wg_sun", "wxid_sg_wang"  # 紫藤苑's: not alerted to 新家园's emergency


def line(at: str, who: str, text: str, **extra: Any) -> dict[str, Any]:
    return say(f"11-09T{at}", who, text, group=GROUP, **extra)


def private(at: str, who: str, text: str) -> dict[str, Any]:
    return say(f"11-09T{at}", who, text, group=None)


def in_group(out: list[dict[str, Any]]) -> list[str]:
    return [o["text"] for o in out if o["group"] is not None]


FALL = [
    line("08:00", REPORTER, "快来人 我家老头在卫生间摔倒了 起不来了 3栋502", name="3栋-502 刘阿姨"),
    line("08:01", BYSTANDER, "我马上下去看看", name="3栋老王"),
]


def test_the_grid_worker_told_of_an_emergency_takes_it_and_nobody_is_paged_after(district: App) -> None:
    out = simulate(
        district,
        [
            *FALL,
            private("08:01", OTHER_GRID, "#签收 1"),  # not alerted, another community: refused
            private("08:01", OTHER_SOCIAL, "#签收 1"),
            private("08:02", GRID_WORKER, "#签收 1"),
            tick("11-09T12:00"),
        ],
    )
    for outsider in (OTHER_GRID, OTHER_SOCIAL):
        assert to(out, outsider) == ["1号工单不是由您负责，不能签收。"]
    # both staff were alerted, privately and in the group
    for staff in (GRID_WORKER, SOCIAL_WORKER):
        assert any(t.startswith("【紧急】1号工单") for t in to(out, staff))
        assert any(t.startswith("紧急情况！") for t in to(out, staff))
    # the grid worker (not the ticket's handler) accepts it, and the social worker is told who did
    assert "好的，1号工单已签收，办理时限11月9日09:00前。" in to(out, GRID_WORKER)
    assert to(out, SOCIAL_WORKER)[-1] == "1号紧急工单已由新家园一网格周敏签收处理。"
    assert len(to(out, SOCIAL_WORKER)) == 3  # the two alerts and who took it: no 督办 later
    # the reporter and her neighbours hear it in the group, which saw the alarm
    taken = "新家园一网格周敏已接手“快来人 我家老头在卫生间摔倒了…”这件事，正在处理。"
    assert to(out, REPORTER)[-1] == taken
    assert taken in in_group(out)
    # escalation stopped at acceptance: no leader hears anything, in the group or privately
    for leader in LEADERS:
        assert to(out, leader) == []
    assert not [o for o in out if "升级" in o["text"] or "督办" in o["text"]]
    assert to(out, BYSTANDER) == []
    with session_scope(district.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert (ticket.state, ticket.handler_id, ticket.urgent) == (TicketState.ACCEPTED, GRID_WORKER, True)


def test_an_emergency_nobody_takes_escalates_privately_and_the_first_acceptance_wins(district: App) -> None:
    out = simulate(
        district,
        [
            *FALL,
            tick("11-09T08:06"),  # 5 minutes without acceptance: the next in the chain is told
            private("08:07", GRID_WORKER, "#签收 1"),
            private("08:08", SOCIAL_WORKER, "#签收 1"),
            tick("11-09T12:00"),
        ],
    )
    escalated = [o for o in out if o["text"].startswith("【紧急升级】")]
    assert escalated and all(o["group"] is None for o in escalated)  # never paged in the residents' group
    leader = escalated[0]["to"]
    assert leader in LEADERS
    assert "好的，1号工单已签收，办理时限11月9日09:00前。" in to(out, GRID_WORKER)
    assert to(out, SOCIAL_WORKER)[-2:] == [
        "1号紧急工单已由新家园一网格周敏签收处理。",
        "1号工单现在是“已签收”，不能签收。",
    ]
    assert to(out, leader)[-1] == "1号紧急工单已由新家园一网格周敏签收处理。"
    assert len(escalated) == 1  # escalation stopped once the grid worker took it
    assert not [o for o in out if "督办" in o["text"]]


BLOCKED = [
    line(
        "08:00",
        REPORTER,
        "3栋楼道里又停了好几辆电瓶车 还拉了电线充电 太危险了 物业管管吧",
        name="3栋-502 刘阿姨",
    ),
    line("08:03", NEIGHBOUR, "+1 天天这样", name="3栋老许"),
    line("08:05", "wxid_wy_xjy", "收到 我们马上去3栋看看", name="新家园物业小张"),
    private("09:00", POLICE, "#签收 1"),
    private("15:00", POLICE, "#办结 1 已和物业一起清理楼道，电线已收"),
]


def test_each_reporter_rates_for_themselves_and_one_dissatisfied_reporter_reopens(district: App) -> None:
    out = simulate(
        district,
        [
            *BLOCKED,
            line("16:00", REPORTER, "满意", name="3栋-502 刘阿姨"),
            line("18:30", NEIGHBOUR, "不满意 我刚又去看了 线是收了 车还是停在楼道里", name="3栋老许"),
        ],
    )
    assert to(out, REPORTER)[-2:] == [
        "您反映的“3栋楼道里又停了好几辆电瓶车 …”已经办好：已和物业一起清理楼道，电线已收\n您满意吗？请回复“满意”“基本满意”或“不满意”。",
        "谢谢您的评价，已记下了。",  # privately; and nothing about the neighbour's rating
    ]
    assert (
        to(out, NEIGHBOUR)[-1]
        == "抱歉没让您满意，“3栋楼道里又停了好几辆电瓶车 …”已经重新交给栖霞公安分局社区警务室办理，11月11日前给您答复。"
    )
    reopened = to(out, POLICE)[-1]
    assert reopened.startswith("【重办】1号工单有居民不满意，请重新办理。")
    assert "我刚又去看了 线是收了 车还是停在楼道里" in reopened  # the resident's own words, kept
    # the thanks, the apology and the progress went privately: the group heard only the filing
    assert in_group(out) == [to(out, REPORTER)[0]]
    with session_scope(district.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert (ticket.state, ticket.reopened) == (TicketState.NEW, 1)
        rows = {r.person_id: r for r in session.exec(select(TicketReporter)).all()}
        assert rows[REPORTER].rating is Rating.SATISFIED
        assert rows[NEIGHBOUR].comment == "我刚又去看了 线是收了 车还是停在楼道里"

    out = simulate(
        district,
        [
            say("11-10T10:00", POLICE, "#签收 1", group=None),
            say("11-10T16:00", POLICE, "#办结 1 车已全部挪到车棚，贴了告示", group=None),
            say("11-10T19:00", NEIGHBOUR, "这回可以 满意", group=GROUP, name="3栋老许"),
            tick("11-14T12:00"),
        ],
    )
    # the reporter who was satisfied hears the news but is not asked again, nor told of an automatic close
    assert (
        to(out, REPORTER)[-1]
        == "您反映的“3栋楼道里又停了好几辆电瓶车 …”又跟进处理了：车已全部挪到车棚，贴了告示"
    )
    assert to(out, NEIGHBOUR)[-1] == "谢谢您的评价，已记下了。"
    assert not [o for o in out if "没收到您的评价" in o["text"]]
    with session_scope(district.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert (ticket.state, ticket.rating) == (TicketState.CLOSED, Rating.SATISFIED)


def test_the_automatic_close_is_told_only_to_those_who_did_not_rate(district: App) -> None:
    out = simulate(
        district, [*BLOCKED, line("16:00", NEIGHBOUR, "基本满意 谢谢", name="3栋老许"), tick("11-13T12:00")]
    )
    assert to(out, NEIGHBOUR)[-1] == "谢谢您的评价，已记下了。"
    assert to(out, REPORTER)[-1].endswith(
        "办好已经3天了，没收到您的评价，就先按“满意”记下了。如果问题还在，随时在群里说或私聊小棲。"
    )
    with session_scope(district.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert (ticket.state, ticket.rating) == (TicketState.CLOSED, Rating.BASICALLY)  # from the one rating


def test_supervision_goes_to_those_above_the_handler_never_to_the_handler_herself(district: App) -> None:
    out = simulate(
        district,
        [
            line("09:00", REPORTER, "#反映 3栋门口的垃圾桶坏了 盖子掉了", name="3栋-502 刘阿姨"),
            private("09:05", SOCIAL_WORKER, "#转派 1 新家园社工李婷"),
            tick("11-20T12:00"),
        ],
    )
    supervision = [o for o in out if o["text"].startswith("【督办】")]
    assert supervision, "an overdue ticket is supervised"
    assert {o["to"] for o in supervision} == set(LEADERS)
    assert all("负责人：新家园社工李婷，" in o["text"] for o in supervision)  # the role said once
