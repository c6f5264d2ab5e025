"""The ticket life cycle: explicit states and guarded staff actions (accept, progress, resolve, return,
reassign); deadline extensions and the alerts job live beside it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.errors import XiaoqiError
from core.events import Outgoing
from groups.models import Person
from tickets import texts
from tickets.alerted import alerted, record_alerted
from tickets.alerts import TicketAlertsJob, run_alerts
from tickets.desk import (
    Desk,
    S,
    notify_handler,
    notify_reporters,
    urgent_first,
)
from tickets.extensions import approve_extension, request_extension
from tickets.guards import get_ticket, require_state
from tickets.models import OPEN_STATES, Ticket
from tickets.ratings import rated
from tickets.routing import social_worker

__all__ = [
    "TicketAlertsJob",
    "accept",
    "alerted",
    "approve_extension",
    "get_ticket",
    "post_progress",
    "reassign",
    "record_alerted",
    "request_extension",
    "resolve",
    "return_ticket",
    "run_alerts",
]


def _takes_over(session: Session, actor: Person, ticket: Ticket) -> bool:
    """An emergency nobody has accepted yet is taken by the first alerted staff member who acts on it.
    (Who may act on a ticket at all is access.policy's to say, before any of these functions runs.)"""
    return ticket.urgent and ticket.state is S.NEW and actor.id in alerted(session, ticket)


# -- staff actions ----------------------------------------------------------------------------
def accept(desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket) -> list[Outgoing]:
    require_state(ticket, [S.NEW], "签收")
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=actor.id,
        action="签收",
        to_state=S.ACCEPTED,
        accepted_at=now,
        handler_id=actor.id,
    )
    return _accepted(desk, session, actor, ticket)


def _accepted(desk: Desk, session: Session, actor: Person, ticket: Ticket) -> list[Outgoing]:
    """The reporters hear who has their ticket; the other staff alerted to an emergency hear who took it."""
    handler = desk.handler_label(session, ticket)
    template = texts.ACCEPTED_URGENT if ticket.urgent else texts.ACCEPTED
    out = notify_reporters(
        session,
        ticket,
        template.format(summary=texts.topic(ticket.summary), number=ticket.id, handler=handler),
        in_group=desk.in_group(ticket, "accepted"),
    )
    others = [p for p in alerted(session, ticket) if p != actor.id]
    out += urgent_first(
        ticket, [Outgoing(texts.TAKEN_BY.format(number=ticket.id, handler=handler), to_id=p) for p in others]
    )
    return out


def post_progress(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    require_state(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "报进展")
    taking = _takes_over(session, actor, ticket)  # progress on an unaccepted emergency accepts it
    extra: dict[str, object] = {"accepted_at": now} if ticket.accepted_at is None else {}
    if taking:
        extra["handler_id"] = actor.id
    desk.move(
        session, ticket, now=now, actor_id=actor.id, action="进展", to_state=S.IN_PROGRESS, note=note, **extra
    )
    out = _accepted(desk, session, actor, ticket) if taking else []
    return out + notify_reporters(
        session,
        ticket,
        texts.PROGRESS.format(summary=texts.topic(ticket.summary), number=ticket.id, note=note),
        in_group=desk.in_group(ticket, "progress"),
    )


def resolve(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    require_state(ticket, [S.ACCEPTED, S.IN_PROGRESS], "办结（请先签收）")
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=actor.id,
        action="办结",
        to_state=S.RESOLVED,
        note=note,
        resolved_at=now,
        resolution=note,
    )
    in_group = desk.in_group(ticket, "resolved")
    satisfied = rated(session, ticket)  # after a reopening, those already satisfied are not asked again
    out = notify_reporters(
        session,
        ticket,
        texts.RESOLVED.format(summary=texts.topic(ticket.summary), number=ticket.id, note=note),
        in_group=in_group,
        unless=satisfied,
    )
    return out + notify_reporters(
        session,
        ticket,
        texts.RESOLVED_AGAIN.format(summary=texts.topic(ticket.summary), number=ticket.id, note=note),
        in_group=in_group,
        only=satisfied,
    )


def return_ticket(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, reason: str
) -> list[Outgoing]:
    if not reason.strip():
        raise XiaoqiError("退回必须写明理由。")
    require_state(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "退回")
    worker = social_worker(session, ticket.community_id)
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=actor.id,
        action="退回",
        to_state=S.RETURNED,
        note=reason,
        handler_id=worker.id if worker else None,
        department_id=None,
        assigned_at=now,
    )
    out = notify_reporters(
        session,
        ticket,
        texts.RETURNED_FOR_RESIDENT.format(summary=texts.topic(ticket.summary), number=ticket.id),
        in_group=desk.in_group(ticket, "returned"),
    )
    if worker is not None:
        out.append(
            Outgoing(
                texts.RETURNED_FOR_SW.format(number=ticket.id, actor=actor.name, reason=reason),
                to_id=worker.id,
            )
        )
    return out


def reassign(
    desk: Desk,
    session: Session,
    now: datetime,
    actor: Person,
    ticket: Ticket,
    target: Person,
    department_id: str | None = None,
) -> list[Outgoing]:
    require_state(ticket, list(OPEN_STATES), "转派")
    if not target.role.is_staff:
        raise XiaoqiError(f"{target.name}不是工作人员，不能接工单。")
    if target.id == ticket.handler_id and department_id == ticket.department_id:
        raise XiaoqiError(f"{ticket.id}号工单现在就是{desk.handler_label(session, ticket)}在办，不用转派。")
    previous = ticket.handler_id
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=actor.id,
        action="转派",
        to_state=S.NEW,
        note=f"转给{target.name}",
        handler_id=target.id,
        department_id=department_id,
        assigned_at=now,
        accepted_at=None,
    )
    out = notify_handler(session, ticket, texts.NEW_FOR_HANDLER)
    if previous is not None and previous not in (actor.id, target.id):  # the one who had it may stop
        label = desk.handler_label(session, ticket)
        out.append(Outgoing(texts.MOVED_AWAY.format(number=ticket.id, handler=label), to_id=previous))
    out += notify_reporters(
        session,
        ticket,
        texts.PASSED_ON.format(
            summary=texts.topic(ticket.summary),
            number=ticket.id,
            handler=desk.handler_label(session, ticket),
            deadline=texts.when(ticket.deadline),
        ),
        in_group=desk.in_group(ticket, "passed_on"),
    )
    return out
