"""The ticket alerts job: escalation of unaccepted emergencies, reminders, 催办, 督办, automatic closing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.events import Outgoing
from groups.models import Person
from tickets import texts
from tickets.alerted import record_alerted
from tickets.desk import MAX_ESCALATIONS, Desk, urgent_first, where_of
from tickets.models import Ticket
from tickets.ratings import auto_close
from tickets.routing import grid_worker, leaders, social_worker


def _escalation_chain(session: Session, ticket: Ticket) -> list[Person]:
    chain: list[Person] = []
    for person in [
        grid_worker(session, ticket.community_id, ticket.group_id, None),
        social_worker(session, ticket.community_id),
        *leaders(session, ticket.community_id),
    ]:
        if person is not None and person not in chain:
            chain.append(person)
    return chain


def _escalate(desk: Desk, session: Session, ticket: Ticket, at: datetime) -> list[Outgoing]:
    chain = _escalation_chain(session, ticket)
    current = next((i for i, p in enumerate(chain) if p.id == ticket.handler_id), -1)
    if current + 1 >= len(chain):
        desk.move(
            session,
            ticket,
            now=at,
            actor_id="xiaoqi",
            action="升级",
            note="已通知到最后一位负责人",
            escalations=MAX_ESCALATIONS,
        )
        return []
    target = chain[current + 1]
    minutes = desk.policy.emergency_accept_minutes
    desk.move(
        session,
        ticket,
        now=at,
        actor_id="xiaoqi",
        action="升级",
        note=f"{minutes}分钟无人签收，转{target.name}",
        handler_id=target.id,
        assigned_at=at,
        escalations=ticket.escalations + 1,
    )
    reporter = session.get(Person, ticket.reporter_id)
    text = texts.ESCALATED.format(
        number=ticket.id,
        minutes=minutes,
        where=where_of(session, ticket),
        reporter=reporter.name if reporter else "",
        text=ticket.summary,
    )
    record_alerted(session, ticket, [target], at)
    return [Outgoing(text, to_id=target.id)]  # staff's business: the group is not paged again


def run_alerts(desk: Desk, session: Session, at: datetime) -> list[Outgoing]:
    """Everything due by `at`: escalations, reminders, 催办, 督办, automatic closing."""
    due = session.exec(
        select(Ticket)
        .where(col(Ticket.next_alert_at).is_not(None), col(Ticket.next_alert_at) <= at)
        .order_by(col(Ticket.next_alert_at), col(Ticket.id))
    ).all()
    out: list[Outgoing] = []
    for ticket in due:
        out += urgent_first(ticket, _alerts_for(desk, session, ticket, at))
    return out


def _alerts_for(desk: Desk, session: Session, ticket: Ticket, at: datetime) -> list[Outgoing]:
    summary = texts.excerpt(ticket.summary, 20)
    if (close_at := desk.auto_close_time(ticket)) is not None and close_at <= at:
        return auto_close(desk, session, ticket, at)
    if (escalate_at := desk.escalate_time(ticket)) is not None and escalate_at <= at:
        return _escalate(desk, session, ticket, at)
    out: list[Outgoing] = []
    deadline = texts.when(ticket.deadline)
    if ticket.reminded_at is None and (remind_at := desk.remind_time(ticket)) is not None and remind_at <= at:
        if ticket.handler_id:
            out.append(
                Outgoing(
                    texts.REMIND.format(number=ticket.id, summary=summary, deadline=deadline),
                    to_id=ticket.handler_id,
                )
            )
        desk.move(session, ticket, now=at, actor_id="xiaoqi", action="提醒", reminded_at=at)
    elif ticket.urged_at is None and desk.urge_time(ticket) <= at:
        if ticket.handler_id:
            out.append(
                Outgoing(
                    texts.URGE.format(number=ticket.id, summary=summary, deadline=deadline),
                    to_id=ticket.handler_id,
                )
            )
        desk.move(
            session,
            ticket,
            now=at,
            actor_id="xiaoqi",
            action="催办",
            reminded_at=ticket.reminded_at or at,
            urged_at=at,
        )
    elif (
        ticket.supervised_at is None
        and (supervise_at := desk.supervise_time(ticket)) is not None
        and supervise_at <= at
    ):
        handler = desk.handler_label(session, ticket)
        people = [  # whoever oversees the handler; never the handler herself
            p
            for p in [social_worker(session, ticket.community_id), *leaders(session, ticket.community_id)]
            if p is not None and p.id != ticket.handler_id
        ]
        out += [
            Outgoing(texts.SUPERVISE.format(number=ticket.id, summary=summary, handler=handler), to_id=p.id)
            for p in people
        ]
        desk.move(session, ticket, now=at, actor_id="xiaoqi", action="督办", supervised_at=at)
    else:  # nothing due any more (the ticket changed meanwhile): recompute its next alert quietly
        ticket.next_alert_at = desk.next_alert(ticket)
    return out


@dataclass(frozen=True)
class TicketAlertsJob:
    """The scheduler's view of ticket alerts: due whenever some ticket's next alert time has come."""

    desk: Desk
    name: str = "ticket-alerts"

    def next_due(self, session: Session, baseline: datetime) -> datetime | None:
        return session.exec(
            select(Ticket.next_alert_at)
            .where(col(Ticket.next_alert_at).is_not(None))
            .order_by(col(Ticket.next_alert_at))
            .limit(1)
        ).first()

    def run(self, session: Session, at: datetime) -> Sequence[object]:
        return run_alerts(self.desk, session, at)
