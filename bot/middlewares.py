"""The message path's steps, in order: which account serves the group, capture, command parsing,
labels, the moderation hook, dispatch with an error boundary, and stamping and queueing the answer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from access.policy import Refused
from bot import replies
from bot.batch import HeldMessage, ReplayBatch
from bot.context import Context, Services
from bot.pipeline import Next, Turn
from bot.router import Router
from bot.timekeeper import Timekeeper
from core import audit
from core.errors import XiaoqiError
from core.events import Incoming, MessageKind, Outgoing, Priority
from core.outbox import Outbox
from groups.messages import Message, capture_message
from groups.models import ChatGroup
from moderation.service import note_post, read_all_recent_posts
from nlp import Labels

log = logging.getLogger(__name__)
CLASSIFIED_KINDS = frozenset({MessageKind.TEXT})


@dataclass(frozen=True)
class ServingAccount:
    """A group served by another of the district's bot accounts is theirs: this one stays out."""

    account: str

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        group_id = turn.incoming.group_id
        if group_id is not None:
            group = turn.session.get(ChatGroup, group_id)
            if group is not None and group.account is not None and group.account != self.account:
                return []
        return call_next(turn)


@dataclass(frozen=True)
class Capture:
    """Store the event once (by its platform id), bringing the sender and membership up to date; a
    replay's new group message is held back as a row until someone needs it."""

    batch: ReplayBatch

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        incoming, session = turn.incoming, turn.session
        captured = capture_message(
            session,
            platform_id=incoming.message_id,
            kind=incoming.kind,
            group_id=incoming.group_id,
            sender_id=incoming.sender_id,
            sender_name=incoming.sender_name,
            text=incoming.text,
            mentions=incoming.mentions,
            sent_at=incoming.at,
            now=turn.now,
            known_new=turn.known_new,
            keep=self.batch.bulk and self.batch.active and incoming.group_id is not None,
        )
        if not self.batch.active:
            session.commit()  # stored before anything else can go wrong
        if not captured.needs_handling:
            log.debug("message %s already handled", incoming.message_id)
            return []
        assert captured.sender is not None
        turn.sender, turn.group = captured.sender, captured.group
        if captured.values is not None:
            # every held row has the same columns: they are written together, in one statement
            unlabelled = {"intent": None, "category": None, "sentiment": None, "confidence": None}
            turn.record = self.batch.hold(
                captured.values | unlabelled | {"handled_at": incoming.at, "failed": False}
            )
        else:
            turn.record = captured.message
        return call_next(turn)


@dataclass(frozen=True)
class ParseCommand:
    router: Router
    bot_id: str
    bot_name: str

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        turn.parsed = self.router.parse(turn.incoming, self.bot_id, self.bot_name)
        if turn.parsed is not None and isinstance(turn.record, HeldMessage):
            turn.record = turn.record.stored()  # a command is stored the ordinary way
        return call_next(turn)


@dataclass(frozen=True)
class Labelling:
    """What the message wants, what it is about and how it feels (residents' text only: a staff
    command says nothing about residents' opinions)."""

    classify: Callable[[Sequence[str]], list[Labels | None]]

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        assert turn.sender is not None and turn.record is not None
        staff_command = turn.parsed is not None and turn.sender.role.is_staff
        if turn.labels is None and turn.incoming.kind in CLASSIFIED_KINDS and not staff_command:
            text = turn.record.values["text"] if isinstance(turn.record, HeldMessage) else turn.record.text
            turn.labels = self.classify([text])[0]
        if turn.labels is not None:
            labels = turn.labels
            columns = {
                "intent": labels.intent,
                "category": labels.category,
                "sentiment": labels.sentiment,
                "confidence": labels.confidence,
            }
            if isinstance(turn.record, HeldMessage):
                turn.record.values.update(columns)
            else:
                for name, value in columns.items():
                    setattr(turn.record, name, value)
        return call_next(turn)


@dataclass(frozen=True)
class RecentPosts:
    """Moderation counts each sender's recent posts (刷屏): a replay reads them all once, before its
    first event is stored."""

    batch: ReplayBatch

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        if self.batch.active and not self.batch.posts_read:
            read_all_recent_posts(turn.session, turn.incoming.at)
            self.batch.posts_read = True
        return call_next(turn)


def moderation_hook(turn: Turn, call_next: Next) -> list[Outgoing]:
    """Count the new post for moderation before any handler looks at it."""
    if turn.incoming.kind is MessageKind.TEXT:
        assert turn.sender is not None and turn.record is not None
        record = turn.record
        raw = record.values["raw_text"] if isinstance(record, HeldMessage) else record.raw_text
        note_post(turn.session, turn.sender.id, turn.incoming.at, raw)
    return call_next(turn)


@dataclass(frozen=True)
class Dispatch:
    """Run the command or the message handlers in a savepoint: one that fails is undone and its
    sender gets the error's text (an expected failure) or an apology; refusals and commands are
    audited after the savepoint, so a rollback keeps the audit line."""

    services: Services
    batch: ReplayBatch

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        incoming, session, record = turn.incoming, turn.session, turn.record
        assert turn.sender is not None and record is not None
        held = record if isinstance(record, HeldMessage) else None
        stored: Message | Callable[[], Message] = record.stored if isinstance(record, HeldMessage) else record
        ctx = Context(
            self.services, session, incoming.at, incoming, turn.sender, turn.group, labels=turn.labels,
            _record=stored,
        )  # fmt: skip
        turn.ctx = ctx
        settings = self.services.settings
        addressed = incoming.is_private or settings.bot_id in incoming.mentions
        router = self.services.router
        failed: XiaoqiError | None = None  # refused (access.Refused) or could not be done
        try:
            with self.batch.guarded(), session.begin_nested():
                writes = self.batch.writes
                try:
                    if turn.parsed is not None:
                        answer = router.dispatch_command(ctx, turn.parsed)
                    else:
                        answer = router.dispatch_message(ctx)
                except XiaoqiError as error:
                    if not self.batch.untouched(session, writes):
                        raise  # undo what it wrote before refusing
                    # refused before writing anything: keep the savepoint, since rolling one back
                    # walks every object a replay holds
                    answer, failed = [ctx.reply(str(error))], error
        except XiaoqiError as error:
            answer, failed = [ctx.reply(str(error))], error
        except Exception:
            log.exception("handling message %s failed", incoming.message_id)
            # a held message a handler asked for was taken back with the savepoint: stored again
            failed_record = held.stored() if held is not None else ctx.record
            assert failed_record is not None
            failed_record.failed = True
            answer = [ctx.reply(replies.APOLOGY)] if addressed or turn.parsed is not None else []
        if held is not None:
            if ctx.record_wanted:
                turn.record = held.stored()  # added again if a rolled-back savepoint took it
            else:
                held.release()
        if ctx.audited is not None:
            name, args = ctx.audited
            audit.record(
                session,
                at=incoming.at,
                actor_id=turn.sender.id,
                action=f"refused:{name}" if isinstance(failed, Refused) else f"command:{name}",
                target=incoming.group_id or "private",
                detail=args if failed is None else f"{args}｜{failed}"[: audit.MAX_DETAIL],
            )
        if not answer and addressed and turn.parsed is None and incoming.kind is MessageKind.TEXT:
            answer = [ctx.reply(replies.GREETING)]
        turn.answer = answer
        return call_next(turn)


@dataclass(frozen=True)
class StampAndQueue:
    """Queue the answer in the transaction that marks the message handled (a crash before the commit
    handles the message again when it is redelivered, one after it sends), then release what the send
    limits allow. A front end (the console) gets its own user's answers back instead."""

    outbox: Outbox
    timekeeper: Timekeeper
    batch: ReplayBatch
    front_end: bool
    live: bool

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]:
        incoming, session = turn.incoming, turn.session
        stamped = stamp(turn.answer, incoming, turn.urgent)
        own: list[Outgoing] = []
        if self.front_end:  # its user reads the answer on the page, not on WeChat
            own = [out for out in stamped if out.to_id == incoming.sender_id]
            stamped = [out for out in stamped if out.to_id != incoming.sender_id]
        self.outbox.enqueue(
            session,
            stamped,
            at=incoming.at,
            priority=Priority.URGENT if turn.urgent else Priority.REPLY,
            replying_to=incoming.sender_id if incoming.is_private else None,
        )
        if not isinstance(turn.record, HeldMessage) and turn.record is not None:
            turn.record.handled_at = incoming.at
        self.timekeeper.noticed(session)
        released = [] if self.front_end else self.outbox.release(session, incoming.at, live=self.live)
        self.batch.handled()
        return own + released + call_next(turn)


def stamp(produced: Sequence[object], incoming: Incoming, urgent: bool) -> list[Outgoing]:
    """Time-stamp an answer; what goes to anyone but the sender (in their group or privately), such
    as staff or other groups, is not a direct answer: unless urgent it waits like any alert (quiet
    hours included)."""
    stamped = []
    for out in produced:
        if not isinstance(out, Outgoing):
            continue
        direct = out.to_id == incoming.sender_id or (
            out.group_id is not None and out.group_id == incoming.group_id
        )
        level = out.priority
        if level is None and not direct and not urgent:
            level = Priority.ALERT
        stamped.append(replace(out, at=out.at or incoming.at, priority=level))
    return stamped
