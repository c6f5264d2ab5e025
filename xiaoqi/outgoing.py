"""What the bot sends: transport-free, so that domain services can say what should be sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


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
