"""The ticket life cycle: explicit states, guarded transitions, deadlines and the alerts job."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from groups.models import ChatGroup, Community, Department, Person, Role, on_wechat
from tickets import texts
from tickets.intake import IntakePolicy
from tickets.models import (
    OPEN_STATES,
    ExtensionRequest,
    Rating,
    Ticket,
    TicketEvent,
    TicketReporter,
    TicketState,
)
from tickets.policy import TicketPolicy
from tickets.routing import grid_worker, leaders, social_worker
from tickets.workdays import WorkCalendar
from xiaoqi.errors import XiaoqiError
from xiaoqi.numbers import bare_number, record_id
from xiaoqi.outgoing import Outgoing, Priority
from xiaoqi.privacy import mask_private_numbers
from xiaoqi.scheduling import mark_schedule_changed

S = TicketState
URGENT_SUPERVISE_AFTER = timedelta(minutes=30)
MAX_ESCALATIONS = 3


def urgent_first(ticket: Ticket, out: list[Outgoing]) -> list[Outgoing]:
    """Messages about an emergency ticket go first and are not held back by quiet hours."""
    if not ticket.urgent:
        return out
    return [replace(o, priority=Priority.URGENT) for o in out]


def to_person(group_id: str | None, person_id: str, text: str) -> Outgoing:
    """To a resident: in their group with an @-mention, or privately when they wrote privately."""
    if group_id is not None:
        return Outgoing(text, group_id=group_id, mentions=(person_id,))
    return Outgoing(text, to_id=person_id)


def notify_reporters(session: Session, ticket: Ticket, text: str) -> list[Outgoing]:
    """Everyone who reported the ticket, one message per group (several @-mentions), never twice."""
    by_group: dict[str | None, list[str]] = defaultdict(list)
    for reporter in session.exec(
        select(TicketReporter).where(TicketReporter.ticket_id == ticket.id).order_by(col(TicketReporter.id))
    ):
        if reporter.person_id not in by_group[reporter.group_id] and on_wechat(reporter.person_id):
            by_group[reporter.group_id].append(reporter.person_id)
    out: list[Outgoing] = []
    public = mask_private_numbers(text)  # staff notes may carry numbers; groups never see them
    for group_id, people in by_group.items():
        if group_id is None:
            out.extend(Outgoing(text, to_id=person) for person in people)
        else:
            out.append(Outgoing(public, group_id=group_id, mentions=tuple(people)))
    return urgent_first(ticket, out)


def notify_handler(session: Session, ticket: Ticket, template: str) -> list[Outgoing]:
    """A private message with the ticket's details to the person who handles it."""
    if ticket.handler_id is None:
        return []
    reporter = session.get(Person, ticket.reporter_id)
    return urgent_first(
        ticket,
        [
            Outgoing(
                template.format(
                    number=ticket.id,
                    category=ticket.category,
                    where=where_of(session, ticket),
                    reporter=(reporter.name if reporter else "") or ticket.reporter_id,
                    text=ticket.details or ticket.summary,
                    deadline=texts.when(ticket.deadline),
                ),
                to_id=ticket.handler_id,
            )
        ],
    )


def where_of(session: Session, ticket: Ticket) -> str:
    """Community and group of a ticket, as staff read it."""
    community = session.get(Community, ticket.community_id) if ticket.community_id else None
    group = session.get(ChatGroup, ticket.group_id) if ticket.group_id else None
    return place(community.name if community else None, group.name if group else None)


def place(community: str | None, group: str | None) -> str:
    """Where a ticket comes from, given its community's and group's names."""
    return " ".join(p for p in (community, group) if p) or "私聊"


def get_ticket(session: Session, number: str | int) -> Ticket:
    text = bare_number(str(number))
    ticket_id = record_id(text)
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise XiaoqiError(f"没有找到{text}号工单，请核对编号。")
    return ticket


def may_manage(actor: Person, ticket: Ticket) -> bool:
    """Social workers of the ticket's community, leaders and admins may act on any ticket there."""
    if actor.role in (Role.ADMIN, Role.LEADER):
        return True
    return actor.role is Role.SOCIAL_WORKER and actor.community_id == ticket.community_id


def _require(ticket: Ticket, allowed: Sequence[TicketState], doing: str) -> None:
    if ticket.state not in allowed:
        raise XiaoqiError(f"{ticket.id}号工单现在是“{ticket.state.value}”，不能{doing}。")


def _require_handler(actor: Person, ticket: Ticket, doing: str) -> None:
    if actor.id != ticket.handler_id and not may_manage(actor, ticket):
        raise XiaoqiError(f"{ticket.id}号工单不是由您负责，不能{doing}。")


@dataclass(frozen=True)
class Desk:
    """Policy and calendar: everything a ticket's timing depends on; and how intake judges messages."""

    policy: TicketPolicy
    calendar: WorkCalendar
    intake: IntakePolicy = field(default_factory=IntakePolicy)

    def move(
        self,
        session: Session,
        ticket: Ticket,
        *,
        now: datetime,
        actor_id: str,
        action: str,
        to_state: TicketState | None = None,
        note: str = "",
        **changes: Any,
    ) -> None:
        """Apply a change only if nobody changed the ticket meanwhile; log it in the ticket's audit trail."""
        from_state = ticket.state
        values = dict(changes)
        if to_state is not None:
            values["state"] = to_state
        preview = ticket.model_copy(update=values)
        values["next_alert_at"] = self.next_alert(preview)
        values["version"] = ticket.version + 1
        result = session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket.id, col(Ticket.version) == ticket.version)
            .values(**values)
            # the ticket is brought up to date below; the default ("evaluate") would walk the whole
            # identity map, which in a replay's batch holds the registry's tens of thousands of objects
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.expire(ticket)
            raise XiaoqiError(f"{ticket.id}号工单刚刚已被别人处理，请发送“#工单 {ticket.id}”查看最新情况。")
        for name, value in values.items():  # what the row now holds, without reading it back
            set_committed_value(ticket, name, value)
        mark_schedule_changed(session, ticket.next_alert_at)
        session.add(
            TicketEvent(
                ticket_id=ticket.number,
                at=now,
                actor_id=actor_id,
                action=action,
                from_state=from_state.value,
                to_state=ticket.state.value,
                note=note,
            )
        )

    def handler_label(self, session: Session, ticket: Ticket) -> str:
        if ticket.department_id is not None:
            department = session.get(Department, ticket.department_id)
            if department is not None:
                return department.name
        handler = session.get(Person, ticket.handler_id) if ticket.handler_id else None
        return f"{handler.role.label}{handler.name}" if handler else "社区工作人员"

    # -- timing -------------------------------------------------------------------------------
    def remind_time(self, ticket: Ticket) -> datetime | None:
        if ticket.urgent:
            return None
        moment = self.calendar.working_morning(
            ticket.deadline - timedelta(days=1), 0, self.policy.office_hour
        )
        return moment if ticket.created_at < moment < ticket.deadline else None

    def urge_time(self, ticket: Ticket) -> datetime:
        if ticket.urgent:
            return ticket.deadline
        return self.calendar.working_morning(ticket.deadline, 0, self.policy.office_hour)

    def supervise_time(self, ticket: Ticket) -> datetime | None:
        if ticket.urged_at is None:
            return None
        if ticket.urgent:
            return ticket.urged_at + URGENT_SUPERVISE_AFTER
        return self.calendar.working_morning(
            ticket.urged_at, self.policy.supervise_after_working_days, self.policy.office_hour
        )

    def escalate_time(self, ticket: Ticket) -> datetime | None:
        if not ticket.urgent or ticket.state is not S.NEW or ticket.escalations >= MAX_ESCALATIONS:
            return None
        return ticket.assigned_at + timedelta(minutes=self.policy.emergency_accept_minutes)

    def auto_close_time(self, ticket: Ticket) -> datetime | None:
        if ticket.state is not S.RESOLVED or ticket.resolved_at is None:
            return None
        return ticket.resolved_at + timedelta(days=self.policy.auto_close_days)

    def next_alert(self, ticket: Ticket) -> datetime | None:
        if ticket.state is S.RESOLVED:
            return self.auto_close_time(ticket)
        if ticket.state not in OPEN_STATES:
            return None
        times = [self.escalate_time(ticket)]
        if ticket.reminded_at is None:
            times.append(self.remind_time(ticket))
        if ticket.urged_at is None:
            times.append(self.urge_time(ticket))
        elif ticket.supervised_at is None:
            times.append(self.supervise_time(ticket))
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None


# -- staff actions ----------------------------------------------------------------------------
def accept(desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket) -> list[Outgoing]:
    _require(ticket, [S.NEW], "签收")
    _require_handler(actor, ticket, "签收")
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
    return notify_reporters(
        session, ticket, texts.ACCEPTED.format(number=ticket.id, handler=desk.handler_label(session, ticket))
    )


def post_progress(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "报进展")
    _require_handler(actor, ticket, "报进展")
    extra = {"accepted_at": now} if ticket.accepted_at is None else {}
    desk.move(
        session, ticket, now=now, actor_id=actor.id, action="进展", to_state=S.IN_PROGRESS, note=note, **extra
    )
    return notify_reporters(session, ticket, texts.PROGRESS.format(number=ticket.id, note=note))


def resolve(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    _require(ticket, [S.ACCEPTED, S.IN_PROGRESS], "办结（请先签收）")
    _require_handler(actor, ticket, "办结")
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
    return notify_reporters(session, ticket, texts.RESOLVED.format(number=ticket.id, note=note))


def return_ticket(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, reason: str
) -> list[Outgoing]:
    if not reason.strip():
        raise XiaoqiError("退回必须写明理由。")
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "退回")
    _require_handler(actor, ticket, "退回")
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
    out = notify_reporters(session, ticket, texts.RETURNED_FOR_RESIDENT.format(number=ticket.id))
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
    if not may_manage(actor, ticket):
        raise XiaoqiError("只有本社区的社工可以转派工单。")
    if not target.role.is_staff:
        raise XiaoqiError(f"{target.name}不是工作人员，不能接工单。")
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
    out += notify_reporters(
        session,
        ticket,
        texts.PASSED_ON.format(
            number=ticket.id,
            handler=desk.handler_label(session, ticket),
            deadline=texts.when(ticket.deadline),
        ),
    )
    return out


def request_extension(
    desk: Desk, session: Session, now: datetime, actor: Person, ticket: Ticket, days: int, reason: str
) -> list[Outgoing]:
    _require(ticket, [S.NEW, S.ACCEPTED, S.IN_PROGRESS], "申请延期")
    _require_handler(actor, ticket, "申请延期")
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
    if not may_manage(actor, ticket):
        raise XiaoqiError("延期需要本社区的社工批准。")
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
        session, ticket, texts.EXTENDED.format(number=ticket.id, deadline=texts.when(deadline))
    )
    if request.requested_by != actor.id:
        out.append(
            Outgoing(
                f"{ticket.id}号工单延期已批准，新的时限是{texts.when(deadline)}。", to_id=request.requested_by
            )
        )
    return out


def rate(
    desk: Desk, session: Session, now: datetime, person: Person, ticket: Ticket, rating: Rating
) -> list[Outgoing]:
    _require(ticket, [S.RESOLVED], "评价")
    if rating is Rating.UNSATISFIED:
        deadline = desk.calendar.add_working_days(now, desk.policy.working_days(ticket.category))
        desk.move(
            session,
            ticket,
            now=now,
            actor_id=person.id,
            action="重办",
            to_state=S.NEW,
            note="居民不满意",
            rating=rating,
            reopened=ticket.reopened + 1,
            deadline=deadline,
            assigned_at=now,
            accepted_at=None,
            resolved_at=None,
            reminded_at=None,
            urged_at=None,
            supervised_at=None,
        )
        out = notify_reporters(
            session,
            ticket,
            texts.REOPENED.format(
                number=ticket.id, handler=desk.handler_label(session, ticket), deadline=texts.when(deadline)
            ),
        )
        return out + notify_handler(session, ticket, texts.REOPENED_FOR_HANDLER)
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=person.id,
        action="评价",
        to_state=S.CLOSED,
        note=rating.value,
        rating=rating,
        closed_at=now,
    )
    return notify_reporters(session, ticket, texts.THANKS_FOR_RATING.format(number=ticket.id))


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
    out = [Outgoing(text, to_id=target.id)]
    if ticket.group_id is not None:
        out.append(
            Outgoing(
                f"@{target.name} {ticket.id}号紧急工单还没有人签收，请马上处理！",
                group_id=ticket.group_id,
                mentions=(target.id,),
            )
        )
    return out


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
        desk.move(
            session,
            ticket,
            now=at,
            actor_id="xiaoqi",
            action="评价",
            to_state=S.CLOSED,
            note=Rating.DEFAULT.value,
            rating=Rating.DEFAULT,
            closed_at=at,
        )
        return notify_reporters(
            session, ticket, texts.AUTO_CLOSED.format(number=ticket.id, days=desk.policy.auto_close_days)
        )
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
        people = [
            p
            for p in [social_worker(session, ticket.community_id), *leaders(session, ticket.community_id)]
            if p
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
