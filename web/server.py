"""The web side's FastAPI application: the staff console and the Open311 API, on the bot's database."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from web.console import SignInRequired, console_router
from web.context import WebContext
from web.open311 import open311_router

MAX_BODY = 64 * 1024  # no form or API call needs more


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


def create_web(web: WebContext) -> FastAPI:
    api = FastAPI(
        title="小棲 Xiaoqi",
        summary="社区工单的控制台与 Open311 GeoReport v2 接口",
        version="1",
        docs_url="/docs",
        redoc_url=None,
    )
    api.include_router(open311_router(web), prefix="/open311/v2")
    api.include_router(console_router(web))

    api.add_middleware(LimitSize)

    @api.exception_handler(SignInRequired)
    def to_sign_in(_request: Request, _error: SignInRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    return api
