"""The send queue: everything the bot says is written to the database first, in the same transaction
as the work that produced it, and leaves at the pace a WeChat account can safely keep.

Limits are per bot account (at most N a minute and a small burst) and per group (at most M a minute);
a broadcast to a thousand groups therefore drains over the better part of an hour instead of bursting,
and answers to residents overtake it (lower `Priority` first). Within one conversation (a group or a
person) messages keep their order. Nothing queued is lost on restart: rows stay until sent.

Two ways of sending share one code path:
- inline (simulator, `xiaoqi chat`, tests): `release` marks messages sent at the exact time the limits
  allowed and returns them stamped with it;
- live (`xiaoqi run`): `release` claims messages for a while; the transport sends them and calls
  `settle` with what went out and what failed (failed ones are retried with backoff, then given up).
  A claim that is never settled (the process died mid-send) expires and is sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, inspect, update
from sqlmodel import Session, col, select

from core.events import Outgoing, Priority
from core.leases import hold
from core.outbox_backlog import Backlog, backlog
from core.outbox_rows import OutboxMessage, OutboxState, aware
from core.quiet import QuietHours
from core.send_pacing import MINUTE, Pacing, RateWindow
from core.settings import SendLimits

__all__ = [
    "MINUTE",
    "Accounts",
    "Backlog",
    "Outbox",
    "OutboxMessage",
    "OutboxState",
    "RateWindow",
    "backlog",
]

log = logging.getLogger(__name__)
RECHECK = timedelta(seconds=60)  # how often to look for messages other processes queued for us
BATCH = 500


class Accounts(Protocol):
    """Which bot account serves a group, or one of a person's groups (None: not known)."""

    def of_group(self, session: Session, group_id: str) -> str | None: ...

    def of_person(self, session: Session, person_id: str) -> str | None: ...


@dataclass
class Outbox(Pacing):
    """One bot account's view of the send queue (other accounts' rows are theirs to send)."""

    account: str
    limits: SendLimits
    quiet: QuietHours | None = None  # alerts and bulk wait out these hours; emergencies and answers don't
    holder: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    accounts: Accounts | None = None  # which account serves a group or a person (None: this one)
    _account_window: RateWindow | None = None
    _burst_window: RateWindow | None = None
    _bulk_window: RateWindow | None = None  # notices and broadcasts leave room for answers
    _bulk_burst: RateWindow | None = None
    _group_windows: dict[str, RateWindow] = field(default_factory=dict)
    _wake_at: datetime | None = None  # nothing can leave before this unless something new is queued
    _later: datetime | None = None  # the earliest not_before in the future among rows this process wrote
    _checked_at: datetime | None = None
    _dirty: bool = True
    shared: bool = True  # other processes may queue messages for this account (then look every RECHECK)
    _fresh: list[OutboxMessage] = field(default_factory=list)  # queued by this process since the last release
    _clear: bool = False  # the last release left nothing behind: the queue is just `_fresh`
    sends: bool = True  # False: this process only queues (the web console); the bot process sends

    # --- writing ------------------------------------------------------------------------------

    def enqueue(
        self,
        session: Session,
        messages: Sequence[Outgoing],
        *,
        at: datetime,
        priority: Priority,
        replying_to: str | None = None,
    ) -> list[OutboxMessage]:
        """Queue messages produced at `at`; `replying_to` is a person who just wrote to this account."""
        rows = []
        for out in messages:
            level = out.priority if out.priority is not None else priority
            not_before = max(at, out.at) if out.at is not None else at
            row = OutboxMessage(
                account=self._account_for(session, out, replying_to),
                group_id=out.group_id,
                to_id=out.to_id,
                text=out.text,
                mentions=list(out.mentions),
                file_path=out.file_path,
                tag=out.tag,
                priority=int(level),
                created_at=at,
                not_before=self._after_quiet(not_before, level),
            )
            session.add(row)
            rows.append(row)
            if row.not_before > at:
                self._note_later(row.not_before)
        if rows:
            session.flush()
            self._dirty = True
            if self.sends:
                self._fresh.extend(rows)
        return rows

    def _after_quiet(self, at: datetime, priority: int) -> datetime:
        """When a message of this priority may leave, at or after `at`, given the quiet hours."""
        if self.quiet is None or priority < Priority.ALERT:
            return at
        return self.quiet.defer(at)

    def _account_for(self, session: Session, out: Outgoing, replying_to: str | None) -> str:
        if self.accounts is None:
            return self.account
        if out.group_id is not None:
            return self.accounts.of_group(session, out.group_id) or self.account
        if out.to_id is None or out.to_id == replying_to:
            return self.account
        # someone we write to first: the account that serves one of their groups (read once per
        # person and unit of work: a replay's batch, or one message)
        known: dict[str, str] = session.info.setdefault("outbox.private_accounts", {})
        if out.to_id not in known:
            known[out.to_id] = self.accounts.of_person(session, out.to_id) or self.account
        return known[out.to_id]

    # --- sending ------------------------------------------------------------------------------

    def may_release(self, until: datetime) -> bool:
        """Cheap check (no database) whether `release` could find anything to send by `until`."""
        if self._dirty or self._checked_at is None or (self.shared and until - self._checked_at >= RECHECK):
            return True
        wake = self.next_send_at()
        return wake is not None and until >= wake

    def _note_later(self, at: datetime) -> None:
        self._later = at if self._later is None else min(self._later, at)

    def release(self, session: Session, until: datetime, *, live: bool = False) -> list[Outgoing]:
        """The queued messages the limits allow by `until`, in the order they may be sent."""
        if not self.may_release(until):
            return []
        if live and not hold(session, f"send:{self.account}", self.holder, until, self._claim):
            log.warning("another process is sending for account %s: not sending", self.account)
            self._checked_at, self._dirty, self._wake_at = until, False, until + RECHECK
            return []
        self._load_windows(session)
        fresh, self._fresh = self._fresh, []
        recent = self._checked_at is not None and (not self.shared or until - self._checked_at < RECHECK)
        if self._clear and recent:
            # nothing was left behind last time and no other process had anything for us within
            # RECHECK: what is queued is what this process just wrote (no query needed)
            mine = [r for r in fresh if r.account == self.account and inspect(r).key is not None]
            for row in mine:  # written in another (committed) session: attach it to this one
                if row not in session:
                    session.add(row)
            rows = sorted((r for r in mine if r.not_before <= until), key=lambda r: (r.priority, r.id or 0))
            return self._walk(
                session, rows, until, live=live, leftover=any(r.not_before > until for r in mine)
            )
        # queued rows, and rows whose claim expired (a crash), each read along the index (account,
        # state, priority, id): one query with OR on the state walks all the account's sent rows
        waiting = (
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.account == self.account, col(OutboxMessage.state) == state, *also)
                .where(col(OutboxMessage.not_before) <= until)
                .order_by(OutboxMessage.priority, OutboxMessage.id)  # type: ignore[arg-type]
                .limit(BATCH)
            ).all()
            for state, also in (
                (OutboxState.QUEUED, ()),
                (OutboxState.SENDING, (col(OutboxMessage.claimed_until) < until,)),
            )
        )
        found = sorted((row for rows in waiting for row in rows), key=lambda r: (r.priority, r.id or 0))[
            :BATCH
        ]
        later = session.exec(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.account == self.account,
                OutboxMessage.state == OutboxState.QUEUED,
                OutboxMessage.not_before > until,  # type: ignore[operator]
            )
        ).one()
        if later is not None:  # held back (quiet hours, retries, or queued before a restart)
            self._note_later(aware(later))  # type: ignore[arg-type]
        return self._walk(
            session, list(found), until, live=live, leftover=len(found) == BATCH or later is not None
        )

    def _walk(
        self, session: Session, rows: list[OutboxMessage], until: datetime, *, live: bool, leftover: bool
    ) -> list[Outgoing]:
        """Release what the limits allow among `rows` (in send order); remember when the rest may go."""
        released: list[Outgoing] = []
        held: set[str] = set()  # conversations with an earlier message still waiting: keep their order
        wake: datetime | None = None
        for row in rows:
            conversation = row.group_id or f"person:{row.to_id}"
            if conversation in held:
                continue
            start = self._after_quiet(row.not_before, row.priority)
            blocked = self._after_quiet(
                self._account_earliest(start, row.priority >= Priority.BULK), row.priority
            )
            if blocked > until:
                wake = blocked if wake is None else min(wake, blocked)
                break  # the account's budget is spent: nothing after this row (same or lower priority) can go
            allowed = self._earliest(row, start)
            if (morning := self._after_quiet(allowed, row.priority)) != allowed:
                allowed = self._earliest(row, morning)  # the limits pushed it into the night
            if allowed > until:
                held.add(conversation)
                wake = allowed if wake is None else min(wake, allowed)
                continue
            stamp = until if live else allowed
            self._record(row, stamp)
            if live:
                row.state, row.claimed_by = OutboxState.SENDING, self.holder
                row.claimed_until, row.sent_at = stamp + self._claim, stamp
            else:
                row.state, row.sent_at = OutboxState.SENT, stamp
            released.append(row.outgoing(stamp))
        if len(rows) == BATCH:
            wake = until  # more may be waiting behind this batch
        session.flush()
        self._dirty, self._checked_at, self._wake_at = False, until, wake
        self._clear = wake is None and not leftover
        if self._later is not None and self._later <= until:
            self._later = None  # due now: it was in this release or is held (then `wake` covers it)
        return sorted(released, key=lambda out: (out.at, out.priority))  # type: ignore[arg-type,return-value]

    def settle(
        self, session: Session, sent: Sequence[int], failed: Sequence[tuple[int, str]], at: datetime
    ) -> None:
        """After a live send: mark what went out; retry what failed with backoff, then give it up."""
        if sent:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(sent))  # type: ignore[union-attr]
                .values(state=OutboxState.SENT, claimed_until=None)
            )
        for outbox_id, error in failed:
            row = session.get(OutboxMessage, outbox_id)
            if row is None:
                continue
            row.attempts += 1
            row.error = error[:500]
            row.claimed_by = row.claimed_until = row.sent_at = None
            if row.attempts >= self.limits.max_attempts:
                row.state = OutboxState.FAILED
                log.error("giving up sending outbox message %s: %s", outbox_id, error)
            else:
                row.state = OutboxState.QUEUED
                row.not_before = at + timedelta(seconds=5 * 2**row.attempts)
                self._note_later(row.not_before)
                self._clear = False  # the queue now holds a row this process did not just write
        session.flush()

    def next_send_at(self) -> datetime | None:
        """When the next held-back message may leave (as far as this process knows), or None."""
        times = [t for t in (self._wake_at, self._later) if t is not None]
        return min(times) if times else None

    @property
    def _claim(self) -> timedelta:
        return timedelta(seconds=self.limits.claim_seconds)
