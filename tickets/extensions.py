"""Extending a ticket's deadline: the handler asks, the social worker approves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing
from groups.models import Person
from tickets import texts
from tickets.desk import Desk, S, notify_reporters
from tickets.guards import require_state
from tickets.models import OPEN_STATES, ExtensionRequest, Ticket, TicketEvent
from tickets.routing import social_worker


def request_extension(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, days: int, reason: str
) -> list[Outgoing]:
    require_state(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "申请延期")
    if not 1 <= days <= 30 or not reason.strip():
        raise XiaoqiError("延期要写 1 到 30 个工作日，并说明理由。")
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket.id, col(ExtensionRequest.approved).is_(None)
        )
    ).first()
    if pending is not None:
        raise XiaoqiError(f"{ticket.id}号工单已有一个延期申请在等社工批准。")
    session.add(
        ExtensionRequest(
            ticket_id=ticket.number, requested_by=actor.id, days=days, reason=reason, requested_at=now
        )
    )
    session.add(
        TicketEvent(
            ticket_id=ticket.number,
            at=now,
            actor_id=actor.id,
            action="申请延期",
            note=f"{days}个工作日：{reason}",
        )
    )
    worker = social_worker(session, ticket.community_id)
    if worker is None or worker.id == actor.id:
        return approve_extension(desk, session, now, actor, ticket) if worker is not None else []
    return [
        Outgoing(
            texts.EXTENSION_REQUESTED.format(actor=actor.name, number=ticket.id, days=days, reason=reason),
            to_id=worker.id,
        )
    ]


def approve_extension(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket
) -> list[Outgoing]:
    request = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket.id, col(ExtensionRequest.approved).is_(None)
        )
    ).first()
    if request is None:
        raise XiaoqiError(f"{ticket.id}号工单没有待批准的延期申请。")
    require_state(ticket, list(OPEN_STATES), "延期")
    deadline = desk.calendar.add_working_days(ticket.deadline - timedelta(days=1), request.days)
    request.decided_by, request.decided_at, request.approved = actor.id, now, True
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=actor.id,
        action="延期",
        note=f"延期{request.days}个工作日：{request.reason}",
        deadline=deadline,
        reminded_at=None,
        urged_at=None,
        supervised_at=None,
    )
    out = notify_reporters(
        session,
        ticket,
        texts.EXTENDED.format(
            summary=texts.topic(ticket.summary), number=ticket.id, deadline=texts.when(deadline)
        ),
        in_group=desk.in_group(ticket, "extended"),
    )
    if request.requested_by != actor.id:
        out.append(
            Outgoing(
                f"{ticket.id}号工单延期已批准，新的时限是{texts.when(deadline)}。", to_id=request.requested_by
            )
        )
    return out
