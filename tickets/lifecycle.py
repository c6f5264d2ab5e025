"""The ticket life cycle: explicit states, guarded staff actions, and the alerts job (escalation,
reminders, 催办, 督办, automatic closing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing
from core.numbers import bare_number, record_id
from groups.models import Person
from tickets import texts
from tickets.desk import (
    MAX_ESCALATIONS,
    Desk,
    S,
    notify_handler,
    notify_reporters,
    urgent_first,
    where_of,
)
from tickets.models import OPEN_STATES, ExtensionRequest, Ticket, TicketAlerted, TicketEvent, TicketState
from tickets.ratings import auto_close, rated
from tickets.routing import grid_worker, leaders, social_worker


def get_ticket(session: Session, number: str | int) -> Ticket:
    text = bare_number(str(number))
    ticket_id = record_id(text)
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise XiaoqiError(f"没有找到{text}号工单，请核对编号。")
    return ticket


def _require(ticket: Ticket, allowed: Sequence[TicketState], doing: str) -> None:
    if ticket.state not in allowed:
        raise XiaoqiError(f"{ticket.id}号工单现在是“{ticket.state.value}”，不能{doing}。")


def alerted(session: Session, ticket: Ticket) -> list[str]:
    """The staff told of an emergency ticket, in the order they were told."""
    return list(
        session.exec(
            select(TicketAlerted.person_id)
            .where(TicketAlerted.ticket_id == ticket.id)
            .order_by(col(TicketAlerted.at), col(TicketAlerted.person_id))
        ).all()
    )


def record_alerted(session: Session, ticket: Ticket, people: Sequence[Person], at: datetime) -> None:
    """Remember who was told of an emergency ticket, so that any of them may accept it."""
    known = set(alerted(session, ticket))
    for person in people:
        if person.id not in known:
            session.add(TicketAlerted(ticket_id=ticket.number, person_id=person.id, at=at))
            known.add(person.id)


def _takes_over(session: Session, actor: Person, ticket: Ticket) -> bool:
    """An emergency nobody has accepted yet is taken by the first alerted staff member who acts on it.
    (Who may act on a ticket at all is access.policy's to say, before any of these functions runs.)"""
    return ticket.urgent and ticket.state is S.NEW and actor.id in alerted(session, ticket)


# -- staff actions ----------------------------------------------------------------------------
def accept(desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket) -> list[Outgoing]:
    _require(ticket, [S.NEW], "签收")
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
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "报进展")
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
    _require(ticket, [S.ACCEPTED, S.IN_PROGRESS], "办结（请先签收）")
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
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "退回")
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
    _require(ticket, list(OPEN_STATES), "转派")
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


def request_extension(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, days: int, reason: str
) -> list[Outgoing]:
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "申请延期")
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
    _require(ticket, list(OPEN_STATES), "延期")
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


# -- the periodic job -------------------------------------------------------------------------
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
