"""The scheduler's monthly report: at 08:00 Asia/Shanghai on the 1st, build the previous month into the
archive and send it to every registered leader.

A missed run (the bot was down on the 1st) is caught up when the clock next advances: CronJob keeps the
last run in `job_run`, and with coalescing a backlog of several 1sts is one run, which builds the month
before that run (the latest missed month). Older months can be built by `xiaoqi report build`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from core.clock import SHANGHAI
from core.events import Outgoing, Priority
from core.scheduling import CronJob
from groups.models import Person, Role
from nlp.segment import Segmenter
from reports.build import archive_dir, write_report
from reports.period import Month, resolve_scope

log = logging.getLogger(__name__)
JOB_NAME = "monthly_report"
FAILED = "{month}民情月报生成失败，详情见日志。请用 xiaoqi report build --month {key} 重新生成。"


def monthly_trigger() -> CronTrigger:
    """08:00 Shanghai time on the 1st: never on days 29-31, and early enough for the working day."""
    return CronTrigger(day=1, hour=8, minute=0, timezone=SHANGHAI)


@dataclass
class MonthlyReportAction:
    """Builds last month's report into `files_path`/reports and addresses it to the leaders."""

    files_path: Path
    segmenter: Segmenter
    scope: str | None = None
    built: list[Path] = field(default_factory=list, init=False, repr=False)

    def __call__(self, session: Session, at: datetime) -> Sequence[Outgoing]:
        month = Month.before(at)

        out_dir = archive_dir(self.files_path, month, resolve_scope(session, self.scope))
        files = write_report(session, month, out_dir, scope=self.scope, now=at, segmenter=self.segmenter)
        self.built.append(files.pdf)
        leaders = session.exec(
            select(Person.id).where(Person.role == Role.LEADER).order_by(col(Person.id))
        ).all()
        log.info("monthly report %s built at %s for %d leaders", month.key, out_dir, len(leaders))
        return [
            Outgoing(files.summary_text, to_id=leader, file_path=str(files.pdf), priority=Priority.ALERT)
            for leader in leaders
        ]


def _people(session: Session, role: Role) -> list[str]:
    return list(session.exec(select(Person.id).where(Person.role == role).order_by(col(Person.id))))


def monthly_report_job(files_path: Path, segmenter: Segmenter, scope: str | None = None) -> CronJob:
    """The job for `create_app`'s list: a coalescing CronJob, so a long outage builds one report, not many."""
    return CronJob(
        JOB_NAME, monthly_trigger(), MonthlyReportAction(files_path, segmenter, scope), coalesce=True
    )
