"""Time and jobs: the clock moves, and due jobs run in time order under the scheduler lease."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.batch import ReplayBatch
from core.events import Outgoing, Priority
from core.leases import hold
from core.outbox import Outbox
from core.scheduling import Job, next_run, schedule_changes

log = logging.getLogger(__name__)
# how long the clock runs without looking at the jobs when nothing is due: changes made by this process
# reset it at once; another process's (a new deadline it set) are seen within this much clock time
RECHECK = timedelta(seconds=60)
ALONE = timedelta(days=3650)  # a process alone with its database: only its own changes move the schedule
SCHEDULER_LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=90)  # `xiaoqi run` renews it every tick (30 s)


class Timekeeper:
    """The app's clock and its scheduled jobs (overdue tickets, votes, notices, the monthly report)."""

    def __init__(self, jobs: Sequence[Job], outbox: Outbox, batch: ReplayBatch, *, live: bool) -> None:
        self.jobs, self.outbox, self.batch, self.live = jobs, outbox, batch, live
        self.clock: datetime | None = None
        self._baseline: datetime | None = None
        self._quiet_until: datetime | None = None

    def tick(self, now: datetime) -> bool:
        """Move the clock to `now`; False if it is already there or later (then nothing more to do)."""
        if self._baseline is None:
            self._baseline = now
        if self.clock is not None and now <= self.clock:
            return False
        self.clock = now
        return True

    def run_due(self, now: datetime) -> list[Outgoing]:
        """Run what fell due by `now` (unless nothing can be); what the jobs released inline (not live)."""
        if self._quiet_until is not None and now < self._quiet_until:
            return []
        return self._run_jobs(now)

    def noticed(self, session: Session) -> None:
        """After an event's work: what it changed in the schedule wakes the jobs sooner."""
        changed = schedule_changes(session)
        if changed is True:
            self._quiet_until = None  # look at every job again
        elif changed and self._quiet_until is not None:
            self._quiet_until = min(self._quiet_until, changed)  # some work became due sooner

    def _run_jobs(self, now: datetime) -> list[Outgoing]:
        """Run due jobs in time order. Inline, what each produces is sent at its own time before the
        next job runs (a job may look at what an earlier run sent); live, the transport sends it now."""
        assert self._baseline is not None
        failed: set[str] = set()
        released: list[Outgoing] = []
        alone = not self.outbox.shared
        while True:
            with self.batch.unit() as session:
                self.batch.write_rows()  # before any savepoint, so that a failing job cannot undo them
                jobs = [job for job in self.jobs if job.name not in failed]
                due, earliest = next_run(session, jobs, self._baseline, now)
                if due is not None:
                    # something is due: take the scheduler lease (first in this transaction, so the
                    # work commits with it), then look again, as another process may have just run it
                    if not hold(session, SCHEDULER_LEASE, self.outbox.holder, now, LEASE_TTL):
                        self._quiet_until = now + RECHECK  # another process runs the jobs
                        return released
                    if not alone:
                        due, earliest = next_run(session, jobs, self._baseline, now)
                if due is None:
                    # nothing is due before `earliest` unless this process changes it (`noticed`);
                    # other processes' changes are seen within RECHECK of clock time
                    horizon = now + (ALONE if alone else RECHECK)
                    self._quiet_until = min(earliest, horizon) if earliest is not None else horizon
                    return released
                at, job = due
                if self.batch.active:
                    session.commit()  # a job (the report, say) may read through other connections
                try:
                    with session.begin_nested():
                        produced = job.run(session, at)
                        outgoing = [out for out in produced if isinstance(out, Outgoing)]
                        self.outbox.enqueue(session, outgoing, at=at, priority=Priority.ALERT)
                except Exception:
                    log.exception("scheduled job %s failed at %s", job.name, at.isoformat())
                    failed.add(job.name)
                    continue
                if not self.live and at < now:
                    released += self.outbox.release(session, at)
