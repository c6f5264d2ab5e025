"""The send queue's table: one row per message, with its state, claim and retries."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime
from core.events import Outgoing, Priority


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "account", "state", "priority", "id"),
        # what still waits (the backlog): sent rows, nearly all of them, stay out of this index
        Index(
            "ix_outbox_unsent",
            "account",
            "state",
            "created_at",
            postgresql_where=text("state <> 'sent'"),
            sqlite_where=text("state <> 'sent'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str
    group_id: str | None = Field(default=None, index=True)
    to_id: str | None = None
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    file_path: str | None = None
    tag: str | None = Field(default=None, index=True)  # e.g. notice:<run>: its sender hears how it went
    priority: int = Priority.REPLY
    state: OutboxState = Field(default=OutboxState.QUEUED, sa_type=StrEnumType(OutboxState))
    created_at: datetime = Field(sa_type=UTCDateTime)
    not_before: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    error: str | None = None

    def outgoing(self, at: datetime) -> Outgoing:
        return Outgoing(
            text=self.text,
            group_id=self.group_id,
            to_id=self.to_id,
            mentions=tuple(self.mentions),
            at=at,
            file_path=self.file_path,
            priority=Priority(self.priority),
            outbox_id=self.id,
            tag=self.tag,
        )


def aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # func.min() bypasses the column type on SQLite
