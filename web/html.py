"""The console's HTML: its Jinja templates, every value escaped, and a page as a response."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from core.clock import local
from web.deps import Viewer

# every value is escaped (the default would escape only .html files, not our .j2 ones)
TEMPLATES = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"), autoescape=True)
)
TEMPLATES.env.filters["local"] = lambda at: local(at).strftime("%m-%d %H:%M") if at else ""


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def staff_page(
    request: Request, viewer: Viewer, name: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page for a signed-in staff member: the header's name and the forms' CSRF token are theirs."""
    return page(request, name, status, me=viewer.person, csrf=viewer.console.csrf, **context)
