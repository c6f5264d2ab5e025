"""Notices: written once by a social worker, sent through the rate-limited queue to every group in
scope (now, later, daily or weekly), with a delivery report back to the sender."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing, Priority
from core.numbers import record_id
from core.outbox import OutboxMessage, OutboxState
from core.privacy import mask_private_numbers
from core.scheduling import mark_schedule_changed
from groups.models import ChatGroup, Person
from groups.scope import resolve_scope, scope_groups
from notices.models import Notice, NoticeRun, Repeat
from notices.schedule import When, parse_schedule

HEADER = "【社区通知】"
MAX_CHARS = 1000
CHECK_MIN = timedelta(minutes=1)
CHECK_MAX = timedelta(minutes=10)
BULK_PER_MINUTE = 15  # what a broadcast gets of an account's budget (see SendLimits.bulk_share)
USAGE = "#通知 范围 [时间]\n通知内容（另起一行）\n范围：本群、本社区、本街道、全区或社区、街道名称；时间：不写就是现在，也可以写 明天9:00、11月30日 8:00、每天8:00、每周一9:00"


class NoticeError(XiaoqiError):
    """A notice that cannot be sent as written."""


@dataclass(frozen=True)
class NoticeSpec:
    scope: str
    when: str
    text: str


def parse_notice(args: str) -> NoticeSpec:
    """'范围 [时间]' on the first line and the text below; or '范围 内容' on one line (sent now)."""
    lines = args.strip().splitlines()
    if not lines or not lines[0].strip():
        raise NoticeError("")
    head = lines[0].split(None, 1)
    body = "\n".join(lines[1:]).strip()
    if body:
        return NoticeSpec(head[0], head[1] if len(head) > 1 else "", body)
    if len(head) < 2:
        raise NoticeError("请写上通知内容。")
    return NoticeSpec(head[0], "", head[1].strip())


def create_notice(
    session: Session, now: datetime, author: Person, group: ChatGroup | None, args: str
) -> tuple[Notice, int]:
    """Store a notice; the scheduler job sends it when due. Returns it and how many groups it reaches."""
    spec = parse_notice(args)
    if len(spec.text) > MAX_CHARS:
        raise NoticeError(f"通知太长了（{len(spec.text)} 字），请控制在 {MAX_CHARS} 字以内。")
    kind, scope_id, scope_name = resolve_scope(session, spec.scope, author, group, district=True)
    groups = scope_groups(session, kind, scope_id)
    if not groups:
        raise NoticeError(f"{scope_name}还没有登记的群。")
    when = parse_schedule(spec.when, now)
    notice = Notice(
        author_id=author.id,
        text=mask_private_numbers(spec.text),
        scope_kind=kind,
        scope_id=scope_id,
        scope_name=scope_name,
        repeat=when.repeat,
        created_at=now,
        next_at=when.first,
    )
    session.add(notice)
    session.flush()
    mark_schedule_changed(session)
    return notice, len(groups)


def describe(notice: Notice) -> str:
    if notice.next_at is None:
        return "不再发送"
    return When(notice.next_at, notice.repeat).describe()


def cancel(session: Session, now: datetime, staff: Person, number: str) -> str:
    notice = get_notice(session, number)
    if notice.cancelled_at is not None:
        return f"{notice.id}号通知已经取消过了。"
    notice.cancelled_at, notice.next_at = now, None
    runs = select(NoticeRun.id).where(NoticeRun.notice_id == notice.id)
    tags = [f"notice:{run_id}" for run_id in session.exec(runs).all()]
    unsent = 0
    if tags:
        unsent = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.tag).in_(tags), OutboxMessage.state == OutboxState.QUEUED)
        ).one()
        session.exec(  # type: ignore[call-overload]
            delete(OutboxMessage).where(
                col(OutboxMessage.tag).in_(tags), col(OutboxMessage.state) == OutboxState.QUEUED
            )
        )
    mark_schedule_changed(session)
    tail = f"，还没发出的 {unsent} 个群不再发送" if unsent else ""
    return f"已取消{notice.id}号通知{tail}。"


def active_notices(session: Session, author: Person | None) -> list[Notice]:
    query = select(Notice).where(col(Notice.next_at).is_not(None), col(Notice.cancelled_at).is_(None))
    if author is not None:
        query = query.where(Notice.author_id == author.id)
    return list(session.exec(query.order_by(col(Notice.next_at))))


def get_notice(session: Session, number: str) -> Notice:
    notice_id = record_id(number)
    notice = session.get(Notice, notice_id) if notice_id is not None else None
    if notice is None:
        raise NoticeError(f"没有找到{number.strip()}号通知。")
    return notice


# --- the scheduler's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeJob:
    """Sends notices when due and reports to their senders once every group's message is settled."""

    name: str = "notices"

    def next_due(self, session: Session, baseline: datetime) -> datetime | None:
        times = [
            session.exec(select(func.min(Notice.next_at)).where(col(Notice.cancelled_at).is_(None))).one(),
            session.exec(select(func.min(NoticeRun.check_at))).one(),
        ]
        due = [_aware(t) for t in times if t is not None]
        return min(due) if due else None

    def run(self, session: Session, at: datetime) -> Sequence[object]:
        out: list[Outgoing] = []
        due = session.exec(
            select(Notice)
            .where(col(Notice.next_at) <= at, col(Notice.cancelled_at).is_(None))
            .order_by(col(Notice.next_at), col(Notice.id))
        ).all()
        for notice in due:
            out += self._send(session, notice, at)
        checks = session.exec(
            select(NoticeRun).where(col(NoticeRun.check_at) <= at).order_by(col(NoticeRun.id))
        ).all()
        for run in checks:
            out += self._check(session, run, at)
        return out

    def _send(self, session: Session, notice: Notice, at: datetime) -> list[Outgoing]:
        assert notice.next_at is not None
        groups = scope_groups(session, notice.scope_kind, notice.scope_id)
        run = NoticeRun(notice_id=notice.id or 0, at=at, groups=len(groups), check_at=at + CHECK_MIN)
        session.add(run)
        session.flush()
        notice.runs += 1
        notice.next_at = When(notice.next_at, notice.repeat).following(at)
        text = HEADER + notice.text
        return [Outgoing(text, group_id=g.id, priority=Priority.BULK, tag=f"notice:{run.id}") for g in groups]

    def _check(self, session: Session, run: NoticeRun, at: datetime) -> list[Outgoing]:
        states = dict(
            session.exec(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.tag == f"notice:{run.id}")
                .group_by(OutboxMessage.state)
            ).all()
        )
        waiting = states.get(OutboxState.QUEUED, 0) + states.get(OutboxState.SENDING, 0)
        if waiting:
            # look again when the rest should have left: after quiet hours, at the bulk pace
            first = session.exec(
                select(func.min(OutboxMessage.not_before)).where(
                    OutboxMessage.tag == f"notice:{run.id}", OutboxMessage.state == OutboxState.QUEUED
                )
            ).one()
            start = max(at, _aware(first)) if first is not None else at
            wait = timedelta(seconds=math.ceil(waiting * 60 / BULK_PER_MINUTE))
            run.check_at = start + min(CHECK_MAX, max(CHECK_MIN, wait))
            return []
        run.check_at = None
        run.sent, run.failed = states.get(OutboxState.SENT, 0), states.get(OutboxState.FAILED, 0)
        notice = session.get(Notice, run.notice_id)
        if notice is None:
            return []
        return [Outgoing(self._report(session, notice, run), to_id=notice.author_id, priority=Priority.ALERT)]

    @staticmethod
    def _report(session: Session, notice: Notice, run: NoticeRun) -> str:
        text = f"{notice.id}号通知已发到{notice.scope_name} {run.sent}/{run.groups} 个群。"
        if run.failed:
            failed_groups = session.exec(
                select(ChatGroup.name)
                .join(OutboxMessage, col(OutboxMessage.group_id) == ChatGroup.id)
                .where(OutboxMessage.tag == f"notice:{run.id}", OutboxMessage.state == OutboxState.FAILED)
                .order_by(col(ChatGroup.name))
            ).all()
            names = "、".join(name or "未命名群" for name in failed_groups[:5])
            text += f"有 {run.failed} 个群没发出去：{names}{'等' if run.failed > 5 else ''}，请检查小棲账号是否还在群里。"
        cancelled = run.groups - run.sent - run.failed
        if cancelled > 0:
            text += f"{cancelled} 个群因取消没有发送。"
        if notice.next_at is not None and notice.repeat is not Repeat.ONCE:
            text += f"下次发送：{describe(notice)}。"
        return text


def _aware(value: datetime) -> datetime:
    """func.min() bypasses the column type on SQLite: naive there, aware on PostgreSQL."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
