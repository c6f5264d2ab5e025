"""Moderation tables: every warning and what became of it (who is exempt: groups.models)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime


class CaseState(StrEnum):
    WARNED = "warned"  # a polite warning in the group
    REPORTED = "reported"  # a repeat: the social worker was asked to decide
    APPEALED = "appealed"  # the member disagreed; the social worker decides
    WITHDRAWN = "withdrawn"  # the social worker found it was not spam
    UPHELD = "upheld"  # the social worker agreed (any removal is theirs to do, by hand)


class ModerationCase(SQLModel, table=True):
    __tablename__ = "moderation_case"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    group_id: str | None = Field(default=None, foreign_key="chat_group.id")
    message_id: str = Field(unique=True, max_length=200)
    reason: str
    excerpt: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    state: CaseState = Field(default=CaseState.WARNED, sa_type=StrEnumType(CaseState), index=True)
    appeal: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
