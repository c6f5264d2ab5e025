"""Ticket figures for the monthly report, in SQL that runs the same on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import Session, col, select

from tickets.figures import DONE, done, rate_columns, resolution_rate, satisfaction_rate
from tickets.models import Rating, Ticket


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@dataclass(frozen=True)
class TicketFigures:
    total: int
    by_state: dict[str, int]
    by_category: dict[str, int]
    by_community: dict[str, int]
    by_handler: dict[str, int]
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied: int
    default_satisfied: int
    reopened: int
    merged_reports: int
    urgent: int
    avg_hours_to_accept: float | None
    avg_hours_to_resolve: float | None
    overdue: list[tuple[int, str, str, datetime]]  # number, category, handler id, deadline

    @property
    def resolution_rate(self) -> float | None:
        """办结率 (tickets.figures)."""
        return resolution_rate(self.resolved, self.total)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: resolved by the deadline among the resolved."""
        return self.resolved_on_time / self.resolved if self.resolved else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 (tickets.figures): residents' own ratings only; 默认满意 is counted apart."""
        return satisfaction_rate(self.satisfied, self.rated)


def _grouped(session: Session, column: Any, where: list[ColumnElement[bool]]) -> dict[str, int]:
    rows = session.exec(select(column, func.count()).where(*where).group_by(column)).all()
    return {str(key): int(n) for key, n in rows if key is not None}


def ticket_figures(
    session: Session, start: datetime, end: datetime, community_ids: list[str] | None = None
) -> TicketFigures:
    """Figures for tickets filed in [start, end), optionally only in some communities."""
    where: list[ColumnElement[bool]] = [col(Ticket.created_at) >= start, col(Ticket.created_at) < end]
    if community_ids is not None:
        where.append(col(Ticket.community_id).in_(community_ids))
    row = session.exec(
        select(  # type: ignore[call-overload]
            *rate_columns(),
            func.sum(case((done() & (col(Ticket.resolved_at) <= col(Ticket.deadline)), 1), else_=0)),
            func.sum(case((col(Ticket.rating) == Rating.DEFAULT.value, 1), else_=0)),
            func.coalesce(func.sum(Ticket.reopened), 0),
            func.coalesce(func.sum(Ticket.reporters - 1), 0),
            func.sum(case((col(Ticket.urgent).is_(True), 1), else_=0)),
            func.avg(seconds_between(Ticket.created_at, Ticket.accepted_at)),
            func.avg(seconds_between(Ticket.created_at, Ticket.resolved_at)),
        ).where(*where)
    ).one()
    total, resolved, rated, good, on_time, default, reopened, merged, urgent, to_accept, to_resolve = row
    overdue_rows = session.exec(
        select(Ticket.id, Ticket.category, Ticket.handler_id, Ticket.deadline)
        .where(*where, col(Ticket.state).not_in([s.value for s in DONE]), Ticket.deadline < end)
        .order_by(col(Ticket.deadline))
    ).all()
    return TicketFigures(
        total=int(total or 0),
        by_state=_grouped(session, Ticket.state, where),
        by_category=_grouped(session, Ticket.category, where),
        by_community=_grouped(session, Ticket.community_id, where),
        by_handler=_grouped(session, Ticket.handler_id, where),
        resolved=int(resolved or 0),
        resolved_on_time=int(on_time or 0),
        rated=int(rated or 0),
        satisfied=int(good or 0),
        default_satisfied=int(default or 0),
        reopened=int(reopened or 0),
        merged_reports=int(merged or 0),
        urgent=int(urgent or 0),
        avg_hours_to_accept=float(to_accept) / 3600 if to_accept is not None else None,
        avg_hours_to_resolve=float(to_resolve) / 3600 if to_resolve is not None else None,
        overdue=[(int(i or 0), str(c), str(h or ""), d) for i, c, h, d in overdue_rows],
    )
