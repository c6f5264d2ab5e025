"""What staff see of each bot account's send queue: waiting, in flight, given up, sent lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.outbox_rows import OutboxMessage, OutboxState, aware


@dataclass(frozen=True)
class Backlog:
    """What staff see of one account's queue."""

    account: str
    queued: int
    sending: int
    failed: int
    oldest: datetime | None
    sent_last_hour: int


def backlog(session: Session, now: datetime) -> list[Backlog]:
    """Every account's queue: waiting, in flight, given up, oldest waiting, sent in the last hour."""
    counts: dict[str, dict[str, int]] = {}
    for account, state, count in session.exec(
        select(OutboxMessage.account, OutboxMessage.state, func.count())
        .where(OutboxMessage.state != OutboxState.SENT)
        .group_by(OutboxMessage.account, OutboxMessage.state)
    ).all():
        counts.setdefault(account, {})[state] = count
    oldest = dict(
        session.exec(
            select(OutboxMessage.account, func.min(OutboxMessage.created_at))
            .where(OutboxMessage.state == OutboxState.QUEUED)
            .group_by(OutboxMessage.account)
        ).all()
    )
    recent = dict(
        session.exec(
            select(OutboxMessage.account, func.count())
            .where(OutboxMessage.sent_at > now - timedelta(hours=1))  # type: ignore[operator]
            .group_by(OutboxMessage.account)
        ).all()
    )
    accounts = sorted(set(counts) | set(recent))
    result = []
    for account in accounts:
        by_state = counts.get(account, {})
        first = oldest.get(account)
        result.append(
            Backlog(
                account=account,
                queued=by_state.get(OutboxState.QUEUED, 0),
                sending=by_state.get(OutboxState.SENDING, 0),
                failed=by_state.get(OutboxState.FAILED, 0),
                oldest=aware(first),
                sent_last_hour=recent.get(account, 0),
            )
        )
    return result
