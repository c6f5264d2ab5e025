"""Joining an open ticket: the reporter's own follow-up, or a neighbour reporting the same problem."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.events import Outgoing
from core.privacy import mask_private_numbers
from groups.models import ChatGroup, Person
from nlp.labels import EMERGENCY as URGENT
from tickets import texts
from tickets.desk import Desk, urgent_first
from tickets.matching import Report, same_problem
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter
from tickets.similarity import similarity


@dataclass(frozen=True)
class Filed:
    """What filing did: opened a ticket, merged into one, or attached to the reporter's own."""

    ticket: Ticket
    outcome: str  # new | merged | follow_up
    notices: list[Outgoing]


def _open_tickets(session: Session, community_id: str | None, since: datetime) -> Iterable[Ticket]:
    query = select(Ticket).where(col(Ticket.state).in_(list(OPEN_STATES)), Ticket.created_at >= since)
    query = query.where(Ticket.community_id == community_id)
    return session.exec(query.order_by(col(Ticket.id)))


def _last_joined(session: Session, tickets: Sequence[Ticket]) -> dict[int, datetime]:
    """When each ticket was opened or last joined by a reporter."""
    last = {t.number: t.created_at for t in tickets}
    if tickets:
        rows = session.exec(
            select(TicketReporter.ticket_id, func.max(TicketReporter.at))
            .where(col(TicketReporter.ticket_id).in_(list(last)))
            .group_by(col(TicketReporter.ticket_id))
        ).all()
        last.update({ticket_id: at for ticket_id, at in rows if at is not None})
    return last


def _reported_by(session: Session, ticket: Ticket, person_id: str) -> bool:
    return (
        session.exec(
            select(TicketReporter.id).where(
                TicketReporter.ticket_id == ticket.id, TicketReporter.person_id == person_id
            )
        ).first()
        is not None
    )


def join_open_ticket(
    desk: Desk,
    session: Session,
    *,
    now: datetime,
    reporter: Person,
    group: ChatGroup | None,
    message_id: str,
    text: str,
    intent: str,
    category: str,
) -> Filed | None:
    """Attach a petition to the reporter's own open ticket or to the same problem reported by others."""
    summary = mask_private_numbers(text.strip())
    community_id = community_of(reporter, group)
    group_id = group.id if group is not None else None
    since = now - max(
        timedelta(hours=desk.policy.duplicate_window_hours), timedelta(days=desk.policy.same_place_days)
    )
    candidates = list(_open_tickets(session, community_id, since))
    last = _last_joined(session, candidates)
    report = Report(summary, category, intent == URGENT, group_id)

    def matches(ticket: Ticket, own: bool) -> bool:
        return same_problem(desk.policy, ticket, last[ticket.number], report, now, own=own)

    own = [t for t in candidates if _reported_by(session, t, reporter.id)]
    best_own = next(
        (t for t in sorted(own, key=lambda t: -similarity(t.summary, summary)) if matches(t, True)), None
    )
    if best_own is not None:
        return _follow_up(
            desk, session, best_own, now=now, reporter=reporter, group_id=group_id, text=summary
        )
    others = sorted((t for t in candidates if t not in own), key=lambda t: -similarity(t.summary, summary))
    best = next((t for t in others if matches(t, False)), None)
    if best is None:
        return None
    return _merge(desk, session, best, now=now, reporter=reporter, group_id=group_id, message_id=message_id)


def join_ticket(
    desk: Desk,
    session: Session,
    ticket_id: int,
    *,
    now: datetime,
    reporter: Person,
    group: ChatGroup | None,
    message_id: str,
    text: str,
    tell_handler: bool,
) -> Filed | None:
    """Add a message to the ticket intake found open in its thread, quietly: a reporter's detail (a
    room number) goes to the ticket's log, a neighbour becomes one more reporter. Only the handler is told,
    and only when the message says something (`tell_handler`), never the group."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.state not in OPEN_STATES:
        return None
    group_id = group.id if group is not None else None
    summary = mask_private_numbers(text.strip())
    if _reported_by(session, ticket, reporter.id):
        filed = _follow_up(desk, session, ticket, now=now, reporter=reporter, group_id=group_id, text=summary)
    else:
        filed = _merge(
            desk, session, ticket, now=now, reporter=reporter, group_id=group_id, message_id=message_id
        )
    notices: list[Outgoing] = []
    if tell_handler and ticket.handler_id is not None:
        who = reporter.name or reporter.id
        notices.append(Outgoing(f"{ticket.id}号工单 {who}补充：{text.strip()}", to_id=ticket.handler_id))
    return Filed(filed.ticket, filed.outcome, urgent_first(ticket, notices))


def community_of(reporter: Person, group: ChatGroup | None) -> str | None:
    return group.community_id if group is not None and group.community_id else reporter.community_id


def _follow_up(
    desk: Desk,
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    reporter: Person,
    group_id: str | None,
    text: str,
) -> Filed:
    session.add(TicketEvent(ticket_id=ticket.number, at=now, actor_id=reporter.id, action="补充", note=text))
    handler = session.get(Person, ticket.handler_id) if ticket.handler_id else None
    notices = [
        desk.tell(
            group_id,
            reporter.id,
            texts.FOLLOW_UP.format(number=ticket.id, handler=desk.handler_label(session, ticket)),
            "follow_up",
        )
    ]
    if handler is not None:
        notices.append(Outgoing(f"{ticket.id}号工单居民补充：{text}", to_id=handler.id))
    return Filed(ticket, "follow_up", notices)


def _merge(
    desk: Desk,
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    reporter: Person,
    group_id: str | None,
    message_id: str,
) -> Filed:
    assert ticket.id is not None
    session.add(
        TicketReporter(
            ticket_id=ticket.number, person_id=reporter.id, group_id=group_id, message_id=message_id, at=now
        )
    )
    reporters = ticket.reporters + 1
    changes: dict[str, Any] = {"reporters": reporters, "priority": max(ticket.priority, reporters - 1)}
    if reporters >= desk.policy.priority_reporters and not ticket.urgent:
        sooner = desk.calendar.add_working_days(ticket.created_at, desk.policy.priority_deadline_working_days)
        if sooner < ticket.deadline:
            changes["deadline"] = max(sooner, now + timedelta(hours=4))
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=reporter.id,
        action="合并",
        note=f"第{reporters}位居民反映",
        **changes,
    )
    notices = [
        desk.tell(
            group_id,
            reporter.id,
            texts.MERGED.format(
                number=ticket.id, reporters=reporters, handler=desk.handler_label(session, ticket)
            ),
            "joined",
        )
    ]
    return Filed(ticket, "merged", notices)
