"""The staff console's pages: sign-in, the overview for the big screen, tickets and their actions.

Actions are the chat's own commands, handled by the bot's router as if the staff member had written
them to Xiaoqi privately: the same roles, rules, audit log and notifications (no second copy)."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session, col, select

from access.policy import Level, Verb, reach_of
from core.audit import record
from core.clock import local
from core.events import Incoming, Priority
from groups.messages import Message
from groups.models import ChatGroup, Community, Department, Person
from nlp.labels import CATEGORIES
from tickets.desk import place
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from web import auth
from web.context import WebContext
from web.pages import pages_router
from web.queries import (
    Directory,
    Overview,
    TicketFilter,
    list_tickets,
    names,
    overview,
    read_directory,
)

log = logging.getLogger(__name__)
COOKIE = "xiaoqi_console"
# every value is escaped (the default would escape only .html files, not our .j2 ones)
TEMPLATES = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"), autoescape=True)
)
TEMPLATES.env.filters["local"] = lambda at: local(at).strftime("%m-%d %H:%M") if at else ""
# the chat commands a ticket page offers, with what each needs besides the ticket number
ACTIONS: dict[str, str] = {
    "签收": "",
    "进展": "进展情况",
    "办结": "办理结果",
    "退回": "理由",
    "转派": "转给谁（人员id、姓名或部门）",
    "延期": "工作日数 理由",
}
OVERVIEW_FRESH = timedelta(seconds=30)
DIRECTORY_FRESH = timedelta(seconds=60)  # a renamed community or new staff member shows within a minute
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def send_code(
    web: WebContext, session: Session, who: str, now: datetime, *, address: str
) -> auth.CodeSent | None:
    """A sign-in code for a staff member, queued for the bot to send them on WeChat privately (an
    answer to their own request, at the priority of any answer)."""
    sent = auth.request_code(session, who, now, address=address)
    if sent is not None:
        web.app.outbox.enqueue(session, [sent.message], at=now, priority=Priority.REPLY)
    return sent


def directory(web: WebContext) -> Directory:
    def read(_now: datetime) -> Directory:
        with web.session() as session:
            return read_directory(session)

    return web.cached(("directory",), DIRECTORY_FRESH, read)[1]


def overview_for(web: WebContext, person: Person) -> tuple[datetime, Overview]:
    """The overview a staff member sees (the district's or their own scope's), and when it was counted."""

    access = web.app.access
    with web.session() as session:
        communities = access.communities(session, person)
        wide = reach_of(session, person).level is Level.DISTRICT

    def count(now: datetime) -> Overview:
        with web.session() as session:
            return overview(session, access.visible_tickets(session, person), communities, now)

    return web.cached(("overview", "district" if wide else person.id), OVERVIEW_FRESH, count)


class SignInRequired(Exception):
    """No live session: the page sends the browser to the sign-in form."""


def console_router(web: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def viewer(request: Request, session: Session) -> tuple[auth.ConsoleSession, Person]:
        found = auth.current(session, request.cookies.get(COOKIE), web.clock())
        if found is None:
            raise SignInRequired
        return found

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    router.include_router(pages_router(web, viewer, page))

    @router.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.j2", step="who")

    @router.post("/login")
    def login_code(request: Request, who: str = Form("", max_length=100)) -> HTMLResponse:
        now = web.clock()
        with web.session() as session:
            sent = send_code(web, session, who, now, address=auth.client_address(request.client))
            if sent is not None and web.demo:  # no WeChat in a demo: the terminal shows the code
                log.warning("演示模式：%s的控制台验证码是 %s", sent.person.name, sent.code)
        # the same answer for anyone: the form does not tell who is staff
        return page(request, "login.j2", step="code", who=who.strip())

    @router.post("/login/code")
    def login_check(
        request: Request, who: str = Form("", max_length=100), code: str = Form("", max_length=12)
    ) -> Response:
        with web.session() as session:
            signed = auth.sign_in(
                session, who, code, web.clock(), address=auth.client_address(request.client)
            )
        if signed is None:
            return page(
                request,
                "login.j2",
                400,
                step="code",
                who=who.strip(),
                error="验证码不对或已过期，请重新获取。",
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, signed.token, httponly=True, samesite="strict", secure=web.secure_cookies, path="/"
        )
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        # no CSRF check: signing out must work from a stale page (SameSite=Strict keeps other sites out)
        with web.session() as session:
            found = auth.current(session, request.cookies.get(COOKIE), web.clock())
            if found is not None:
                auth.sign_out(session, found[0], web.clock())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", secure=web.secure_cookies, httponly=True, samesite="strict")
        return response

    @router.get("/")
    def home(request: Request) -> HTMLResponse:
        with web.session() as session:
            console, person = viewer(request, session)
        at, numbers = overview_for(web, person)
        return page(request, "overview.j2", me=person, csrf=console.csrf, o=numbers, now=at)

    @router.get("/tickets")
    def tickets(
        request: Request,
        state: str = "",
        category: str = "",
        community: str = "",
        handler: str = "",
        overdue: str = "",
        page_no: int = 1,
    ) -> HTMLResponse:
        now = web.clock()
        wanted = TicketFilter(
            state=state if state in {s.value for s in TicketState} else "",
            category=category if category in CATEGORIES else "",
            community=community[:100],
            handler=handler[:100],
            overdue=overdue == "1",
            page=max(1, min(page_no, 10_000)),
        )
        with web.session() as session:
            console, person = viewer(request, session)
            rows, more = list_tickets(session, web.app.access.visible_tickets(session, person), wanted, now)
            known = directory(web)
            shown = {
                "community": names(session, Community, {t.community_id for t in rows}, known.community_names),
                "handler": names(session, Person, {t.handler_id for t in rows}, known.staff),
            }
        return page(
            request,
            "tickets.j2",
            me=person,
            csrf=console.csrf,
            rows=rows,
            more=more,
            wanted=wanted,
            shown=shown,
            states=[s.value for s in TicketState],
            categories=CATEGORIES,
            communities=known,
            now=now,
            open_states=OPEN_STATES,
        )

    def ticket_page(
        request: Request, number: int, *, answer: list[str] | None = None, status: int = 200
    ) -> HTMLResponse:
        now = web.clock()
        with web.session() as session:
            console, person = viewer(request, session)
            ticket = session.get(Ticket, number) if 0 < number < 2**31 else None
            access = web.app.access
            if ticket is None or not access.may(session, person, Verb.SEE, ticket):
                if ticket is not None:
                    record(
                        session,
                        at=now,
                        actor_id=person.id,
                        action="refused:查看工单",
                        target=f"ticket:{number}",
                    )
                return page(request, "missing.j2", 404, me=person, csrf=console.csrf, number=number)
            details = access.may(session, person, Verb.SEE_DETAILS, ticket)
            if details:
                record(
                    session, at=now, actor_id=person.id, action="查看工单详情", target=f"ticket:{ticket.id}"
                )
            reported = session.exec(
                select(TicketReporter.message_id).where(TicketReporter.ticket_id == ticket.id)
            ).all()
            ids = [ticket.source_message_id, *reported]
            said = session.exec(
                select(Message).where(col(Message.platform_id).in_(ids)).order_by(col(Message.sent_at))
            ).all()
            events = session.exec(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
            ).all()
            known = directory(web)
            involved = {ticket.handler_id, ticket.reporter_id} | {e.actor_id for e in events}
            people = names(session, Person, involved | {m.sender_id for m in said}, known.staff)
            if not details:  # residents stay unnamed where their words are hidden
                people = {who: name for who, name in people.items() if who in known.staff}
                people.update({e.actor_id: "居民" for e in events if e.actor_id not in people})
            people.setdefault("xiaoqi", "小棲")
            department = names(session, Department, {ticket.department_id}, known.departments)
            group = names(session, ChatGroup, {ticket.group_id}, known.groups).get(ticket.group_id or "")
            community = known.community_names.get(ticket.community_id or "")
            where = place(community, group)
            may_manage = access.may(session, person, Verb.MANAGE, ticket)
        actions = [a for a in ACTIONS if a != "转派" or may_manage]
        return page(
            request,
            "ticket.j2",
            status,
            me=person,
            csrf=console.csrf,
            t=ticket,
            details=details,
            said=said,
            events=events,
            people=people,
            department=department.get(ticket.department_id or ""),
            where=where,
            actions=actions,
            hints=ACTIONS,
            nonce=secrets.token_urlsafe(16),
            answer=answer or [],
            now=now,
        )

    @router.get("/tickets/{number}")
    def ticket(request: Request, number: int) -> HTMLResponse:
        return ticket_page(request, number)

    @router.post("/tickets/{number}")
    def act(
        request: Request,
        number: int,
        action: str = Form("", max_length=10),
        note: str = Form("", max_length=2000),
        csrf: str = Form("", max_length=64),
        nonce: str = Form("", max_length=64),
    ) -> HTMLResponse:
        now = web.clock()
        with web.session() as session:
            console, person = viewer(request, session)
            if not auth.csrf_ok(console, csrf) or not _NONCE.match(nonce):
                record(
                    session,
                    at=now,
                    actor_id=person.id,
                    action="控制台请求被拒",
                    target=f"ticket:{number}",
                    detail="CSRF",
                )
                refused = True
            else:
                refused = False
        if refused:
            return ticket_page(request, number, answer=["页面已过期，请刷新后再操作。"], status=403)
        if action not in ACTIONS:
            return ticket_page(request, number, answer=["请选择要做的操作。"], status=400)
        text = f"#{action} {number} {note.strip()}".strip()
        incoming = Incoming(f"web-{console.id}-{nonce}", person.id, text, now, sender_name=person.name)
        with web.acting() as app:
            answers = [out.text for out in app.handle(incoming)]
        return ticket_page(request, number, answer=answers or ["这个操作已经提交过了。"])

    return router
