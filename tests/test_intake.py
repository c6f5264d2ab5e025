"""Petitions recognised in ordinary group chat by the real classifier, and emergencies."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from core.db import session_scope
from tickets.models import Ticket

from .simulate import say, simulate, tick, to


def _tickets(app: App) -> list[Ticket]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))


def test_an_emergency_alerts_staff_at_once_and_escalates_when_nobody_accepts(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-03T07:40", "wxid_r1", "3栋501的王奶奶在卫生间摔倒了起不来，家里就她一个人"),
            tick("11-03T07:50"),
        ],
    )
    (ticket,) = _tickets(smart_app)
    assert ticket.urgent and ticket.category == "养老助残"
    group_alert = next(o for o in out if o["group"] == "g1@chatroom" and "wxid_wg" in o["mentions"])
    assert group_alert["text"].startswith("紧急情况！@")
    assert set(group_alert["mentions"]) == {"wxid_wg", "wxid_sg", "wxid_r1"}  # staff, and the reporter
    assert to(out, "wxid_wg")[1].startswith("【紧急】1号工单")
    assert any(text.startswith("【紧急】1号工单") for text in to(out, "wxid_sg"))
    resident = to(out, "wxid_r1")
    assert resident == [group_alert["text"]] and "已通知" in resident[0] and "120" in resident[0]
    escalated = [o for o in out if o["text"].startswith("【紧急升级】1号工单")]
    assert escalated and escalated[0]["at"] == "2026-11-03T07:45:00+08:00"


def test_a_clear_petition_in_chat_becomes_a_ticket_and_chatter_does_not(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T08:00", "wxid_r2", "早上好各位邻居[太阳]", group="g2@chatroom"),
            say(
                "11-02T08:05",
                "wxid_r2",
                "7栋楼道里的垃圾三天没人清了，臭死了，物业能不能管一管",
                group="g2@chatroom",
            ),
            say("11-02T08:06", "wxid_r2", "谁家的猫这么可爱哈哈", group="g2@chatroom"),
        ],
    )
    (ticket,) = _tickets(smart_app)
    assert ticket.category == "环境卫生"
    assert len(to(out, "wxid_r2")) == 1 and to(out, "wxid_r2")[0].startswith(
        "收到！您反映的“7栋楼道里的垃圾三天没人清了"
    )


def test_a_follow_up_from_the_same_resident_attaches_to_the_open_ticket(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T21:00", "wxid_r1", "楼上装修电钻声一直响到晚上十点，吵得孩子没法睡觉"),
            say("11-02T22:30", "wxid_r1", "楼上电钻声又响起来了，都十点半了还在装修"),
        ],
    )
    assert len(_tickets(smart_app)) == 1
    assert to(out, "wxid_r1")[-1].startswith("已把您补充的情况记到1号工单里")


class _Unsure:
    """A classifier double with fixed, middling confidence: the bot must ask before filing."""

    def classify_batch(self, texts):  # type: ignore[no-untyped-def]
        from nlp import Labels

        return [
            Labels(
                "诉求",
                "环境卫生",
                "负面",
                {"intent": {"诉求": 0.5, "闲聊": 0.5}, "category": {"环境卫生": 0.8}},
            )
            if "垃圾" in text
            else Labels("闲聊", "无", "中性", {"intent": {"闲聊": 0.9}})
            for text in texts
        ]


def test_a_middling_petition_is_confirmed_with_one_word_and_a_photo_joins_it(app: App) -> None:
    app.classifier = _Unsure()  # type: ignore[assignment]
    out = simulate(
        app,
        [
            say("11-02T08:00", "wxid_r1", "楼下垃圾好像又没人收"),
            say("11-02T08:02", "wxid_r1", "是的"),
            say("11-02T08:03", "wxid_r1", "", kind="image"),
            say("11-02T09:00", "wxid_r2", "垃圾桶边上有点乱", group="g2@chatroom"),
            say("11-02T10:00", "wxid_r2", "是", group="g2@chatroom"),
        ],
    )
    resident = to(out, "wxid_r1")
    assert (
        resident[0]
        == "您是想请社区处理“楼下垃圾好像又没人收”吗？需要的话回复“是”，小棲帮您登记；不需要就不用回复。"
    )
    assert resident[1].startswith("收到！您反映的“楼下垃圾好像又没人收”已登记（1号工单）")
    assert "1号工单居民补充了一张照片。" in to(out, "wxid_sg")
    assert to(out, "wxid_r2") == [
        "您是想请社区处理“垃圾桶边上有点乱”吗？需要的话回复“是”，小棲帮您登记；不需要就不用回复。"
    ]  # the yes came after the question expired (30 minutes): nothing more happens
    assert len(_tickets(app)) == 1


def test_a_vague_echo_joins_the_thread_but_never_opens_a_ticket_by_itself(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T08:00", "wxid_r1", "早就该管管了"),
            say("11-02T09:00", "wxid_sg", "#代登记 wxid_r1 5栋的电梯又停了，老人下不了楼", group=None),
            say("11-02T09:10", "wxid_new", "同样的问题，反映好几次了"),
        ],
    )
    # the resident who phoned hears privately who filed it; the group hears nothing of it
    filed = [o for o in out if o["to"] == "wxid_r1"]
    assert filed[0]["text"].startswith("李社工已帮您登记了“5栋的电梯又停了")
    assert not [o for o in out if o["group"] is not None and "5栋的电梯" in o["text"]]
    # the neighbour who agrees joins the ticket quietly: nothing more in the group, and they hear its news
    assert to(out, "wxid_new") == []
    (ticket,) = _tickets(smart_app)
    assert ticket.reporters == 2


def test_a_petition_addressed_to_the_bot_is_filed_without_the_mention(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say(
                "11-02T08:05",
                "wxid_r2",
                "@小棲\u2005小区东门的路灯坏了一个星期了，晚上黑漆漆的，麻烦派人修一下",
                group="g2@chatroom",
                mentions=["xiaoqi"],
            ),
        ],
    )
    (ticket,) = _tickets(smart_app)
    assert ticket.summary.startswith("小区东门的路灯坏了")
    assert to(out, "wxid_r2")[0].startswith("收到！您反映的“小区东门的路灯坏了")


def test_a_neighbours_plus_one_files_the_petition_the_bot_was_unsure_of(app: App) -> None:
    app.classifier = _Unsure()  # type: ignore[assignment]
    out = simulate(
        app,
        [
            say("11-02T08:00", "wxid_r1", "楼下垃圾好像又没人收"),
            say("11-02T08:03", "wxid_new", "+1 我家门口也是"),
        ],
    )
    assert to(out, "wxid_r1")[0].startswith("您是想请社区处理“楼下垃圾好像又没人收”")
    assert to(out, "wxid_r1")[1].startswith("收到！您反映的“楼下垃圾好像又没人收”已登记（1号工单）")
    assert to(out, "wxid_new") == []  # joins quietly
    (ticket,) = _tickets(app)
    assert ticket.reporter_id == "wxid_r1" and ticket.reporters == 2
