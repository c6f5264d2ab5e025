"""The bot on the real Wechaty stack: a scripted WeChat (Node puppet-mock) served over gRPC, on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App
from bot.transport.wechaty import (
    RawMessage,
    WechatyTransport,
    join_leave_incoming,
    outgoing_mention_ids,
    to_incoming,
    with_mention_prefix,
)
from core.clock import SHANGHAI
from core.db import session_scope
from core.events import Incoming, MessageKind, Outgoing
from groups.messages import Message
from groups.models import Membership

from .conftest import require_or_skip
from .events import said

E2E = Path(__file__).resolve().parent / "e2e"
BOT = "wxid_xiaoqi_bot"  # the bot's WeChat contact id; the core knows it as settings.bot_id
ROOM = "g1@chatroom"
WAIT = 20.0  # seconds for any one expected event
SCENARIO = {
    "bot": {"id": BOT, "name": "小棲"},
    "contacts": [
        {"id": "wxid_r1", "name": "5栋-302 王阿姨"},
        {"id": "wxid_sg", "name": "李社工"},
        {"id": "wxid_wg", "name": "周网格"},
        {"id": "wxid_new", "name": "新来的小刘"},
    ],
    "rooms": [{"id": ROOM, "topic": "幸福1-5栋群", "members": ["wxid_r1", "wxid_sg", "wxid_wg"]}],
}


# --- the pure mapping, no server --------------------------------------------------------------


def test_a_room_message_becomes_an_incoming_with_the_bot_mention_mapped() -> None:
    raw = RawMessage(
        message_id="m-1",
        talker_id="wxid_r1",
        type_name="MESSAGE_TYPE_TEXT",
        text="@小棲\u2005帮助",
        timestamp=1_793_581_200_000,  # milliseconds
        room_id=ROOM,
        talker_name="王阿姨",
        mention_ids=(BOT, "wxid_sg"),
    )
    incoming = to_incoming(raw, self_id=BOT, bot_id="xiaoqi", tz=SHANGHAI)
    assert incoming == said(
        "@小棲\u2005帮助",
        "wxid_r1",
        in_group=ROOM,
        at=datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI),
        id="m-1",
        name="王阿姨",
        mentions=["xiaoqi", "wxid_sg"],
    )
    assert incoming.at.utcoffset() == SHANGHAI.utcoffset(incoming.at)


def test_private_own_media_and_unknown_messages() -> None:
    private = RawMessage("m-2", "wxid_r1", "MESSAGE_TYPE_TEXT", "你好", 1_793_581_200)
    incoming = to_incoming(private, self_id=BOT, bot_id="xiaoqi", tz=SHANGHAI)
    assert incoming is not None and incoming.group_id is None and incoming.is_private
    own = RawMessage("m-3", BOT, "MESSAGE_TYPE_TEXT", "我说的", 1_793_581_200, room_id=ROOM)
    assert to_incoming(own, self_id=BOT, bot_id="xiaoqi", tz=SHANGHAI) is None
    card = RawMessage("m-4", "wxid_r1", "MESSAGE_TYPE_CONTACT", "", 1_793_581_200, room_id=ROOM)
    assert to_incoming(card, self_id=BOT, bot_id="xiaoqi", tz=SHANGHAI) is None
    kinds = {
        "MESSAGE_TYPE_IMAGE": MessageKind.IMAGE,
        "MESSAGE_TYPE_AUDIO": MessageKind.VOICE,
        "MESSAGE_TYPE_VIDEO": MessageKind.VIDEO,
        "MESSAGE_TYPE_ATTACHMENT": MessageKind.FILE,
        "MESSAGE_TYPE_URL": MessageKind.LINK,
        "MESSAGE_TYPE_MINI_PROGRAM": MessageKind.MINIPROGRAM,
        "MESSAGE_TYPE_RECALLED": MessageKind.RECALL,
    }
    for type_name, kind in kinds.items():
        raw = RawMessage("m-5", "wxid_r1", type_name, "<xml/>", 1_793_581_200, room_id=ROOM, filename="a.pdf")
        converted = to_incoming(raw, self_id=BOT, bot_id="xiaoqi", tz=SHANGHAI)
        assert converted is not None and converted.kind is kind
        assert converted.text == (
            "a.pdf"
            if kind in {MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO, MessageKind.FILE}
            else "<xml/>"
        )


def test_join_ids_are_derived_from_the_event_and_replies_mention_contacts() -> None:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    members = [("wxid_new", "小刘"), (BOT, "小棲")]
    first = join_leave_incoming(MessageKind.JOIN, ROOM, members, at, self_id=BOT)
    assert first == join_leave_incoming(MessageKind.JOIN, ROOM, members, at, self_id=BOT)
    (joined,) = first
    assert (joined.kind, joined.sender_id, joined.group_id) == (MessageKind.JOIN, "wxid_new", ROOM)
    out = Outgoing("收到", group_id=ROOM, mentions=("wxid_r1", "xiaoqi"))
    assert outgoing_mention_ids(out, self_id=BOT, bot_id="xiaoqi") == ["wxid_r1", BOT]
    assert with_mention_prefix("收到", ["王阿姨"]) == "@王阿姨\u2005收到"
    assert (
        with_mention_prefix("紧急情况！@周网格 请处理", ["周网格", "李社工"])
        == "@李社工\u2005紧急情况！@周网格 请处理"
    )


async def test_a_failing_handler_is_logged_with_its_message_id_and_the_next_event_still_runs(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    handled, sent = Handled(), []
    transport = WechatyTransport(app, "127.0.0.1:1", "unused", on_handled=handled)
    real = app.receive

    def receive(incoming: Incoming) -> list[Outgoing]:
        if incoming.message_id == "boom":
            raise RuntimeError("disk full")
        return real(incoming)

    async def send(messages: list[Outgoing]) -> None:
        sent.extend(messages)

    app.receive = receive  # type: ignore[method-assign,assignment]
    transport.send = send  # type: ignore[method-assign,assignment]
    await transport._handle(
        [
            said("#帮助", in_group=ROOM, id="boom"),
            said("#帮助", in_group=ROOM, id="fine"),
        ]
    )
    (failure,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "boom" in failure.getMessage() and failure.exc_info is not None
    assert [i.message_id for i, _ in handled.items] == ["fine"] and sent and sent[0].mentions == ("wxid_r1",)


# --- end to end over gRPC -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_e2e() -> Path:
    """The Node side, installed from the lock file once per session."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        require_or_skip("node and npm are needed for the Wechaty end-to-end test (Node 18+)")
    if not (E2E / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            [str(npm), "ci", "--no-audit", "--no-fund"], cwd=E2E, check=True, timeout=300, capture_output=True
        )
    return E2E


class PuppetService:
    """The Node puppet-mock server: commands in on stdin, what the bot sent out on stdout."""

    def __init__(self, process: asyncio.subprocess.Process, token: str, log_path: Path) -> None:
        self.process = process
        self.token = token
        self.log_path = log_path
        self.events: list[dict[str, Any]] = []
        self._seen = 0
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.port = 0

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                async with self._arrived:
                    self.events.append(event)
                    self._arrived.notify_all()

    async def command(self, **cmd: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(cmd, ensure_ascii=False) + "\n").encode())
        await self.process.stdin.drain()

    async def expect(self, what: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event not yet taken that matches; fails after WAIT seconds."""

        def found() -> dict[str, Any] | None:
            for event in self.events:
                if not event.get("_taken") and match(event):
                    event["_taken"] = True
                    return event
            return None

        async def wait() -> dict[str, Any]:
            async with self._arrived:
                while (event := found()) is None:
                    if self.process.returncode is not None:
                        raise AssertionError(f"puppet service exited: {self.log_path.read_text()[-2000:]}")
                    await self._arrived.wait()
                return event

        try:
            return await asyncio.wait_for(wait(), WAIT)
        except TimeoutError:
            raise AssertionError(f"no {what} within {WAIT}s; events: {self.events}") from None

    def sent(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] in ("sent", "sent-file")]


@contextlib.asynccontextmanager
async def serving(e2e: Path, log_path: Path, token: str, port: int = 0) -> AsyncIterator[PuppetService]:
    """The Node puppet-mock server (on `port`, or a free one); killed, not asked, when `kill` is used."""
    with log_path.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            shutil.which("node") or "node",
            str(e2e / "puppet_server.mjs"),
            json.dumps({**SCENARIO, "token": token, "port": port}, ensure_ascii=False),
            cwd=e2e,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "WECHATY_LOG": "warn"},
        )
    service = PuppetService(process, token, log_path)
    try:
        service.port = (await service.expect("listening", lambda e: e["event"] == "listening"))["port"]
        yield service
    finally:
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()  # the server exits when its stdin closes
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        service._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await service._reader


@pytest.fixture
async def puppet_service(node_e2e: Path, tmp_path: Path) -> AsyncIterator[PuppetService]:
    token = f"puppet_xiaoqi_e2e_{secrets.token_hex(8)}"
    async with serving(node_e2e, tmp_path / "puppet_server.log", token) as service:
        yield service


class Handled:
    """What the transport finished handling, to wait on instead of sleeping."""

    def __init__(self) -> None:
        self.items: list[tuple[Incoming, list[Outgoing]]] = []
        self._changed = asyncio.Event()

    def __call__(self, incoming: Incoming, replies: list[Outgoing]) -> None:
        self.items.append((incoming, replies))
        self._changed.set()

    async def wait_for(self, match: Callable[[Incoming], bool], count: int = 1) -> list[list[Outgoing]]:
        async def wait() -> list[list[Outgoing]]:
            while len(found := [r for i, r in self.items if match(i)]) < count:
                self._changed.clear()
                await self._changed.wait()
            return found

        try:
            return await asyncio.wait_for(wait(), WAIT)
        except TimeoutError:
            raise AssertionError(f"not handled within {WAIT}s; handled: {self.items}") from None


def _messages(app: App, **where: Any) -> list[Message]:
    with session_scope(app.engine) as session:
        query = select(Message)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return list(session.exec(query))


@pytest.mark.e2e
async def test_conversations_over_a_real_wechaty_puppet_service(
    app: App, puppet_service: PuppetService, tmp_path: Path
) -> None:
    service = puppet_service
    # the transport runs on the wall clock and is tested at any hour: quiet hours have their own tests
    app.outbox.quiet = None
    handled = Handled()
    endpoint = f"127.0.0.1:{service.port}"
    transport = WechatyTransport(app, endpoint, service.token, on_handled=handled)
    await asyncio.wait_for(transport.start(timeout=WAIT), WAIT + 5)
    try:
        assert transport.self_id == BOT

        # A resident asks for help in the room; WeChat delivers the same message id twice.
        await service.command(
            op="say", id="e2e-help", **{"from": "wxid_r1"}, room=ROOM, text="#帮助", repeat=2
        )
        help_reply = await service.expect(
            "help reply", lambda e: e["event"] == "sent" and e["conversation"] == ROOM
        )
        assert help_reply["mentions"] == ["wxid_r1"]
        assert help_reply["text"].startswith("@5栋-302 王阿姨\u2005小棲能帮您做这些")

        # A petition: the resident gets the ticket number in the room, the social worker a private note.
        await service.command(
            op="say", **{"from": "wxid_r1"}, room=ROOM, text="#反映 5栋电梯坏了", mentions=[BOT]
        )
        confirm = await service.expect(
            "ticket confirmation",
            lambda e: e["event"] == "sent" and e["conversation"] == ROOM and "1号工单" in e["text"],
        )
        assert confirm["mentions"] == ["wxid_r1"]
        assert confirm["text"].startswith("@5栋-302 王阿姨\u2005收到！您反映的“5栋电梯坏了”")
        note = await service.expect("note to the social worker", lambda e: e.get("conversation") == "wxid_sg")
        assert note["text"].startswith("1号新工单") and note["mentions"] == []

        # The social worker accepts it privately; the resident hears about it privately (the noise budget).
        await service.command(op="say", **{"from": "wxid_sg"}, text="#签收 1")
        accepted = await service.expect(
            "acceptance told to the resident",
            lambda e: e.get("conversation") == "wxid_r1" and "已经接手" in e["text"],
        )
        assert accepted["mentions"] == [] and "5栋电梯坏了" in accepted["text"]

        # A private message to the bot gets a private reply.
        await service.command(op="say", **{"from": "wxid_r1"}, text="帮助")
        private = await service.expect("private reply", lambda e: e.get("conversation") == "wxid_r1")
        assert "帮助" in private["text"] and private["mentions"] == []

        # Non-text messages are captured with their kind.
        await service.command(op="say", id="e2e-photo", **{"from": "wxid_r1"}, room=ROOM, type="image")
        await service.command(op="say", id="e2e-link", **{"from": "wxid_r1"}, room=ROOM, type="link")
        await handled.wait_for(lambda i: i.message_id in ("e2e-photo", "e2e-link"), count=2)

        # A newcomer joins (the event arrives twice): stored once, membership active.
        stamp = 1_793_581_200_000
        await service.command(
            op="join", room=ROOM, members=["wxid_new"], inviter="wxid_sg", timestamp=stamp, repeat=2
        )
        joins = await handled.wait_for(lambda i: i.kind is MessageKind.JOIN, count=2)
        assert joins == [[], []]

        # A file (the monthly report) goes to the room.
        report = tmp_path / "月报.pdf"
        report.write_bytes(b"%PDF-1.4 xiaoqi e2e\n")
        await transport.send([Outgoing("本月报告", group_id=ROOM, file_path=str(report))])
        sent_file = await service.expect("file", lambda e: e["event"] == "sent-file")
        assert (sent_file["conversation"], sent_file["name"], sent_file["size"]) == (ROOM, "月报.pdf", 20)
    finally:
        await asyncio.wait_for(transport.stop(), WAIT)

    # A new connection (as after a restart) gets the old message again: the database answers it once.
    again = WechatyTransport(app, endpoint, service.token, on_handled=handled)
    await asyncio.wait_for(again.start(timeout=WAIT), WAIT + 5)
    try:
        await service.command(op="say", id="e2e-help", **{"from": "wxid_r1"}, room=ROOM, text="#帮助")
        await service.command(op="say", id="e2e-probe", **{"from": "wxid_r1"}, text="帮助")
        await handled.wait_for(lambda i: i.message_id == "e2e-probe")
    finally:
        await asyncio.wait_for(again.stop(), WAIT)

    help_runs = [r for i, r in handled.items if i.message_id == "e2e-help"]
    assert len(help_runs) == 2 and help_runs[1] == []  # delivered three times, answered once
    assert [e.get("text") for e in service.sent()].count(help_reply["text"]) == 1
    assert len(_messages(app, platform_id="e2e-help")) == 1
    (joined,) = _messages(app, kind=MessageKind.JOIN)
    assert (joined.sender_id, joined.group_id) == ("wxid_new", ROOM)
    with session_scope(app.engine) as session:
        membership = session.get(Membership, ("wxid_new", ROOM))
        assert membership is not None and membership.active
    (photo,) = _messages(app, platform_id="e2e-photo")
    (link,) = _messages(app, platform_id="e2e-link")
    assert (photo.kind, link.kind) == (MessageKind.IMAGE, MessageKind.LINK)
    assert link.raw_text == "mock title for e2e-link https://mock.url"  # fetched with the UrlLink RPC
    (petition,) = _messages(app, raw_text="#反映 5栋电梯坏了")
    assert petition.mentions == ["xiaoqi"]
    assert _messages(app, sender_id=BOT) == [] and _messages(app, sender_id="xiaoqi") == []
    assert all(i.sender_id != BOT for i, _ in handled.items)  # the bot's own echoes were ignored
