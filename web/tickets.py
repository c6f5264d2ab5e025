"""The console's ticket pages: the filtered list, one ticket with its history, and its actions.

Actions are the chat's own commands, handled by the bot's router as if the staff member had written
them to Xiaoqi privately: the same roles, rules, audit log and notifications (no second copy)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from access.policy import Access, Verb
from core.audit import record
from core.events import Incoming
from groups.messages import Message
from groups.models import ChatGroup, Community, Department, Person
from nlp.labels import CATEGORIES
from tickets.desk import place
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter, TicketState
from web import auth
from web.deps import DbSession, Known, Now, Policy, Staff, Viewer, Web
from web.html import staff_page
from web.queries import Directory, TicketFilter, list_tickets, names

# the chat commands a ticket page offers, with what each needs besides the ticket number
ACTIONS: dict[str, str] = {
    "签收": "",
    "进展": "进展情况",
    "办结": "办理结果",
    "退回": "理由",
    "转派": "转给谁（人员id、姓名或部门）",
    "延期": "工作日数 理由",
}
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
router = APIRouter(include_in_schema=False)


def ticket_filter(
    state: str = "",
    category: str = "",
    community: str = "",
    handler: str = "",
    overdue: str = "",
    page_no: int = 1,
) -> TicketFilter:
    """The list's filters from the query string; a value the console does not offer is ignored."""
    return TicketFilter(
        state=state if state in {s.value for s in TicketState} else "",
        category=category if category in CATEGORIES else "",
        community=community[:100],
        handler=handler[:100],
        overdue=overdue == "1",
        page=max(1, min(page_no, 10_000)),
    )


@router.get("/tickets")
def tickets(
    request: Request,
    session: DbSession,
    viewer: Staff,
    access: Policy,
    known: Known,
    now: Now,
    wanted: Annotated[TicketFilter, Depends(ticket_filter)],
) -> HTMLResponse:
    rows, more = list_tickets(session, access.visible_tickets(session, viewer.person), wanted, now)
    shown = {
        "community": names(session, Community, {t.community_id for t in rows}, known.community_names),
        "handler": names(session, Person, {t.handler_id for t in rows}, known.staff),
    }
    return staff_page(
        request,
        viewer,
        "tickets.j2",
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


@dataclass(frozen=True)
class TicketView:
    """What a ticket's page shows of it, as far as the viewer may see."""

    ticket: Ticket
    details: bool  # the residents' words, names and the staff's notes
    said: list[Message]
    events: list[TicketEvent]
    people: dict[str, str]
    department: str | None
    where: str


def _people(
    session: Session,
    ticket: Ticket,
    said: list[Message],
    events: list[TicketEvent],
    known: Directory,
    details: bool,
) -> dict[str, str]:
    """The names a ticket's page shows; residents stay unnamed where their words are hidden."""
    involved = {ticket.handler_id, ticket.reporter_id} | {e.actor_id for e in events}
    people = names(session, Person, involved | {m.sender_id for m in said}, known.staff)
    if not details:
        people = {who: name for who, name in people.items() if who in known.staff}
        people.update({e.actor_id: "居民" for e in events if e.actor_id not in people})
    people.setdefault("xiaoqi", "小棲")
    return people


def _view(session: Session, ticket: Ticket, known: Directory, details: bool) -> TicketView:
    reported = session.exec(
        select(TicketReporter.message_id).where(TicketReporter.ticket_id == ticket.id)
    ).all()
    ids = [ticket.source_message_id, *reported]
    said = list(
        session.exec(
            select(Message).where(col(Message.platform_id).in_(ids)).order_by(col(Message.sent_at))
        ).all()
    )
    events = list(
        session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
        ).all()
    )
    people = _people(session, ticket, said, events, known, details)
    department = names(session, Department, {ticket.department_id}, known.departments)
    group = names(session, ChatGroup, {ticket.group_id}, known.groups).get(ticket.group_id or "")
    where = place(known.community_names.get(ticket.community_id or ""), group)
    return TicketView(
        ticket, details, said, events, people, department.get(ticket.department_id or ""), where
    )


def _visible(session: Session, access: Access, person: Person, number: int, now: datetime) -> Ticket | None:
    """The ticket if the viewer may see it; a refusal is in the audit log (a missing one is not)."""
    ticket = session.get(Ticket, number) if 0 < number < 2**31 else None
    if ticket is not None and not access.may(session, person, Verb.SEE, ticket):
        record(session, at=now, actor_id=person.id, action="refused:查看工单", target=f"ticket:{number}")
        return None
    return ticket


@dataclass(frozen=True)
class TicketPage:
    """A ticket's page for one request: what it needs to be drawn, with the answers to an action."""

    request: Request
    session: Session
    viewer: Viewer
    access: Access
    known: Directory
    now: datetime

    def show(self, number: int, answer: list[str] | None = None, status: int = 200) -> HTMLResponse:
        session, person = self.session, self.viewer.person
        ticket = _visible(session, self.access, person, number, self.now)
        if ticket is None:
            return staff_page(self.request, self.viewer, "missing.j2", 404, number=number)
        details = self.access.may(session, person, Verb.SEE_DETAILS, ticket)
        if details:
            record(
                session, at=self.now, actor_id=person.id, action="查看工单详情", target=f"ticket:{ticket.id}"
            )
        view = _view(session, ticket, self.known, details)
        may_manage = self.access.may(session, person, Verb.MANAGE, ticket)
        return self._render(view, [a for a in ACTIONS if a != "转派" or may_manage], answer or [], status)

    def _render(self, view: TicketView, actions: list[str], answer: list[str], status: int) -> HTMLResponse:
        shown: dict[str, Any] = {
            "t": view.ticket,
            "details": view.details,
            "said": view.said,
            "events": view.events,
            "people": view.people,
            "department": view.department,
            "where": view.where,
        }
        nonce = secrets.token_urlsafe(16)
        return staff_page(
            self.request,
            self.viewer,
            "ticket.j2",
            status,
            **shown,
            actions=actions,
            hints=ACTIONS,
            nonce=nonce,
            answer=answer,
            now=self.now,
        )


def ticket_page(
    request: Request, session: DbSession, viewer: Staff, access: Policy, known: Known, now: Now
) -> TicketPage:
    return TicketPage(request, session, viewer, access, known, now)


Page = Annotated[TicketPage, Depends(ticket_page)]


@router.get("/tickets/{number}")
def ticket(number: int, shown: Page) -> HTMLResponse:
    return shown.show(number)


@router.post("/tickets/{number}")
def act(
    number: int,
    shown: Page,
    web: Web,
    action: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    nonce: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    session, console, person = shown.session, shown.viewer.console, shown.viewer.person
    if not auth.csrf_ok(console, csrf) or not _NONCE.match(nonce):
        detail = "CSRF"
        record(
            session,
            at=shown.now,
            actor_id=person.id,
            action="控制台请求被拒",
            target=f"ticket:{number}",
            detail=detail,
        )
        return shown.show(number, ["页面已过期，请刷新后再操作。"], status=403)
    if action not in ACTIONS:
        return shown.show(number, ["请选择要做的操作。"], status=400)
    text = f"#{action} {number} {note.strip()}".strip()
    incoming = Incoming(f"web-{console.id}-{nonce}", person.id, text, shown.now, sender_name=person.name)
    session.commit()  # this request's writes first: the bot's application writes in a session of its own
    with web.acting() as app:
        answers = [out.text for out in app.handle(incoming)]
    return shown.show(number, answers or ["这个操作已经提交过了。"])
