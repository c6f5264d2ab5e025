"""Rate limits kept in the database: one counter per key and fixed window, taken with one conditional
UPDATE, so that concurrent requests (threads or processes, SQLite or PostgreSQL) never pass a limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from core.db import UTCDateTime

MAX_KEY = 200


class RateCounter(SQLModel, table=True):
    """How many times `key` was used since `window_start` (sign-in codes per person, per address …)."""

    __tablename__ = "rate_counter"
    key: str = Field(primary_key=True, max_length=MAX_KEY)
    window_start: datetime = Field(sa_type=UTCDateTime)
    count: int = 0


def take(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one use of `key`; False (and nothing counted) when `limit` uses were already counted in
    the current window of length `window`. A new window starts when the old one has passed."""
    key = key[:MAX_KEY]
    fresh = session.execute(
        update(RateCounter)
        .where(RateCounter.key == key, RateCounter.window_start <= now - window)  # type: ignore[arg-type]
        .values(window_start=now, count=1)
        .execution_options(synchronize_session=False)
    )
    if fresh.rowcount:  # type: ignore[attr-defined]
        return True
    counted = session.execute(
        update(RateCounter)
        .where(RateCounter.key == key, RateCounter.count < limit)  # type: ignore[arg-type]
        .values(count=RateCounter.count + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(RateCounter, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(insert(RateCounter).values(key=key, window_start=now, count=1))
    except IntegrityError:  # another request created it first: count against that row
        return take(session, key, limit, window, now)
    return limit >= 1


def used(session: Session, key: str, window: timedelta, now: datetime) -> int:
    """How many uses of `key` the current window holds (0 when it has passed)."""
    row = session.get(RateCounter, key[:MAX_KEY])
    if row is None or row.window_start <= now - window:
        return 0
    return row.count
