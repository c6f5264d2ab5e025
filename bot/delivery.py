"""Delivery: what the send limits let out of the queue, and what the transport reports back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from bot.batch import ReplayBatch
from bot.timekeeper import SCHEDULER_LEASE
from core import leases
from core.db import session_scope
from core.events import Outgoing
from core.outbox import Outbox


class Delivery:
    """Inline (tests, replays) released messages count as sent at once; live (`xiaoqi run`) they are
    claimed until the transport settles them."""

    def __init__(
        self, outbox: Outbox, batch: ReplayBatch, engine: Engine, account: str, *, live: bool
    ) -> None:
        self.outbox, self.batch, self.engine, self.account, self.live = outbox, batch, engine, account, live

    def deliver(self, now: datetime) -> list[Outgoing]:
        """The queued messages the send limits allow by `now`."""
        if not self.outbox.may_release(now):
            return []
        with self.batch.unit(commit=False) as session:
            return self.outbox.release(session, now, live=self.live)

    def settle(self, sent: Sequence[int], failed: Sequence[tuple[int, str]], now: datetime | None) -> None:
        """The transport reports which claimed messages went out and which failed."""
        with session_scope(self.engine) as session:
            self.outbox.settle(session, sent, failed, now or datetime.now(UTC))

    def close(self) -> None:
        """Give up this process's leases (scheduler, sending) so that another process takes over at once."""
        with session_scope(self.engine) as session:
            for name in (SCHEDULER_LEASE, f"send:{self.account}"):
                leases.release(session, name, self.outbox.holder)
