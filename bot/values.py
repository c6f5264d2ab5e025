"""Transport-free values: what arrives from a chat platform and what the bot sends back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from groups.messages import MessageKind
from xiaoqi.outgoing import Outgoing

__all__ = ["Incoming", "MessageKind", "Outgoing"]


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
