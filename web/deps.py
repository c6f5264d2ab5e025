"""The web routes' FastAPI dependencies: context, session, time, access, directory, signed-in staff."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from access.policy import Access
from groups.models import Person
from web import auth
from web.context import WebContext
from web.models import ConsoleSession
from web.queries import Directory, read_directory

COOKIE = "xiaoqi_console"
DIRECTORY_FRESH = timedelta(seconds=60)  # a renamed community or new staff member shows within a minute


class SignInRequired(Exception):
    """No live session: the page sends the browser to the sign-in form."""


def web_context(request: Request) -> WebContext:
    """The context create_web was given, kept on the application's state."""
    web: WebContext = request.app.state.web
    return web


Web = Annotated[WebContext, Depends(web_context)]


def db_session(web: Web) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back if it raises."""
    with web.session() as session:
        yield session


# scope="function": committed before the response leaves, so the next request sees what this one wrote
DbSession = Annotated[Session, Depends(db_session, scope="function")]


async def current_time(web: Web) -> datetime:
    return web.clock()


Now = Annotated[datetime, Depends(current_time)]


async def access_policy(web: Web) -> Access:
    return web.app.access


Policy = Annotated[Access, Depends(access_policy)]


def cached_directory(web: WebContext) -> Directory:
    """The names of communities, groups, departments and staff, read at most once per DIRECTORY_FRESH."""

    def read(_now: datetime) -> Directory:
        with web.session() as session:
            return read_directory(session)

    return web.cached(("directory",), DIRECTORY_FRESH, read)[1]


def directory(web: Web) -> Directory:
    return cached_directory(web)


Known = Annotated[Directory, Depends(directory)]


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member and their console session (whose CSRF token the forms carry)."""

    console: ConsoleSession
    person: Person


def signed_in(request: Request, session: DbSession, now: Now) -> Viewer:
    """The live session the cookie names; SignInRequired (a redirect to /login) without one."""
    found = auth.current(session, request.cookies.get(COOKIE), now)
    if found is None:
        raise SignInRequired
    return Viewer(*found)


Staff = Annotated[Viewer, Depends(signed_in)]
