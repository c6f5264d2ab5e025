"""Filing tickets: new petitions, follow-ups from the same resident, duplicates, emergencies."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from core.clock import local
from core.events import Outgoing
from core.privacy import mask_private_numbers
from core.scheduling import mark_schedule_changed
from groups.models import ChatGroup, Person, on_wechat, person_label
from nlp.labels import EMERGENCY as URGENT
from nlp.labels import PETITION
from tickets import texts
from tickets.desk import Desk, notify_handler, urgent_first
from tickets.emergency import advice_for, emergency_notices
from tickets.joining import Filed, community_of, join_open_ticket, join_ticket
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from tickets.routing import Assignment, route

__all__ = ["Filed", "advice_for", "file_petition", "join_open_ticket", "join_ticket", "open_task", "standing"]


def standing(desk: Desk, session: Session, ticket: Ticket, now: datetime) -> str:
    """Where a ticket stands, told to a resident who asks how their problem is going."""
    done = local(ticket.resolved_at) if ticket.resolved_at is not None else None
    late = ticket.state in OPEN_STATES and ticket.deadline < now
    return (texts.STANDING_LATE if late else texts.STANDING[ticket.state.value]).format(
        summary=texts.topic(ticket.summary),
        number=ticket.id,
        handler=desk.handler_label(session, ticket),
        deadline=texts.when(ticket.deadline),
        day=f"{done.month}月{done.day}日" if done is not None else "",
        resolution=mask_private_numbers(ticket.resolution) or "已处理",
    )


def file_petition(
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
    filed_by: Person | None = None,
) -> Filed:
    """Open a ticket for a petition, unless it joins the same problem already open in the community."""
    joined = join_open_ticket(
        desk,
        session,
        now=now,
        reporter=reporter,
        group=group,
        message_id=message_id,
        text=text,
        intent=intent,
        category=category,
    )
    if joined is not None:
        return joined
    summary = mask_private_numbers(text.strip())
    community_id = community_of(reporter, group)
    group_id = group.id if group is not None else None
    return _open(
        desk,
        session,
        now=now,
        reporter=reporter,
        community_id=community_id,
        group_id=group_id,
        message_id=message_id,
        summary=summary,
        details=text.strip(),
        intent=intent,
        category=category,
        filed_by=filed_by,
    )


def open_task(
    desk: Desk,
    session: Session,
    *,
    now: datetime,
    organiser: Person,
    community_id: str | None,
    message_id: str,
    text: str,
    category: str,
    handler: Person | None,
    deadline: datetime | None,
) -> Filed:
    """A ticket staff open themselves to carry out a decision: named handler and deadline, or routed."""
    assignment = Assignment(handler.id, None, person_label(handler)) if handler is not None else None
    return _open(
        desk,
        session,
        now=now,
        reporter=organiser,
        community_id=community_id,
        group_id=None,
        message_id=message_id,
        summary=mask_private_numbers(text.strip()),
        details=text.strip(),
        intent=PETITION,
        category=category,
        filed_by=None,
        assignment=assignment,
        deadline=deadline,
    )


def _open(
    desk: Desk,
    session: Session,
    *,
    now: datetime,
    reporter: Person,
    community_id: str | None,
    group_id: str | None,
    message_id: str,
    summary: str,
    details: str,
    intent: str,
    category: str,
    filed_by: Person | None,
    assignment: Assignment | None = None,
    deadline: datetime | None = None,
) -> Filed:
    urgent = intent == URGENT
    if assignment is None:
        assignment = route(
            session, community_id=community_id, group_id=group_id, reporter=reporter, category=category
        )
    if deadline is None:
        deadline = (
            now + timedelta(minutes=desk.policy.emergency_deadline_minutes)
            if urgent
            else desk.calendar.add_working_days(now, desk.policy.working_days(category))
        )
    ticket = Ticket(
        source_message_id=message_id,
        community_id=community_id,
        group_id=group_id,
        reporter_id=reporter.id,
        intent=intent,
        category=category,
        urgent=urgent,
        summary=summary,
        details=details,
        handler_id=assignment.handler_id,
        department_id=assignment.department_id,
        priority=2 if urgent else 0,
        created_at=now,
        deadline=deadline,
        assigned_at=now,
    )
    _store_new(desk, session, ticket, now=now, reporter=reporter, message_id=message_id, filed_by=filed_by)
    if urgent:
        return Filed(ticket, "new", urgent_first(ticket, emergency_notices(desk, session, ticket, reporter)))
    notices = _filed_notices(
        desk,
        session,
        ticket,
        reporter=reporter,
        summary=summary,
        assignment=assignment,
        deadline=deadline,
        filed_by=filed_by,
    )
    return Filed(ticket, "new", notices)


def _store_new(
    desk: Desk,
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    reporter: Person,
    message_id: str,
    filed_by: Person | None,
) -> None:
    """Write the new ticket, its first reporter and its 登记 event; schedule its first alert."""
    group_id = ticket.group_id
    ticket.next_alert_at = desk.next_alert(ticket)
    session.add(ticket)
    mark_schedule_changed(session, ticket.next_alert_at)
    session.flush()
    assert ticket.id is not None
    session.add(
        TicketReporter(
            ticket_id=ticket.number, person_id=reporter.id, group_id=group_id, message_id=message_id, at=now
        )
    )
    actor = filed_by.id if filed_by is not None else reporter.id
    note = f"{filed_by.name}代居民登记" if filed_by is not None else ""
    session.add(
        TicketEvent(
            ticket_id=ticket.number,
            at=now,
            actor_id=actor,
            action="登记",
            to_state=TicketState.NEW.value,
            note=note,
        )
    )


def _filed_notices(
    desk: Desk,
    session: Session,
    ticket: Ticket,
    *,
    reporter: Person,
    summary: str,
    assignment: Assignment,
    deadline: datetime,
    filed_by: Person | None,
) -> list[Outgoing]:
    """Tell the resident the ticket's number, handler and deadline, and tell the handler."""
    short = texts.topic(summary, 24)
    said = {
        "summary": short,
        "number": ticket.id,
        "handler": assignment.label,
        "deadline": texts.when(deadline),
    }
    if filed_by is not None:  # the resident phoned or came in: told privately, by whom it was filed
        told = texts.FILED_FOR.format(staff=person_label(filed_by), **said)
        notices = [Outgoing(told, to_id=reporter.id)] if on_wechat(reporter.id) else []
    else:
        notices = [desk.tell(ticket.group_id, reporter.id, texts.FILED.format(**said), "filed")]
    notices += notify_handler(session, ticket, texts.NEW_FOR_HANDLER)
    return notices
