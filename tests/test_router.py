"""Commands as users meet them: roles checked by the router, usage lines, errors isolated."""

from __future__ import annotations

import inspect
import logging
from datetime import timedelta
from typing import Annotated

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from access.policy import Refused
from bot.app import App, Mode
from bot.args import Count, PersonRef, RecordNo, Text
from bot.context import Context
from bot.router import Router
from bot.simulator import replay
from bot.transport.memory import MemoryTransport
from core.audit import AuditEntry
from core.db import session_scope
from core.errors import XiaoqiError
from core.events import MessageKind, Outgoing
from groups.messages import Message
from groups.models import Person
from tickets.models import Ticket, TicketEvent, TicketState

from .conftest import START
from .events import said, when
from .simulate import say, simulate, to


@pytest.fixture
def bot(app: App) -> MemoryTransport:
    return MemoryTransport(app, START)


async def test_resident_cannot_use_a_staff_command(bot: MemoryTransport) -> None:
    (reply,) = await bot.say("#统计", sender="wxid_r1", group="g1@chatroom")
    assert reply.text == "抱歉，这个命令只有社工、网格员、领导、管理员可以使用。"
    assert reply.mentions == ("wxid_r1",) and reply.group_id == "g1@chatroom"


async def test_staff_get_group_statistics(bot: MemoryTransport) -> None:
    await bot.say("早上好", sender="wxid_r1", group="g1@chatroom")
    await bot.say("", sender="wxid_r1", group="g1@chatroom", kind=MessageKind.IMAGE)
    (reply,) = await bot.say("＃统计", sender="wxid_sg", group="g1@chatroom")
    assert reply.text == "幸福1-5栋群今天共 3 条消息（文字 2，图片 1），2 人发言。"


async def test_malformed_command_gets_its_usage_line(bot: MemoryTransport) -> None:
    (reply,) = await bot.say("#统计 去年", sender="wxid_sg", group="g1@chatroom")
    assert (
        reply.text
        == "不认识“去年”，时间可以用：今天、本周、本月。\n用法：#统计 [本群|本社区|社区名|全区] [今天|本周|本月]"
    )


async def test_help_lists_only_what_the_role_may_use(bot: MemoryTransport) -> None:
    (resident,) = await bot.say("@小棲 帮助", sender="wxid_r1", group="g1@chatroom", mentions=("xiaoqi",))
    (staff,) = await bot.say("帮助", sender="wxid_sg")
    assert "#帮助" in resident.text and "#统计" not in resident.text
    assert "#统计" in staff.text and staff.to_id == "wxid_sg" and staff.group_id is None


async def test_unknown_command_answers_staff_and_private_chats_but_not_group_residents(
    bot: MemoryTransport,
) -> None:
    assert await bot.say("#今天天气真好", sender="wxid_r1", group="g1@chatroom") == []
    (staff,) = await bot.say("#统记", sender="wxid_sg", group="g1@chatroom")
    assert staff.text == "没有“统记”这个命令。发送“帮助”可以看到能用的命令。"


async def test_plain_group_chatter_gets_no_reply(bot: MemoryTransport) -> None:
    assert await bot.say("哈哈 今天太阳真好", sender="wxid_r1", group="g1@chatroom") == []


async def test_mentioning_the_bot_gets_a_greeting(bot: MemoryTransport) -> None:
    (reply,) = await bot.say("@小棲 你好呀", sender="wxid_r1", group="g1@chatroom", mentions=("xiaoqi",))
    assert reply.text.startswith("您好，我是小棲")


async def test_a_crashing_handler_apologises_logs_and_does_not_stop_the_bot(
    app: App, bot: MemoryTransport, caplog: pytest.LogCaptureFixture
) -> None:
    extra = Router()

    @extra.command("坏了", usage="#坏了", summary="always fails")
    def broken() -> str:
        raise RuntimeError("boom")

    @extra.command("用法", usage="#用法 数字", summary="needs a number")
    def needs_number(number: RecordNo) -> str:
        return f"收到 {number}"

    app.router.include(extra)
    with caplog.at_level(logging.ERROR):
        (reply,) = await bot.say("#坏了", sender="wxid_r1", group="g1@chatroom", message_id="boom-1")
    assert reply.text == "抱歉，小棲刚才出了点小问题，已经记下了，请稍后再试。"
    record = next(r for r in caplog.records if "boom-1" in r.getMessage())
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    (usage,) = await bot.say("#用法 abc", sender="wxid_r1", group="g1@chatroom")
    assert usage.text == "用法：#用法 数字"
    (ok,) = await bot.say("#用法 42", sender="wxid_r1", group="g1@chatroom")
    assert ok == Outgoing("收到 42", group_id="g1@chatroom", mentions=("wxid_r1",), at=START)


def test_a_refusal_in_a_replay_undoes_what_it_wrote_and_only_then_rolls_back(app: App) -> None:
    """A replay's savepoint rollback walks every object it holds (the whole registry): a refusal that
    wrote nothing keeps its savepoint; one that wrote something still has it undone."""
    extra = Router()

    @extra.command("改名", usage="#改名 名字", summary="renames the sender, then refuses")
    def rename(sender: Person, session: Session, name: Text) -> str:
        sender.name = name
        session.flush()  # written, then refused: the write must be undone
        raise XiaoqiError("改名没有成功。")

    @extra.command("看看", usage="#看看", summary="refuses before touching anything")
    def look() -> str:
        raise XiaoqiError("现在不能看。")

    app.router.include(extra)
    app = app.with_mode(Mode.ALONE)  # as `xiaoqi simulate` and the benchmark: the replay runs in batches
    rollbacks: list[object] = []

    def count(_session: Session, transaction: object) -> None:
        rollbacks.append(transaction)

    arriving = [
        said(text, at=when(minutes=n), id=f"refuse-{n}")
        for n, text in enumerate(["#看看", "#改名 小王", "#看看"])
    ]
    seen: list[Outgoing] = []
    event.listen(Session, "after_soft_rollback", count)
    try:
        replay(app, arriving, seen.extend)
    finally:
        event.remove(Session, "after_soft_rollback", count)
    assert [out.text for out in seen] == ["现在不能看。", "改名没有成功。", "现在不能看。"]
    assert len(rollbacks) == 1  # the rename's savepoint only
    with session_scope(app.engine) as session:
        person = session.get(Person, "wxid_r1")
        assert person is not None and person.name != "小王"
        stored = session.exec(select(Message).where(col(Message.platform_id).like("refuse-%"))).all()
        assert len(stored) == 3 and all(m.handled_at is not None for m in stored)


async def test_odd_messages_never_crash(bot: MemoryTransport) -> None:
    for text in [
        "",
        " ",
        "😀😀😀",
        "[捂脸][强]",
        "a" * 20000,
        "\x00\x07控制字符\u202e",
        "#",
        "@小棲",
        "# ",
        "/",
    ]:
        replies = await bot.say(text, sender="wxid_r1", group="g1@chatroom")
        assert all("出了点小问题" not in r.text for r in replies)


async def test_every_staff_command_is_in_the_audit_log(app: App, bot: MemoryTransport) -> None:
    from sqlmodel import select

    from core.audit import AuditEntry
    from core.db import session_scope

    await bot.say("#统计 本周", sender="wxid_sg", group="g1@chatroom")
    await bot.say("#帮助", sender="wxid_r1", group="g1@chatroom")
    with session_scope(app.engine) as session:
        rows = session.exec(select(AuditEntry)).all()
    assert [(r.actor_id, r.action, r.target, r.detail) for r in rows] == [
        ("wxid_sg", "command:统计", "g1@chatroom", "本周")
    ]


def test_a_refused_staff_command_keeps_its_audit_line_when_its_writes_are_undone(app: App) -> None:
    """The savepoint that undoes a refused command's writes does not take its audit line with it."""
    extra = Router()

    @extra.command("改名", usage="#改名 名字", summary="renames the sender, then is refused")
    def rename(sender: Person, session: Session, name: Text) -> str:
        sender.name = name
        session.flush()
        raise Refused("这个名字不能用。")

    app.router.include(extra)
    seen: list[Outgoing] = []
    replay(app, [said("#改名 小王", "wxid_sg", id="rename-1")], seen.extend)
    assert [out.text for out in seen] == ["这个名字不能用。"]
    with session_scope(app.engine) as session:
        assert session.get(Person, "wxid_sg").name != "小王"  # type: ignore[union-attr]
        rows = session.exec(select(AuditEntry)).all()
    assert [(r.actor_id, r.action, r.detail) for r in rows] == [
        ("wxid_sg", "refused:改名", "小王｜这个名字不能用。")
    ]


def test_arguments_are_read_across_full_width_spaces_and_numbers(app: App) -> None:
    """Chinese input methods type '　' (U+3000), '＃' and full-width digits; WeChat puts U+2005 after an
    @-mention. Every command reads its arguments the same way, once, in the router."""
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 5栋门口的路灯坏了"),
            say("11-02T09:10", "wxid_sg", "#转派　＃１　周网格", group=None),
            say("11-02T09:20", "wxid_wg", "#签收 １号", group=None),
            say("11-02T09:30", "wxid_wg", "#办结　１号\u2005已修好，换了新灯泡", group=None),
        ],
    )
    assert to(out, "wxid_sg")[1] == "好的，1号工单已转给周网格。"
    assert to(out, "wxid_wg")[1:] == [
        "好的，1号工单已签收，办理时限11月9日前。",
        "好的，1号工单已办结，已请居民评价。",
    ]
    assert to(out, "wxid_r1")[-1] == (
        "您反映的“5栋门口的路灯坏了”已经办好：已修好，换了新灯泡\n您满意吗？请回复“满意”“基本满意”或“不满意”。"
    )


def test_a_missing_or_malformed_argument_gets_the_usage_line_and_the_handler_does_not_run(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 5栋门口的路灯坏了"),
            say("11-02T09:10", "wxid_wg", "#办结", group=None),
            say("11-02T09:11", "wxid_wg", "#签收 一号", group=None),
            say("11-02T09:12", "wxid_sg", "#签收 1 2", group=None),  # words left over
            say("11-02T09:13", "wxid_sg", "#延期 1 三天 等材料", group=None),
            say("11-02T09:14", "wxid_sg", "#办结 9", group=None),  # the record is looked up first
            say("11-02T09:15", "wxid_sg", "#办结 1", group=None),
        ],
    )
    assert to(out, "wxid_wg") == ["用法：#办结 工单号 办理结果", "用法：#签收 工单号"]
    assert to(out, "wxid_sg")[1:] == [
        "用法：#签收 工单号",
        "工作日数要写数字。\n用法：#延期 工单号 工作日数 理由",
        "没有找到9号工单，请核对编号。",
        "用法：#办结 工单号 办理结果",
    ]
    with session_scope(app.engine) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and ticket.state is TicketState.NEW
        assert [e.action for e in session.exec(select(TicketEvent))] == ["登记"]


async def test_typed_arguments_reach_the_handler_parsed_once(app: App, bot: MemoryTransport) -> None:
    extra = Router()
    calls: list[tuple[object, ...]] = []

    @extra.command("记下", usage="#记下 编号 天数 内容", summary="notes a number, days and a text")
    def note(number: RecordNo, days: Annotated[Count, "天数要写数字。"], text: Text) -> str:
        calls.append((number, days, text))
        return f"记下 {number} {days}天：{text}"

    @extra.command("交给", usage="#交给 人 [移除]", summary="a person reference, the rest of the text")
    def hand(who: PersonRef) -> str:
        calls.append((who,))
        return f"交给 {who}"

    app.router.include(extra)

    async def answer(text: str) -> str:
        await bot.advance(timedelta(minutes=1))  # the group's sending budget: one answer a minute here
        (reply,) = await bot.say(text, sender="wxid_r1", group="g1@chatroom")
        return reply.text

    for wrong in ["#记下", "#记下 abc 2 内容", "#记下 ① 2 内容", "#记下 3 2"]:
        assert await answer(wrong) == "用法：#记下 编号 天数 内容"
    assert await answer("#记下 3 三天 内容") == "天数要写数字。\n用法：#记下 编号 天数 内容"
    assert await answer("＃记下　＃３号\u2005２\u00a0好的\n明天　再说") == "记下 3 2天：好的\n明天　再说"
    assert await answer("#交给 @周 网格\u2005") == "交给 @周 网格"
    assert calls == [("3", 2, "好的\n明天　再说"), ("@周 网格",)]
    assert type(calls[0][0]) is RecordNo and type(calls[0][2]) is Text


def test_every_handler_declares_only_what_the_router_gives(app: App) -> None:
    from bot.handlers import build_router
    from bot.router import INJECTED, _arguments

    router = build_router()
    for command in router.unique_commands():
        _arguments(command.handler)  # raises TypeError on a parameter that is neither
    for entry in router.message_handlers:
        assert set(inspect.signature(entry.handler).parameters) <= INJECTED - {"record"}
    with session_scope(app.engine) as session:
        sender = session.get(Person, "wxid_r1")
        assert sender is not None
        ctx = Context(app.services, session, START, said("", in_group=None), sender, None)
        assert set(ctx.provided()) | {"record", "faq"} == INJECTED
    with pytest.raises(TypeError, match=r"ctx\.record"):
        Router().on_message()(lambda record: None)
