"""The staff console through HTTP, as a browser uses it: sign-in by WeChat code, pages, ticket actions."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from bot.app import App
from core.audit import AuditEntry
from core.db import session_scope
from core.outbox import OutboxMessage
from groups.models import Community
from tickets.models import Ticket, TicketEvent, TicketState
from web.console import COOKIE
from web.context import WebContext
from web.server import create_web
from xiaoqi.wiring import create_app

from .conftest import START
from .simulate import say, simulate

PHONE = "13912345678"


@dataclass
class Clock:
    now: datetime = START + timedelta(hours=2)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Console:
    client: TestClient
    clock: Clock
    bot: App
    web_app: App = field(repr=False)

    def code_for(self, person: str) -> str | None:
        """The newest sign-in code the bot queued for this person's WeChat."""
        with session_scope(self.bot.engine) as session:
            texts = session.exec(
                select(OutboxMessage.text)
                .where(OutboxMessage.to_id == person, col(OutboxMessage.text).contains("控制台登录验证码"))
                .order_by(col(OutboxMessage.id).desc())
            ).all()
        found = re.search(r"验证码：(\d{6})", texts[0]) if texts else None
        return found[1] if found else None

    def sign_in(self, person: str) -> None:
        self.client.post("/login", data={"who": person})
        code = self.code_for(person)
        assert code is not None
        reply = self.client.post("/login/code", data={"who": person, "code": code}, follow_redirects=False)
        assert reply.status_code == 303 and COOKIE in reply.cookies

    def csrf(self, page: str) -> tuple[str, str]:
        html = self.client.get(page).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        nonce = re.search(r'name="nonce" value="([^"]+)"', html)
        assert csrf is not None
        return csrf[1], nonce[1] if nonce else ""

    def act(self, number: int, action: str, note: str = "") -> str:
        csrf, nonce = self.csrf(f"/tickets/{number}")
        reply = self.client.post(
            f"/tickets/{number}", data={"action": action, "note": note, "csrf": csrf, "nonce": nonce}
        )
        assert reply.status_code == 200, reply.text
        return _status(reply.text)


def _status(html: str) -> str:
    return " / ".join(re.findall(r'<p class="notice" role="status">([^<]*)</p>', html))


@pytest.fixture
def console(app: App) -> Iterator[Console]:
    clock = Clock()
    web_app = create_app(app.settings, engine=app.engine, jobs=[])
    # https, as in production: the session cookie is Secure
    with TestClient(create_web(WebContext(web_app, clock=clock)), base_url="https://testserver") as client:
        yield Console(client, clock, app, web_app)


def _file_petition(app: App) -> None:
    simulate(app, [say("11-02T09:00", "wxid_r1", f"#反映 5栋电梯又坏了，有事打我电话{PHONE}")])


def test_pages_send_strangers_to_the_sign_in_form(console: Console) -> None:
    for page in ("/", "/tickets", "/tickets/1"):
        reply = console.client.get(page, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"] == "/login"
    console.client.cookies.set(COOKIE, "forged-token")
    assert console.client.get("/", follow_redirects=False).status_code == 303
    assert "获取验证码" in console.client.get("/login").text


def test_a_code_comes_by_wechat_works_once_and_a_wrong_or_late_one_fails(console: Console) -> None:
    page = console.client.post("/login", data={"who": "李社工"}).text  # by name
    assert "小棲已经通过微信私信把验证码发给您了" in page
    code = console.code_for("wxid_sg")
    assert code is not None
    wrong = console.client.post(
        "/login/code", data={"who": "李社工", "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and "验证码不对或已过期" in wrong.text
    ok = console.client.post("/login/code", data={"who": "李社工", "code": code}, follow_redirects=False)
    assert ok.status_code == 303
    assert "一屏掌控" in console.client.get("/").text
    console.client.cookies.clear()
    again = console.client.post("/login/code", data={"who": "李社工", "code": code})
    assert again.status_code == 400  # used up
    console.client.post("/login", data={"who": "wxid_sg"})
    late = console.code_for("wxid_sg")
    console.clock.now += timedelta(minutes=6)
    assert console.client.post("/login/code", data={"who": "wxid_sg", "code": late}).status_code == 400
    with session_scope(console.bot.engine) as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.actor_id == "wxid_sg")).all()
    assert actions.count("登录控制台") == 1 and actions.count("控制台登录失败") == 3


def test_five_wrong_guesses_void_a_code(console: Console) -> None:
    console.client.post("/login", data={"who": "wxid_sg"})
    code = console.code_for("wxid_sg")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        console.client.post("/login/code", data={"who": "wxid_sg", "code": wrong})
    assert console.client.post("/login/code", data={"who": "wxid_sg", "code": code}).status_code == 400


def test_a_resident_or_a_stranger_gets_no_code_and_the_page_does_not_say_so(console: Console) -> None:
    staff = console.client.post("/login", data={"who": "wxid_sg"}).text
    for who in ("wxid_r1", "5栋-302 王阿姨", "nobody", "' OR 1=1 --"):
        page = console.client.post("/login", data={"who": who}).text
        assert page.replace(who, "").count("验证码") == staff.replace("wxid_sg", "").count("验证码")
        assert console.code_for(who) is None
    reply = console.client.post("/login/code", data={"who": "wxid_r1", "code": "123456"})
    assert reply.status_code == 400


def test_a_ticket_from_list_to_resolution_in_the_console(console: Console) -> None:
    _file_petition(console.bot)
    console.sign_in("wxid_sg")
    listing = console.client.get("/tickets", params={"state": "待签收"}).text
    assert 'href="/tickets/1"' in listing and PHONE not in listing  # the list shows the masked summary
    assert 'href="/tickets/1"' not in console.client.get("/tickets", params={"state": "已办结"}).text
    detail = console.client.get("/tickets/1").text
    assert PHONE in detail  # the community's social worker handles it: the resident's own words
    assert console.act(1, "签收") == "好的，1号工单已签收，办理时限11月9日前。"
    assert console.act(1, "进展", "已联系电梯公司") == "好的，1号工单的进展已告诉居民。"
    assert console.act(1, "办结", "电梯已修好") == "好的，1号工单已办结，已请居民评价。"
    assert console.act(1, "签收") == "1号工单现在是“已办结”，不能签收。"
    with session_scope(console.bot.engine) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and ticket.state is TicketState.RESOLVED
        told = session.exec(
            select(OutboxMessage.text).where(OutboxMessage.to_id == "wxid_r1").order_by(col(OutboxMessage.id))
        ).all()
        audit = session.exec(select(AuditEntry.action).where(AuditEntry.actor_id == "wxid_sg")).all()
        answered_on_wechat = session.exec(
            select(OutboxMessage.text).where(
                OutboxMessage.to_id == "wxid_sg", col(OutboxMessage.text).contains("好的")
            )
        ).all()
    # the resident hears each step privately, as when the step is taken in the chat
    assert any(t.endswith("李社工已经接手，正在处理。") for t in told)
    assert any(t.endswith("有新进展：已联系电梯公司") for t in told)
    assert any("已经办好：电梯已修好" in t for t in told)
    assert answered_on_wechat == []  # the console's own user reads the answers on the page
    assert "查看工单详情" in audit and "登录控制台" in audit
    events = console.client.get("/tickets/1").text
    assert events.count("<td>签收</td>") == 1 and "<td>办结</td>" in events


def test_a_form_sent_twice_acts_once(console: Console) -> None:
    _file_petition(console.bot)
    console.sign_in("wxid_sg")
    csrf, nonce = console.csrf("/tickets/1")
    form = {"action": "签收", "note": "", "csrf": csrf, "nonce": nonce}
    first = console.client.post("/tickets/1", data=form)
    second = console.client.post("/tickets/1", data=form)
    assert _status(first.text).startswith("好的") and _status(second.text) == "这个操作已经提交过了。"
    with session_scope(console.bot.engine) as session:
        steps = session.exec(select(TicketEvent).where(TicketEvent.action == "签收")).all()
    assert len(steps) == 1


def test_an_action_without_the_csrf_token_is_refused(console: Console) -> None:
    _file_petition(console.bot)
    console.sign_in("wxid_sg")
    _, nonce = console.csrf("/tickets/1")
    reply = console.client.post("/tickets/1", data={"action": "签收", "csrf": "guess", "nonce": nonce})
    assert reply.status_code == 403 and "页面已过期" in reply.text
    with session_scope(console.bot.engine) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and ticket.state is TicketState.NEW


def test_leaders_see_the_masked_summary_not_the_residents_words(console: Console) -> None:
    _file_petition(console.bot)
    console.sign_in("wxid_ld")
    page = console.client.get("/tickets/1").text
    assert "5栋电梯又坏了" in page and PHONE not in page
    assert "居民的原话和电话只有承办人、本社区社工和管理员能看到" in page


def test_staff_of_another_community_cannot_open_the_ticket(console: Console) -> None:
    _file_petition(console.bot)
    console.sign_in("wxid_sg2")
    assert console.client.get("/tickets/1").status_code == 404
    assert 'href="/tickets/1"' not in console.client.get("/tickets").text
    csrf, _ = console.csrf("/tickets")
    refused = console.client.post("/tickets/1", data={"action": "签收", "csrf": csrf, "nonce": "x" * 20})
    assert refused.status_code in (200, 404) and "已签收，现在" not in refused.text


def test_filters_and_texts_are_escaped_not_executed(console: Console) -> None:
    simulate(console.bot, [say("11-02T09:00", "wxid_r1", "#反映 <script>alert(1)</script> 楼道灯不亮")])
    console.sign_in("wxid_sg")
    hostile = {"state": "' OR 1=1 --", "community": '"><script>alert(2)</script>', "handler": "x' --"}
    page = console.client.get("/tickets", params=hostile)
    assert page.status_code == 200 and "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in console.client.get("/tickets/1").text
    assert console.client.get("/tickets", params={"page_no": "abc"}).status_code == 422
    assert console.client.get("/tickets/99999999999999999999").status_code in (404, 422)


def test_the_community_filter_keeps_the_choice_and_escapes_names(console: Console) -> None:
    with session_scope(console.bot.engine) as session:
        community = session.get(Community, "c2")
        assert community is not None
        community.name = "<b>和平</b>社区"
    console.sign_in("wxid_ld")
    page = console.client.get("/tickets", params={"community": "c2"}).text
    assert '<option value="c2" selected>&lt;b&gt;和平&lt;/b&gt;社区</option>' in page
    assert '<option value="c1">幸福社区</option>' in page and "<b>和平" not in page
    unknown = console.client.get("/tickets", params={"community": '"><b>x'}).text
    assert '" selected>' not in unknown and '<option value="c2">&lt;b&gt;' in unknown


def test_oversized_posts_are_refused(console: Console) -> None:
    reply = console.client.post("/login", data={"who": "x" * 100_000})
    assert reply.status_code == 413


def test_sessions_lapse_when_idle_and_on_sign_out(console: Console) -> None:
    console.sign_in("wxid_sg")
    console.clock.now += timedelta(hours=3)
    assert console.client.get("/", follow_redirects=False).status_code == 303
    console.sign_in("wxid_sg")
    csrf, _ = console.csrf("/")
    console.client.post("/logout", data={"csrf": csrf})
    assert console.client.get("/", follow_redirects=False).status_code == 303


def test_the_overview_counts_what_the_viewer_may_see(console: Console) -> None:
    _file_petition(console.bot)
    simulate(console.bot, [say("11-02T09:10", "wxid_r3", "#反映 和平小区路灯坏了", group="g3@chatroom")])
    console.sign_in("wxid_ld")
    page = console.client.get("/").text
    assert re.search(r"今日新工单<b>2</b>", page) and 'http-equiv="refresh"' in page
    console.client.cookies.clear()
    console.sign_in("wxid_sg2")
    assert re.search(r"今日新工单<b>1</b>", console.client.get("/").text)


def test_a_vote_shows_its_live_turnout(console: Console) -> None:
    simulate(
        console.bot,
        [
            say(
                "11-02T09:00",
                "wxid_sg",
                "#发起议事 东门空地怎么用？\n截止：11月6日18:00\n范围：本社区",
                group=None,
            ),
            say("11-02T09:05", "wxid_sg", "#开始投票 1", group=None),
            say("11-02T09:10", "wxid_r1", "投票 1"),
        ],
    )
    console.sign_in("wxid_ld")
    page = console.client.get("/consultations").text
    assert "东门空地怎么用？" in page and "投票中" in page and 'http-equiv="refresh"' in page
    assert "<td>1/2（50%）</td>" in page and "同意 1，反对 0" in page


def test_reports_are_listed_and_downloaded_and_nothing_else_is(console: Console) -> None:
    folder = console.web_app.settings.files_path / "reports" / "2026-10"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html>民情月报</html>", encoding="utf-8")
    (folder / "report.pdf").write_bytes(b"%PDF-1.7 test")
    (folder.parent / "secret.txt").write_text("no", encoding="utf-8")
    console.sign_in("wxid_ld")
    listing = console.client.get("/reports").text
    assert (
        'href="/reports/2026-10/report.pdf"' in listing and 'href="/reports/2026-10/report.html"' in listing
    )
    pdf = console.client.get("/reports/2026-10/report.pdf")
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 test"
    assert pdf.headers["content-type"] == "application/pdf"
    for sneaky in (
        "/reports/2026-10/../secret.txt",
        "/reports/..%2F/secret.txt",
        "/reports/2026-10/secret.txt",
    ):
        assert console.client.get(sneaky).status_code == 404, sneaky
    with session_scope(console.bot.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "下载月报")).all()


def test_groups_and_accounts_show_who_serves_what_and_the_backlog(console: Console) -> None:
    console.sign_in("wxid_admin")  # the sign-in code itself waits in the send queue: no bot is running
    page = console.client.get("/groups").text
    account = re.search(r'<table id="accounts">.*?</table>', page, re.S)
    assert account is not None and "离线" in account[0] and "<td>1</td>" in account[0]
    assert 'href="/groups?community=c1"' in page and "幸福1-5栋群" not in page  # a community at a time
    one = console.client.get("/groups", params={"community": "c1"}).text
    assert "幸福1-5栋群" in one and "幸福6-10栋群" in one and "和平邻里群" not in one
    console.client.cookies.clear()
    console.sign_in("wxid_sg2")  # a social worker sees their own community's groups
    own = console.client.get("/groups", params={"community": "c1"}).text
    assert "和平邻里群" in own and "幸福1-5栋群" not in own


def test_the_big_screen_numbers_are_counted_once_a_period_and_a_stale_one_is_served_at_once(app: App) -> None:
    clock = Clock()
    web = WebContext(create_app(app.settings, engine=app.engine, jobs=[]), clock=clock)
    counted: list[datetime] = []
    slow = threading.Event()

    def count(now: datetime) -> int:
        counted.append(now)
        if len(counted) == 2:
            assert slow.wait(10)  # the second count takes long: nobody waits for it
        return len(counted)

    fresh = timedelta(seconds=30)
    first = clock.now
    assert web.cached("screen", fresh, count) == (first, 1)
    clock.now += timedelta(seconds=10)
    assert web.cached("screen", fresh, count) == (first, 1)  # still fresh: not counted again
    clock.now += timedelta(seconds=30)
    assert web.cached("screen", fresh, count) == (first, 1)  # stale: served while counted anew
    assert web.cached("screen", fresh, count) == (first, 1)  # one count at a time
    slow.set()
    web.refreshes["screen"].join(10)
    assert web.cached("screen", fresh, count) == (clock.now, 2) and counted == [first, clock.now]
