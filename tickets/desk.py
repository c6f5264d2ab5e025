"""The ticket desk (policy, calendar, intake, noise budget: what a ticket's timing and notices
depend on) and how reporters, handlers and staff are told about a ticket."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing, Priority
from core.privacy import mask_private_numbers
from core.scheduling import mark_schedule_changed
from groups.models import ChatGroup, Community, Department, Person, on_wechat, person_label
from groups.noise import NoiseBudget
from tickets import texts
from tickets.intake import IntakePolicy
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from tickets.policy import TicketPolicy
from tickets.workdays import WorkCalendar

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


def notify_reporters(
    session: Session,
    ticket: Ticket,
    text: str,
    *,
    in_group: bool = False,
    only: Collection[str] | None = None,
    unless: Collection[str] = (),
) -> list[Outgoing]:
    """The ticket's reporters (or `only` those of them, and not those `unless`), each once: privately,
    or `in_group` one message per group @-mentioning them (who reported privately hears privately)."""
    by_group: dict[str | None, list[str]] = defaultdict(list)
    told: set[str] = set()
    for reporter in session.exec(
        select(TicketReporter).where(TicketReporter.ticket_id == ticket.id).order_by(col(TicketReporter.id))
    ):
        person = reporter.person_id
        if person in told or person in unless or not on_wechat(person):
            continue
        if only is not None and person not in only:
            continue
        told.add(person)
        by_group[reporter.group_id if in_group else None].append(person)
    out: list[Outgoing] = []
    public = mask_private_numbers(text)  # staff notes may carry numbers; groups never see them
    for group_id, people in by_group.items():
        if group_id is None:
            out.extend(Outgoing(text, to_id=person) for person in people)
        else:
            out.append(Outgoing(public, group_id=group_id, mentions=tuple(people)))
    return urgent_first(ticket, out)


def notify_handler(session: Session, ticket: Ticket, template: str, **extra: str) -> list[Outgoing]:
    """A private message with the ticket's details (and any `extra` fields) to the person who handles it."""
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
                    **extra,
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


@dataclass(frozen=True)
class Desk:
    """Policy and calendar: everything a ticket's timing depends on; and how intake judges messages."""

    policy: TicketPolicy
    calendar: WorkCalendar
    intake: IntakePolicy = field(default_factory=IntakePolicy)
    noise: NoiseBudget = field(default_factory=NoiseBudget)

    def in_group(self, ticket: Ticket, notice: str) -> bool:
        """Whether reporters hear this notice in their group (data/groups/noise.yaml); the group that
        saw an emergency's alarm also hears who took it."""
        return (ticket.urgent and notice == "accepted") or self.noise.said_in_group(notice)

    def tell(self, group_id: str | None, person_id: str, text: str, saying: str) -> Outgoing:
        """To one resident about their ticket: in their group when the noise budget says so."""
        return to_person(group_id if self.noise.said_in_group(saying) else None, person_id, text)

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
        return person_label(handler) if handler else "社区工作人员"

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
        if ticket.urgent:  # 督办 only while nobody has the emergency in hand
            in_hand = ticket.state in (S.ACCEPTED, S.IN_PROGRESS)
            return None if in_hand else ticket.urged_at + URGENT_SUPERVISE_AFTER
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
