"""Filing a ticket from a 12345 platform, as the bot files one; a retried Idempotency-Key is not refiled."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from access.api import source_of
from bot.app import App
from core.audit import AuditEntry, record
from core.events import Outgoing, Priority
from core.privacy import mask_private_numbers
from groups.models import EXTERNAL_PERSON_PREFIX, Community, Person, Role
from tickets.models import Ticket, TicketEvent
from tickets.service import file_petition
from tickets.texts import when
from web.deps import DbSession, Known, Now, Web
from web.keys import caller_id
from web.models import ApiClient
from web.open311.clients import CallerKey, authorised
from web.open311.params import codes
from web.open311.protocol import GeoReportRoute, JSONResponse, Open311Error
from web.open311.serialise import SERVICE_REQUEST, render
from web.queries import Directory

MAX_DESCRIPTION = 2000
MAX_FIELD = 100  # names, phone, email, ids, the idempotency key
MAX_ADDRESS = 500
FILED_ACTION = "Open311建单"
DEFAULT_NAME = "12345来电"
IDEMPOTENCY_WINDOW = timedelta(days=7)  # how long a retried POST's Idempotency-Key is recognised
router = APIRouter(route_class=GeoReportRoute)


def _text(fields: dict[str, str], name: str, limit: int = MAX_FIELD) -> str:
    value = fields.get(name, "").replace("\x00", "").strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} 最多 {limit} 个字符")
    return value


def _coordinate(fields: dict[str, str], name: str, bound: float) -> float | None:
    if not fields.get(name, "").strip():
        return None
    try:
        value = float(fields[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"{name} 不是有效的坐标")
    return value


def _reporter(
    session: Session, client: ApiClient, fields: dict[str, str], community: str | None, secret: bytes
) -> Person:
    """The caller as a person (reused by phone, email or account), unregistered, outside WeChat."""
    who = _text(fields, "phone") or _text(fields, "email").lower() or _text(fields, "account_id")
    tail = caller_id(secret, who) if who else uuid.uuid4().hex[:16]
    person_id = f"{EXTERNAL_PERSON_PREFIX}{client.name}:{tail}"
    person = session.get(Person, person_id) or Person(id=person_id, role=Role.RESIDENT, registered=False)
    person.name = (_text(fields, "last_name") + _text(fields, "first_name"))[:50] or DEFAULT_NAME
    person.community_id = community
    session.add(person)
    session.flush()
    return person


def _petition(fields: dict[str, str]) -> tuple[str, str, str]:
    """The category, the text as staff read it (with the caller's contacts) and its public part."""
    code = _text(fields, "service_code")
    if not code:
        raise Open311Error(400, "缺少 service_code")
    category = codes(code)[0]
    description = _text(fields, "description", MAX_DESCRIPTION)
    if not description:
        raise Open311Error(400, "缺少 description")
    address = _text(fields, "address_string", MAX_ADDRESS)
    lat, long = _coordinate(fields, "lat", 90), _coordinate(fields, "long", 180)
    if not address and (lat is None or long is None):
        raise Open311Error(400, "须提供 address_string 或 lat/long")
    public = description + (f"（地址：{address}）" if address else "")
    contact = [("电话", _text(fields, "phone")), ("邮箱", _text(fields, "email"))]
    if lat is not None and long is not None:
        contact.append(("坐标", f"{lat},{long}"))
    shown = "，".join(f"{label}：{value}" for label, value in contact if value)
    return category, public + (f"（{shown}）" if shown else ""), public


@dataclass(frozen=True)
class Posted:
    """A filing as sent: its fields (the query string's, then the body's) and the headers that matter."""

    fields: dict[str, str]
    header_key: str | None
    idempotency: str | None


async def posted(request: Request) -> Posted:
    """The POST's parameters: form-encoded as GeoReport says, or a JSON object; the query string too."""
    fields = dict(request.query_params)
    items: Iterable[tuple[str, Any]] | None
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            items = body.items() if isinstance(body, dict) else None
        else:
            items = (await request.form()).items()
    except Exception:
        items = None
    if items is None:
        raise Open311Error(400, "请求体无法解析")
    for name, value in items:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Open311Error(400, f"{name} 须为文本")
        fields[name] = str(value)
    return Posted(fields, request.headers.get("x-api-key"), request.headers.get("idempotency-key"))


def _message_id(client: ApiClient, idempotency: str | None) -> str:
    """The filing's source message id: the client's Idempotency-Key, or a fresh one without it."""
    key = (idempotency or "").strip()
    if len(key) > MAX_FIELD or not key.isascii() or not key.isprintable():
        raise Open311Error(400, "Idempotency-Key 须为不超过 100 个字符的 ASCII 文本")
    return source_of(client, key or uuid.uuid4().hex)


def _filed_before(session: Session, actor: str, message_id: str, now: datetime) -> Ticket | None:
    """The ticket an earlier POST with the same Idempotency-Key filed, within IDEMPOTENCY_WINDOW."""
    done = session.exec(
        select(AuditEntry.target).where(
            col(AuditEntry.at) >= now - IDEMPOTENCY_WINDOW,
            AuditEntry.actor_id == actor,
            AuditEntry.action == FILED_ACTION,
            AuditEntry.detail == message_id,
        )
    ).first()
    if done is None:
        return None
    ticket = session.get(Ticket, int(done.removeprefix("ticket:")))
    assert ticket is not None
    return ticket


@dataclass(frozen=True)
class Filing:
    """One POST being filed: who sent it, as which message, when."""

    client: ApiClient
    fields: dict[str, str]
    petition: tuple[str, str, str]  # the category, the text as staff read it and its public part
    message_id: str
    now: datetime


def _file_new(app: App, session: Session, filing: Filing, secret: bytes) -> tuple[Ticket, str]:
    """Files the petition as the bot files one; what the bot would tell the caller is not sent (they
    are not on WeChat: the answer tells them instead). The ticket and the outcome."""
    category, text, public = filing.petition
    now, fields = filing.now, filing.fields
    address = _text(fields, "address_string", MAX_ADDRESS)
    places = session.exec(select(Community.id, Community.name)).all()
    found = max((c for c in places if c[1] and c[1] in address), key=lambda c: len(c[1]), default=None)
    reporter = _reporter(session, filing.client, fields, found[0] if found else None, secret)
    filed = file_petition(
        app.desk,
        session,
        now=now,
        reporter=reporter,
        group=None,
        message_id=filing.message_id,
        text=text,
        intent="诉求",
        category=category,
    )
    ticket = filed.ticket
    notices = [n for n in filed.notices if n.to_id != reporter.id and reporter.id not in n.mentions]
    if filed.outcome == "new":
        ticket.summary = mask_private_numbers(public)  # the caller's contacts are for staff only
    elif filed.outcome == "merged":  # the handler still needs the caller's report and contacts
        session.add(
            TicketEvent(ticket_id=ticket.number, at=now, actor_id=reporter.id, action="补充", note=text)
        )
        if ticket.handler_id is not None:
            notices.append(Outgoing(f"{ticket.id}号工单又收到12345来件：{text}", to_id=ticket.handler_id))
    app.outbox.enqueue(session, notices, at=now, priority=Priority.ALERT)
    return ticket, filed.outcome


def _file(
    app: App, session: Session, sent: Posted, secret: bytes, now: datetime, known: Directory
) -> list[dict[str, Any]]:
    client = authorised(session, sent.header_key, sent.fields.get("api_key"))
    petition = _petition(sent.fields)
    message_id, actor = _message_id(client, sent.idempotency), f"api:{client.name}"
    again = _filed_before(session, actor, message_id, now)
    if again is not None:  # a retry: the ticket it filed, and nothing new
        return _receipt(session, again, "again", client, known)
    ticket, outcome = _file_new(app, session, Filing(client, sent.fields, petition, message_id, now), secret)
    record(
        session, at=now, actor_id=actor, action=FILED_ACTION, target=f"ticket:{ticket.id}", detail=message_id
    )
    return _receipt(session, ticket, outcome, client, known)


def _receipt(
    session: Session, ticket: Ticket, outcome: str, client: ApiClient, known: Directory
) -> list[dict[str, Any]]:
    rows = session.execute(sa_select(*SERVICE_REQUEST).where(col(Ticket.id) == ticket.id)).all()
    (item,) = render(session, rows, known, client)
    if outcome == "follow_up":
        notice = f"已补充到该来电人的{ticket.id}号工单。"
    elif outcome == "merged":
        notice = f"同一问题已有居民反映，已并入{ticket.id}号工单，{item['agency_responsible']}正在办理。"
    else:
        notice = f"已转交{item['agency_responsible']}办理，{when(ticket.deadline)}前答复。"
    return [{"service_request_id": str(ticket.id), "service_notice": notice, "account_id": None}]


_POSTED = "api_key service_code description address_string lat long first_name last_name phone email device_id account_id"
_SCHEMA: dict[str, Any] = {"type": "object", "required": ["service_code", "description"]}
_SCHEMA["properties"] = {name: {"type": "string"} for name in _POSTED.split()}
_FORM = {
    "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _SCHEMA}}}
}


@router.post("/requests.json", status_code=201, summary="提交工单", openapi_extra=_FORM)
def create(
    sent: Annotated[Posted, Depends(posted)],
    web: Web,
    session: DbSession,
    known: Known,
    now: Now,
    secret: CallerKey,
) -> Response:
    try:
        with web.acting() as app:
            receipt = _file(app, session, sent, secret, now, known)
            session.commit()  # under the application's lock: a retry waiting for it finds this filing
    except IntegrityError:  # the same Idempotency-Key, at the same moment, from another process
        session.rollback()
        raise Open311Error(409, "Idempotency-Key 冲突，请稍后重试") from None
    return JSONResponse(receipt, status_code=201)
