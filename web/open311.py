"""Open311 GeoReport v2 (JSON only) for a 12345 hotline platform: the services, reading and filing
tickets, and a feed of ticket changes to poll. The services are public; every other call needs an API
key (only its sha256 is stored), and a key reads only the tickets its system filed, unless it is the
district's hub (`read_all`, access.api).

Nothing here shows a ticket's details as reported (Ticket.details) or staff notes. A ticket reads as its
category and a short topic without names, places or numbers; only the system that filed it gets back
the description it sent, with phone and ID-card numbers masked."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse as StarletteJSON
from fastapi.routing import APIRoute
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from access.api import api_filed, api_may_read, api_reads, source_of
from core.audit import AuditEntry, record
from core.clock import iso_local, parse_time
from core.events import Outgoing, Priority
from core.numbers import record_id
from core.privacy import mask_private_numbers
from groups.models import EXTERNAL_PERSON_PREFIX, ChatGroup, Community, Department, Person, Role
from nlp.labels import CATEGORIES
from reports.names import TOP_SURNAMES, NameMask
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from tickets.service import file_petition
from tickets.texts import topic, when
from web.console import directory
from web.context import WebContext
from web.keys import api_client_for, caller_id, caller_secret
from web.models import ApiClient
from web.queries import LISTED, Directory, names

# code, name (our category, verbatim), description, keywords, group
_SERVICES: tuple[tuple[str, str, str, str, str], ...] = (
    ("property", "物业管理", "电梯、门禁、物业服务、公共维修", "电梯,门禁,物业,维修", "社区服务"),
    ("sanitation", "环境卫生", "垃圾清运、卫生死角、绿化、油烟异味", "垃圾,卫生,绿化,异味", "城市管理"),
    ("municipal", "市政设施", "路灯、道路、井盖、供水排水", "路灯,道路,井盖,水管", "城市管理"),
    ("safety", "治安消防", "消防通道、安全隐患、治安问题", "消防,安全,治安", "平安建设"),
    ("traffic", "交通停车", "停车秩序、非机动车、交通设施", "停车,电动车,交通", "城市管理"),
    ("noise", "噪音扰民", "施工、商铺和生活噪音", "噪音,施工,扰民", "城市管理"),
    ("encroachment", "违建占道", "违章搭建、占道经营、乱堆物", "违建,占道,堆物", "城市管理"),
    ("elderly", "养老助残", "老年人、残疾人的帮扶与服务", "养老,助残,老人", "社区服务"),
    ("government", "政务服务", "开具证明、社保医保、办事咨询", "证明,社保,办事", "社区服务"),
    ("neighbours", "邻里纠纷", "邻里矛盾的调解", "纠纷,邻里,调解", "平安建设"),
    ("other", "其他", "其他社区事务", "其他", "社区服务"),
)
CATEGORY_OF = {code: name for code, name, *_ in _SERVICES}
CODE_OF = {name: code for code, name in CATEGORY_OF.items()}
assert set(CODE_OF) == set(CATEGORIES), "every category needs a service code"
DEFAULT_WINDOW = timedelta(days=90)  # GeoReport: without dates, the last 90 days
MAX_RESULTS = 1000
DEFAULT_PAGE = 100  # a page a client reads at once; up to MAX_RESULTS with page_size
MAX_IDS = 100
MAX_DESCRIPTION = 2000
MAX_FIELD = 100  # names, phone, email, ids, the idempotency key
MAX_ADDRESS = 500
FILED_ACTION = "Open311建单"
_NO_PLACE = dict.fromkeys(("address_id", "zipcode", "lat", "long", "media_url"))
_FIELDS = ("service_code", "service_name", "description", "keywords", "group")
_LIST = [{**dict(zip(_FIELDS, s, strict=True)), "metadata": False, "type": "realtime"} for s in _SERVICES]
DEFAULT_NAME = "12345来电"
IDEMPOTENCY_WINDOW = timedelta(days=7)  # how long a retried POST's Idempotency-Key is recognised


class JSONResponse(StarletteJSON):
    """JSON as starlette writes it (UTF-8, not ASCII-escaped, compact), by orjson: a page of 100
    service requests or 500 changes is serialised several times faster."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Open311Error(HTTPException):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(code, description)


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


class GeoReportRoute(APIRoute):
    """Answers every failure in GeoReport's form [{"code": N, "description": …}]; bad input is 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError:
                response = _error(400, "参数格式不正确")
            except HTTPException as error:
                code = 400 if error.status_code == 422 else error.status_code
                response = _error(code, str(error.detail))
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return guarded


def _authorised(session: Session, *keys: str | None) -> ApiClient:
    client = api_client_for(session, next((k for k in keys if k), ""))
    if client is None:
        raise Open311Error(403, "api_key 无效或已停用")
    return client


# -- parameters -------------------------------------------------------------------------------------
def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _number(text: str | None, name: str, low: int, high: int, default: int) -> int:
    if text is None or not text.strip():
        return default
    value = record_id(text.strip())
    if value is None or not low <= value <= high:
        raise Open311Error(400, f"{name} 须为 {low} 到 {high} 之间的整数")
    return value


def _date(text: str | None, name: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_time(text.strip()).astimezone(UTC)  # years 1 and 9999 may not fit in UTC
    except (ValueError, OverflowError):
        raise Open311Error(400, f"{name} 须为 ISO 8601 时间，如 2026-11-01T00:00:00+08:00") from None


def _codes(text: str | None) -> list[str]:
    codes = _items(text)
    unknown = [code for code in codes if code not in CATEGORY_OF]
    if unknown:
        raise Open311Error(400, "未知的 service_code")
    return [CATEGORY_OF[code] for code in codes]


def _states(text: str | None) -> list[TicketState]:
    wanted = {item.lower() for item in _items(text)}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, "status 只能是 open 或 closed")
    closed = [state for state in TicketState if state not in OPEN_STATES]
    return [*(OPEN_STATES if "open" in wanted else ()), *(closed if "closed" in wanted else ())]


def _status(state: str | None) -> str | None:
    return None if state is None else "open" if state in OPEN_STATES else "closed"


# -- what a ticket reads as to a system that did not file it ---------------------------------------------
TOPIC_LENGTH = 30
NAMES = NameMask()  # names introduced by a cue or followed by a title (王阿姨, 我叫陈晓明)
# 老/小 before these makes a word more often than a name (老毛病, 小程序, 小黄车, 小段路)
_OLD = "".join(sorted(TOP_SURNAMES - set("毛严胡方高石龙")))
_YOUNG = "".join(sorted(TOP_SURNAMES - set("高石龙方毛孔段程范孙黄胡")))
_CJK_NUMBER = r"(?:\d+|[零〇一二两三四五六七八九十百]+)"
_MENTION = re.compile(r"@[^\s\u2005@]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_LIKE = "〇零一幺二两三四五六七八九*＊"  # with \d (full-width too): numbers as residents write them
_CONTACT = re.compile(  # a phone, ID-card or other long number, masked or not, with what introduces it
    r"(?:(?:我的|本人|[她他]的?)?(?:联系)?(?:电话|手机号?|方式|身份证号?|证件号)[码是为]?[:：\s]*)?"
    rf"(?:\+?86[\s-]?)?[\d{_DIGIT_LIKE}]{{2,}}(?:[\s-]?[\d{_DIGIT_LIKE}]{{2,}})*[Xx]?"
)
_FIGURES = re.compile(r"\d{3,}")  # what is left of a room number
_PLACE = re.compile(  # building, unit, room, floor: 5栋, 3号楼, 2单元, 502室, 5-302, 5#302, 三楼
    r"\d{1,3}\s*[-#＃－—_]\s*\d{1,4}(?:\s*[-－]\s*\d{2,4})?"
    rf"|{_CJK_NUMBER}\s*(?:号楼|栋|幢|座|号院|单元|室|号房|户|层|楼(?!道|梯|下|上|顶|房|盘|主|长))"
)
_FAMILIAR = re.compile(rf"(?<=老)[{_OLD}]|(?<=小)[{_YOUNG}]")  # 老王 -> 老某
_NAME_PART = re.compile(r"[\u4e00-\u9fff]{2,}")
_LOOSE_ENDS = re.compile(r"^[\s，,。.；;、：:的\-]+|[\s，,；;、：:的（(\-]+$")
_REPEATED_MARKS = re.compile(r"([\s，,。；;、])(?:[\s，,。；;、]|的(?!确))+")  # and a 的 left of a place


def _unless_short(match: re.Match[str]) -> str:
    """A number long enough to be a phone or an ID (7 figures and more) goes, with its label."""
    return "" if sum(c.isdigit() or c in _DIGIT_LIKE for c in match.group(0)) >= 7 else match.group(0)


def public_description(category: str, summary: str, names: Iterable[str] = ()) -> str:
    """The ticket's category and a short topic, without the names of its reporters (`names`, as
    WeChat or the caller gave them) or anyone called by a title or as 老X/小X, without places in the
    compound and without numbers: what another system may read of a resident's words."""
    text = _MENTION.sub("", _EMAIL.sub("", summary)) if "@" in summary else summary
    text = _FIGURES.sub("", _PLACE.sub("", _CONTACT.sub(_unless_short, text)))
    for name in names:
        for part in _NAME_PART.findall(_PLACE.sub(" ", name)):
            text = text.replace(part, "某人")
    text = _FAMILIAR.sub("某", NAMES.hide(text))  # the report's rules, and 老王/小李 besides
    text = _LOOSE_ENDS.sub("", _REPEATED_MARKS.sub(r"\1", " ".join(text.split())))
    return f"{category}：{topic(text, TOPIC_LENGTH)}" if text else category


# -- reading ----------------------------------------------------------------------------------------
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


def _render(
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
        status = _status(t.state)
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


# -- filing -----------------------------------------------------------------------------------------
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
    category = _codes(code)[0]
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


def _file(
    web: WebContext, fields: dict[str, str], header_key: str | None, idempotency: str | None, secret: bytes
) -> list[dict[str, Any]]:
    now = web.clock()
    with web.acting() as app, web.session() as session:
        client = _authorised(session, header_key, fields.get("api_key"))
        category, text, public = _petition(fields)
        key = (idempotency or "").strip()
        if len(key) > MAX_FIELD or not key.isascii() or not key.isprintable():
            raise Open311Error(400, "Idempotency-Key 须为不超过 100 个字符的 ASCII 文本")
        message_id, actor = source_of(client, key or uuid.uuid4().hex), f"api:{client.name}"
        done = session.exec(
            select(AuditEntry.target).where(
                col(AuditEntry.at) >= now - IDEMPOTENCY_WINDOW,
                AuditEntry.actor_id == actor,
                AuditEntry.action == FILED_ACTION,
                AuditEntry.detail == message_id,
            )
        ).first()
        if done is not None:  # a retry: the ticket it filed, and nothing new
            ticket = session.get(Ticket, int(done.removeprefix("ticket:")))
            assert ticket is not None
            return _receipt(web, session, ticket, "again", client)
        address = _text(fields, "address_string", MAX_ADDRESS)
        names = session.exec(select(Community.id, Community.name)).all()
        found = max((c for c in names if c[1] and c[1] in address), key=lambda c: len(c[1]), default=None)
        reporter = _reporter(session, client, fields, found[0] if found else None, secret)
        filed = file_petition(
            app.desk,
            session,
            now=now,
            reporter=reporter,
            group=None,
            message_id=message_id,
            text=text,
            intent="诉求",
            category=category,
        )
        ticket = filed.ticket
        # the caller is not on WeChat: what the bot would tell them goes back in this answer instead
        notices = [n for n in filed.notices if n.to_id != reporter.id and reporter.id not in n.mentions]
        if filed.outcome == "new":
            ticket.summary = mask_private_numbers(public)  # the caller's contacts are for staff only
        elif filed.outcome == "merged":  # the handler still needs the caller's report and contacts
            event = TicketEvent(
                ticket_id=ticket.number, at=now, actor_id=reporter.id, action="补充", note=text
            )
            session.add(event)
            if ticket.handler_id is not None:
                notices.append(Outgoing(f"{ticket.id}号工单又收到12345来件：{text}", to_id=ticket.handler_id))
        app.outbox.enqueue(session, notices, at=now, priority=Priority.ALERT)
        target = f"ticket:{ticket.id}"
        record(session, at=now, actor_id=actor, action=FILED_ACTION, target=target, detail=message_id)
        return _receipt(web, session, ticket, filed.outcome, client)


def _receipt(
    web: WebContext, session: Session, ticket: Ticket, outcome: str, client: ApiClient
) -> list[dict[str, Any]]:
    rows = session.execute(sa_select(*SERVICE_REQUEST).where(col(Ticket.id) == ticket.id)).all()
    (item,) = _render(session, rows, directory(web), client)
    if outcome == "follow_up":
        notice = f"已补充到该来电人的{ticket.id}号工单。"
    elif outcome == "merged":
        notice = f"同一问题已有居民反映，已并入{ticket.id}号工单，{item['agency_responsible']}正在办理。"
    else:
        notice = f"已转交{item['agency_responsible']}办理，{when(ticket.deadline)}前答复。"
    return [{"service_request_id": str(ticket.id), "service_notice": notice, "account_id": None}]


async def _fields(request: Request) -> dict[str, str]:
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
    return fields


_POSTED = "api_key service_code description address_string lat long first_name last_name phone email device_id account_id"
_SCHEMA: dict[str, Any] = {"type": "object", "required": ["service_code", "description"]}
_SCHEMA["properties"] = {name: {"type": "string"} for name in _POSTED.split()}
_FORM = {
    "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _SCHEMA}}}
}


# -- routes -----------------------------------------------------------------------------------------
def open311_router(web: WebContext) -> APIRouter:
    router = APIRouter(route_class=GeoReportRoute, tags=["Open311 GeoReport v2"])
    secret = caller_secret(web.app.settings)
    key_query = Query(None, description="API 密钥（也可用 X-API-Key 请求头）")
    key_header = Header(None, alias="X-API-Key")

    # the services are public, as GeoReport has them: a client asks for them before it has a key
    @router.get("/services.json", summary="服务类型列表（无需密钥）")
    def services() -> Response:
        return JSONResponse(_LIST)

    @router.get("/services/{service_code}.json", summary="服务类型定义（无需密钥）")
    def service(service_code: str) -> Response:
        if service_code not in CATEGORY_OF:
            raise Open311Error(404, "没有这个 service_code")
        return JSONResponse({"service_code": service_code, "attributes": []})

    @router.get("/requests.json", summary="查询工单")
    def requests(
        service_request_id: str | None = Query(None, description="逗号分隔，最多 100 个；给出时忽略其他条件"),
        service_code: str | None = Query(None),
        start_date: str | None = Query(None, description="ISO 8601；不给日期时为最近 90 天"),
        end_date: str | None = Query(None),
        status: str | None = Query(None, description="open、closed，可逗号分隔"),
        page: str | None = Query(None, description="扩展：页码，从 1 开始"),
        page_size: str | None = Query(None, description="扩展：每页条数，默认 100，最多 1000"),
        api_key: str | None = key_query,
        x_api_key: str | None = key_header,
    ) -> Response:
        with web.session() as session:
            client = _authorised(session, x_api_key, api_key)
            number = _number(page, "page", 1, 100_000, 1)
            size = _number(page_size, "page_size", 1, MAX_RESULTS, DEFAULT_PAGE)
            query = sa_select(*SERVICE_REQUEST).where(api_reads(client))
            if _items(service_request_id):
                ids = [record_id(item) for item in _items(service_request_id)]
                if len(ids) > MAX_IDS or None in ids:
                    raise Open311Error(400, "service_request_id 须为逗号分隔的工单号，最多 100 个")
                query = query.where(col(Ticket.id).in_(ids))
            else:
                categories, states = _codes(service_code), _states(status)
                start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
                if start is None and end is None:
                    start = web.clock() - DEFAULT_WINDOW
                if start is not None and end is not None and start > end:
                    raise Open311Error(400, "start_date 不能晚于 end_date")
                query = query.where(col(Ticket.created_at) >= start) if start is not None else query
                query = query.where(col(Ticket.created_at) <= end) if end is not None else query
                query = query.where(col(Ticket.category).in_(categories)) if categories else query
                query = query.where(col(Ticket.state).in_(states)) if states else query
            query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
            tickets = session.execute(query.offset((number - 1) * size).limit(size)).all()
            return JSONResponse(_render(session, tickets, directory(web), client))

    @router.get("/requests/{service_request_id}.json", summary="查询一张工单")
    def request(
        service_request_id: str, api_key: str | None = key_query, x_api_key: str | None = key_header
    ) -> Response:
        with web.session() as session:
            client = _authorised(session, x_api_key, api_key)
            number = record_id(service_request_id)
            wanted = sa_select(*SERVICE_REQUEST).where(col(Ticket.id) == number)
            found = session.execute(wanted).all() if number else []
            if not found or not api_may_read(session, client, found[0].id):  # another's: as if missing
                raise Open311Error(404, "没有这个工单")
            return JSONResponse(_render(session, found, directory(web), client))

    @router.post("/requests.json", status_code=201, summary="提交工单", openapi_extra=_FORM)
    async def create(request: Request) -> Response:
        fields = await _fields(request)
        header_key, idempotency = request.headers.get("x-api-key"), request.headers.get("idempotency-key")
        try:
            receipt = await run_in_threadpool(_file, web, fields, header_key, idempotency, secret)
        except IntegrityError:  # the same Idempotency-Key, at the same moment, from another process
            raise Open311Error(409, "Idempotency-Key 冲突，请稍后重试") from None
        return JSONResponse(receipt, status_code=201)

    @router.get("/changes.json", summary="工单变动（导出，按 cursor 轮询）")
    def changes(
        since: str | None = Query(None, description="上次返回的 next；从头开始为 0"),
        limit: str | None = Query(None, description="最多 1000，默认 500"),
        api_key: str | None = key_query,
        x_api_key: str | None = key_header,
    ) -> Response:
        with web.session() as session:
            client = _authorised(session, x_api_key, api_key)
            cursor = _number(since, "since", 0, 2**31 - 1, 0)
            size = _number(limit, "limit", 1, MAX_RESULTS, 500)
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
            rows = session.execute(
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
            ).all()
            items = [
                {
                    "cursor": cursor_,
                    "service_request_id": str(ticket_id),
                    "at": iso_local(at),
                    "action": action,
                    "from_state": from_state,
                    "to_state": to_state,
                    "status": _status(after),
                }
                for cursor_, ticket_id, at, action, from_state, to_state, after in rows
            ]
            return JSONResponse({"changes": items, "next": items[-1]["cursor"] if items else cursor})

    @router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
    def elsewhere(rest: str) -> Response:
        last = rest.rsplit("/", 1)[-1]
        if "." in last and not last.endswith(".json"):
            raise Open311Error(400, "只支持 JSON 格式（.json）")
        raise Open311Error(404, "没有这个接口")

    return router
