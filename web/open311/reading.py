"""Reading tickets: service requests by filter or id, one request, and the feed of changes.

A key reads only the tickets its system filed, unless it is the district's hub (access.api)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import ColumnElement, Select
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from access.api import api_may_read, api_reads
from core.clock import iso_local
from core.numbers import record_id
from tickets.models import Ticket, TicketEvent
from web.deps import DbSession, Known, Now
from web.models import ApiClient
from web.open311 import params
from web.open311.clients import Client
from web.open311.protocol import GeoReportRoute, JSONResponse, Open311Error
from web.open311.serialise import SERVICE_REQUEST, render

DEFAULT_WINDOW = timedelta(days=90)  # GeoReport: without dates, the last 90 days
MAX_RESULTS = 1000
DEFAULT_PAGE = 100  # a page a client reads at once; up to MAX_RESULTS with page_size
MAX_IDS = 100
router = APIRouter(route_class=GeoReportRoute)


def _filters(
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    now: datetime,
) -> list[ColumnElement[bool]]:
    """GeoReport's filters as conditions on tickets (without dates, the last DEFAULT_WINDOW)."""
    categories, states = params.codes(service_code), params.states(status)
    start, end = params.date(start_date, "start_date"), params.date(end_date, "end_date")
    if start is None and end is None:
        start = now - DEFAULT_WINDOW
    if start is not None and end is not None and start > end:
        raise Open311Error(400, "start_date 不能晚于 end_date")
    found: list[ColumnElement[bool]] = []
    found += [col(Ticket.created_at) >= start] if start is not None else []
    found += [col(Ticket.created_at) <= end] if end is not None else []
    found += [col(Ticket.category).in_(categories)] if categories else []
    return found + ([col(Ticket.state).in_(states)] if states else [])


@router.get("/requests.json", summary="查询工单")
def requests(
    session: DbSession,
    client: Client,
    known: Known,
    now: Now,
    service_request_id: str | None = Query(None, description="逗号分隔，最多 100 个；给出时忽略其他条件"),
    service_code: str | None = Query(None),
    start_date: str | None = Query(None, description="ISO 8601；不给日期时为最近 90 天"),
    end_date: str | None = Query(None),
    status: str | None = Query(None, description="open、closed，可逗号分隔"),
    page: str | None = Query(None, description="扩展：页码，从 1 开始"),
    page_size: str | None = Query(None, description="扩展：每页条数，默认 100，最多 1000"),
) -> Response:
    number = params.number(page, "page", 1, 100_000, 1)
    size = params.number(page_size, "page_size", 1, MAX_RESULTS, DEFAULT_PAGE)
    query = sa_select(*SERVICE_REQUEST).where(api_reads(client))
    if params.items(service_request_id):
        ids = [record_id(item) for item in params.items(service_request_id)]
        if len(ids) > MAX_IDS or None in ids:
            raise Open311Error(400, "service_request_id 须为逗号分隔的工单号，最多 100 个")
        query = query.where(col(Ticket.id).in_(ids))
    else:
        query = query.where(*_filters(service_code, start_date, end_date, status, now))
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    tickets = session.execute(query.offset((number - 1) * size).limit(size)).all()
    return JSONResponse(render(session, tickets, known, client))


@router.get("/requests/{service_request_id}.json", summary="查询一张工单")
def request(service_request_id: str, session: DbSession, client: Client, known: Known) -> Response:
    number = record_id(service_request_id)
    wanted = sa_select(*SERVICE_REQUEST).where(col(Ticket.id) == number)
    found = session.execute(wanted).all() if number else []
    if not found or not api_may_read(session, client, found[0].id):  # another's: as if missing
        raise Open311Error(404, "没有这个工单")
    return JSONResponse(render(session, found, known, client))


def _changes_after(cursor: int, size: int, client: ApiClient) -> Select[Any]:
    """Ticket events after the cursor that the client may read, each with the state it left the ticket in."""
    earlier = aliased(TicketEvent)
    state_after = (  # events that change no state (补充) report the state they left the ticket in
        select(earlier.to_state)
        .where(
            earlier.ticket_id == TicketEvent.ticket_id,
            col(earlier.to_state).is_not(None),
            col(earlier.id) <= TicketEvent.id,
        )
        .order_by(col(earlier.id).desc())
        .limit(1)
        .correlate(TicketEvent)
        .scalar_subquery()
    )
    return (
        sa_select(
            col(TicketEvent.id),
            col(TicketEvent.ticket_id),
            col(TicketEvent.at),
            col(TicketEvent.action),
            col(TicketEvent.from_state),
            col(TicketEvent.to_state),
            state_after,
        )
        .where(col(TicketEvent.id) > cursor, api_reads(client, col(TicketEvent.ticket_id)))
        .order_by(col(TicketEvent.id))
        .limit(size)
    )


@router.get("/changes.json", summary="工单变动（导出，按 cursor 轮询）")
def changes(
    session: DbSession,
    client: Client,
    since: Annotated[str | None, Query(description="上次返回的 next；从头开始为 0")] = None,
    limit: Annotated[str | None, Query(description="最多 1000，默认 500")] = None,
) -> Response:
    cursor = params.number(since, "since", 0, 2**31 - 1, 0)
    size = params.number(limit, "limit", 1, MAX_RESULTS, 500)
    rows = session.execute(_changes_after(cursor, size, client)).all()
    items = [
        {
            "cursor": cursor_,
            "service_request_id": str(ticket_id),
            "at": iso_local(at),
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "status": params.status(after),
        }
        for cursor_, ticket_id, at, action, from_state, to_state, after in rows
    ]
    return JSONResponse({"changes": items, "next": items[-1]["cursor"] if items else cursor})
