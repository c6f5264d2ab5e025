"""What arrives from a chat platform and what the bot sends back: transport-free values every layer uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LINK = "link"
    MINIPROGRAM = "miniprogram"
    RECALL = "recall"
    JOIN = "join"
    LEAVE = "leave"


class Priority(IntEnum):
    """Which queued message goes first when the account's send budget is short (lower first)."""

    URGENT = 0  # emergencies
    REPLY = 1  # answers to what someone just said
    ALERT = 2  # scheduled work: deadlines, reminders, progress
    BULK = 3  # notices and broadcasts to many groups


@dataclass(frozen=True)
class Outgoing:
    """One message to send: into a group (optionally @-mentioning members) or to one person."""

    text: str
    group_id: str | None = None
    to_id: str | None = None
    mentions: tuple[str, ...] = ()
    at: datetime | None = None
    file_path: str | None = field(default=None, compare=False)
    priority: Priority | None = field(default=None, compare=False)  # None: decided by who produced it
    outbox_id: int | None = field(default=None, compare=False)  # set once queued
    tag: str | None = field(default=None, compare=False)  # groups queued messages for a status report

    def __post_init__(self) -> None:
        if (self.group_id is None) == (self.to_id is None):
            raise ValueError("an outgoing message goes to exactly one group or one person")


@dataclass(frozen=True)
class Incoming:
    """One platform event (message, join, leave, recall) as the core sees it."""

    message_id: str
    sender_id: str
    text: str
    at: datetime
    group_id: str | None = None
    sender_name: str = ""
    kind: MessageKind = MessageKind.TEXT
    mentions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # NUL carries nothing and PostgreSQL text cannot hold it: drop it once, at the boundary.
        for name in ("message_id", "sender_id", "text", "group_id", "sender_name"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", ""))
        if any("\x00" in m for m in self.mentions):
            object.__setattr__(self, "mentions", tuple(m.replace("\x00", "") for m in self.mentions))

    @property
    def is_private(self) -> bool:
        return self.group_id is None
