"""Who is calling: the API client an api_key names (else 403), and the key of its callers' ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlmodel import Session

from web.deps import DbSession
from web.keys import api_client_for
from web.models import ApiClient
from web.open311.protocol import Open311Error


def authorised(session: Session, *keys: str | None) -> ApiClient:
    """The client of the first key given; Open311Error 403 when it is unknown or revoked."""
    client = api_client_for(session, next((k for k in keys if k), ""))
    if client is None:
        raise Open311Error(403, "api_key 无效或已停用")
    return client


def api_client(
    session: DbSession,
    api_key: Annotated[str | None, Query(description="API 密钥（也可用 X-API-Key 请求头）")] = None,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> ApiClient:
    """The client of a read: its key in the X-API-Key header, or else in the query string."""
    return authorised(session, x_api_key, api_key)


Client = Annotated[ApiClient, Depends(api_client)]


async def caller_key(request: Request) -> bytes:
    """The server secret that keys callers' ids (web.keys.caller_secret), read once by create_web."""
    secret: bytes = request.app.state.caller_secret
    return secret


CallerKey = Annotated[bytes, Depends(caller_key)]
