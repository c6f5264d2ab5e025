"""The console's sign-in and sign-out pages: a one-time code sent on WeChat, then a session cookie."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from core.events import Priority
from web import auth
from web.context import WebContext
from web.deps import COOKIE, DbSession, Now, Web
from web.html import page

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
Who = Annotated[str, Form(max_length=100)]


def send_code(
    web: WebContext, session: Session, who: str, now: datetime, *, address: str
) -> auth.CodeSent | None:
    """A sign-in code for a staff member, queued for the bot to send them on WeChat privately (an
    answer to their own request, at the priority of any answer)."""
    sent = auth.request_code(session, who, now, address=address)
    if sent is not None:
        web.app.outbox.enqueue(session, [sent.message], at=now, priority=Priority.REPLY)
    return sent


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.j2", step="who")


@router.post("/login")
def login_code(request: Request, web: Web, session: DbSession, now: Now, who: Who = "") -> HTMLResponse:
    sent = send_code(web, session, who, now, address=auth.client_address(request.client))
    if sent is not None and web.demo:  # no WeChat in a demo: the terminal shows the code
        log.warning("演示模式：%s的控制台验证码是 %s", sent.person.name, sent.code)
    # the same answer for anyone: the form does not tell who is staff
    return page(request, "login.j2", step="code", who=who.strip())


@router.post("/login/code")
def login_check(
    request: Request,
    web: Web,
    session: DbSession,
    now: Now,
    who: Who = "",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    signed = auth.sign_in(session, who, code, now, address=auth.client_address(request.client))
    if signed is None:
        error = "验证码不对或已过期，请重新获取。"
        return page(request, "login.j2", 400, step="code", who=who.strip(), error=error)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE, signed.token, httponly=True, samesite="strict", secure=web.secure_cookies, path="/"
    )
    return response


@router.post("/logout")
def logout(request: Request, web: Web, session: DbSession, now: Now) -> Response:
    # no CSRF check: signing out must work from a stale page (SameSite=Strict keeps other sites out)
    found = auth.current(session, request.cookies.get(COOKIE), now)
    if found is not None:
        auth.sign_out(session, found[0], now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=web.secure_cookies, httponly=True, samesite="strict")
    return response
