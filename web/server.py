"""The web side's FastAPI application: the staff console and the Open311 API, on the bot's database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from web.console import SignInRequired, console_router
from web.context import WebContext
from web.open311 import open311_router

MAX_BODY = 64 * 1024  # no form or API call needs more


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

    @api.middleware("http")
    async def limit_size(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return PlainTextResponse("请求太大了。", status_code=413)
        if request.method == "POST" and "chunked" in request.headers.get("transfer-encoding", ""):
            return PlainTextResponse("请求需要注明长度。", status_code=411)
        return await call_next(request)

    @api.exception_handler(SignInRequired)
    def to_sign_in(_request: Request, _error: SignInRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    return api
