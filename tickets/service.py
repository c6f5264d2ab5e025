"""Filing tickets: new petitions, follow-ups from the same resident, duplicates, emergencies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.clock import local
from core.events import Outgoing
from core.privacy import mask_private_numbers
from core.scheduling import mark_schedule_changed
from groups.messages import Message
from groups.models import ChatGroup, Person, on_wechat, person_label
from tickets import texts
from tickets.desk import Desk, notify_handler, to_person, urgent_first, where_of
from tickets.lifecycle import record_alerted
from tickets.matching import Report, same_problem
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from tickets.routing import Assignment, grid_worker, route, social_worker
from tickets.similarity import similarity

URGENT = "紧急"
_FIRE = re.compile(r"火|烟|燃气|煤气|天然气|液化气|焦味|糊味|爆炸|电瓶.*(炸|冒)")
_MEDICAL = re.compile(
    r"摔|倒地|晕|昏|不省人事|没反应|没有反应|心脏|出血|流血|吐血|中风|喘不上|抽搐|受伤|起不来"
)
_POLICE = re.compile(r"偷|抢|打人|砍|刀|撬|失踪|走丢|找不到孩子|小孩不见|跳楼|轻生|威胁|闯入")


@dataclass(frozen=True)
class Filed:
    """What filing did: opened a ticket, merged into one, or attached to the reporter's own."""

    ticket: Ticket
    outcome: str  # new | merged | follow_up
    notices: list[Outgoing]


def advice_for(text: str) -> str:
    """What to do right now, by what the emergency sounds like."""
    parts = [
        advice
        for pattern, advice in (
            (_FIRE, texts.ADVICE_FIRE),
            (_MEDICAL, texts.ADVICE_MEDICAL),
            (_POLICE, texts.ADVICE_POLICE),
        )
        if pattern.search(text)
    ]
    return "".join(parts) or texts.ADVICE_GENERAL


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
    community_id = _community_of(reporter, group)
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


def _community_of(reporter: Person, group: ChatGroup | None) -> str | None:
    return group.community_id if group is not None and group.community_id else reporter.community_id


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
    community_id = _community_of(reporter, group)
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
        intent="诉求",
        category=category,
        filed_by=None,
        assignment=assignment,
        deadline=deadline,
    )


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
    if urgent:
        return Filed(ticket, "new", urgent_first(ticket, _emergency_notices(desk, session, ticket, reporter)))
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
        notices = [desk.tell(group_id, reporter.id, texts.FILED.format(**said), "filed")]
    notices += notify_handler(session, ticket, texts.NEW_FOR_HANDLER)
    return Filed(ticket, "new", notices)


def _emergency_notices(desk: Desk, session: Session, ticket: Ticket, reporter: Person) -> list[Outgoing]:
    """At once: @ the grid worker and social worker in the group, message each, tell the resident what to do."""
    staff: list[Person] = []
    for person in (
        session.get(Person, ticket.handler_id) if ticket.handler_id else None,
        grid_worker(session, ticket.community_id, ticket.group_id, reporter),
        social_worker(session, ticket.community_id),
    ):
        if person is not None and person not in staff:
            staff.append(person)
    where = where_of(session, ticket)
    notices: list[Outgoing] = []
    handler_names = "、".join(person_label(p) for p in staff) or "社区工作人员"
    advice = advice_for(ticket.summary)
    if ticket.group_id is not None and staff:  # one alarm in the group: the staff, the reporter, advice
        shown = session.exec(
            select(Message.sender_name).where(Message.platform_id == ticket.source_message_id)
        ).first()
        notices.append(
            Outgoing(
                texts.URGENT_IN_GROUP.format(
                    names="".join(f"@{p.name} " for p in staff),
                    reporter=shown or reporter.name or "居民",
                    summary=texts.topic(ticket.summary, 40),
                    advice=advice,
                ),
                group_id=ticket.group_id,
                mentions=(*(p.id for p in staff), reporter.id),
            )
        )
    for person in staff:
        notices.append(
            Outgoing(
                texts.URGENT_FOR_STAFF.format(
                    number=ticket.id, where=where, reporter=reporter.name or reporter.id, text=ticket.details
                ),
                to_id=person.id,
            )
        )
    record_alerted(session, ticket, staff, ticket.created_at)
    if ticket.group_id is None or not staff:
        filed = texts.FILED_URGENT.format(number=ticket.id, handler=handler_names, advice=advice)
        notices.append(to_person(ticket.group_id, reporter.id, filed))
    return notices
