"""The web side's FastAPI application: the staff console and the Open311 API, on the bot's database."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import console, open311
from web.auth import TooOften
from web.context import WebContext
from web.deps import SignInRequired
from web.html import TEMPLATES
from web.keys import caller_secret

MAX_BODY = 64 * 1024  # no form or API call needs more
STYLE = Path(__file__).resolve().parent / "static" / "console.css"
# The console is server-rendered HTML with no script at all: its one style sheet and the forms are
# all it loads or sends; no page may be framed. Pages show residents' words and phone numbers, so
# nothing is kept in a cache (the style sheet, which sets its own, excepted).
SECURITY_HEADERS = {
    "content-security-policy": "; ".join(
        (
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",  # the empty data: favicon
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # not no-referrer: that would send "Origin: null" with our own forms
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


class LimitSize:
    """Refuses a request over MAX_BODY (by its Content-Length) and a POST without a length, before
    anything reads it. Plain ASGI: it adds nothing to the requests it lets through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            length = headers.get("content-length", "0")
            refused: Response | None = None
            if not length.isdigit() or int(length) > MAX_BODY:
                refused = PlainTextResponse("请求太大了。", status_code=413)
            elif scope["method"] == "POST" and "chunked" in headers.get("transfer-encoding", ""):
                refused = PlainTextResponse("请求需要注明长度。", status_code=411)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response, refusals by other middleware included; a header the
    route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_web(web: WebContext) -> FastAPI:
    """The console and the API on `web`, which the routes get from the application's state."""
    # no /docs or /redoc: FastAPI's pages load their scripts from a public CDN. /openapi.json stays,
    # the Open311 API's description for the systems that call it (the console is not in it)
    api = FastAPI(
        title="小棲 Xiaoqi",
        summary="社区工单的控制台与 Open311 GeoReport v2 接口",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    api.state.web = web  # what web.deps gives the routes
    api.state.caller_secret = caller_secret(web.app.settings)  # the key of Open311 callers' ids, read once
    api.include_router(open311.router, prefix="/open311/v2")
    api.include_router(console.router)

    @api.get("/console.css", include_in_schema=False)
    def style() -> FileResponse:
        return FileResponse(STYLE, media_type="text/css", headers={"Cache-Control": "no-cache"})

    api.add_middleware(LimitSize)
    api.add_middleware(SecurityHeaders)  # the outermost: it sees every response

    @api.exception_handler(SignInRequired)
    def to_sign_in(_request: Request, _error: SignInRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    @api.exception_handler(TooOften)
    def too_often(request: Request, error: TooOften) -> HTMLResponse:
        context = {"step": "who", "error": str(error)}
        return TEMPLATES.TemplateResponse(request, "login.j2", context, status_code=429)

    return api
