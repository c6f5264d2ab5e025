"""The WeChat transport over python-wechaty: the only module that imports `wechaty`.

Platform events become `Incoming` values for `App.handle`; the `Outgoing` values it returns are sent
to rooms (with @-mentions) and contacts. `to_incoming` and `join_leave_incoming` are pure, so the
mapping is testable without a puppet service. `wechaty` is imported on `start()` only: the core
and the default install run without the optional `wechat` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import App
from core.events import Incoming, MessageKind, Outgoing

log = logging.getLogger(__name__)

# python-wechaty maps the service's message types to these wechaty-grpc names; others are ignored
# (contact cards, chat history, location, transfers, red envelopes: nothing the core can use yet).
KIND_BY_TYPE: dict[str, MessageKind] = {
    "MESSAGE_TYPE_TEXT": MessageKind.TEXT,
    "MESSAGE_TYPE_IMAGE": MessageKind.IMAGE,
    "MESSAGE_TYPE_EMOTICON": MessageKind.IMAGE,
    "MESSAGE_TYPE_AUDIO": MessageKind.VOICE,
    "MESSAGE_TYPE_VIDEO": MessageKind.VIDEO,
    "MESSAGE_TYPE_ATTACHMENT": MessageKind.FILE,
    "MESSAGE_TYPE_URL": MessageKind.LINK,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageKind.MINIPROGRAM,
    "MESSAGE_TYPE_RECALLED": MessageKind.RECALL,
}
_MEDIA = frozenset({MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO, MessageKind.FILE})
MENTION_SEPARATOR = "\u2005"  # what WeChat puts after "@name"
_MS_THRESHOLD = 2_145_888_000  # larger timestamps are milliseconds (python-wechaty's rule)
_WECHATY_LOGGERS = (
    "Wechaty", "PuppetService", "Message", "Contact", "ContactSelf", "Room", "RoomInvitation", "Accessory",
    "Tag", "Image", "UrlLink", "MiniProgram", "Favorite", "FriendShip", "Config", "FileBox", "WechatyPuppet",
    "WechatyPuppet.Schemas.Event", "WechatyPuppet.Schema.Base", "WechatyPuppetServiceConfig",
)  # fmt: skip


@dataclass(frozen=True)
class RawMessage:
    """The fields of one Wechaty message payload that Xiaoqi reads."""

    message_id: str
    talker_id: str
    type_name: str
    text: str = ""
    timestamp: float = 0
    room_id: str = ""
    talker_name: str = ""
    mention_ids: tuple[str, ...] = ()
    filename: str = ""


def from_timestamp(timestamp: float, tz: tzinfo) -> datetime:
    """A puppet timestamp (seconds or milliseconds) as an aware datetime."""
    seconds = timestamp / 1000 if timestamp > _MS_THRESHOLD else timestamp
    return datetime.fromtimestamp(seconds, tz)


def to_incoming(raw: RawMessage, *, self_id: str, bot_id: str, tz: tzinfo) -> Incoming | None:
    """One message as the core sees it, or None for the bot's own messages and unusable types."""
    if not raw.talker_id or raw.talker_id == self_id:
        return None
    kind = KIND_BY_TYPE.get(raw.type_name)
    if kind is None:
        return None
    group_id = raw.room_id or None
    mentions = tuple(bot_id if m == self_id else m for m in raw.mention_ids) if group_id else ()
    return Incoming(
        message_id=raw.message_id,
        sender_id=raw.talker_id,
        text=(raw.filename or raw.text) if kind in _MEDIA else raw.text,
        at=from_timestamp(raw.timestamp, tz),
        group_id=group_id,
        sender_name=raw.talker_name,
        kind=kind,
        mentions=mentions,
    )


def join_leave_incoming(
    kind: MessageKind, room_id: str, members: Iterable[tuple[str, str]], at: datetime, *, self_id: str
) -> list[Incoming]:
    """One JOIN or LEAVE per member (id, name), with an id derived from the event so a replay is seen once."""
    stamp = int(at.timestamp())
    return [
        Incoming(
            message_id=f"{kind.value}:{room_id}:{member_id}:{stamp}",
            sender_id=member_id,
            text="",
            at=at,
            group_id=room_id,
            sender_name=name,
            kind=kind,
        )
        for member_id, name in members
        if member_id != self_id
    ]


def outgoing_mention_ids(out: Outgoing, *, self_id: str, bot_id: str) -> list[str]:
    """Mentions as contact ids (the bot's own id mapped back to its WeChat contact id)."""
    return [self_id if m == bot_id else m for m in out.mentions]


def with_mention_prefix(text: str, names: Sequence[str]) -> str:
    """WeChat shows an @-mention only if the text carries "@name": add those the text lacks."""
    missing = [name for name in names if name and f"@{name}" not in text]
    return "".join(f"@{name}{MENTION_SEPARATOR}" for name in missing) + text


def _import_wechaty() -> Any:
    """Import python-wechaty, first applying the shim it needs on Python 3.11."""
    # loggers it creates later (at connect) print INFO to stderr unless told otherwise
    os.environ.setdefault("WECHATY_LOG", "warn")
    try:
        from wechaty_puppet.schemas.puppet import PuppetOptions
    except ImportError as error:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the WeChat transport needs the optional extra: pip install 'xiaoqi[wechat]'"
        ) from error
    # a dataclass default of this type is rejected as mutable on 3.11 unless it is hashable
    PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]
    import wechaty

    # its loggers print to stderr at INFO, residents' message texts included: route them through ours
    for name in _WECHATY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.ERROR if name == "Accessory" else logging.WARNING)
    return wechaty


def _reset_wechaty_globals() -> None:
    """python-wechaty keeps class-level caches that would leak a previous bot's objects into this one."""
    from wechaty.user.contact import Contact
    from wechaty.user.room import Room
    from wechaty.user.tag import Tag
    from wechaty.utils.async_helper import SingleIdContainer

    for pool in (Contact._pool, Room._pool, Tag._pool):
        pool.clear()
    SingleIdContainer._instance = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_reachable(endpoint: str, timeout: float = 5.0) -> None:
    """Fail clearly now: python-wechaty stops the whole event loop when the service is absent."""
    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as error:
        raise ConnectionError(f"puppet service not reachable at {endpoint}: {error}") from error


class WechatyTransport:
    """Connects one App to a Wechaty puppet service (gRPC) and relays messages both ways."""

    def __init__(
        self,
        app: App,
        endpoint: str,
        token: str,
        *,
        on_handled: Callable[[Incoming, list[Outgoing]], None] | None = None,
    ) -> None:
        self.app = app
        self.on_handled = on_handled  # observes each event after its replies were sent
        self.endpoint = endpoint
        self.token = token
        self.tz = ZoneInfo(app.settings.timezone)
        self.self_id = ""
        self._bot: Any = None
        self._task: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Task[None] | None = None  # sends what the rate limits held back
        self._wake_at: datetime | None = None

    async def start(self, timeout: float | None = 60.0) -> None:
        """Connect and return once logged in (None waits forever, e.g. for a QR-code scan)."""
        wechaty = _import_wechaty()
        _check_reachable(self.endpoint)
        _reset_wechaty_globals()
        from wechaty_puppet import PuppetOptions

        options = wechaty.WechatyOptions(
            puppet="wechaty-puppet-service",
            puppet_options=PuppetOptions(end_point=self.endpoint, token=self.token),
            host="127.0.0.1",
            port=_free_port(),  # python-wechaty's plugin check: login never fires if this port is taken
        )
        self._bot = wechaty.Wechaty(options)
        self._bot.on("login", self._on_login)
        self._bot.on("message", self._on_message)
        self._bot.on("room-join", self._on_room_join)
        self._bot.on("room-leave", self._on_room_leave)
        self._task = asyncio.create_task(self._bot.start(), name="wechaty")
        login = asyncio.create_task(self._logged_in.wait())
        done, _ = await asyncio.wait(
            {login, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if login not in done:
            login.cancel()
            await self.stop()
            raise TimeoutError(f"no login from the puppet service at {self.endpoint}")
        log.info("wechaty logged in as %s via %s", self.self_id, self.endpoint)

    async def stop(self) -> None:
        """Finish the messages in hand, then disconnect."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=10)
        if self._wake is not None:
            self._wake.cancel()  # what it would have sent stays queued for the next connection
        bot, task = self._bot, self._task
        self._bot, self._task = None, None
        self._logged_in.clear()
        if task is not None and not task.done():
            # first: once the stream ends, bot.start() would sleep 60 s and reconnect on its own
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if bot is not None:
            with contextlib.suppress(Exception):
                await bot.stop()
            scheduler = bot._plugin_manager.scheduler  # started at login, never stopped by wechaty
            if scheduler.running:
                scheduler.shutdown(wait=False)
        log.info("wechaty disconnected from %s", self.endpoint)

    @property
    def streaming(self) -> bool:
        """Whether the event stream from the puppet service is still running."""
        return self._task is not None and not self._task.done()

    async def ping(self) -> None:
        """Ask the puppet service for a sign of life; raises when it is unreachable."""
        await self._bot.puppet.ding("xiaoqi-probe")

    def listen(self, events: Iterable[str], callback: Callable[..., None]) -> None:
        """Call `callback` on each of these puppet stream events (heartbeat, dong, message ...)."""
        for name in events:
            self._bot.puppet.on(name, callback)

    def stop_intake(self, events: Iterable[str]) -> None:
        """Take no new events of these kinds (before a clean shutdown)."""
        stream = self._bot.puppet._event_stream
        for name in events:
            stream.remove_all_listeners(name)

    def exclusive(self) -> asyncio.Lock:
        """Held while a message is handled; hold it to run other app work (the app is not thread-safe)."""
        return self._lock

    async def send(self, messages: Sequence[Outgoing]) -> None:
        """Send each message in order and report to the send queue what went out and what failed
        (failed ones are retried later); then plan to send what the rate limits still hold back.
        Call it holding `exclusive()`."""
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        for out in messages:
            try:
                await self._send_one(out)
            except Exception as error:
                log.exception("sending to %s failed", out.group_id or out.to_id)
                if out.outbox_id is not None:
                    failed.append((out.outbox_id, f"{error.__class__.__name__}: {error}"))
            else:
                if out.outbox_id is not None:
                    sent.append(out.outbox_id)
        if sent or failed:
            await asyncio.to_thread(self.app.settle, sent, failed)
        self._plan_delivery()

    def _plan_delivery(self) -> None:
        """Wake up when the send queue's next held-back message may leave (the clock tick is coarser)."""
        at = self.app.outbox.next_send_at()
        if at is None or self._bot is None:
            return
        if self._wake is not None and not self._wake.done():
            if self._wake_at is not None and self._wake_at <= at:
                return
            self._wake.cancel()
        delay = max(0.0, (at - datetime.now(self.tz)).total_seconds())
        self._wake_at = at
        self._wake = asyncio.get_running_loop().create_task(self._deliver_later(delay), name="send-queue")

    async def _deliver_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            self._wake, self._wake_at = None, None
            if self._bot is None:
                return
            try:
                due = await asyncio.to_thread(self.app.delivery.deliver, datetime.now(self.tz))
            except Exception:
                log.exception("taking messages from the send queue failed")
                return
            await self.send(due)

    async def _send_one(self, out: Outgoing) -> None:
        puppet = self._bot.puppet
        conversation = out.group_id or out.to_id
        assert conversation is not None
        if out.text:
            mention_ids = outgoing_mention_ids(out, self_id=self.self_id, bot_id=self.app.settings.bot_id)
            text = out.text
            if out.group_id is not None and mention_ids:
                text = with_mention_prefix(text, [await self._name(m) for m in mention_ids])
            await puppet.message_send_text(
                conversation_id=conversation, message=text, mention_ids=mention_ids or None
            )
        if out.file_path is not None:
            from wechaty import FileBox

            box = FileBox.from_file(str(Path(out.file_path)))
            await puppet.message_send_file(conversation_id=conversation, file=box)

    async def _name(self, contact_id: str) -> str:
        try:
            contact = self._bot.Contact.load(contact_id)
            await contact.ready()
            return str(contact.name or "")
        except Exception:
            log.warning("no name for contact %s: mentioned without @name text", contact_id)
            return ""

    async def _on_login(self, contact: Any) -> None:
        self.self_id = contact.contact_id
        self._logged_in.set()

    async def _on_message(self, msg: Any) -> None:
        message_id = getattr(msg, "message_id", "?")
        task = asyncio.current_task()
        if task is not None:
            self._pending.add(task)
        try:
            raw = await self._raw(msg)
            incoming = to_incoming(raw, self_id=self.self_id, bot_id=self.app.settings.bot_id, tz=self.tz)
            if incoming is None:
                log.debug("ignoring message %s of type %s", message_id, raw.type_name)
                return
            await self._handle([incoming])
        except Exception:
            log.exception("wechaty message %s failed", message_id)
        finally:
            if task is not None:
                self._pending.discard(task)

    async def _raw(self, msg: Any) -> RawMessage:
        payload = msg.payload
        talker = msg.talker()
        type_name = getattr(payload.type, "name", str(payload.type))
        text = payload.text or ""
        kind = KIND_BY_TYPE.get(type_name)
        if kind is MessageKind.LINK:
            with contextlib.suppress(Exception):
                link = (await msg.to_url_link()).payload
                text = " ".join(p for p in (link.title, link.url) if p) or text
        elif kind is MessageKind.MINIPROGRAM:
            with contextlib.suppress(Exception):
                text = (await msg.to_mini_program()).payload.title or text
        return RawMessage(
            message_id=msg.message_id,
            talker_id=payload.from_id or "",
            type_name=type_name,
            text=text,
            timestamp=payload.timestamp or 0,
            room_id=payload.room_id or "",
            talker_name=str(talker.name or "") if talker is not None else "",
            mention_ids=tuple(payload.mention_ids or ()),
            filename=payload.filename or "",
        )

    async def _on_room_join(self, room: Any, invitees: list[Any], inviter: Any, date: datetime) -> None:
        await self._on_membership(MessageKind.JOIN, room, invitees, date)

    async def _on_room_leave(self, room: Any, leavers: list[Any], remover: Any, date: datetime) -> None:
        await self._on_membership(MessageKind.LEAVE, room, leavers, date)

    async def _on_membership(self, kind: MessageKind, room: Any, members: list[Any], date: datetime) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._pending.add(task)
        try:
            at = date.astimezone(self.tz)  # python-wechaty gives naive local time
            people = [(m.contact_id, str(m.name or "")) for m in members]
            await self._handle(join_leave_incoming(kind, room.room_id, people, at, self_id=self.self_id))
        except Exception:
            log.exception("wechaty %s event in %s failed", kind.value, getattr(room, "room_id", "?"))
        finally:
            if task is not None:
                self._pending.discard(task)

    async def _handle(self, events: Sequence[Incoming]) -> None:
        # App.handle blocks on the database (and the classifier): a worker thread keeps the gRPC stream
        # and heartbeats alive; the lock keeps events in order, as App is not thread-safe.
        async with self._lock:
            for incoming in events:
                try:
                    replies = await asyncio.to_thread(self.app.receive, incoming)
                except Exception:
                    log.exception("handling message %s failed", incoming.message_id)
                    continue
                await self.send(replies)
                if self.on_handled is not None:
                    self.on_handled(incoming, replies)
