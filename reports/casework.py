"""What was done about what residents said: tickets (rates, rankings, overdue), consultations, typical cases.

Staff appear by community, role and surname only ("幸福社区 网格员 周某"); a department by its name.
Ticket states are as of the build time: a report built on the 1st shows October's tickets as they stand then.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, or_, select

from consult.models import Consultation, ConsultState, FollowUp
from groups.models import Community, Department, ModerationExempt, Person, Role, Street
from groups.scope import ScopeKind
from reports.figures import UNREGISTERED, Compared
from reports.names import NameMask
from reports.period import Month, Scope
from reports.topics import quote_text as excerpt
from tickets.figures import DONE, done, rate_columns, resolution_rate, satisfaction_rate
from tickets.models import Rating, Ticket, TicketReporter
from tickets.stats import seconds_between, ticket_figures

OVERDUE_SHOWN = 15
# how staff close a ticket that was not a real problem: never a typical case
FALSE_ALARM = ("误报", "不属实", "虚惊", "非紧急", "无需处理", "不是紧急")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NICKNAME_PREFIX = ("小", "老", "阿")


@dataclass(frozen=True)
class Handling:
    """Ticket counts of one unit (street, community, handler) and its rates."""

    name: str
    total: int
    resolved: int
    on_time: int
    rated: int
    satisfied: int
    hours_to_resolve: float | None

    @property
    def resolution_rate(self) -> float | None:
        return resolution_rate(self.resolved, self.total)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None

    @property
    def satisfaction_rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.rated)


@dataclass(frozen=True)
class OverdueTicket:
    number: int
    category: str
    community: str
    handler: str
    days_overdue: int
    summary: str


@dataclass(frozen=True)
class TicketSection:
    total: Compared
    resolution_rate: Compared
    on_time_rate: float | None
    satisfaction_rate: float | None
    default_satisfied: int
    avg_hours_to_resolve: float | None
    avg_hours_to_accept: float | None
    urgent: int
    merged_reports: int
    by_category: list[tuple[str, int]]
    overdue_total: int
    overdue: list[OverdueTicket]
    streets: list[Handling]
    communities: list[Handling]
    handlers: list[Handling]
    community_rows: dict[str | None, Handling]


@dataclass(frozen=True)
class ConsultationRow:
    number: int
    topic: str
    place: str
    state: str
    turnout: float | None
    outcome: str
    follow_ups: int
    follow_ups_done: int


@dataclass(frozen=True)
class ConsultSection:
    held: int
    closed: int
    passed: int
    mean_turnout: float | None
    follow_ups: int
    rows: list[ConsultationRow]


@dataclass(frozen=True)
class Case:
    """A typical case: a short title and a few sentences, with no names or numbers of residents."""

    title: str
    text: str


def staff_label(name: str, role_label: str, community: str = "") -> str:
    """'幸福社区 网格员 周某' from a person's name: the surname only, never the full name."""
    chars = _HAN.findall(name)
    if len(chars) > 1 and chars[0] in _NICKNAME_PREFIX:
        chars = chars[1:]
    surname = f" {chars[0]}某" if chars else ""
    return f"{community + ' ' if community else ''}{role_label}{surname}".strip()


def _columns() -> tuple[Any, ...]:
    return (
        *rate_columns(),
        func.sum(case((done() & (col(Ticket.resolved_at) <= col(Ticket.deadline)), 1), else_=0)),
        func.avg(seconds_between(Ticket.created_at, Ticket.resolved_at)),
    )


def _handling(name: str, row: tuple[Any, ...]) -> Handling:
    total, resolved, rated, satisfied, on_time, seconds = row
    return Handling(
        name,
        int(total or 0),
        int(resolved or 0),
        int(on_time or 0),
        int(rated or 0),
        int(satisfied or 0),
        float(seconds) / 3600 if seconds is not None else None,
    )


def _merge(name: str, parts: list[Handling]) -> Handling:
    hours = [(p.hours_to_resolve, p.resolved) for p in parts if p.hours_to_resolve is not None and p.resolved]
    weight = sum(w for _, w in hours)
    return Handling(
        name,
        sum(p.total for p in parts),
        sum(p.resolved for p in parts),
        sum(p.on_time for p in parts),
        sum(p.rated for p in parts),
        sum(p.satisfied for p in parts),
        sum(h * w for h, w in hours) / weight if weight else None,
    )


def _ranked(rows: list[Handling]) -> list[Handling]:
    return sorted(rows, key=lambda h: (-(h.resolution_rate or 0), -h.total, h.name))


def ticket_section(
    session: Session, month: Month, scope: Scope, now: datetime, people: NameMask | None = None
) -> TicketSection:
    people = people if people is not None else NameMask.from_registry(session)
    ids = list(scope.community_ids) if scope.community_ids is not None else None
    figures = ticket_figures(session, month.start, month.end, ids)
    before = ticket_figures(session, month.shift(-1).start, month.shift(-1).end, ids)
    last_year = ticket_figures(session, month.shift(-12).start, month.shift(-12).end, ids)
    where = [col(Ticket.created_at) >= month.start, col(Ticket.created_at) < month.end]
    if ids is not None:
        where.append(col(Ticket.community_id).in_(ids))

    names = _community_names(session)
    by_community = _by_community(session, where, names)
    streets: dict[str, list[Handling]] = defaultdict(list)
    for cid, handling in by_community.items():
        streets[names.get(cid, ("", "（未归属街道）"))[1]].append(handling)
    handlers = _by_handler(session, where, names)
    overdue_total, overdue = _overdue(session, where, now, names, people)
    return TicketSection(
        total=Compared(figures.total, before.total or None, last_year.total or None),
        resolution_rate=Compared(
            figures.resolution_rate or 0.0, before.resolution_rate, last_year.resolution_rate
        ),
        on_time_rate=figures.on_time_rate,
        satisfaction_rate=figures.satisfaction_rate,
        default_satisfied=figures.default_satisfied,
        avg_hours_to_resolve=figures.avg_hours_to_resolve,
        avg_hours_to_accept=figures.avg_hours_to_accept,
        urgent=figures.urgent,
        merged_reports=figures.merged_reports,
        by_category=sorted(figures.by_category.items(), key=lambda kv: (-kv[1], kv[0])),
        overdue_total=overdue_total,
        overdue=overdue,
        streets=_ranked([_merge(name, parts) for name, parts in streets.items()]),
        communities=_ranked(list(by_community.values())),
        handlers=handlers,
        community_rows=by_community,
    )


def _community_names(session: Session) -> dict[Any, tuple[str, str]]:
    """Each community's name and its street's name, by community id."""
    return {
        cid: (name, street)
        for cid, name, street in session.exec(
            select(Community.id, Community.name, Street.name).join(
                Street, col(Street.id) == col(Community.street_id)
            )
        ).all()
    }


def _by_community(
    session: Session, where: list[Any], names: dict[Any, tuple[str, str]]
) -> dict[str | None, Handling]:
    return {
        cid: _handling(names.get(cid, (UNREGISTERED, ""))[0], tuple(rest))
        for cid, *rest in session.exec(
            select(Ticket.community_id, *_columns()).where(*where).group_by(col(Ticket.community_id))  # type: ignore[call-overload]
        ).all()
    }


def _by_handler(session: Session, where: list[Any], names: dict[Any, tuple[str, str]]) -> list[Handling]:
    """Handlers (staff or departments) ranked; two staff with one label are shown together rather than
    told apart."""
    handler_rows = session.exec(
        select(Ticket.handler_id, Ticket.department_id, *_columns())  # type: ignore[call-overload]
        .where(*where)
        .group_by(col(Ticket.handler_id), col(Ticket.department_id))
    ).all()
    handlers = [_handling(_handler_name(session, h, d, names), tuple(rest)) for h, d, *rest in handler_rows]
    merged: dict[str, list[Handling]] = defaultdict(list)
    for h in handlers:
        merged[h.name].append(h)
    return _ranked([_merge(name, parts) for name, parts in merged.items()])


def _overdue(
    session: Session, where: list[Any], now: datetime, names: dict[Any, tuple[str, str]], people: NameMask
) -> tuple[int, list[OverdueTicket]]:
    """How many of the month's tickets are open past their deadline, and the longest overdue of them."""
    overdue_where = [*where, col(Ticket.state).not_in([s.value for s in DONE]), col(Ticket.deadline) < now]
    overdue_total = int(session.exec(select(func.count()).select_from(Ticket).where(*overdue_where)).one())
    overdue = [
        OverdueTicket(
            t.number,
            t.category,
            names.get(t.community_id or "", (UNREGISTERED, ""))[0],
            _handler_name(session, t.handler_id, t.department_id, names),
            max(0, (now - t.deadline).days),
            excerpt(t.summary, 36, people),
        )
        for t in session.exec(
            select(Ticket).where(*overdue_where).order_by(col(Ticket.deadline)).limit(OVERDUE_SHOWN)
        )
    ]
    return overdue_total, overdue


def _handler_name(
    session: Session, handler_id: str | None, department_id: str | None, names: dict[Any, tuple[str, str]]
) -> str:
    if department_id is not None and (department := session.get(Department, department_id)) is not None:
        return department.name
    person = session.get(Person, handler_id) if handler_id else None
    if person is None:
        return "（未分派）"
    community = names.get(person.community_id, ("", ""))[0] if person.community_id else ""
    return staff_label(person.name, person.role.label, community)


def _consult_where(scope: Scope) -> list[Any]:
    if scope.community_ids is None:
        return []
    streets = select(Community.street_id).where(col(Community.id).in_(scope.community_ids))
    return [
        (
            (col(Consultation.scope_kind) == ScopeKind.COMMUNITY.value)
            & col(Consultation.scope_id).in_(scope.community_ids)
        )
        | (
            (col(Consultation.scope_kind) == ScopeKind.GROUP.value)
            & col(Consultation.scope_id).in_(scope.group_ids or ())
        )
        | (
            (col(Consultation.scope_kind) == ScopeKind.STREET.value)
            & col(Consultation.scope_id).in_(streets)
            & (scope.kind != "community")
        )
    ]


_STATES = {
    ConsultState.DISCUSSING: "讨论中",
    ConsultState.VOTING: "投票中",
    ConsultState.CLOSED: "已表决",
    ConsultState.CANCELLED: "未表决",
}


def consult_section(session: Session, month: Month, scope: Scope) -> ConsultSection:
    consultations = session.exec(
        select(Consultation)
        .where(
            col(Consultation.opened_at) >= month.start,
            col(Consultation.opened_at) < month.end,
            *_consult_where(scope),
        )
        .order_by(col(Consultation.opened_at))
    ).all()
    done = [s.value for s in DONE]
    follow: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if consultations:
        for cid, state in session.exec(
            select(FollowUp.consultation_id, Ticket.state)
            .join(Ticket, col(Ticket.id) == col(FollowUp.ticket_id))
            .where(col(FollowUp.consultation_id).in_([c.id for c in consultations]))
        ).all():
            follow[cid][0] += 1
            follow[cid][1] += 1 if state in done else 0
    rows = []
    for c in consultations:
        result = c.result or {}
        turnout = result.get("turnout")
        rows.append(
            ConsultationRow(
                c.number,
                excerpt(c.topic, 30),
                c.scope_name or c.scope_id,
                _STATES.get(c.state, str(c.state)),
                float(turnout) if turnout is not None else None,
                excerpt(c.decision, 40) if c.decision else "—",
                follow[c.number][0],
                follow[c.number][1],
            )
        )
    turnouts = [r.turnout for r in rows if r.turnout is not None]
    return ConsultSection(
        held=len(rows),
        closed=sum(1 for c in consultations if c.state is ConsultState.CLOSED),
        passed=sum(1 for c in consultations if c.passed),
        mean_turnout=sum(turnouts) / len(turnouts) if turnouts else None,
        follow_ups=sum(r.follow_ups for r in rows),
        rows=rows,
    )


def _hours(start: datetime, end: datetime | None) -> str:
    if end is None:
        return "尚未办结"
    hours = (end - start).total_seconds() / 3600
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def typical_cases(
    session: Session, month: Month, scope: Scope, consult: ConsultSection, people: NameMask | None = None
) -> list[Case]:
    """Up to three: the issue most residents raised, the fastest emergency, a consultation that led to action.
    The tickets are real ones: raised by residents (not staff or the property desk), resolved, not rated
    不满意, and not closed by staff as a false alarm."""
    where = _real_resolved(month, scope)
    people = people if people is not None else NameMask.from_registry(session)
    community = dict(session.exec(select(Community.id, Community.name)).all())
    found = (
        _crowd_case(session, where, community, people),
        _fast_case(session, where, community, people),
        _consult_case(consult),
    )
    return [case for case in found if case is not None]


def _real_resolved(month: Month, scope: Scope) -> list[Any]:
    """The month's resolved tickets that count as typical cases (see `typical_cases`)."""
    residents = select(Person.id).where(
        Person.role == Role.RESIDENT, col(Person.id).not_in(select(ModerationExempt.person_id))
    )
    where = [
        col(Ticket.created_at) >= month.start,
        col(Ticket.created_at) < month.end,
        col(Ticket.resolved_at).is_not(None),
        col(Ticket.reporter_id).in_(residents),
        or_(col(Ticket.rating).is_(None), col(Ticket.rating) != Rating.UNSATISFIED),
        *(col(Ticket.resolution).not_like(f"%{word}%") for word in FALSE_ALARM),
    ]
    if scope.community_ids is not None:
        where.append(col(Ticket.community_id).in_(scope.community_ids))
    return where


def _crowd_case(
    session: Session, where: list[Any], community: dict[Any, str], people: NameMask
) -> Case | None:
    """The ticket most residents reported (two at least)."""
    reporters = (
        select(TicketReporter.ticket_id, func.count(func.distinct(TicketReporter.person_id)).label("n"))
        .group_by(col(TicketReporter.ticket_id))
        .subquery()
    )
    crowd = session.exec(
        select(Ticket, reporters.c.n)
        .join(reporters, reporters.c.ticket_id == col(Ticket.id))
        .where(*where, reporters.c.n >= 2)
        .order_by(reporters.c.n.desc(), col(Ticket.id))
        .limit(1)
    ).first()
    if crowd is None:
        return None
    t, n = crowd
    return Case(
        "多人反映的同一问题",
        f"{community.get(t.community_id or '', '辖区')} {n} 位居民先后反映“{excerpt(t.summary, 40, people)}”"
        f"（{t.category}），小棲合并为 {t.number} 号工单统一办理，{_outcome(t)}。",
    )


def _fast_case(
    session: Session, where: list[Any], community: dict[Any, str], people: NameMask
) -> Case | None:
    """The emergency resolved fastest."""
    fast = session.exec(
        select(Ticket)
        .where(*where, col(Ticket.urgent).is_(True), col(Ticket.accepted_at).is_not(None))
        .order_by(seconds_between(Ticket.created_at, Ticket.resolved_at), col(Ticket.id))
        .limit(1)
    ).first()
    if fast is None:
        return None
    return Case(
        "紧急情况快速处置",
        f"{community.get(fast.community_id or '', '辖区')}居民在群里报告“{excerpt(fast.summary, 40, people)}”，"
        f"小棲识别为紧急情况并立即派单，{_hours(fast.created_at, fast.accepted_at)}内签收，"
        f"{_hours(fast.created_at, fast.resolved_at)}办结。",
    )


def _consult_case(consult: ConsultSection) -> Case | None:
    """The consultation whose follow-up tickets got most done."""
    acted = [r for r in consult.rows if r.follow_ups]
    if not acted:
        return None
    r = max(acted, key=lambda r: (r.follow_ups_done, r.turnout or 0, -r.number))
    turnout = f"参与率 {r.turnout:.0%}，" if r.turnout is not None else ""
    return Case(
        "协商议事促成行动",
        f"{r.place}就“{r.topic}”开展协商议事，{turnout}结果：{r.outcome.rstrip('。')}。"
        f"据此派出 {r.follow_ups} 件落实工单，已办结 {r.follow_ups_done} 件，进展已在群里回告居民。",
    )


def _outcome(t: Ticket) -> str:
    if t.resolved_at is None:
        return f"目前{t.state.value}"
    rating = f"，居民评价“{t.rating.value}”" if t.rating is not None else ""
    return f"用时 {_hours(t.created_at, t.resolved_at)}办结{rating}"
