"""Consultation tables. A result can always be recounted from them: open ballots keep who voted what;
secret ballots keep who took part (no choice, no time) apart from the ballots (a choice and the hash
of the voter's receipt code, no voter, no time), so nothing in the database links a voter to a choice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime
from groups.scope import ScopeKind


class ConsultState(StrEnum):
    DISCUSSING = "discussing"
    VOTING = "voting"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(sa_column=Column(Text, nullable=False))
    scope_kind: ScopeKind = Field(sa_type=StrEnumType(ScopeKind))
    scope_id: str
    scope_name: str = ""
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: ConsultState = Field(sa_type=StrEnumType(ConsultState), index=True)
    secret: bool = False
    per_household: bool = False
    quorum: float | None = None  # minimum turnout (share of eligible voters or households)
    opened_by: str = Field(foreign_key="person.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    discussion_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summarised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voting_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime, index=True)
    reminders_sent: int = 0
    eligible: int | None = None  # voters (or households) on the roll when voting opened
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    passed: bool | None = None
    decision: str = Field(default="", sa_column=Column(Text, nullable=False))

    @property
    def number(self) -> int:
        assert self.id is not None
        return self.id


class ConsultGroup(SQLModel, table=True):
    __tablename__ = "consult_group"
    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    group_id: str = Field(foreign_key="chat_group.id", primary_key=True)


class Opinion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    person_id: str = Field(foreign_key="person.id")
    group_id: str | None = None
    message_id: str = Field(unique=True, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    at: datetime = Field(sa_type=UTCDateTime)


class Vote(SQLModel, table=True):
    """An open ballot: the voter (person, or household) and their current choice."""

    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    voter_key: str = Field(primary_key=True)  # person id, or "household:<community>:<household>"
    person_id: str = Field(foreign_key="person.id")
    group_id: str | None = None
    choice: int  # 1-based option number
    cast_at: datetime = Field(sa_type=UTCDateTime)
    changes: int = 0


class Participation(SQLModel, table=True):
    """A secret ballot's roll: who took part (and where, for turnout), never what they chose."""

    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    voter_key: str = Field(primary_key=True)
    group_id: str | None = None


class Ballot(SQLModel, table=True):
    """A secret ballot's vote: a choice and the hash of the voter's receipt code; no voter, no time."""

    receipt_hash: str = Field(primary_key=True, max_length=64)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    choice: int


class FollowUp(SQLModel, table=True):
    """A ticket that carries out a decision; its progress is posted to the consultation's groups."""

    __tablename__ = "consult_follow_up"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    announced_event_id: int = 0


class CountLine(SQLModel, table=True):
    """An open vote's short count line in one group ("已收到 5 票"): when the next one is due (None: no
    vote since the last) and the count it last said. A row, not memory, so a restart changes nothing."""

    __tablename__ = "vote_count_line"
    consultation_id: int = Field(foreign_key="consultation.id", primary_key=True)
    group_id: str = Field(foreign_key="chat_group.id", primary_key=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    said: int = 0
