"""Leases: one row per piece of work that only one process may do at a time (the scheduler, an
account's sending). Taken and renewed with one conditional UPDATE, so that it is atomic on SQLite and
PostgreSQL alike; on PostgreSQL the UPDATE also locks the row until the holder's transaction ends, so
a process that lost its lease while working cannot commit work over the new holder's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from core.db import UTCDateTime


class Lease(SQLModel, table=True):
    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)


def hold(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while someone else holds it.

    Call it first in the transaction whose work the lease protects: the work commits with the renewal.
    """
    until = now + ttl
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name)  # type: ignore[arg-type]
        .where(or_(Lease.holder == holder, Lease.expires_at < now))  # type: ignore[arg-type]
        .values(holder=holder, expires_at=until)
        # no Lease object is read after this; "evaluate" would walk the session's whole identity map
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(insert(Lease).values(name=name, holder=holder, expires_at=until))
    except IntegrityError:  # another process created it first
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), so another process need not wait for it to expire."""
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)  # type: ignore[arg-type]
        .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    )
