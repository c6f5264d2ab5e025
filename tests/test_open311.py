"""The Open311 GeoReport v2 API over HTTP: services, filing and reading tickets, the changes feed,
API keys and what each reads, privacy and hostile input; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx  # the test client starlette 1.x uses
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, create_engine, func, select
from typer.testing import CliRunner

from bot.app import App
from core.audit import AuditEntry
from core.errors import XiaoqiError
from core.outbox import OutboxMessage
from core.settings import Settings
from groups.models import ChatGroup, Person
from tickets.models import Rating, Ticket, TicketEvent, TicketReporter
from tickets.ratings import RatingSaid, rate
from web.context import WebContext
from web.keys import SECRET_FILE, api_client_for, caller_secret, create_api_client, revoke_api_client
from web.models import ApiClient
from web.open311 import public_description
from web.server import create_web
from xiaoqi.cli import app as cli
from xiaoqi.wiring import create_app

from .conftest import START
from .events import said

V2 = "/open311/v2"
PHONE = "13912345678"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(app: App, clock: Clock) -> WebContext:
    return WebContext(app, clock=clock)


@pytest.fixture
def key(web: WebContext) -> str:
    """A system that reads only what it filed (digital city management)."""
    with web.session() as session:
        return create_api_client(session, "数字城管", START)


@pytest.fixture
def hub(web: WebContext) -> str:
    """The district's 12345 hub: reads every ticket."""
    with web.session() as session:
        return create_api_client(session, "12345平台", START, read_all=True)


@pytest.fixture
def client(web: WebContext) -> TestClient:
    return TestClient(create_web(web))


def _post(client: TestClient, key: str, idempotency: str | None = None, **fields: Any) -> httpx.Response:
    data = {"api_key": key, "service_code": "sanitation", "address_string": "幸福社区3栋", **fields}
    headers = {"Idempotency-Key": idempotency} if idempotency else {}
    return client.post(
        f"{V2}/requests.json", data={k: v for k, v in data.items() if v is not None}, headers=headers
    )


def _get(client: TestClient, key: str, path: str, **params: Any) -> httpx.Response:
    return client.get(f"{V2}{path}", params={"api_key": key, **params})


def _filed(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    (receipt,) = response.json()
    assert receipt["account_id"] is None
    return str(receipt["service_request_id"])


def _say(app: App, sender: str, text: str, at: datetime) -> None:
    """A staff member's private command to the bot, as WeChat delivers it."""
    app.handle(said(text, sender, in_group=None, at=at))


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["service_request_id"] for item in response.json()]


def test_services_list_and_definition(client: TestClient, key: str) -> None:
    services = _get(client, key, "/services.json").json()
    assert [s["service_name"] for s in services][:3] == ["物业管理", "环境卫生", "市政设施"]
    assert len({s["service_code"] for s in services}) == 11
    noise = next(s for s in services if s["service_code"] == "noise")
    assert noise["service_name"] == "噪音扰民"
    assert (noise["metadata"], noise["type"]) == (False, "realtime")
    assert _get(client, key, "/services/noise.json").json() == {"service_code": "noise", "attributes": []}
    missing = _get(client, key, "/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_a_ticket_filed_read_resolved_and_fed(
    app: App, web: WebContext, client: TestClient, key: str
) -> None:
    call = {
        "description": "3栋门口垃圾堆了三天没人清运",
        "phone": PHONE,
        "last_name": "赵",
        "first_name": "先生",
    }
    response = _post(client, key, "call-001", **call)
    number = _filed(response)
    assert response.json()[0]["service_notice"] == "已转交幸福社区办理，11月4日前答复。"
    (item,) = _get(client, key, f"/requests/{number}.json").json()
    assert item["status"] == "open" and item["status_notes"] == "待签收"
    assert (item["service_code"], item["service_name"]) == ("sanitation", "环境卫生")
    assert item["description"] == "3栋门口垃圾堆了三天没人清运（地址：幸福社区3栋）"
    assert (item["agency_responsible"], item["address"]) == ("幸福社区", "幸福社区")
    assert item["requested_datetime"] == item["updated_datetime"] == "2026-11-02T09:00:00+08:00"
    assert item["expected_datetime"] == "2026-11-05T00:00:00+08:00"
    assert [item] == _get(client, key, "/requests.json").json()
    with web.session() as session:
        ticket = session.get(Ticket, int(number))
        assert ticket is not None and PHONE in ticket.details  # staff can call back
        reporter = session.get(Person, ticket.reporter_id)
        assert reporter is not None and reporter.name == "赵先生" and not reporter.registered
        assert reporter.id.startswith("open311:数字城管:") and reporter.community_id == "c1"
        queued = session.exec(select(OutboxMessage)).all()
        assert [m.to_id for m in queued] == ["wxid_sg"]  # the handler; the caller is not on WeChat
        assert (
            queued[0].text.startswith("1号新工单【环境卫生】幸福社区\n赵先生：3栋门口垃圾")
            and PHONE in queued[0].text
        )

    again = _post(client, key, "call-001", **call)
    assert _filed(again) == number and again.json() == response.json()
    with web.session() as session:
        assert session.exec(select(func.count()).select_from(Ticket)).one() == 1
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 1
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "Open311建单")).all()
        assert [(a.actor_id, a.target) for a in audit] == [("api:数字城管", "ticket:1")]

    feed = _get(client, key, "/changes.json", since=0).json()
    assert [(c["action"], c["to_state"], c["status"]) for c in feed["changes"]] == [
        ("登记", "待签收", "open")
    ]
    assert feed["next"] == feed["changes"][0]["cursor"]
    _say(app, "wxid_sg", "#签收 1", START + timedelta(minutes=30))
    _say(app, "wxid_sg", "#办结 1 垃圾已清运，电话13800001111", START + timedelta(hours=3))
    (item,) = _get(client, key, "/requests/1.json").json()
    assert (item["status"], item["status_notes"]) == ("closed", "已办结")
    assert item["updated_datetime"] == "2026-11-02T12:00:00+08:00"
    later = _get(client, key, "/changes.json", since=feed["next"]).json()
    steps = [(c["action"], c["from_state"], c["to_state"], c["status"]) for c in later["changes"]]
    assert steps == [("签收", "待签收", "已签收", "open"), ("办结", "已签收", "已办结", "closed")]
    cursors = [c["cursor"] for c in later["changes"]]
    assert feed["next"] < cursors[0] < cursors[1] == later["next"]
    assert "13800001111" not in str(later) and "note" not in later["changes"][1]
    with web.session() as session:  # the caller hears of the steps from 12345, not from Xiaoqi on WeChat
        to_caller = session.exec(select(OutboxMessage).where(OutboxMessage.to_id == ticket.reporter_id)).all()
    assert to_caller == []
    assert _get(client, key, "/changes.json", since=later["next"]).json() == {
        "changes": [],
        "next": later["next"],
    }
    with web.session() as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and reporter is not None
        rate(
            app.desk, session, START + timedelta(hours=4), reporter, ticket, RatingSaid(Rating.SATISFIED, "")
        )
    assert _get(client, key, "/requests/1.json").json()[0]["status_notes"] == "已评价（满意）"


def test_a_call_about_a_problem_already_reported_in_a_group_joins_its_ticket(
    app: App, web: WebContext, client: TestClient, key: str
) -> None:
    app.handle(said("#反映 5栋电梯又坏了，老人上不了楼", id="m1"))
    response = _post(
        client,
        key,
        service_code="other",
        address_string="幸福社区5栋",
        description="5栋电梯坏了",
        phone=PHONE,
    )
    assert _filed(response) == "1"
    assert response.json()[0]["service_notice"].startswith("同一问题已有居民反映，已并入1号工单")
    with web.session() as session:
        assert session.exec(select(func.count()).select_from(Ticket)).one() == 1
        assert session.get(Ticket, 1).reporters == 2  # type: ignore[union-attr]
        handler = session.exec(select(OutboxMessage.text).where(OutboxMessage.to_id == "wxid_sg")).all()
        assert any(t.startswith("1号工单又收到12345来件：5栋电梯坏了") and PHONE in t for t in handler)


def test_filters(app: App, clock: Clock, client: TestClient, key: str) -> None:
    clock.now = START - timedelta(days=100)
    old = _filed(_post(client, key, service_code="property", description="单元门禁坏了", phone="13900000001"))
    clock.now = START
    litter = _filed(_post(client, key, description="垃圾桶满了", phone="13900000002"))
    clock.now = START + timedelta(days=1)
    noise = _filed(
        _post(
            client,
            key,
            service_code="noise",
            description="夜里装修",
            address_string="和平社区2栋",
            phone="13900000003",
        )
    )
    _say(app, "wxid_sg", f"#签收 {litter}", START + timedelta(hours=2))
    _say(app, "wxid_sg", f"#办结 {litter} 已清理", START + timedelta(hours=3))

    assert _ids(_get(client, key, "/requests.json")) == [noise, litter]  # the last 90 days, newest first
    assert _ids(_get(client, key, "/requests.json", status="open")) == [noise]
    assert _ids(_get(client, key, "/requests.json", status="closed")) == [litter]
    assert _ids(_get(client, key, "/requests.json", status="open,closed")) == [noise, litter]
    assert _ids(_get(client, key, "/requests.json", service_code="noise")) == [noise]
    assert _ids(_get(client, key, "/requests.json", service_code="noise,sanitation")) == [noise, litter]
    assert _ids(_get(client, key, "/requests.json", start_date="2026-01-01")) == [noise, litter, old]
    window = {"start_date": "2026-11-02T00:00:00+08:00", "end_date": "2026-11-02T23:59:59+08:00"}
    assert _ids(_get(client, key, "/requests.json", **window)) == [litter]
    assert _ids(_get(client, key, "/requests.json", end_date="2026-11-01T01:00:00Z")) == [old]
    assert _ids(_get(client, key, "/requests.json", service_request_id=f"{old},{noise}")) == [noise, old]
    assert _ids(_get(client, key, "/requests.json", start_date="2026-01-01", page_size=1, page=2)) == [litter]
    assert _ids(_get(client, key, "/requests.json", service_request_id="999")) == []
    reversed_window = _get(client, key, "/requests.json", start_date="2026-11-03", end_date="2026-11-01")
    assert reversed_window.status_code == 400


def test_private_numbers_never_leave_through_the_api(web: WebContext, client: TestClient, key: str) -> None:
    description = f"楼道灯不亮，我的电话{PHONE}，身份证110101199003071234"
    number = _filed(_post(client, key, description=description, phone=PHONE, email="zhao@example.com"))
    with web.session() as session:
        ticket = session.get(Ticket, int(number))
        assert ticket is not None and PHONE in ticket.details and "zhao@example.com" in ticket.details
    answers = [
        _post(client, key, description=description, phone=PHONE),  # the same caller adds to the ticket
        _get(client, key, "/requests.json"),
        _get(client, key, f"/requests/{number}.json"),
        _get(client, key, "/changes.json"),
    ]
    (item,) = answers[2].json()
    assert (
        item["description"]
        == "楼道灯不亮，我的电话139****5678，身份证1101**********1234（地址：幸福社区3栋）"
    )
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert PHONE not in answer.text and "199003071234" not in answer.text and "zhao@" not in answer.text


def test_api_keys(web: WebContext, client: TestClient, key: str) -> None:
    assert key.startswith("xq_") and len(key) > 40
    for path in ("/requests.json", "/requests/1.json", "/changes.json"):
        for params in ({}, {"api_key": "xq_wrong"}, {"api_key": ""}):
            response = client.get(f"{V2}{path}", params=params)
            assert response.status_code == 403, (path, params)
            assert response.json() == [{"code": 403, "description": "api_key 无效或已停用"}]
    assert client.get(f"{V2}/requests.json", headers={"X-API-Key": key}).status_code == 200
    assert _post(client, "").status_code == 403
    with web.session() as session:
        assert api_client_for(session, key) is not None
        with pytest.raises(XiaoqiError):
            create_api_client(session, "数字城管", START)
        assert revoke_api_client(session, "数字城管", START) is True
        assert revoke_api_client(session, "数字城管", START) is False
        assert revoke_api_client(session, "nobody", START) is False
    assert _get(client, key, "/requests.json").status_code == 403
    assert _post(client, key, description="路灯不亮").status_code == 403
    with web.session() as session:
        fresh = create_api_client(session, "数字城管", START)
        assert api_client_for(session, key) is None
    assert fresh != key and _get(client, fresh, "/requests.json").status_code == 200


def test_the_services_answer_without_a_key(client: TestClient) -> None:
    """GeoReport clients read the services before they have a key; a wrong key changes nothing."""
    for params in ({}, {"api_key": "xq_wrong"}):
        services = client.get(f"{V2}/services.json", params=params)
        assert services.status_code == 200 and len(services.json()) == 11
        noise = client.get(f"{V2}/services/noise.json", params=params)
        assert noise.status_code == 200 and noise.json() == {"service_code": "noise", "attributes": []}
    assert client.get(f"{V2}/services/nope.json").status_code == 404


def test_bad_input_answers_400_in_georeport_form(web: WebContext, client: TestClient, key: str) -> None:
    def refused(response: httpx.Response, code: int = 400) -> str:
        assert response.status_code == code, response.text
        ((error),) = response.json()
        assert error["code"] == code
        return str(error["description"])

    assert refused(_post(client, key, service_code="nope", description="路灯不亮")) == "未知的 service_code"
    assert refused(_post(client, key, service_code=None, description="路灯不亮")) == "缺少 service_code"
    assert refused(_post(client, key)) == "缺少 description"
    assert refused(_post(client, key, description="   ")) == "缺少 description"
    refused(_post(client, key, description="路" * 5000))
    refused(_post(client, key, description="路灯不亮", address_string=None))
    refused(_post(client, key, description="路灯不亮", address_string=None, lat="abc", long="118.8"))
    refused(_post(client, key, description="路灯不亮", address_string=None, lat="32.1", long="inf"))
    refused(_post(client, key, description="路灯不亮", phone="1" * 500))
    refused(_post(client, key, "k" * 101, description="路灯不亮"))
    refused(client.post(f"{V2}/requests.json", json=["not", "an", "object"]))
    refused(
        client.post(f"{V2}/requests.json", content=b"{broken", headers={"content-type": "application/json"})
    )
    for path in ("/services.xml", "/requests.xml", "/requests/1.xml", "/services/noise.xml", "/changes.xml"):
        assert refused(_get(client, key, path)) == "只支持 JSON 格式（.json）"
    refused(client.post(f"{V2}/requests.xml", data={"api_key": key}))
    assert refused(_get(client, key, "/requests/999.json"), 404) == "没有这个工单"
    refused(_get(client, key, "/requests/abc.json"), 404)
    refused(_get(client, key, "/requests/99999999999.json"), 404)
    refused(_get(client, key, "/nothing.json"), 404)
    for date in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-14:00", "2026-13-01", "yesterday"):
        assert refused(_get(client, key, "/requests.json", start_date=date)).startswith(
            "start_date 须为 ISO 8601"
        )
    for params in ({"page": "0"}, {"page_size": "5000"}, {"since": "-1"}, {"status": "pending"}):
        refused(_get(client, key, "/requests.json" if "since" not in params else "/changes.json", **params))


def test_located_by_coordinates_and_filed_as_json(client: TestClient, key: str) -> None:
    body = {
        "api_key": key,
        "service_code": "municipal",
        "description": "路灯不亮",
        "lat": 32.05,
        "long": 118.78,
    }
    number = _filed(client.post(f"{V2}/requests.json", json=body))
    (item,) = _get(client, key, f"/requests/{number}.json").json()
    assert (item["service_code"], item["agency_responsible"], item["address"]) == (
        "municipal",
        "街道城管科",
        None,
    )
    assert item["description"] == "路灯不亮"  # the coordinates are the caller's: staff only


INJECTIONS = ("1 OR 1=1", "1; DROP TABLE ticket; --", "' OR '1'='1", "1) UNION SELECT details FROM ticket --")


@pytest.mark.parametrize("field", ["status", "service_request_id", "start_date", "end_date", "service_code"])
def test_sql_injection_is_refused_and_leaks_nothing(
    web: WebContext, client: TestClient, key: str, field: str
) -> None:
    _filed(_post(client, key, description=f"楼下有人占道经营，联系我{PHONE}"))
    for attack in INJECTIONS:
        response = _get(client, key, "/requests.json", **{field: attack})
        assert response.status_code == 400, (field, attack)
        assert len(response.json()) == 1 and set(response.json()[0]) == {"code", "description"}
        assert "占道" not in response.text and PHONE not in response.text
    with web.session() as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_html_round_trips_as_plain_json_text(client: TestClient, key: str) -> None:
    script = "<script>alert('小棲')</script> & <b>路灯</b>"
    number = _filed(_post(client, key, description=script))
    response = _get(client, key, f"/requests/{number}.json")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()[0]["description"] == f"{script}（地址：幸福社区3栋）"


def test_openapi_lists_the_open311_paths(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/services.json",
        "/services/{service_code}.json",
        "/requests.json",
        "/requests/{service_request_id}.json",
        "/changes.json",
    ):
        assert f"{V2}{path}" in paths
    assert "post" in paths[f"{V2}/requests.json"] and not any("{rest}" in p for p in paths)


def test_events_without_a_state_report_the_state_the_ticket_is_in(
    web: WebContext, client: TestClient, key: str
) -> None:
    number = _filed(_post(client, key, description="楼道堆满杂物", phone=PHONE))
    with web.session() as session:
        session.add(TicketEvent(ticket_id=int(number), at=START, actor_id="x", action="补充", note=PHONE))
    feed = _get(client, key, "/changes.json", limit=1).json()
    assert [c["action"] for c in feed["changes"]] == ["登记"]
    answer = _get(client, key, "/changes.json", since=feed["next"])
    rest = answer.json()["changes"]
    assert PHONE not in answer.text and "139****5678" not in answer.text  # no notes at all
    assert [(c["action"], c["to_state"], c["status"]) for c in rest] == [("补充", None, "open")]


def test_a_group_added_after_the_names_were_read_is_still_named(
    app: App, web: WebContext, client: TestClient, hub: str
) -> None:
    assert _get(client, hub, "/requests.json").json() == []  # the server has read the registry's names
    with web.session() as session:
        session.add(ChatGroup(id="g9@chatroom", name="幸福新楼群", community_id="c1"))
    app.handle(said("#反映 新楼门禁坏了", in_group="g9@chatroom", id="m9"))
    (item,) = _get(client, hub, "/requests.json").json()
    assert (item["agency_responsible"], item["address"]) == ("幸福社区", "幸福社区 幸福新楼群")


# -- what each system reads -------------------------------------------------------------------------
def _in_group(app: App, message_id: str, sender: str, text: str, group: str = "g1@chatroom") -> None:
    app.handle(said(text, sender, in_group=group, id=message_id))


def _fed(client: TestClient, key: str) -> set[str]:
    response = _get(client, key, "/changes.json", since=0)
    assert response.status_code == 200, response.text
    return {change["service_request_id"] for change in response.json()["changes"]}


def test_a_key_reads_only_the_tickets_its_system_filed(
    app: App, web: WebContext, client: TestClient, key: str, hub: str
) -> None:
    with web.session() as session:
        other = create_api_client(session, "市场监管", START)
    mine = _filed(_post(client, key, service_code="municipal", description="路灯不亮", phone=PHONE))
    theirs = _filed(
        _post(client, other, service_code="noise", description="夜里装修", address_string="和平社区2栋")
    )
    _in_group(app, "m1", "wxid_r1", "#反映 5栋电梯又坏了，老人上不了楼")
    resident = "3"

    assert _ids(_get(client, key, "/requests.json")) == [mine]
    assert _ids(_get(client, other, "/requests.json")) == [theirs]
    assert _ids(_get(client, hub, "/requests.json")) == [resident, theirs, mine]
    every = f"{mine},{theirs},{resident}"
    assert _ids(_get(client, key, "/requests.json", service_request_id=every)) == [mine]
    assert _ids(_get(client, key, "/requests.json", status="open", service_code="noise")) == []
    missing = _get(client, key, "/requests/999.json")
    for number in (theirs, resident):  # another's ticket is "not found", word for word as a missing one
        response = _get(client, key, f"/requests/{number}.json")
        assert (response.status_code, response.text) == (404, missing.text)
    assert _get(client, hub, f"/requests/{theirs}.json").status_code == 200
    assert _fed(client, key) == {mine} and _fed(client, other) == {theirs}
    assert _fed(client, hub) == {mine, theirs, resident}

    # a call about the residents' problem joins their ticket: the system that made it may follow it now,
    # but reads it as anyone else does, not in the resident's words
    joined = _post(
        client, other, service_code="other", address_string="幸福社区5栋", description="5栋电梯坏了"
    )
    assert _filed(joined) == resident
    assert _ids(_get(client, other, "/requests.json")) == [resident, theirs]
    assert _fed(client, other) == {theirs, resident}
    (item,) = _get(client, other, f"/requests/{resident}.json").json()
    assert item["description"] == f"{item['service_name']}：电梯又坏了，老人上不了楼"
    assert _ids(_get(client, key, "/requests.json")) == [mine]


def test_another_system_reads_a_topic_without_names_places_or_numbers(
    app: App, web: WebContext, client: TestClient, key: str, hub: str
) -> None:
    said = "#反映 3栋502的张阿姨家漏水到我家，她电话13912345678，我是王秀英，5栋-302"
    _in_group(app, "m1", "wxid_r1", said)  # wxid_r1 is "5栋-302 王阿姨" on WeChat
    (item,) = _get(client, hub, "/requests/1.json").json()
    assert item["description"] == f"{item['service_name']}：某阿姨家漏水到我家，我是某某"
    for private in ("张", "王", "秀英", "502", "3栋", "5栋", "302", "139", "5678"):
        assert private not in item["description"], private

    call = {
        "description": "我叫赵红，302的李大爷家油烟太大",
        "first_name": "红",
        "last_name": "赵",
        "phone": PHONE,
    }
    number = _filed(_post(client, key, **call))
    (own,) = _get(client, key, f"/requests/{number}.json").json()
    assert own["description"] == "我叫赵红，302的李大爷家油烟太大（地址：幸福社区3栋）"  # its own words
    (seen,) = _get(client, hub, f"/requests/{number}.json").json()
    assert seen["description"] == "环境卫生：我叫某人，某大爷家油烟太大（地址：幸福社区）"
    listed = _get(client, hub, "/requests.json")
    assert "赵" not in listed.text and "李大爷" not in listed.text and "302" not in listed.text


@pytest.mark.parametrize(
    ("said", "names", "reads"),
    [
        ("我要反映：5-2-302 刘晓红家天天跺脚", ["7栋-101 刘晓红"], "噪音扰民：某人家天天跺脚"),
        ("@5栋王阿姨 小区门口垃圾没人清运", [], "噪音扰民：小区门口垃圾没人清运"),
        ("老王家的狗天天叫，小程序也打不开", [], "噪音扰民：老某家的狗天天叫，小程序也打不开"),
        ("楼上1202装修太吵，联系方式 025-8888 1234，zhao@example.com", [], "噪音扰民：楼上装修太吵"),
        ("身份证110101199003071234的居民12号楼三楼半夜唱歌", [], "噪音扰民：居民半夜唱歌"),
        ("电话１３９１２３４５６７８，11010119900307123X，139 1234 5678楼道吵", [], "噪音扰民：楼道吵"),
        ("打幺三九****五六七八，一二三四五六七八九也行，三天了", [], "噪音扰民：打，也行，三天了"),
        ("502室", [], "噪音扰民"),
    ],
    ids=[
        "known-name",
        "mention",
        "familiar",
        "contacts",
        "id-card-and-floor",
        "full-width",
        "chinese",
        "nothing-left",
    ],
)
def test_public_description(said: str, names: list[str], reads: str) -> None:
    assert public_description("噪音扰民", said, names) == reads


# -- caller ids and keys ----------------------------------------------------------------------------
PLACES = ("幸福社区3栋", "和平社区2栋", "城东路口")  # a call in each opens its own ticket


def _caller_id(app: App, key: str, secret: str | None, place: str) -> str:
    """The id a caller gets from a server keyed with `secret` (None: the one kept in the cache dir)."""
    restarted = create_app(replace(app.settings, open311_secret=secret), engine=app.engine)
    web = WebContext(restarted, clock=lambda: START)
    client = TestClient(create_web(web))
    assert (
        _post(client, key, description="路灯不亮", address_string=place, phone=PHONE)
        .json()[0]["service_notice"]
        .startswith("已转交")
    )
    with web.session() as session:
        caller = session.exec(
            select(TicketReporter.person_id).order_by(col(TicketReporter.id).desc())
        ).first()
        assert caller is not None
        return caller.rsplit(":", 1)[1]


def test_caller_ids_are_keyed_by_the_server_secret(app: App, key: str) -> None:
    first, second = _caller_id(app, key, "s" * 40, PLACES[0]), _caller_id(app, key, "t" * 40, PLACES[1])
    assert first != second
    assert hashlib.sha256(PHONE.encode()).hexdigest()[:16] not in (first, second)
    assert _caller_id(app, key, "s" * 40, PLACES[2]) == first  # the same secret, the same caller


def test_without_a_configured_secret_one_is_made_once_and_kept_private(app: App, key: str) -> None:
    kept = app.settings.cache_dir / SECRET_FILE
    assert not kept.exists()
    caller = _caller_id(app, key, None, PLACES[0])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and len(kept.read_text().strip()) == 64
    assert _caller_id(app, key, None, PLACES[1]) == caller  # a restart keeps the ids
    assert caller != _caller_id(app, key, kept.read_text().strip() + "x", PLACES[2])


def test_a_kept_secret_left_readable_is_made_private_and_the_configured_one_wins(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    made = caller_secret(settings)
    kept = settings.cache_dir / SECRET_FILE
    kept.chmod(0o644)
    assert caller_secret(settings) == made and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert caller_secret(replace(settings, open311_secret="x" * 40)) == b"x" * 40
    kept.write_text("short\n")
    with pytest.raises(XiaoqiError):
        caller_secret(settings)


def test_the_cli_makes_a_key_that_reads_everything(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    for name, flags in (("12345平台", ["--read-all"]), ("数字城管", [])):
        result = runner.invoke(cli, ["api-key", "add", name, *flags, "--db", db])
        assert result.exit_code == 0, result.output
        assert result.output.strip().startswith("xq_")
    engine = create_engine(db)
    with Session(engine) as session:
        clients = session.exec(select(ApiClient.name, ApiClient.read_all).order_by(ApiClient.name)).all()
    engine.dispose()
    assert sorted(clients) == [("12345平台", True), ("数字城管", False)]
