"""What a group hears while a vote is open. Each voter hears privately at once (consult/service.py); the
group hears at most one short count line ("已收到 5 票") per `vote_receipt_minutes`, sent by the consultation
job at the end of the stretch a vote began, so that a burst of twenty votes is one line and the last votes
before a quiet spell are counted too. None falls due at or after the deadline: the result follows then.
When the next line is due lives in a row (`CountLine`), so a restart neither repeats nor drops one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from consult import service, texts
from consult.models import Consultation, ConsultGroup, ConsultState, CountLine
from core.events import Outgoing, Priority
from core.scheduling import mark_schedule_changed
from groups.models import Membership, Person


def note_vote(
    session: Session, now: datetime, consultation: Consultation, voter: Person, group_id: str | None,
    minutes: int,
) -> None:  # fmt: skip
    """A new vote came in (said in `group_id`, or privately): its groups get a count line in a while."""
    due = now + timedelta(minutes=minutes)
    if due >= consultation.deadline:
        return
    assert consultation.id is not None
    for group in [group_id] if group_id is not None else _groups_of_voter(session, consultation, voter):
        line = session.get(CountLine, (consultation.id, group))
        if line is None:
            line = CountLine(consultation_id=consultation.id, group_id=group)
            session.add(line)
        if line.due_at is None:
            line.due_at = due
            mark_schedule_changed(session, due)


def next_due(session: Session) -> datetime | None:
    due: datetime | None = session.exec(select(func.min(CountLine.due_at))).one()
    return due


def due_lines(session: Session, at: datetime) -> list[Outgoing]:
    """The count lines due by `at`, in groups where the count grew since their last line."""
    out: list[Outgoing] = []
    counted: dict[int, service.Turnout] = {}
    due = select(CountLine).where(col(CountLine.due_at) <= at)
    for line in session.exec(due.order_by(col(CountLine.consultation_id), col(CountLine.group_id))).all():
        line.due_at = None
        consultation = session.get(Consultation, line.consultation_id)
        if (
            consultation is None
            or consultation.state is not ConsultState.VOTING
            or consultation.deadline <= at
        ):
            continue
        if line.consultation_id not in counted:
            counted[line.consultation_id] = service.turnout(session, consultation)
        seen = counted[line.consultation_id]
        if seen.voted <= line.said:
            continue
        line.said = seen.voted
        text = texts.COUNT_LINE.format(
            topic=texts.excerpt(consultation.topic, 16),
            voted=seen.voted,
            eligible=seen.eligible,
            unit="户" if consultation.per_household else "人",
            deadline=texts.when(consultation.deadline),
        )
        out.append(Outgoing(text, group_id=line.group_id, priority=Priority.BULK))
    return out


def _groups_of_voter(session: Session, consultation: Consultation, voter: Person) -> list[str]:
    return list(
        session.exec(
            select(Membership.group_id)
            .join(ConsultGroup, col(ConsultGroup.group_id) == col(Membership.group_id))
            .where(
                ConsultGroup.consultation_id == consultation.id,
                Membership.person_id == voter.id,
                col(Membership.active).is_(True),
            )
            .order_by(col(Membership.group_id))
        )
    )
