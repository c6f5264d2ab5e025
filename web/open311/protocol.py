"""GeoReport v2 on the wire: compact JSON by orjson, and every failure as [{"code": N, "description": …}]."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse as StarletteJSON
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException


class JSONResponse(StarletteJSON):
    """JSON as starlette writes it (UTF-8, not ASCII-escaped, compact), by orjson: a page of 100
    service requests or 500 changes is serialised several times faster."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Open311Error(HTTPException):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(code, description)


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


class GeoReportRoute(APIRoute):
    """Answers every failure in GeoReport's form [{"code": N, "description": …}]; bad input is 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError:
                response = _error(400, "参数格式不正确")
            except HTTPException as error:
                code = 400 if error.status_code == 422 else error.status_code
                response = _error(code, str(error.detail))
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return guarded
