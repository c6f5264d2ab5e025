"""Questions the knowledge base could not answer: forwarded to the social worker, answered, maybe learned."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from core.db import StrEnumType, UTCDateTime


class QuestionState(StrEnum):
    WAITING = "waiting"  # forwarded to the social worker
    ANSWERED = "answered"  # the resident has the social worker's answer
    LEARNED = "learned"  # approved into the knowledge base: Xiaoqi answers it itself from now on


class FaqQuestion(SQLModel, table=True):
    __tablename__ = "faq_question"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id")
    group_id: str | None = Field(default=None, foreign_key="chat_group.id")
    community_id: str | None = Field(default=None, index=True)
    message_id: str = Field(unique=True, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    asked_at: datetime = Field(sa_type=UTCDateTime)
    guess: str | None = None  # the nearest matter, for the social worker's convenience
    state: QuestionState = Field(
        default=QuestionState.WAITING, sa_type=StrEnumType(QuestionState), index=True
    )
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    category: str | None = None
    learned_by: str | None = None
    learned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
