"""Message capture on every backend: stored once, masked, members recorded, kept across restarts."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.transport.memory import MemoryTransport
from core.db import session_scope
from core.events import MessageKind
from core.settings import Settings
from groups.messages import Message
from groups.models import Membership, Person, Role
from xiaoqi.wiring import create_app

from .conftest import START
from .events import said


def _messages(app: App) -> list[Message]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)))


async def test_same_message_id_is_processed_once(app: App) -> None:
    bot = MemoryTransport(app, START)
    first = await bot.say("#帮助", sender="wxid_r1", group="g1@chatroom", message_id="m-1")
    again = await bot.say("#帮助", sender="wxid_r1", group="g1@chatroom", message_id="m-1")
    assert first and "帮助" in first[0].text
    assert again == []
    assert [m.platform_id for m in _messages(app)] == ["m-1"]


async def test_duplicate_after_restart_is_ignored(settings: Settings, app: App) -> None:
    bot = MemoryTransport(app, START)
    assert await bot.say("#帮助", sender="wxid_r1", group="g1@chatroom", message_id="m-7")
    app.engine.dispose()
    restarted = create_app(settings)
    again = MemoryTransport(restarted, START + timedelta(minutes=1))
    assert await again.say("#帮助", sender="wxid_r1", group="g1@chatroom", message_id="m-7") == []
    assert len(_messages(restarted)) == 1
    restarted.engine.dispose()


async def test_message_captured_but_not_handled_before_a_crash_is_handled_on_redelivery(app: App) -> None:
    incoming = said("#帮助", id="m-crash")
    original = app.router.dispatch_command

    def crash(*args: object) -> list[object]:
        raise SystemExit("power cut")

    app.router.dispatch_command = crash  # type: ignore[method-assign,assignment]
    with contextlib.suppress(SystemExit):
        app.handle(incoming)
    app.router.dispatch_command = original  # type: ignore[method-assign]
    (stored,) = _messages(app)
    assert stored.handled_at is None
    replies = app.handle(incoming)
    assert replies and "帮助" in replies[0].text
    assert app.handle(incoming) == []


async def test_phone_and_id_numbers_are_masked_in_analysis_text(app: App) -> None:
    bot = MemoryTransport(app, START)
    await bot.say(
        "我家电话13912345678，身份证320113198805061234，座机025-84561234",
        sender="wxid_r1",
        group="g1@chatroom",
    )
    (stored,) = _messages(app)
    assert "13912345678" not in stored.text and "139****5678" in stored.text
    assert "320113198805061234" not in stored.text and "3201**********1234" in stored.text
    assert "025-****1234" in stored.text
    assert "13912345678" in stored.raw_text


async def test_unknown_speaker_becomes_resident_of_the_groups_community(app: App) -> None:
    bot = MemoryTransport(app, START)
    await bot.say("大家好，我刚搬来", sender="wxid_new", name="8栋-101 新邻居", group="g2@chatroom")
    with session_scope(app.engine) as session:
        person = session.get(Person, "wxid_new")
        assert person is not None
        assert (person.role, person.community_id, person.registered) == (Role.RESIDENT, "c1", False)
        assert person.name == "8栋-101 新邻居"
        assert session.get(Membership, ("wxid_new", "g2@chatroom")) is not None


async def test_every_kind_is_stored_and_times_stay_aware(app: App) -> None:
    bot = MemoryTransport(app, START)
    for i, kind in enumerate(MessageKind):
        await bot.say(
            "" if kind is not MessageKind.TEXT else "早",
            sender="wxid_r2",
            group="g2@chatroom",
            kind=kind,
            message_id=f"k-{i}",
            at=START + timedelta(seconds=i),
        )
    stored = _messages(app)
    assert [m.kind for m in stored] == list(MessageKind)
    assert all(m.sent_at.tzinfo is not None for m in stored)
    assert stored[3].sent_at == START + timedelta(seconds=3)
    with session_scope(app.engine) as session:
        membership = session.get(Membership, ("wxid_r2", "g2@chatroom"))
        assert membership is not None and membership.active is False  # the last event was a leave


async def test_message_in_an_unregistered_group_is_kept(app: App) -> None:
    bot = MemoryTransport(app, START)
    await bot.say("有人吗", sender="wxid_x", group="unknown@chatroom")
    (stored,) = _messages(app)
    assert stored.group_id == "unknown@chatroom"
    with session_scope(app.engine) as session:
        person = session.get(Person, "wxid_x")
        assert person is not None and person.community_id is None
