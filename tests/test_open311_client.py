"""The Open311 API as an off-the-shelf GeoReport v2 client reads it: `georeport` from PyPI, the one a
12345 platform's developer would pick up, sent through an in-memory `requests` adapter onto our app.

georeport 0.3.1 cannot file requests and never sends its api_key: it reads the services without one,
and reads requests only with a key added by hand, here as an X-API-Key header on the requests session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import georeport.georeport
import pytest
import requests
from fastapi.testclient import TestClient
from georeport import GeoReport
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from bot.app import App
from web.context import WebContext
from web.keys import create_api_client
from web.server import create_web

from .conftest import START
from .events import said

ROOT = "http://testserver/open311/v2"
NOW = START + timedelta(days=1)  # 2026-11-03 09:00 in Shanghai


class AppAdapter(BaseAdapter):
    """Hands each request `requests` prepared to the app through starlette's TestClient and gives its
    answer back as a `requests` response: the client's own URL building, no socket, nothing to wait for."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        assert body is None or isinstance(body, bytes), "georeport sends no streamed bodies"
        headers = {name: str(value) for name, value in request.headers.items()}
        answer = self.client.request(
            request.method or "GET", request.url or "", headers=headers, content=body
        )
        response = requests.Response()
        response.status_code, response.reason = answer.status_code, answer.reason_phrase
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response._content = answer.content
        response.url, response.request = request.url or "", request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def web(app: App) -> WebContext:
    return WebContext(app, clock=lambda: NOW)


@pytest.fixture
def connect(web: WebContext, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], requests.Session]:
    """Points georeport (which calls `requests.get`) at the app, with or without a key added by hand;
    returns the session, which files tickets too (georeport cannot)."""
    client = TestClient(create_web(web))

    def connected(key: str | None) -> requests.Session:
        session = requests.Session()
        session.mount("http://testserver", AppAdapter(client))
        if key is not None:
            session.headers["X-API-Key"] = key
        monkeypatch.setattr(georeport.georeport, "requests", SimpleNamespace(get=session.get))
        return session

    return connected


def _file(session: requests.Session, **fields: str) -> str:
    answer = session.post(f"{ROOT}/requests.json", data={"address_string": "幸福社区3栋", **fields})
    assert answer.status_code == 201, answer.text
    return str(answer.json()[0]["service_request_id"])


def _refusal(error: pytest.ExceptionInfo[requests.HTTPError]) -> requests.Response:
    assert error.value.response is not None
    return error.value.response


def _say(app: App, text: str, hours: int) -> None:
    at = NOW + timedelta(hours=hours)
    app.handle(said(text, "wxid_sg", in_group=None, at=at))


def test_the_services_read_without_a_key(connect: Callable[[str | None], requests.Session]) -> None:
    connect(None)
    city = GeoReport(ROOT)
    services = city.get_service_list()
    assert len(services) == 11 and services[0]["service_code"] == "property"
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(
        services[0]
    )
    assert city.get_service_definition("noise") == {"service_code": "noise", "attributes": []}
    assert GeoReport(ROOT, jurisdiction="qixia").get_service_list() == services  # jurisdiction_id ignored
    with pytest.raises(requests.HTTPError) as refused:
        city.get_service_requests()
    assert _refusal(refused).status_code == 403
    with pytest.raises(requests.HTTPError) as missing:
        city.get_service_definition("nope")
    assert _refusal(missing).status_code == 404
    with pytest.raises(requests.HTTPError) as xml:  # JSON only: the client's output_format="xml" is refused
        GeoReport(ROOT, output_format="xml").get_service_list()
    assert _refusal(xml).json() == [{"code": 400, "description": "只支持 JSON 格式（.json）"}]


def test_requests_and_filters_read_with_a_key_added_by_hand(
    app: App, web: WebContext, connect: Callable[[str | None], requests.Session]
) -> None:
    with web.session() as session:
        key = create_api_client(session, "数字城管", START)
        other = create_api_client(session, "市场监管", START)
    theirs = _file(connect(other), service_code="noise", description="夜里装修", address_string="和平社区2栋")
    ours = connect(key)
    litter = _file(ours, service_code="sanitation", description="垃圾桶满了", phone="13900000002")
    light = _file(ours, service_code="municipal", description="路灯不亮", address_string="城东路口")
    _say(app, f"#签收 {litter}", 1)
    _say(app, f"#办结 {litter} 已清理", 2)
    city = GeoReport(ROOT)

    def ids(**filters: str) -> list[str]:
        return [item["service_request_id"] for item in city.get_service_requests(**filters)]

    assert ids() == [light, litter]  # newest first, and never the other system's ticket
    assert ids(status="open") == [light]
    assert ids(status="closed") == [litter]
    assert ids(status="open,closed") == [light, litter]
    assert ids(service_code="sanitation") == [litter]
    assert ids(service_code="sanitation,municipal,noise") == [light, litter]
    assert ids(start_date="2026-11-03T00:00:00Z", end_date="2026-11-03T23:59:59Z") == [light, litter]
    assert ids(start_date="2026-10-01T00:00:00Z", end_date="2026-11-03T00:59:59Z") == []
    assert ids(service_request_id=f"{litter},{theirs}") == [litter]
    one = city.get_service_request(litter)
    assert (one["service_request_id"], one["status"], one["status_notes"]) == (litter, "closed", "已办结")
    assert (one["service_code"], one["description"]) == ("sanitation", "垃圾桶满了（地址：幸福社区3栋）")
    assert one["requested_datetime"] == "2026-11-03T09:00:00+08:00"
    assert "13900000002" not in str(one)
    with pytest.raises(requests.HTTPError) as hidden:
        city.get_service_request(theirs)
    assert _refusal(hidden).status_code == 404
