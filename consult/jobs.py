"""The scheduler's side of consultations: end discussions with a summary, tell groups how many have voted
(at most now and then), remind low-turnout groups, close votes exactly at their deadline, and post the
progress of follow-up tickets to the groups."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event as orm_event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, object_session
from sqlmodel import Session, col, func, select

from consult import receipts, service, texts
from consult.models import Consultation, ConsultState, FollowUp
from core.events import Outgoing, Priority
from core.scheduling import mark_schedule_changed
from nlp.segment import Segmenter
from tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)
OPEN_STATES = (ConsultState.DISCUSSING, ConsultState.VOTING)


@dataclass
class Summariser:
    """Groups the opinions of a discussion (jieba + TF-IDF clustering); jieba loads on first use."""

    segmenter: Segmenter

    def summary(self, session: Session, consultation: Consultation) -> str:
        from consult.cluster import group_opinions, summary_text

        said = service.opinions(session, consultation)
        viewpoints = group_opinions(said, self.segmenter) if said else []
        return summary_text(consultation.topic, viewpoints, len(said), people=len({a for a, _ in said}))


@dataclass
class ConsultationJob:
    summariser: Summariser
    files_dir: Path
    name: str = "consultations"

    def next_due(self, session: Session, baseline: datetime) -> datetime | None:
        times = [t for c in _open(session) for t in _due_times(c)]
        # the first unannounced step of each followed ticket, looked up from the (few) follow-ups:
        # joined the other way round, the database walks every ticket event there is
        first_new = (
            select(func.min(TicketEvent.at))
            .where(
                col(TicketEvent.ticket_id) == col(FollowUp.ticket_id),
                col(TicketEvent.id) > col(FollowUp.announced_event_id),
            )
            .correlate(FollowUp)
            .scalar_subquery()
        )
        pending = session.exec(select(func.min(first_new)).select_from(FollowUp)).one()
        if pending is not None:
            times.append(pending)
        if (count_line := receipts.next_due(session)) is not None:
            times.append(count_line)
        return min(times) if times else None

    def run(self, session: Session, at: datetime) -> Sequence[object]:
        out: list[Outgoing] = receipts.due_lines(session, at)
        for consultation in _open(session):
            out += self._consultation(session, consultation, at)
        out += _follow_up_news(session)
        return out

    def _consultation(self, session: Session, c: Consultation, at: datetime) -> list[Outgoing]:
        if c.deadline <= at:
            if c.state is ConsultState.VOTING:
                return service.close(session, at, c, self.files_dir)
            c.state, c.closed_at = ConsultState.CANCELLED, at  # discussed, but voting never started
            return [Outgoing(texts.NEVER_VOTED.format(number=c.number, topic=c.topic), to_id=c.opened_by)]
        out: list[Outgoing] = []
        discussing = c.state is ConsultState.DISCUSSING and c.summarised_at is None
        if discussing and c.discussion_until is not None and c.discussion_until <= at:
            out += self.post_summary(session, c, at)
        if c.state is ConsultState.VOTING and (reminder := service.next_reminder(c)) and reminder[1] <= at:
            out += service.reminders(session, c, reminder[0])
        return out

    def post_summary(self, session: Session, c: Consultation, at: datetime) -> list[Outgoing]:
        c.summarised_at = at
        text = self.summariser.summary(session, c)
        posts = [Outgoing(text, group_id=g, priority=Priority.BULK) for g in service.groups_of(session, c)]
        note = texts.SUMMARY_TO_ORGANISER.format(number=c.number, deadline=texts.when(c.deadline))
        return [*posts, Outgoing(note, to_id=c.opened_by)]


def _open(session: Session) -> list[Consultation]:
    return list(
        session.exec(
            select(Consultation)
            .where(col(Consultation.state).in_(OPEN_STATES))
            .order_by(col(Consultation.id))
        )
    )


def _due_times(c: Consultation) -> list[datetime]:
    times = [c.deadline]
    if c.state is ConsultState.DISCUSSING and c.summarised_at is None and c.discussion_until is not None:
        times.append(c.discussion_until)
    if c.state is ConsultState.VOTING and (reminder := service.next_reminder(c)) is not None:
        times.append(reminder[1])
    return times


_NEWS = {
    "签收": "已签收，开始办理",
    "进展": "最新进展",
    "办结": "已办结",
    "退回": "重新分派中",
    "转派": "已转给新的负责人",
    "延期": "办理时间延长了",
}


def _follow_up_news(session: Session) -> list[Outgoing]:
    out: list[Outgoing] = []
    for follow_up in session.exec(select(FollowUp).order_by(col(FollowUp.ticket_id))):
        events = session.exec(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == follow_up.ticket_id,
                col(TicketEvent.id) > follow_up.announced_event_id,
            )
            .order_by(col(TicketEvent.id))
        ).all()
        if not events:
            continue
        follow_up.announced_event_id = events[-1].id or follow_up.announced_event_id
        consultation = session.get(Consultation, follow_up.consultation_id)
        ticket = session.get(Ticket, follow_up.ticket_id)
        if consultation is None or ticket is None:
            continue
        for event in events:
            news = _NEWS.get(event.action)
            if news is None:
                continue  # 登记 (announced when opened), reminders and other internal steps
            if event.note and event.action in ("进展", "办结"):
                news = f"{news}：{texts.excerpt(event.note, 40)}"
            if event.action == "办结":
                news += "。感谢大家参与议事！"
            text = texts.FOLLOW_UP_NEWS.format(
                topic=consultation.topic, task=texts.excerpt(ticket.summary, 30), news=news
            )
            out += [
                Outgoing(text, group_id=g, priority=Priority.BULK)
                for g in service.groups_of(session, consultation)
            ]
    return out


@orm_event.listens_for(TicketEvent, "after_insert")
def _followed_ticket_moved(
    _mapper: Mapper[TicketEvent], connection: Connection, event_row: TicketEvent
) -> None:
    """A step on a ticket that carries out a consultation's decision is news for its groups at once:
    tell the clock (ticket changes otherwise only say when the ticket's own alerts fall due)."""
    followed = connection.execute(
        select(FollowUp.ticket_id).where(FollowUp.ticket_id == event_row.ticket_id)
    ).first()
    session = object_session(event_row)
    if followed is not None and session is not None:
        mark_schedule_changed(session, event_row.at)  # type: ignore[arg-type]
