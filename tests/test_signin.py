"""Sign-in codes under concurrent requests: every limit holds when many requests arrive at once, on
SQLite and on PostgreSQL, through the console's real HTTP routes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import event
from sqlmodel import col, select

from bot.app import App
from core.audit import AuditEntry
from core.clock import SHANGHAI
from core.db import session_scope
from core.events import Priority
from core.outbox import OutboxMessage
from web import auth
from web.context import WebContext
from web.models import ConsoleSession, SignInCode
from web.server import create_web
from xiaoqi.wiring import create_app

from .test_console import Clock

CODE_TEXT = "控制台登录验证码"


@dataclass
class Console:
    api: FastAPI
    clock: Clock
    bot: App

    def client(self, address: str = "10.0.0.1") -> TestClient:
        return TestClient(self.api, base_url="https://testserver", client=(address, 50000))

    def ask(self, who: str, address: str = "10.0.0.1") -> Response:
        return self.client(address).post("/login", data={"who": who})

    def check(self, who: str, code: str, address: str = "10.0.0.1") -> Response:
        return self.client(address).post(
            "/login/code", data={"who": who, "code": code}, follow_redirects=False
        )

    def codes(self, person: str) -> list[SignInCode]:
        with session_scope(self.bot.engine) as session:
            return list(session.exec(select(SignInCode).where(SignInCode.person_id == person)).all())

    def queued(self, person: str) -> list[OutboxMessage]:
        with session_scope(self.bot.engine) as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.to_id == person, col(OutboxMessage.text).contains(CODE_TEXT))
                    .order_by(col(OutboxMessage.id))
                ).all()
            )

    def code_for(self, person: str) -> str:
        found = re.search(r"验证码：(\d{6})", self.queued(person)[-1].text)
        assert found is not None
        return found[1]

    def audit(self, action: str) -> list[AuditEntry]:
        with session_scope(self.bot.engine) as session:
            return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


@pytest.fixture
def console(app: App) -> Iterator[Console]:
    clock = Clock()
    web_app = create_app(app.settings, engine=app.engine, jobs=[])
    yield Console(create_web(WebContext(web_app, clock=clock)), clock, app)


def at_once(calls: list[Callable[[], Response]]) -> list[Response]:
    """Runs the calls in threads released together; their responses, in order."""
    start = threading.Barrier(len(calls))
    answers: list[Response | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            start.wait(10)
            answers[i] = calls[i]()
        except BaseException as error:  # handed to the test below
            answers[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    failed = [a for a in answers if not isinstance(a, Response)]
    assert not failed, failed
    return [a for a in answers if isinstance(a, Response)]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_twelve_requests_at_once_make_five_codes(console: Console) -> None:
    answers = at_once([lambda i=i: console.ask("李社工", f"10.0.1.{i}") for i in range(12)])
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1  # the refused ones read the same
    assert len(console.codes("wxid_sg")) == auth.CODES_PER_PERSON == 5
    assert len(console.queued("wxid_sg")) == 5
    assert len(console.audit("控制台验证码过多")) == 7
    console.clock.now += auth.LIMIT_WINDOW
    console.ask("李社工")
    assert len(console.codes("wxid_sg")) == 6  # a new hour, a new allowance


def test_thirty_wrong_guesses_at_once_are_five_checks_and_void_the_code(console: Console) -> None:
    console.ask("wxid_sg")
    code = console.code_for("wxid_sg")
    answers = at_once([lambda i=i: console.check("wxid_sg", _wrong(code), f"10.0.2.{i}") for i in range(30)])
    assert {a.status_code for a in answers} == {400}
    assert [c.attempts for c in console.codes("wxid_sg")] == [auth.CODE_TRIES]
    assert len(console.audit("控制台登录失败")) == 30
    checked = [e for e in console.audit("控制台登录失败") if e.detail.startswith("验证码错误")]
    assert len(checked) == 5
    assert console.check("wxid_sg", code).status_code == 400  # void now, though right
    console.ask("wxid_sg")  # a fresh code works
    assert console.check("wxid_sg", console.code_for("wxid_sg")).status_code == 303


def test_the_right_code_sent_twice_at_once_opens_one_session(console: Console) -> None:
    console.ask("wxid_sg")
    code = console.code_for("wxid_sg")
    answers = at_once([lambda: console.check("wxid_sg", code) for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [303] + [400] * 5
    with session_scope(console.bot.engine) as session:
        assert len(session.exec(select(ConsoleSession)).all()) == 1


def test_an_address_gets_twenty_code_requests_an_hour_whatever_the_names(console: Console) -> None:
    names = ["李社工", "nobody", "wxid_r1", "陈主任", "' OR 1=1 --"]
    answers = at_once([lambda i=i: console.ask(names[i % 5], "10.0.3.1") for i in range(25)])
    assert sorted(a.status_code for a in answers) == [200] * 20 + [429] * 5
    refused = next(a for a in answers if a.status_code == 429)
    assert "获取验证码太频繁了" in refused.text and 'name="who"' in refused.text
    assert console.ask("nobody", "10.0.3.1").status_code == 429
    # another address is not held up (someone not in the burst: 陈主任 may have spent his own five)
    assert console.ask("wxid_admin", "10.0.3.2").status_code == 200
    assert len(console.queued("wxid_admin")) == 1
    # an IPv6 client's neighbours in its /64 are the same subscriber
    assert auth.client_address(("2001:db8::1", 1)) == auth.client_address(("2001:db8::ffff:1", 2))
    assert auth.client_address(("::ffff:10.0.3.1", 1)) == "10.0.3.1"


def test_an_address_gets_fifty_code_checks_an_hour(console: Console) -> None:
    for _ in range(auth.TRIES_PER_ADDRESS):
        assert console.check("nobody", "123456", "10.0.4.1").status_code == 400
    console.ask("wxid_sg", "10.0.4.9")
    code = console.code_for("wxid_sg")
    refused = console.check("wxid_sg", code, "10.0.4.1")
    assert refused.status_code == 429 and "尝试次数太多了" in refused.text
    assert console.check("wxid_sg", code, "10.0.4.2").status_code == 303  # the code was not spent


def test_the_whole_console_sends_a_limited_number_of_codes_an_hour(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "CODES_PER_CONSOLE", 7)
    for i in range(10):  # names that are not staff do not spend the console's codes
        console.ask(f"陌生人{i}", f"10.0.5.{i}")
    staff = ["wxid_sg", "wxid_sg2", "wxid_ld"]
    answers = at_once([lambda i=i: console.ask(staff[i % 3], f"10.0.6.{i}") for i in range(15)])
    assert {a.status_code for a in answers} == {200}
    codes = {p: len(console.codes(p)) for p in staff}
    assert sum(codes.values()) == 7 and max(codes.values()) <= 5
    assert sum(len(console.queued(p)) for p in staff) == 7
    console.clock.now += auth.LIMIT_WINDOW
    console.ask("wxid_admin")
    assert len(console.codes("wxid_admin")) == 1


def test_a_name_that_is_not_staff_gets_the_same_page_after_the_same_work(console: Console) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def asking(who: str, address: str) -> tuple[Response, list[str]]:
        statements.clear()
        answer = console.ask(who, address)
        return answer, list(statements)

    # each name's counters exist after its first request (creating one costs a few statements more)
    for who in ("wxid_sg", "李社工", "5栋-302 王阿姨", "nobody"):
        console.ask(who, "10.0.7.1")
    event.listen(console.bot.engine, "before_cursor_execute", count)
    try:
        staff_page, staff_work = asking("李社工", "10.0.7.1")
        by_id_page, by_id_work = asking("wxid_sg", "10.0.7.1")
        pages = {"李社工": staff_page, "wxid_sg": by_id_page}
        work = {}
        for who in ("5栋-302 王阿姨", "nobody"):
            pages[who], work[who] = asking(who, "10.0.7.1")
    finally:
        event.remove(console.bot.engine, "before_cursor_execute", count)
    shown = {who: (a.status_code, a.text.replace(who, "…")) for who, a in pages.items()}
    assert len(set(shown.values())) == 1
    assert staff_page.headers.keys() == pages["nobody"].headers.keys()
    # the same statements, the same counters taken, but for storing the code and queueing its message
    assert len(staff_work) == len(by_id_work)
    for other in work.values():
        assert len(staff_work) - 3 <= len(other) < len(staff_work)
        assert [s.split()[0] for s in other if "rate_counter" in s] == [
            s.split()[0] for s in staff_work if "rate_counter" in s
        ]


def test_the_code_is_an_ordinary_answer_not_an_emergency(console: Console) -> None:
    console.clock.now = datetime(2026, 11, 2, 23, 30, tzinfo=SHANGHAI)  # in the quiet hours
    console.ask("李社工")
    (queued,) = console.queued("wxid_sg")
    assert queued.priority == Priority.REPLY != Priority.URGENT
    assert queued.not_before == queued.created_at  # an answer: it leaves at once, at night too
