"""The staff console's one router: sign-in, overview, tickets, consultations, reports and groups."""

from __future__ import annotations

from fastapi import APIRouter

from web import overview, pages, signin, tickets
from web.deps import COOKIE
from web.overview import overview_for
from web.signin import send_code

__all__ = ["COOKIE", "overview_for", "router", "send_code"]  # what xiaoqi.serve, tests and benches use

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(signin.router)
router.include_router(overview.router)
router.include_router(tickets.router)
