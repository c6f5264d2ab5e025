"""Commands as users meet them: roles checked by the router, usage lines, errors isolated."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from access.policy import Refused
from bot.app import App
from bot.router import Router, UsageError
from bot.simulator import replay
from bot.transport.memory import MemoryTransport
from core.audit import AuditEntry
from core.db import session_scope
from core.errors import XiaoqiError
from core.events import Incoming, MessageKind, Outgoing
from groups.messages import Message
from groups.models import Person

from .conftest import START


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
    def needs_number(args: str) -> str:
        if not args.isdigit():
            raise UsageError()
        return f"收到 {args}"

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
    def rename(sender: Person, session: Session, args: str) -> str:
        sender.name = args
        session.flush()  # written, then refused: the write must be undone
        raise XiaoqiError("改名没有成功。")

    @extra.command("看看", usage="#看看", summary="refuses before touching anything")
    def look() -> str:
        raise XiaoqiError("现在不能看。")

    app.router.include(extra)
    app.single_process = True  # as `xiaoqi simulate` and the benchmark: the replay runs in batches
    rollbacks: list[object] = []

    def count(_session: Session, transaction: object) -> None:
        rollbacks.append(transaction)

    said = [
        Incoming(f"refuse-{n}", "wxid_r1", text, START + timedelta(minutes=n), group_id="g1@chatroom")
        for n, text in enumerate(["#看看", "#改名 小王", "#看看"])
    ]
    seen: list[Outgoing] = []
    event.listen(Session, "after_soft_rollback", count)
    try:
        replay(app, said, seen.extend)
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
    def rename(sender: Person, session: Session, args: str) -> str:
        sender.name = args
        session.flush()
        raise Refused("这个名字不能用。")

    app.router.include(extra)
    seen: list[Outgoing] = []
    replay(app, [Incoming("rename-1", "wxid_sg", "#改名 小王", START, group_id="g1@chatroom")], seen.extend)
    assert [out.text for out in seen] == ["这个名字不能用。"]
    with session_scope(app.engine) as session:
        assert session.get(Person, "wxid_sg").name != "小王"  # type: ignore[union-attr]
        rows = session.exec(select(AuditEntry)).all()
    assert [(r.actor_id, r.action, r.detail) for r in rows] == [
        ("wxid_sg", "refused:改名", "小王｜这个名字不能用。")
    ]
