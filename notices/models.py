"""Notice tables: what to send where and when, each sending (run) and its per-group delivery."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime
from groups.scope import ScopeKind


class Repeat(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"


class Notice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: str = Field(foreign_key="person.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    scope_kind: ScopeKind = Field(sa_type=StrEnumType(ScopeKind))
    scope_id: str = ""
    scope_name: str = ""
    repeat: Repeat = Field(default=Repeat.ONCE, sa_type=StrEnumType(Repeat))
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, index=True
    )  # None: nothing more to send
    runs: int = 0
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeRun(SQLModel, table=True):
    """One sending of a notice; its sender hears how it went once every group's message is settled
    (the queued messages carry the tag `notice:<run id>`)."""

    __tablename__ = "notice_run"
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    groups: int = 0
    check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # None: reported
    sent: int = 0
    failed: int = 0
