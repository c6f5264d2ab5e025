"""The console's home page: the overview for the big screen, counted at most once per OVERVIEW_FRESH."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from access.policy import Level, reach_of
from groups.models import Person
from web.context import WebContext
from web.deps import DbSession, Staff, Web
from web.html import staff_page
from web.queries import Overview, overview

OVERVIEW_FRESH = timedelta(seconds=30)
router = APIRouter(include_in_schema=False)


def overview_for(web: WebContext, person: Person) -> tuple[datetime, Overview]:
    """overview_of in a session of its own (the server counts the district's before the first request)."""
    with web.session() as session:
        return overview_of(web, session, person)


def overview_of(web: WebContext, session: Session, person: Person) -> tuple[datetime, Overview]:
    """The overview a staff member sees (the district's or their own scope's), and when it was counted."""
    access = web.app.access
    communities = access.communities(session, person)
    wide = reach_of(session, person).level is Level.DISTRICT

    def count(now: datetime) -> Overview:
        with web.session() as counting:
            return overview(counting, access.visible_tickets(counting, person), communities, now)

    return web.cached(("overview", "district" if wide else person.id), OVERVIEW_FRESH, count)


@router.get("/")
def home(request: Request, web: Web, session: DbSession, viewer: Staff) -> HTMLResponse:
    at, numbers = overview_of(web, session, viewer.person)
    return staff_page(request, viewer, "overview.j2", o=numbers, now=at)
