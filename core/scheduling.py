"""Periodic work as plain functions of `now`, run in time order by whoever advances the clock."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from apscheduler.triggers.base import BaseTrigger
from sqlmodel import Field, Session, SQLModel

from core.db import UTCDateTime

log = logging.getLogger(__name__)


class JobRun(SQLModel, table=True):
    """When a periodic job last ran, so that a restart neither repeats nor forgets a run."""

    __tablename__ = "job_run"
    name: str = Field(primary_key=True)
    last_run_at: datetime = Field(sa_type=UTCDateTime)


class Job(Protocol):
    @property
    def name(self) -> str: ...

    def next_due(self, session: Session, baseline: datetime) -> datetime | None:
        """When this job next has work (possibly already past); `baseline` is when the clock started.

        Code that moves this time while handling a message calls `mark_schedule_changed`.
        """

    def run(self, session: Session, at: datetime) -> Sequence[object]:
        """Do the work due at `at` and record that it is done; returns what the bot should send."""


@dataclass(frozen=True)
class CronJob:
    """A job on an APScheduler trigger (cron, interval); missed runs are caught up or coalesced."""

    name: str
    trigger: BaseTrigger
    action: Callable[[Session, datetime], Sequence[object]]
    coalesce: bool = True

    def next_due(self, session: Session, baseline: datetime) -> datetime | None:
        row = session.get(JobRun, self.name)
        return _fire_after(self.trigger, row.last_run_at if row else baseline)

    def latest_due(self, session: Session, baseline: datetime, until: datetime) -> datetime | None:
        """The last fire time not after `until`, for coalescing a backlog into one run."""
        due = self.next_due(session, baseline)
        if due is None or due > until:
            return None
        while (following := _fire_after(self.trigger, due)) and following <= until:
            due = following
        return due

    def run(self, session: Session, at: datetime) -> Sequence[object]:
        row = session.get(JobRun, self.name)
        if row is None:
            session.add(JobRun(name=self.name, last_run_at=at))
        else:
            row.last_run_at = at
        return self.action(session, at)


@functools.lru_cache(maxsize=4096)
def _fire_after(trigger: BaseTrigger, start: datetime) -> datetime | None:
    """The trigger's first fire time after `start` (the clock asks often, and the answer never changes)."""
    fire: datetime | None = trigger.get_next_fire_time(start, start + timedelta(microseconds=1))
    return fire


SCHEDULE_CHANGED = "xiaoqi.schedule_changed"


_UNKNOWN: Any = object()


def mark_schedule_changed(session: Session, earliest: datetime | None = _UNKNOWN) -> None:
    """Tell the clock that some job's next due time may have moved (a new deadline, say).

    With `earliest` the change says how soon: work may now be due at that time (None: nothing became
    due sooner, a change only delays or removes work, which the clock finds out when it looks). Without
    it the clock looks at every job again."""
    if earliest is _UNKNOWN:
        session.info[SCHEDULE_CHANGED] = True
        return
    current = session.info.get(SCHEDULE_CHANGED)
    if earliest is None or current is True:
        return
    session.info[SCHEDULE_CHANGED] = earliest if current is None else min(current, earliest)


def schedule_changes(session: Session) -> datetime | bool | None:
    """Take what `mark_schedule_changed` said in this session since last asked: True (look at every
    job again), the earliest time some work may now be due, or None (nothing sooner)."""
    changed: datetime | bool | None = session.info.pop(SCHEDULE_CHANGED, None)
    return changed


def next_run(
    session: Session, jobs: Sequence[Job], baseline: datetime, until: datetime
) -> tuple[tuple[datetime, Job] | None, datetime | None]:
    """The earliest job run due by `until` (a coalescing cron job jumps to its last due time),
    and the earliest due time of any job, for knowing how long the clock may run without looking."""
    best: tuple[datetime, Job] | None = None
    earliest: datetime | None = None
    for job in jobs:
        due = job.next_due(session, baseline)
        if due is None:
            continue
        earliest = due if earliest is None else min(earliest, due)
        if due > until:
            continue
        if isinstance(job, CronJob) and job.coalesce:
            due = job.latest_due(session, baseline, until) or due
        if best is None or due < best[0]:
            best = (due, job)
    return best, earliest
