"""Send pacing: when one more message keeps within its account's and its group's rate limits."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.events import Priority
from core.outbox_rows import OutboxMessage, aware
from core.settings import SendLimits

MINUTE = timedelta(minutes=1)


@dataclass
class RateWindow:
    """At most `limit` sends in any `span`: the send times of the last span, kept sorted."""

    limit: int
    span: timedelta
    times: list[datetime] = field(default_factory=list)

    def earliest(self, at: datetime) -> datetime:
        """The earliest time not before `at` (nor before the last send: sends never go back in time)
        at which one more send keeps within the limit."""
        if not self.times:
            return at
        at = max(at, self.times[-1])
        if len(self.times) < self.limit:
            return at
        return max(at, self.times[-self.limit] + self.span)

    def record(self, at: datetime) -> None:
        self.times.append(at)
        first = bisect.bisect_right(self.times, at - self.span)
        if first:
            del self.times[:first]


class Pacing:
    """The rate windows of one bot account and its groups (mixed into `Outbox`, which holds the state)."""

    account: str
    limits: SendLimits
    _account_window: RateWindow | None
    _burst_window: RateWindow | None
    _bulk_window: RateWindow | None
    _bulk_burst: RateWindow | None
    _group_windows: dict[str, RateWindow]

    def _account_windows(self, bulk: bool) -> list[RateWindow]:
        windows = [self._account_window, self._burst_window]
        if bulk:
            windows += [self._bulk_window, self._bulk_burst]
        return [w for w in windows if w is not None]

    def _account_earliest(self, at: datetime, bulk: bool) -> datetime:
        for window in self._account_windows(bulk):
            at = window.earliest(at)
        # each window is monotonic: a later time still satisfies the windows checked before it
        return at

    def _earliest(self, row: OutboxMessage, at: datetime) -> datetime:
        bulk = row.priority >= Priority.BULK
        allowed = self._account_earliest(at, bulk)
        if row.group_id is not None:
            allowed = self._group_window(row.group_id).earliest(allowed)
            # the account windows again: the group's wait may have moved past a later account limit
            allowed = self._account_earliest(allowed, bulk)
        return allowed

    def _record(self, row: OutboxMessage, at: datetime) -> None:
        for window in self._account_windows(row.priority >= Priority.BULK):
            window.record(at)
        if row.group_id is not None:
            self._group_window(row.group_id).record(at)

    def _group_window(self, group_id: str) -> RateWindow:
        window = self._group_windows.get(group_id)
        if window is None:
            window = self._group_windows[group_id] = RateWindow(self.limits.per_group_per_minute, MINUTE)
        return window

    def _load_windows(self, session: Session) -> None:
        """Once per process: what this account sent in the last minute still counts against its limits."""
        if self._account_window is not None:
            return
        limits = self.limits
        burst_span = timedelta(seconds=limits.burst_seconds)
        self._account_window = RateWindow(limits.per_minute, MINUTE)
        self._burst_window = RateWindow(limits.burst, burst_span)
        self._bulk_window = RateWindow(max(1, int(limits.per_minute * limits.bulk_share)), MINUTE)
        self._bulk_burst = RateWindow(max(1, int(limits.burst * limits.bulk_share)), burst_span)
        # the minute before the account's last send: new sends never go before that one
        last = session.exec(
            select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.account == self.account)
        ).one()
        if last is None:
            return
        recent = session.exec(
            select(OutboxMessage.group_id, OutboxMessage.sent_at, OutboxMessage.priority)
            .where(
                OutboxMessage.account == self.account,
                OutboxMessage.sent_at > aware(last) - MINUTE,  # type: ignore[operator]
            )
            .order_by(OutboxMessage.sent_at)  # type: ignore[arg-type]
        ).all()
        for group_id, sent_at, priority in recent:
            assert sent_at is not None
            for window in self._account_windows(priority >= Priority.BULK):
                window.record(sent_at)
            if group_id is not None:
                self._group_window(group_id).record(sent_at)
