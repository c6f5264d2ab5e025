"""Whole ticket conversations through the simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlmodel import col, select

from bot.app import App
from core.db import session_scope
from core.errors import XiaoqiError
from tickets.lifecycle import accept, get_ticket
from tickets.models import Rating, Ticket, TicketEvent, TicketState

from .simulate import say, simulate, tick, to


def _ticket(app: App, number: int = 1) -> Ticket:
    with session_scope(app.engine) as session:
        return get_ticket(session, number)


def _actions(app: App, number: int = 1) -> list[tuple[str, str | None, str | None, str]]:
    with session_scope(app.engine) as session:
        events = session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == number).order_by(col(TicketEvent.id))
        )
        return [(e.action, e.from_state, e.to_state, e.actor_id) for e in events]


def test_a_petition_from_filing_to_a_rated_close(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 5栋电梯又坏了，老人上不了楼"),
            say("11-02T09:30", "wxid_sg", "#签收 1", group=None),
            say("11-02T11:00", "wxid_sg", "#进展 1 已联系电梯公司，下午来修", group=None),
            say("11-02T16:00", "wxid_sg", "#办结 1 电梯已修好，已试运行", group=None),
            say("11-02T18:00", "wxid_r1", "满意[强]"),
        ],
    )
    resident = to(out, "wxid_r1")
    assert (
        resident[0]
        == "收到！您反映的“5栋电梯又坏了，老人上不了楼”已登记（1号工单），由李社工负责，11月9日前给您答复。"
    )
    assert to(out, "wxid_sg")[0].startswith(
        "1号新工单【其他】幸福社区 幸福1-5栋群\n5栋-302 王阿姨：5栋电梯又坏了"
    )
    assert resident[1:] == [
        "您反映的“5栋电梯又坏了，老人上不了楼”，李社工已经接手，正在处理。",
        "您反映的“5栋电梯又坏了，老人上不了楼”有新进展：已联系电梯公司，下午来修",
        "您反映的“5栋电梯又坏了，老人上不了楼”已经办好：电梯已修好，已试运行\n您满意吗？请回复“满意”“基本满意”或“不满意”。",
        "谢谢您的评价，已记下了。",
    ]
    # only the filing confirmation is said in the group; the rest is the resident's own business
    assert [o["group"] for o in out if o["text"] in resident] == ["g1@chatroom", None, None, None, None]
    ticket = _ticket(app)
    assert (ticket.state, ticket.rating) == (TicketState.CLOSED, Rating.SATISFIED)
    assert [a[0] for a in _actions(app)] == ["登记", "签收", "进展", "办结", "评价"]


def test_a_return_and_a_reassignment(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 楼下饭店油烟太大"),
            say("11-02T09:10", "wxid_sg", "#转派 1 周网格", group=None),
            say("11-02T10:00", "wxid_wg", "#退回 1", group=None),
            say("11-02T10:01", "wxid_wg", "#退回 1 这是餐饮油烟，归城管管", group=None),
            say("11-02T10:30", "wxid_sg", "#转派 1 cg", group=None),
            say("11-02T11:00", "wxid_dept", "#签收 1", group=None),
        ],
    )
    assert to(out, "wxid_wg")[0].startswith("1号新工单【其他】")
    assert "用法：#退回 工单号 理由" in to(out, "wxid_wg")[1]
    assert (
        to(out, "wxid_sg")[2]
        == "1号工单被周网格退回，理由：这是餐饮油烟，归城管管。请发“#转派 1 姓名或部门”重新分派。"
    )
    resident = to(out, "wxid_r1")
    assert resident[1] == "您反映的“楼下饭店油烟太大”已转给周网格办理，11月9日前给您答复。"
    assert resident[2] == "您反映的“楼下饭店油烟太大”正在安排更合适的人来办，请放心，有进展会告诉您。"
    assert resident[3] == "您反映的“楼下饭店油烟太大”已转给街道城管科办理，11月9日前给您答复。"
    assert resident[4] == "您反映的“楼下饭店油烟太大”，街道城管科已经接手，正在处理。"
    assert all("不归" not in text and "不是我们" not in text for text in resident)
    assert [(a, f, t) for a, f, t, _ in _actions(app)] == [
        ("登记", None, "待签收"),
        ("转派", "待签收", "待签收"),
        ("退回", "待签收", "已退回"),
        ("转派", "已退回", "待签收"),
        ("签收", "待签收", "已签收"),
    ]


def test_an_extension_requested_and_approved(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 小区门口的路面塌了一块"),
            say("11-02T09:30", "wxid_sg", "#转派 1 wxid_wg", group=None),
            say("11-02T10:00", "wxid_wg", "#签收 1", group=None),
            say("11-02T10:05", "wxid_wg", "#延期 1 三 等材料", group=None),
            say("11-02T10:06", "wxid_wg", "#延期 1 3 要等市政的材料", group=None),
            say("11-02T10:07", "wxid_r1", "#批准延期 1"),
            say("11-02T10:30", "wxid_sg", "#批准延期 1", group=None),
        ],
    )
    assert "工作日数要写数字。" in to(out, "wxid_wg")[2]
    assert (
        to(out, "wxid_sg")[-2]
        == "周网格申请1号工单延期3个工作日，理由：要等市政的材料。同意请回复“#批准延期 1”。"
    )
    assert to(out, "wxid_r1")[-2] == "抱歉，这个命令只有社工、领导、管理员可以使用。"
    assert (
        to(out, "wxid_r1")[-1]
        == "您反映的“小区门口的路面塌了一块”还需要多一些时间，预计11月12日前办好，请您谅解。"
    )
    assert to(out, "wxid_wg")[-1] == "1号工单延期已批准，新的时限是11月12日。"


@pytest.mark.slow
def test_overdue_ticket_across_a_weekend_and_the_national_holiday(app: App) -> None:
    """Filed on Friday 25 Sep: 3 working days end on 30 Sep; 1-7 Oct is a holiday; 10 Oct (Sat) is worked."""
    out = simulate(
        app,
        [
            say("09-25T10:00", "wxid_r1", "#反映 单元门禁坏了关不上"),
            tick("10-13T12:00"),
        ],
    )
    staff = [(o["at"], o["to"], o["text"]) for o in out if o["to"] is not None]
    # the leaders also get September's report on 1 October (tests/test_report_delivery.py covers it)
    reports = [(at, who) for at, who, text in staff if text.startswith("【民情月报】")]
    assert reports == [("2026-10-01T08:00:00+08:00", "wxid_dept"), ("2026-10-01T08:00:00+08:00", "wxid_ld")]
    staff = [item for item in staff if not item[2].startswith("【民情月报】")]
    assert [(at, who, text[:5]) for at, who, text in staff] == [
        ("2026-09-25T10:00:00+08:00", "wxid_sg", "1号新工单"),
        ("2026-10-09T09:00:00+08:00", "wxid_sg", "提醒：1号"),  # the 5th working day: Sep 28-30, Oct 8, 9
        ("2026-10-10T09:00:00+08:00", "wxid_sg", "【催办】1"),  # Saturday 10 Oct is a make-up working day
        # one working day later, after Sunday, to the leader: not to the social worker, who handles it
        ("2026-10-12T09:00:00+08:00", "wxid_ld", "【督办】1"),
    ]
    assert "已超过办理时限10月9日" in staff[2][2]


def test_duplicates_from_two_groups_merge_and_raise_priority(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T19:00", "wxid_r1", "#反映 小区东门的路灯坏了好几天了，晚上黑漆漆的"),
            say("11-02T19:30", "wxid_r2", "#反映 东门路灯坏了好几天了 晚上太黑了", group="g2@chatroom"),
            say("11-02T20:00", "wxid_new", "#反映 东门那边路灯坏了好几天了", group="g2@chatroom"),
            say("11-02T20:10", "wxid_r3", "#反映 东门路灯坏了好几天了", group="g3@chatroom"),
            say("11-03T09:00", "wxid_sg", "#签收 1", group=None),
        ],
    )
    assert (
        to(out, "wxid_r2")[0]
        == "这个问题已经有邻居反映过了（1号工单，加上您共2位），李社工正在跟进，有进展也会告诉您。"
    )
    assert to(out, "wxid_new")[0].startswith("这个问题已经有邻居反映过了（1号工单，加上您共3位）")
    assert to(out, "wxid_r3")[0].startswith("收到！")  # another community: its own ticket
    accepted = [o for o in out if o["text"].endswith("，李社工已经接手，正在处理。")]
    assert sorted(o["to"] for o in accepted) == ["wxid_new", "wxid_r1", "wxid_r2"]  # privately, each once
    ticket = _ticket(app)
    assert (ticket.reporters, ticket.priority) == (3, 2)
    assert ticket.deadline < _ticket_deadline_without_priority()


def _ticket_deadline_without_priority():  # 其他: 5 working days from Mon 2 Nov
    from datetime import datetime

    from core.clock import SHANGHAI

    return datetime(2026, 11, 10, tzinfo=SHANGHAI)


def test_a_resident_cannot_use_staff_commands(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 楼道堆满杂物"),
            say("11-02T09:05", "wxid_r2", "#签收 1", group="g2@chatroom"),
        ],
    )
    assert to(out, "wxid_r2") == ["抱歉，这个命令只有社工、网格员、领导、管理员可以使用。"]
    assert _ticket(app).state is TicketState.NEW


def test_the_same_message_delivered_twice_makes_one_ticket(app: App) -> None:
    petition = say("11-02T09:00", "wxid_r1", "#反映 垃圾桶满了没人清", id="wx-msg-1")
    out = simulate(app, [petition, petition])
    assert len(to(out, "wxid_r1")) == 1
    with session_scope(app.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_unsatisfied_resident_reopens_and_silence_closes_by_default(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 楼道灯不亮"),
            say("11-02T09:10", "wxid_sg", "#签收 1", group=None),
            say("11-02T10:00", "wxid_sg", "#办结 1 已换灯泡", group=None),
            say("11-02T12:00", "wxid_r1", "不满意！"),
            say("11-02T13:00", "wxid_sg", "#签收 1", group=None),
            say("11-02T15:00", "wxid_sg", "#办结 1 已更换线路", group=None),
            tick("11-06T09:00"),
        ],
    )
    resident = to(out, "wxid_r1")
    assert resident[3] == "抱歉没让您满意，“楼道灯不亮”已经重新交给李社工办理，11月9日前给您答复。"
    assert resident[-1] == (
        "您反映的“楼道灯不亮”办好已经3天了，没收到您的评价，就先按“满意”记下了。如果问题还在，随时在群里说或私聊小棲。"
    )
    ticket = _ticket(app)
    assert (ticket.state, ticket.rating, ticket.reopened) == (TicketState.CLOSED, Rating.DEFAULT, 1)


def test_two_staff_accepting_at_once_make_one_acceptance(app: App) -> None:
    simulate(app, [say("11-02T09:00", "wxid_r1", "#反映 消防通道被车堵了")])
    barrier = threading.Barrier(2)
    results: list[str] = []

    def try_accept(person_id: str) -> None:
        from datetime import datetime

        from core.clock import SHANGHAI
        from groups.models import Person

        with session_scope(app.engine) as session:
            ticket = get_ticket(session, 1)
            person = session.get(Person, person_id)
            assert person is not None
            barrier.wait()
            try:
                accept(app.desk, session, datetime(2026, 11, 2, 9, 5, tzinfo=SHANGHAI), person, ticket)
                results.append("ok")
            except XiaoqiError as error:
                results.append(str(error))

    threads = [threading.Thread(target=try_accept, args=(p,)) for p in ("wxid_sg", "wxid_admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["1号工单刚刚已被别人处理，请发送“#工单 1”查看最新情况。", "ok"]
    assert [a[0] for a in _actions(app)] == ["登记", "签收"]


def test_report_figures_on_every_backend(app: App) -> None:
    from datetime import datetime

    from core.clock import SHANGHAI
    from tickets.stats import ticket_figures

    simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 楼道灯不亮"),
            say("11-02T09:01", "wxid_r2", "#反映 楼道灯不亮了", group="g2@chatroom"),
            say("11-02T09:05", "wxid_r3", "#反映 和平社区门口井盖松了", group="g3@chatroom"),
            say("11-02T10:00", "wxid_sg", "#签收 1", group=None),
            say("11-02T12:00", "wxid_sg", "#办结 1 已换灯", group=None),
            say("11-02T13:00", "wxid_r1", "满意"),
            tick("11-30T12:00"),
        ],
    )
    with session_scope(app.engine) as session:
        figures = ticket_figures(
            session, datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI)
        )
    assert figures.total == 2 and figures.merged_reports == 1
    assert figures.by_state == {"已评价": 1, "待签收": 1}
    assert figures.by_community == {"c1": 1, "c2": 1}
    assert (figures.resolved, figures.resolved_on_time, figures.rated, figures.satisfied) == (1, 1, 1, 1)
    assert figures.resolution_rate == 0.5 and figures.satisfaction_rate == 1.0
    assert abs((figures.avg_hours_to_accept or 0) - 1.0) < 1e-6
    assert abs((figures.avg_hours_to_resolve or 0) - 3.0) < 1e-6
    assert [number for number, *_ in figures.overdue] == [2]


def test_numbers_in_staff_notes_are_masked_in_the_group(app: App) -> None:
    # a district that tells progress in the group (data/groups/noise.yaml: in_group)
    app = app.with_mode(
        app.mode,
        desk=replace(app.desk, noise=replace(app.desk.noise, in_group=frozenset({"filed", "progress"}))),
    )
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 我家水管漏水，电话13912345678"),
            say("11-02T09:10", "wxid_sg", "#签收 1", group=None),
            say("11-02T09:20", "wxid_sg", "#进展 1 已约维修师傅，师傅电话13800001111", group=None),
            say("11-02T09:30", "wxid_sg", "#工单 1", group=None),
        ],
    )
    public = [o["text"] for o in out if o["group"] is not None]
    assert all("13912345678" not in t and "13800001111" not in t for t in public)
    assert any(t.endswith("有新进展：已约维修师傅，师傅电话138****1111") for t in public)
    assert "内容：我家水管漏水，电话13912345678" in to(out, "wxid_sg")[-1]  # the handler sees the raw text


def test_a_thread_about_one_problem_and_reports_naming_the_same_building_merge(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T07:30", "wxid_r1", "#反映 5栋的电梯又停了，我家住14楼"),
            say("11-02T07:40", "wxid_new", "#反映 物业费一分不少交，三天两头出问题"),
            say("11-02T15:00", "wxid_r2", "#反映 5幢电梯还是不能用，老人下不了楼", group="g2@chatroom"),
            say("11-03T20:00", "wxid_r2", "#反映 楼下花坛被人种了菜", group="g2@chatroom"),
        ],
    )
    assert to(out, "wxid_new")[0].startswith("这个问题已经有邻居反映过了（1号工单，加上您共2位）")
    assert to(out, "wxid_r2")[0].startswith("这个问题已经有邻居反映过了（1号工单，加上您共3位）")
    assert to(out, "wxid_r2")[1].startswith("收到！")


def test_a_petition_from_an_unregistered_group_reaches_the_admin(app: App) -> None:
    out = simulate(
        app, [say("11-02T09:00", "wxid_x", "#反映 这个小区的路灯全坏了", group="unknown@chatroom")]
    )
    assert to(out, "wxid_x")[0].startswith(
        "收到！您反映的“这个小区的路灯全坏了”已登记（1号工单），由管理员小吴负责"
    )
    assert to(out, "wxid_admin")[0].startswith("1号新工单【其他】")
