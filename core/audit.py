"""The audit log: one row per staff action, never updated or deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel

from core.db import UTCDateTime

MAX_DETAIL = 4000


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: str = Field(index=True)
    action: str = Field(index=True)
    target: str = ""
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


def record(
    session: Session, *, at: datetime, actor_id: str, action: str, target: str = "", detail: str = ""
) -> AuditEntry:
    entry = AuditEntry(at=at, actor_id=actor_id, action=action, target=target, detail=detail)
    session.add(entry)
    return entry
