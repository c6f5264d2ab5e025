"""What the console shows, read in a few aggregate queries scoped to what the viewer may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Row, case, false, func, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.clock import local
from groups.messages import Message, speech
from groups.models import ChatGroup, Community, Department, Person, Role
from nlp.labels import NEGATIVE, NEUTRAL, POSITIVE
from tickets.figures import done, rate_text, rated, resolution_rate, satisfaction_rate, satisfied
from tickets.models import OPEN_STATES, Ticket, TicketState

PAGE = 50


@dataclass(frozen=True)
class TicketFilter:
    state: str = ""
    category: str = ""
    community: str = ""
    handler: str = ""
    overdue: bool = False
    page: int = 1

    def clauses(self, now: datetime) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.state:
            found.append(col(Ticket.state) == TicketState(self.state))
        if self.category:
            found.append(col(Ticket.category) == self.category)
        if self.community:
            found.append(col(Ticket.community_id) == self.community)
        if self.handler:
            found.append(col(Ticket.handler_id) == self.handler)
        if self.overdue:
            found += [col(Ticket.state).in_(OPEN_STATES), col(Ticket.deadline) < now]
        return found


# what a list of tickets shows (rows of these columns, named like Ticket's attributes): a page of
# plain rows costs the server a fraction of a page of ORM objects
LISTED = (
    col(Ticket.id),
    col(Ticket.created_at),
    col(Ticket.category),
    col(Ticket.community_id),
    col(Ticket.group_id),
    col(Ticket.department_id),
    col(Ticket.summary),
    col(Ticket.state),
    col(Ticket.handler_id),
    col(Ticket.deadline),
    col(Ticket.rating),
)


def list_tickets(
    session: Session, visible: ColumnElement[bool], wanted: TicketFilter, now: datetime
) -> tuple[list[Row[Any]], bool]:
    """One page of the `visible` tickets (rows of LISTED), newest first, and whether there is more."""
    query = (
        sa_select(*LISTED)
        .where(visible, *wanted.clauses(now))
        .order_by(col(Ticket.id).desc())
        .offset((wanted.page - 1) * PAGE)
        .limit(PAGE + 1)
    )
    rows = list(session.execute(query).all())
    return rows[:PAGE], len(rows) > PAGE


def names(
    session: Session, kind: Any, ids: set[str | None], known: dict[str, str] | None = None
) -> dict[str, str]:
    """Display names for a page's ids: from `known` (the directory), the rest in one query."""
    known = known or {}
    found = {i: known[i] for i in ids if i and i in known}
    wanted = {i for i in ids if i and i not in found}
    if wanted:
        found |= dict(session.execute(sa_select(kind.id, kind.name).where(col(kind.id).in_(wanted))).all())
    return found


@dataclass(frozen=True)
class Directory:
    """The registry's names pages and API answers show (communities, staff, groups, departments), read
    once a minute, not per request."""

    communities: list[tuple[str, str]]  # (id, name), by id
    staff: dict[str, str]
    groups: dict[str, str]
    departments: dict[str, str]
    _options: dict[str, Markup] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def community_names(self) -> dict[str, str]:
        return dict(self.communities)

    def community_options(self, selected: str) -> Markup:
        """The community filter's <option>s, escaped once per directory and choice (a district has over
        a hundred communities; escaping them on every page was a fifth of the ticket list's cost)."""
        key = selected if selected in self.community_names else ""  # anything else selects none
        if key not in self._options:
            option = Markup('<option value="{}"{}>{}</option>')
            chosen = Markup(" selected")
            self._options[key] = Markup("").join(
                option.format(cid, chosen if cid == key else "", name) for cid, name in self.communities
            )
        return self._options[key]


def read_directory(session: Session) -> Directory:
    communities = session.exec(select(Community.id, Community.name).order_by(Community.id)).all()
    staff = session.exec(select(Person.id, Person.name).where(Person.role != Role.RESIDENT)).all()
    groups = session.exec(select(ChatGroup.id, ChatGroup.name)).all()
    departments = session.exec(select(Department.id, Department.name)).all()
    return Directory([(c, n) for c, n in communities], dict(staff), dict(groups), dict(departments))


def day_start(now: datetime) -> datetime:
    shown = local(now)
    return shown.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


@dataclass(frozen=True)
class Overview:
    messages_today: int
    messages_month: int
    new_today: int
    new_month: int
    open_now: int
    overdue_now: int
    resolved_month: int  # of the tickets filed this month, as the report and #统计 count them
    rated_month: int
    satisfied_month: int
    emergencies: list[Ticket]
    hot_topics: list[tuple[str, int]]
    sentiment: list[tuple[str, int, int, int]]  # community, positive, neutral, negative

    @property
    def resolution(self) -> str:
        """本月办结率 (tickets.figures)."""
        return rate_text(resolution_rate(self.resolved_month, self.new_month))

    @property
    def satisfaction(self) -> str:
        """本月满意率 (tickets.figures): residents' own ratings only, not 默认满意."""
        return rate_text(satisfaction_rate(self.satisfied_month, self.rated_month))


def overview(
    session: Session, scope: ColumnElement[bool], communities: list[str] | None, now: datetime
) -> Overview:
    """The big screen's figures over the tickets in `scope` and the groups of `communities` (None: all)."""
    today, month = day_start(now), month_start(now)
    in_scope_groups: ColumnElement[bool] = true()
    if communities is not None:
        in_scope_groups = col(ChatGroup.community_id).in_(communities) if communities else false()
    counted = (
        select(
            func.count().filter(col(Message.sent_at) >= today),
            func.count(),
        )
        .select_from(Message)
        .join(ChatGroup, col(ChatGroup.id) == col(Message.group_id))
        .where(col(Message.sent_at) >= month, speech(), in_scope_groups)
    )
    messages_today, messages_month = session.exec(counted).one()
    new_today, new_month, open_now, overdue_now, resolved_month, rated_month, satisfied_month = (
        _ticket_counts(session, scope, today, month, now)
    )
    emergencies = session.exec(
        select(Ticket)
        .where(scope, col(Ticket.urgent).is_(True), col(Ticket.created_at) >= now - timedelta(hours=24))
        .order_by(col(Ticket.id).desc())
        .limit(20)
    ).all()
    hot = session.exec(
        select(Ticket.category, func.count())
        .where(scope, col(Ticket.created_at) >= month)
        .group_by(Ticket.category)
        .order_by(func.count().desc())
        .limit(5)
    ).all()
    feeling = _sentiment_by_community(session, month, in_scope_groups)
    return Overview(
        messages_today,
        messages_month,
        new_today,
        new_month,
        open_now,
        overdue_now,
        resolved_month,
        rated_month,
        satisfied_month,
        list(emergencies),
        [(str(c), int(n)) for c, n in hot],
        [(str(c), int(p or 0), int(n or 0), int(m or 0)) for c, p, n, m in feeling],
    )


def _ticket_counts(
    session: Session, scope: ColumnElement[bool], today: datetime, month: datetime, now: datetime
) -> Row[*tuple[Any, ...]]:
    """Today's and this month's tickets in `scope`, open and overdue ones, and this month's outcomes:
    one query."""
    open_states = col(Ticket.state).in_(OPEN_STATES)
    filed_month = col(Ticket.created_at) >= month
    tickets = sa_select(
        func.count().filter(col(Ticket.created_at) >= today),
        func.count().filter(filed_month),
        func.count().filter(open_states),
        func.count().filter(open_states, col(Ticket.deadline) < now),
        func.count().filter(filed_month, done()),
        func.count().filter(filed_month, rated()),
        func.count().filter(filed_month, satisfied()),
    ).where(scope)
    return session.execute(tickets).one()


def _sentiment_by_community(
    session: Session, month: datetime, in_scope_groups: ColumnElement[bool]
) -> Sequence[tuple[str, Any, Any, Any]]:
    """This month's labelled messages by community: (name, positive, neutral, negative)."""
    return session.exec(
        select(
            Community.name,
            func.sum(case((col(Message.sentiment) == POSITIVE, 1), else_=0)),
            func.sum(case((col(Message.sentiment) == NEUTRAL, 1), else_=0)),
            func.sum(case((col(Message.sentiment) == NEGATIVE, 1), else_=0)),
        )
        .select_from(Message)
        .join(ChatGroup, col(ChatGroup.id) == col(Message.group_id))
        .join(Community, col(Community.id) == col(ChatGroup.community_id))
        .where(col(Message.sent_at) >= month, col(Message.sentiment).is_not(None), in_scope_groups)
        .group_by(Community.name)
        .order_by(Community.name)
    ).all()
