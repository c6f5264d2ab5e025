"""A group's or a community's activity over a period, for the social worker's #统计."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from groups.messages import Message, MessageKind, speech
from groups.models import ChatGroup
from nlp.labels import NO_CATEGORY
from tickets.figures import TicketRates, ticket_rates
from tickets.models import OPEN_STATES, Ticket


@dataclass(frozen=True)
class Activity:
    messages: int
    by_kind: list[tuple[MessageKind, int]]  # most frequent first
    active_members: int
    new_members: int
    topics: list[tuple[str, int]]  # categories residents talked about, most frequent first
    open_tickets: int
    overdue_tickets: int
    # tickets filed in the period, for 办结率 and 满意率 as the console and the report count them
    filed: TicketRates


def activity(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    group_id: str | None = None,
    community_id: str | None = None,
) -> Activity:
    """Counts for one group, one community's groups, or all groups (both None)."""
    where: list[ColumnElement[bool]] = [
        col(Message.sent_at) >= since,
        col(Message.sent_at) <= until,
        col(Message.group_id).is_not(None),  # group messages: what is said to the bot alone is not counted
    ]
    in_scope: list[ColumnElement[bool]] = []
    if group_id is not None:
        where.append(col(Message.group_id) == group_id)
        in_scope.append(col(Ticket.group_id) == group_id)
    elif community_id is not None:
        where.append(
            col(Message.group_id).in_(select(ChatGroup.id).where(ChatGroup.community_id == community_id))
        )
        in_scope.append(col(Ticket.community_id) == community_id)
    tickets = [*in_scope, col(Ticket.state).in_([s.value for s in OPEN_STATES])]
    said = [*where, speech()]
    by_kind = session.exec(select(Message.kind, func.count()).where(*said).group_by(Message.kind)).all()
    people = session.exec(select(func.count(func.distinct(Message.sender_id))).where(*said)).one()
    joined = session.exec(
        select(func.count(func.distinct(Message.sender_id))).where(
            *where, col(Message.kind) == MessageKind.JOIN
        )
    ).one()
    topics = session.exec(
        select(Message.category, func.count())
        .where(*said, col(Message.category).is_not(None), col(Message.category) != NO_CATEGORY)
        .group_by(Message.category)
        .order_by(func.count().desc(), col(Message.category))
        .limit(3)
    ).all()
    open_count = session.exec(select(func.count()).select_from(Ticket).where(*tickets)).one()
    overdue = session.exec(
        select(func.count()).select_from(Ticket).where(*tickets, col(Ticket.deadline) < until)
    ).one()
    kinds = sorted(((MessageKind(k), int(n)) for k, n in by_kind), key=lambda item: -item[1])
    return Activity(
        messages=sum(n for _, n in kinds),
        by_kind=kinds,
        active_members=int(people),
        new_members=int(joined),
        topics=[(str(c), int(n)) for c, n in topics],
        open_tickets=int(open_count),
        overdue_tickets=int(overdue),
        filed=ticket_rates(
            session, [*in_scope, col(Ticket.created_at) >= since, col(Ticket.created_at) <= until]
        ),
    )
