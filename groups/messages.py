"""Message capture: every message the bot sees is stored once, keyed by its platform id."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Index, Text, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from core.db import StrEnumType, UTCDateTime
from core.events import MessageKind
from core.privacy import mask_private_numbers
from groups.models import ChatGroup, Membership, ModerationExempt, Person, Role

log = logging.getLogger(__name__)
MAX_STORED_CHARS = 20_000


# System events are not speech: they never count as people's messages (report, console, evaluations).
SILENT_KINDS: tuple[MessageKind, ...] = (MessageKind.JOIN, MessageKind.LEAVE, MessageKind.RECALL)


def speech() -> ColumnElement[bool]:
    """The SQL condition for people's messages (not SILENT_KINDS): what every message count counts."""
    return col(Message.kind).not_in(SILENT_KINDS)


KIND_LABELS: dict[MessageKind, str] = {
    MessageKind.TEXT: "文字",
    MessageKind.IMAGE: "图片",
    MessageKind.VOICE: "语音",
    MessageKind.VIDEO: "视频",
    MessageKind.FILE: "文件",
    MessageKind.LINK: "链接",
    MessageKind.MINIPROGRAM: "小程序",
    MessageKind.RECALL: "撤回",
    MessageKind.JOIN: "入群",
    MessageKind.LEAVE: "退群",
}


class Message(SQLModel, table=True):
    """One captured message; `text` is the masked copy kept for analysis, `raw_text` is staff-only."""

    # the console's counts per community and period, read from the index alone on PostgreSQL
    __table_args__ = (
        Index("ix_message_group_sent", "group_id", "sent_at", postgresql_include=["sentiment"]),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform_id: str = Field(unique=True, max_length=200)
    kind: MessageKind = Field(default=MessageKind.TEXT, index=True, sa_type=StrEnumType(MessageKind))
    group_id: str | None = Field(default=None, foreign_key="chat_group.id", index=True)
    sender_id: str = Field(foreign_key="person.id", index=True)
    sender_name: str = ""
    private: bool = False
    raw_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sent_at: datetime = Field(sa_type=UTCDateTime, index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed: bool = False
    intent: str | None = Field(default=None, index=True)
    category: str | None = Field(default=None, index=True)
    sentiment: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Capture:
    """What capture found: the stored row, whether it still needs handling, who sent it and where."""

    message: Message | None  # None: kept as `values`, for the caller to write (see `keep`)
    needs_handling: bool
    sender: Person | None = None
    group: ChatGroup | None = None
    values: dict[str, Any] | None = None


def _ensure_group(session: Session, group_id: str) -> ChatGroup:
    group = session.get(ChatGroup, group_id)
    if group is None:
        log.info("recording unregistered group %s", group_id)
        group = ChatGroup(id=group_id, registered=False)
        session.add(group)
        session.flush()
    return group


def _ensure_member(
    session: Session, sender_id: str, sender_name: str, group: ChatGroup | None, at: datetime
) -> tuple[Person, Membership | None]:
    person = session.get(Person, sender_id)
    if person is None:
        person = Person(
            id=sender_id,
            name=sender_name,
            role=Role.RESIDENT,
            community_id=group.community_id if group else None,
            registered=False,
            first_seen_at=at,
        )
        session.add(person)
        session.flush()
    elif person.community_id is None and group is not None and group.community_id:
        person.community_id = group.community_id
    if not person.registered and sender_name and person.name != sender_name:
        person.name = sender_name
    membership = session.get(Membership, (person.id, group.id)) if group is not None else None
    if group is not None and membership is None:
        membership = Membership(person_id=person.id, group_id=group.id)
        session.add(membership)
    return person, membership


def message_values(
    platform_id: str,
    kind: MessageKind,
    group_id: str | None,
    sender_id: str,
    sender_name: str,
    text: str,
    mentions: tuple[str, ...],
    sent_at: datetime,
    received_at: datetime,
) -> dict[str, Any]:
    """A new message's stored columns: the text cut to MAX_STORED_CHARS, its analysis copy masked."""
    raw = text[:MAX_STORED_CHARS]
    return {
        "platform_id": platform_id,
        "kind": kind,
        "group_id": group_id,
        "sender_id": sender_id,
        "sender_name": sender_name,
        "private": group_id is None,
        "raw_text": raw,
        "text": mask_private_numbers(raw),
        "mentions": list(mentions),
        "sent_at": sent_at,
        "received_at": received_at,
    }


def capture_message(
    session: Session,
    *,
    platform_id: str,
    kind: MessageKind,
    group_id: str | None,
    sender_id: str,
    sender_name: str,
    text: str,
    mentions: tuple[str, ...],
    sent_at: datetime,
    now: datetime,
    known_new: bool = False,
    keep: bool = False,
) -> Capture:
    """Store a message unless its platform id is already known; safe against concurrent writers.
    `known_new`: the caller has just looked the id up (a replay looks up many at once). `keep`: a new
    message's columns are returned as `values` instead of being stored (a replay writes them in bulk);
    the sender and membership are brought up to date either way.

    Call it first in its transaction: a concurrent duplicate rolls the transaction back.
    """
    existing = None
    if not known_new:
        existing = session.exec(select(Message).where(Message.platform_id == platform_id)).first()
    if existing is not None:
        if existing.handled_at is not None:
            return Capture(existing, needs_handling=False)
        group = session.get(ChatGroup, group_id) if group_id else None
        return Capture(existing, True, session.get(Person, existing.sender_id), group)
    group = _ensure_group(session, group_id) if group_id else None
    sender, membership = _ensure_member(session, sender_id, sender_name, group, sent_at)
    if membership is not None and kind in (MessageKind.JOIN, MessageKind.LEAVE):
        membership.active = kind is MessageKind.JOIN
    values = message_values(platform_id, kind, group_id, sender_id, sender_name, text, mentions, sent_at, now)
    if keep and known_new:
        return Capture(None, True, sender, group, values)
    message = Message(**values)
    session.add(message)
    try:
        session.flush()
    except IntegrityError:
        # another process stored the same platform id between our look-up and insert: it handles it
        session.rollback()
        log.info("message %s was captured concurrently", platform_id)
        existing = session.exec(select(Message).where(Message.platform_id == platform_id)).one()
        return Capture(existing, needs_handling=False)
    return Capture(message, True, sender, group)


def residents_group_speech(session: Session) -> int:
    """What the bot's group messages are measured against (its noise budget): residents' messages in
    groups, that is not staff's, not the property desk's or other exempt accounts', and not joins,
    leaves or recalls."""
    return session.exec(
        select(func.count())
        .select_from(Message)
        .join(Person, col(Person.id) == col(Message.sender_id))
        .where(
            col(Message.group_id).is_not(None),
            speech(),
            col(Person.role) == Role.RESIDENT,
            col(Message.sender_id).not_in(select(ModerationExempt.person_id)),
        )
    ).one()
