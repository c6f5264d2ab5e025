"""Who was told of an emergency ticket: any of them may accept it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from groups.models import Person
from tickets.models import Ticket, TicketAlerted


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
