"""Tables of the web side: one-time sign-in codes, console sessions and external systems' API keys.

Only hashes of codes, session tokens and keys are stored: a copy of the database lets no one in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime


class SignInCode(SQLModel, table=True):
    """A six-digit code the bot sent a staff member privately; good once, for a few minutes."""

    __tablename__ = "sign_in_code"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    code_hash: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: its cookie's hash, its CSRF token and when it lapses."""

    __tablename__ = "console_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: str = Field(foreign_key="person.id", index=True)
    csrf: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiClient(SQLModel, table=True):
    """An external system (a 12345 platform, digital city management) allowed to call the Open311 API."""

    __tablename__ = "api_client"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    key_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_all: bool = False  # the 12345 hub reads every ticket; other clients only those they filed
