"""Ticket tables: the ticket, its reporters, its event log, pending confirmations and extensions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime


class TicketState(StrEnum):
    NEW = "待签收"
    ACCEPTED = "已签收"
    IN_PROGRESS = "处理中"
    RESOLVED = "已办结"
    CLOSED = "已评价"
    RETURNED = "已退回"


OPEN_STATES = frozenset(
    {TicketState.NEW, TicketState.ACCEPTED, TicketState.IN_PROGRESS, TicketState.RETURNED}
)


class Rating(StrEnum):
    SATISFIED = "满意"
    BASICALLY = "基本满意"
    UNSATISFIED = "不满意"
    DEFAULT = "默认满意"


class Ticket(SQLModel, table=True):
    """A petition being handled; `version` guards every transition against concurrent staff."""

    id: int | None = Field(default=None, primary_key=True)
    source_message_id: str = Field(unique=True, max_length=200)
    community_id: str | None = Field(default=None, foreign_key="community.id", index=True)
    group_id: str | None = Field(default=None, foreign_key="chat_group.id", index=True)
    reporter_id: str = Field(foreign_key="person.id", index=True)
    intent: str = "诉求"
    category: str = Field(index=True)
    urgent: bool = False
    summary: str = Field(sa_column=Column(Text, nullable=False))  # masked: safe to show in groups
    details: str = Field(default="", sa_column=Column(Text, nullable=False))  # as reported: staff only
    state: TicketState = Field(default=TicketState.NEW, sa_type=StrEnumType(TicketState), index=True)
    handler_id: str | None = Field(default=None, foreign_key="person.id", index=True)
    department_id: str | None = Field(default=None, foreign_key="department.id")
    reporters: int = 1
    priority: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    deadline: datetime = Field(sa_type=UTCDateTime)
    assigned_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str = Field(default="", sa_column=Column(Text, nullable=False))
    rating: Rating | None = Field(default=None, sa_type=StrEnumType(Rating))
    reopened: int = 0
    escalations: int = 0
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    urged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    supervised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_alert_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    version: int = 1

    @property
    def number(self) -> int:
        """The ticket number residents and staff use (the id, once stored)."""
        assert self.id is not None, "ticket not stored yet"
        return self.id


class TicketReporter(SQLModel, table=True):
    """Everyone who reported the problem (duplicates merge here); all of them hear its progress, and
    each rates its resolution for themselves (the ticket's rating is derived from theirs)."""

    __tablename__ = "ticket_reporter"
    __table_args__ = (UniqueConstraint("ticket_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    group_id: str | None = Field(default=None, foreign_key="chat_group.id")
    message_id: str = Field(unique=True, max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    rating: Rating | None = Field(default=None, sa_type=StrEnumType(Rating))  # of the latest resolution
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class TicketAlerted(SQLModel, table=True):
    """Staff told of an emergency ticket: any of them may accept it (the first one wins)."""

    __tablename__ = "ticket_alerted"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)


class TicketEvent(SQLModel, table=True):
    """The ticket's audit log: who did what, when, from which state to which, with a note."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))


class PendingConfirmation(SQLModel, table=True):
    """A petition Xiaoqi was unsure about, waiting for the resident's one-word yes."""

    __tablename__ = "pending_confirmation"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    group_id: str | None = Field(default=None, foreign_key="chat_group.id")
    message_id: str = Field(unique=True, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    intent: str
    category: str
    asked_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    answered: bool = False


class ExtensionRequest(SQLModel, table=True):
    __tablename__ = "extension_request"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    requested_by: str = Field(foreign_key="person.id")
    days: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved: bool | None = None


class LabelledExample(SQLModel, table=True):
    """A staff correction of a label, kept as training data for the district's own model."""

    __tablename__ = "labelled_example"
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    label_kind: str  # intent | category | sentiment
    label: str
    previous: str | None = None
    source: str = ""
    corrected_by: str
    at: datetime = Field(sa_type=UTCDateTime)
