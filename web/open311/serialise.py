"""Tickets as GeoReport service requests: one query's columns, and the JSON a client reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from access.api import api_filed
from core.clock import iso_local
from core.privacy import mask_private_numbers
from groups.models import ChatGroup, Community, Department, Person
from tickets.models import Ticket, TicketEvent, TicketReporter
from tickets.texts import when
from web.models import ApiClient
from web.open311.params import status as status_of
from web.open311.public import public_description
from web.open311.services import CODE_OF
from web.queries import LISTED, Directory, names

_NO_PLACE = dict.fromkeys(("address_id", "zipcode", "lat", "long", "media_url"))
UPDATED = (  # when a ticket last changed: its newest event
    sa_select(func.max(TicketEvent.at))
    .where(col(TicketEvent.ticket_id) == col(Ticket.id))
    .correlate(Ticket)
    .scalar_subquery()
    .label("updated_at")
)


SERVICE_REQUEST = (*LISTED, col(Ticket.source_message_id), UPDATED)  # what a service request is read from


def _reporter_names(session: Session, ticket_ids: set[int]) -> dict[int, list[str]]:
    """The names of the people who reported these tickets, to be left out of what they read as."""
    found: dict[int, list[str]] = {}
    if ticket_ids:
        rows = session.execute(
            sa_select(col(TicketReporter.ticket_id), col(Person.name))
            .join(Person, col(Person.id) == col(TicketReporter.person_id))
            .where(col(TicketReporter.ticket_id).in_(ticket_ids), col(Person.name) != "")
        ).all()
        for ticket_id, name in rows:
            found.setdefault(ticket_id, []).append(name)
    return found


def render(
    session: Session, tickets: Sequence[Any], known: Directory, client: ApiClient
) -> list[dict[str, Any]]:
    """GeoReport service requests from rows of SERVICE_REQUEST; names from the directory (a query only
    for what it does not know yet). The system that filed a ticket reads its own words back (numbers
    masked); any other reads the public description."""
    communities = names(session, Community, {t.community_id for t in tickets}, known.community_names)
    groups = names(session, ChatGroup, {t.group_id for t in tickets}, known.groups)
    departments = names(session, Department, {t.department_id for t in tickets}, known.departments)
    own = {t.id for t in tickets if api_filed(client, t.source_message_id)}
    reporters = _reporter_names(session, {t.id for t in tickets} - own)
    out = []
    for t in tickets:
        description = (
            mask_private_numbers(t.summary)
            if t.id in own
            else public_description(t.category, t.summary, reporters.get(t.id, ()))
        )
        community = communities.get(t.community_id or "")
        agency = departments.get(t.department_id or "") or community or "社区"
        where = " ".join(p for p in (community, groups.get(t.group_id or "")) if p) or None
        rating = f"（{t.rating.value}）" if t.rating is not None else ""
        status = status_of(t.state)
        notice = f"由{agency}办理，{when(t.deadline)}前答复" if status == "open" else f"{agency}已办结"
        out.append(
            {
                "service_request_id": str(t.id),
                "status": status,
                "status_notes": f"{t.state.value}{rating}",
                "service_name": t.category,
                "service_code": CODE_OF.get(t.category, "other"),
                "description": description,
                "agency_responsible": agency,
                "service_notice": notice,
                "requested_datetime": iso_local(t.created_at),
                "updated_datetime": iso_local(max(t.updated_at or t.created_at, t.created_at)),
                "expected_datetime": iso_local(t.deadline),
                "address": where,
                **_NO_PLACE,
            }
        )
    return out
