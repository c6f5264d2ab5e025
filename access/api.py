"""What an external system holding an Open311 API key may read: the tickets it filed itself (or joined
with a call about a problem already reported), or every ticket when it is the district's 12345 hub (its
client has `read_all`)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tickets.models import Ticket, TicketReporter


class ApiClient(Protocol):
    """What the rules read of an API client (web.models.ApiClient)."""

    id: int | None
    read_all: bool


# an API-filed report's message id: open311:<client id>:<the client's idempotency key or a uuid>
SOURCE_PREFIX = "open311:"


def source_of(client: ApiClient, key: str) -> str:
    return f"{SOURCE_PREFIX}{client.id}:{key}"


def _prefix(client: ApiClient) -> str:
    return source_of(client, "")


def _reported_by(client: ApiClient) -> SelectOfScalar[int]:
    """The tickets a report of `client` opened or joined (a merged call is one more reporter)."""
    return select(TicketReporter.ticket_id).where(
        col(TicketReporter.message_id).startswith(_prefix(client), autoescape=True)
    )


def api_reads(client: ApiClient, ticket_id: Any = None) -> ColumnElement[bool]:
    """The tickets `client` may read, as a WHERE clause on Ticket (or on another table's ticket id
    column, such as TicketEvent.ticket_id for the change feed)."""
    if client.read_all:
        return true()
    return (col(Ticket.id) if ticket_id is None else ticket_id).in_(_reported_by(client))


def api_may_read(session: Session, client: ApiClient, ticket_id: int) -> bool:
    """Whether `client` may read this ticket; callers answer "not found" when not, as for a missing one."""
    if client.read_all:
        return True
    mine = _reported_by(client).where(col(TicketReporter.ticket_id) == ticket_id).limit(1)
    return session.exec(mine).first() is not None


def api_filed(client: ApiClient, source_message_id: str) -> bool:
    """Whether `client` itself filed the ticket (it sent the ticket's words, so it may read them back)."""
    return source_message_id.startswith(_prefix(client))
