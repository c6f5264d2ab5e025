"""Finding a ticket by its number, and refusing an action its state does not allow."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from core.errors import XiaoqiError
from core.numbers import bare_number, record_id
from tickets.models import Ticket, TicketState


def get_ticket(session: Session, number: str | int) -> Ticket:
    text = bare_number(str(number))
    ticket_id = record_id(text)
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise XiaoqiError(f"没有找到{text}号工单，请核对编号。")
    return ticket


def require_state(ticket: Ticket, allowed: Sequence[TicketState], doing: str) -> None:
    if ticket.state not in allowed:
        raise XiaoqiError(f"{ticket.id}号工单现在是“{ticket.state.value}”，不能{doing}。")
