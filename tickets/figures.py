"""办结率 and 满意率, defined once for the console, the chat's #统计 and the monthly report.

Both are over the tickets *filed* in a period, in their state as of the moment they are counted.
满意率 is residents' own verdicts only: 满意 or 基本满意 among the tickets a resident rated (满意, 基本满意,
不满意). A ticket closed without a rating (默认满意) says nothing about how residents felt, so it is
neither satisfied nor rated; the report shows how many there were beside the rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from tickets.models import Rating, Ticket, TicketState

DONE: tuple[TicketState, ...] = (TicketState.RESOLVED, TicketState.CLOSED)
RESIDENT_RATINGS: tuple[Rating, ...] = (Rating.SATISFIED, Rating.BASICALLY, Rating.UNSATISFIED)
SATISFIED_RATINGS: tuple[Rating, ...] = (Rating.SATISFIED, Rating.BASICALLY)


def is_done(state: TicketState) -> bool:
    return state in DONE


def is_rated(rating: Rating | None) -> bool:
    """Whether a resident rated the ticket (默认满意 is no resident's rating)."""
    return rating in RESIDENT_RATINGS


def is_satisfied(rating: Rating | None) -> bool:
    return rating in SATISFIED_RATINGS


def done() -> ColumnElement[bool]:
    """SQL: the ticket is resolved or closed (counts as 办结)."""
    return col(Ticket.state).in_([s.value for s in DONE])


def rated() -> ColumnElement[bool]:
    """SQL: a resident rated the ticket (the denominator of 满意率)."""
    return col(Ticket.rating).in_([r.value for r in RESIDENT_RATINGS])


def satisfied() -> ColumnElement[bool]:
    """SQL: a resident rated it 满意 or 基本满意 (the numerator of 满意率)."""
    return col(Ticket.rating).in_([r.value for r in SATISFIED_RATINGS])


def resolution_rate(resolved: int, filed: int) -> float | None:
    """办结率: resolved or closed among the tickets filed; None without tickets."""
    return resolved / filed if filed else None


def satisfaction_rate(satisfied: int, rated: int) -> float | None:
    """满意率: 满意 or 基本满意 among the tickets residents rated; None without ratings."""
    return satisfied / rated if rated else None


def rate_text(rate: float | None) -> str:
    """A rate as every screen shows it: '66.7%', or '—' when there is nothing to count."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def rate_columns() -> tuple[Any, ...]:
    """Aggregates (filed, resolved, rated, satisfied) over the selected tickets, for one grouped query."""
    return (
        func.count(),
        func.sum(case((done(), 1), else_=0)),
        func.sum(case((rated(), 1), else_=0)),
        func.sum(case((satisfied(), 1), else_=0)),
    )


@dataclass(frozen=True)
class TicketRates:
    filed: int
    resolved: int
    rated: int
    satisfied: int

    @classmethod
    def from_row(cls, row: Any) -> TicketRates:
        """From the values of `rate_columns()` (sums are None over no rows)."""
        filed, resolved, rated_, satisfied_ = row
        return cls(int(filed or 0), int(resolved or 0), int(rated_ or 0), int(satisfied_ or 0))

    @property
    def resolution_rate(self) -> float | None:
        return resolution_rate(self.resolved, self.filed)

    @property
    def satisfaction_rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.rated)


def ticket_rates(session: Session, where: list[ColumnElement[bool]]) -> TicketRates:
    """The rates over the tickets matching `where` (the caller's period of filing and scope)."""
    return TicketRates.from_row(session.exec(select(*rate_columns()).where(*where)).one())  # type: ignore[call-overload]
