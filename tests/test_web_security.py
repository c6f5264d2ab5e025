"""What every response of the web side says to the browser (security headers, Secure cookies), no
FastAPI documentation pages from a CDN, and signing out that always works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from bot.app import App
from core.db import session_scope
from core.outbox import OutboxMessage
from web.console import COOKIE
from web.context import WebContext
from web.models import ConsoleSession
from web.server import MAX_BODY, create_web
from xiaoqi import serve as web_serve
from xiaoqi.cli import app as cli
from xiaoqi.wiring import create_app

from .test_console import Clock

ON_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing here is storage


def _client(app: App, base_url: str = "https://testserver", **context: Any) -> TestClient:
    web_app = create_app(app.settings, engine=app.engine, jobs=[])
    return TestClient(create_web(WebContext(web_app, clock=Clock(), **context)), base_url=base_url)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with _client(app) as client:
        yield client


def _sign_in(client: TestClient, app: App, person: str = "wxid_sg") -> str:
    """Signs in by the code the bot queued; the sign-in's raw Set-Cookie header."""
    client.post("/login", data={"who": person})
    with session_scope(app.engine) as session:
        texts = session.exec(select(OutboxMessage.text).where(OutboxMessage.to_id == person)).all()
    code = re.findall(r"验证码：(\d{6})", " ".join(texts))[-1]
    signed = client.post("/login/code", data={"who": person, "code": code}, follow_redirects=False)
    assert signed.status_code == 303
    return signed.headers["set-cookie"]


def _assert_secured(headers: Any, *, cache: str = "no-store") -> None:
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy and "unsafe-inline" not in policy  # no script may run at all
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == cache


@ON_SQLITE
def test_every_kind_of_response_carries_the_security_headers(client: TestClient, app: App) -> None:
    login = client.get("/login")
    assert login.status_code == 200
    _assert_secured(login.headers)
    assert "<script" not in login.text and "<style" not in login.text and "style=" not in login.text
    _assert_secured(client.get("/", follow_redirects=False).headers)  # the redirect to sign in
    api = client.get("/open311/v2/services.json")
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    _assert_secured(api.headers)
    _assert_secured(client.post("/login", content=b"x" * (MAX_BODY + 1)).headers)  # refused before the app
    _sign_in(client, app)
    page = client.get("/tickets")
    assert page.status_code == 200 and "李社工" in page.text
    _assert_secured(page.headers)
    _assert_secured(client.get("/tickets/999").headers)
    style = client.get("/console.css")  # the one thing a page loads, kept in the cache but revalidated
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert "font-family" in style.text
    _assert_secured(style.headers, cache="no-cache")
    assert '<link rel="stylesheet" href="/console.css">' in page.text


@ON_SQLITE
def test_no_documentation_pages_load_scripts_from_a_cdn(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    described = client.get("/openapi.json")  # the API's description stays for the systems that call it
    assert described.status_code == 200
    assert all(path.startswith("/open311/v2/") for path in described.json()["paths"])
    assert "/docs" not in client.get("/login").text


@ON_SQLITE
def test_signing_out_ends_the_session_without_a_valid_csrf_token(client: TestClient, app: App) -> None:
    for form in ({"csrf": "guess"}, {}, {"csrf": "x" * 500}):
        _sign_in(client, app)
        token = client.cookies[COOKIE]
        assert client.get("/", follow_redirects=False).status_code == 200
        out = client.post("/logout", data=form, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert f"{COOKIE}=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
        client.cookies.set(COOKIE, token)  # the old cookie, kept by a careless browser or a thief
        assert client.get("/", follow_redirects=False).status_code == 303
        client.cookies.clear()
    with session_scope(app.engine) as session:
        sessions = session.exec(select(ConsoleSession)).all()
    assert len(sessions) == 3 and all(s.ended_at is not None for s in sessions)
    # signing out when signed out already, or never signed in, just shows the sign-in form
    assert "获取验证码" in client.post("/logout").text


@ON_SQLITE
def test_the_session_cookie_is_secure_unless_serving_plain_http_locally(client: TestClient, app: App) -> None:
    cookie = _sign_in(client, app)
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "; Secure" in client.post("/logout", follow_redirects=False).headers["set-cookie"]
    with _client(app, base_url="http://testserver", secure_cookies=False) as plain:
        cookie = _sign_in(plain, app, "wxid_ld")
        assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "陈主任" in plain.get("/").text  # over plain http the browser sends it back


def test_xiaoqi_serve_sets_secure_cookies_unless_told_insecure_http(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(web_serve, "serve", lambda *args, **flags: started.append(flags))
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert CliRunner().invoke(cli, ["serve", "--insecure-http", "--demo"]).exit_code == 0
    assert started == [{"demo": False, "insecure_http": False}, {"demo": True, "insecure_http": True}]
    assert "--secure-cookies" not in CliRunner().invoke(cli, ["serve", "--help"]).output
