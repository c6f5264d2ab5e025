"""The staff console in headless Chromium, through a real HTTP server: sign-in, overview, filters,
a ticket's whole life cycle by its form, sign-out; with screenshots of the main pages."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from bot.app import App
from core.db import session_scope
from reports.build import build_report
from tickets.models import Ticket, TicketEvent, TicketState
from web.console import COOKIE
from web.context import WebContext
from web.server import create_web
from xiaoqi.wiring import create_app

from .conftest import require_or_skip
from .simulate import say, simulate
from .test_console import Clock, Console

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Dialog, Locator, Page

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 10_000
NONE_FOUND = "没有符合条件的工单。"


@contextmanager
def serving(api: FastAPI) -> Iterator[str]:
    """The app on a free local port, in a background thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    try:
        for _ in range(1000):  # up to 10 s
            if server.started or not thread.is_alive():
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "uvicorn did not stop"


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"{message.text} at {message.location.get('url')}")


def _dialog(dialog: Dialog, errors: list[str]) -> None:
    errors.append(f"a dialog opened: {dialog.message}")
    dialog.dismiss()


def _fonts_with_chinese(folder: Path) -> dict[str, str | float | bool]:
    """Chromium's environment with the CJK font the project ships via pip added to fontconfig: without a
    system CJK font (Debian's fonts-noto-cjk) every Chinese character in the screenshots is a box."""
    from noto_cjk_sans_otc import FONT_PATH

    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{Path(FONT_PATH).parent}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _fonts_of(page: Page, selector: str) -> set[str]:
    """The fonts Chromium really drew an element's text with."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        cdp.send("CSS.enable")
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {f["familyName"] for f in fonts}


def _shot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _rows(page: Page) -> Locator:
    """The ticket numbers the list shows."""
    return page.locator("#tickets a[href^='/tickets/']")


def _filter(page: Page, state: str = "", category: str = "") -> None:
    """Filter the ticket list by its form, and wait for the filtered page."""
    from playwright.sync_api import expect

    filters = page.locator("#filters")
    filters.locator("select[name=state]").select_option(state)
    filters.locator("select[name=category]").select_option(category)
    filters.get_by_role("button", name="筛选").click()
    query = urlencode({"state": state, "category": category})
    expect(page).to_have_url(re.compile(re.escape(f"/tickets?{query}&")))
    expect(filters.locator("select[name=state]")).to_have_value(state)  # the form keeps the filter
    expect(filters.locator("select[name=category]")).to_have_value(category)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # one backend is enough for the browser
def test_the_console_in_a_browser_from_sign_in_to_a_rated_ticket(app: App, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        require_or_skip("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        require_or_skip("python playwright is not installed")
    folder = Path(os.environ.get("XIAOQI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    simulate(
        app,
        [
            say("11-02T09:00", "wxid_r1", "#反映 5栋电梯又坏了"),
            say("11-02T09:05", "wxid_r2", "#反映 楼下垃圾没人清理", group="g2@chatroom"),
        ],
    )
    with session_scope(app.engine) as session:
        filed = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        categories = [t.category for t in filed]
    assert [t.id for t in filed] == [1, 2] and all(t.state is TicketState.NEW for t in filed)

    clock = Clock()  # 11-02 11:00, two hours after the first ticket: both are "today"
    web_app = create_app(app.settings, engine=app.engine, jobs=[])
    api = create_web(WebContext(web_app, clock=clock))
    codes = Console(TestClient(api), clock, app, web_app)  # for its code_for: the code the bot queued
    errors: list[str] = []
    shots: list[Path] = []

    with serving(api) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], env=_fonts_with_chinese(tmp_path / "fonts")
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: _console_error(m, errors))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: _dialog(d, errors))

            # a stranger is sent to the sign-in form
            page.goto(f"{base}/")
            expect(page).to_have_url(f"{base}/login")
            expect(page.get_by_role("heading", name="小棲控制台登录")).to_be_visible()
            assert any("CJK" in f for f in _fonts_of(page, "h1")), "the screenshots would show boxes"
            shots.append(_shot(page, folder, "login"))

            # sign in with the code Xiaoqi sends by WeChat
            page.locator("input[name=who]").fill("wxid_sg")
            page.get_by_role("button", name="获取验证码").click()
            expect(page.locator("p.notice")).to_contain_text("验证码发给您了")
            code = codes.code_for("wxid_sg")
            assert code is not None
            page.locator("input[name=code]").fill(code)
            page.get_by_role("button", name="登录").click()
            expect(page).to_have_url(f"{base}/")
            expect(page.get_by_role("heading", name=re.compile("一屏掌控"))).to_be_visible()
            new_today = page.locator(".card", has_text="今日新工单").locator("b")
            expect(new_today).to_have_text("2")
            expect(page.locator("header .me")).to_have_text("李社工（社工）")
            shots.append(_shot(page, folder, "overview"))

            # the list, filtered by state and by category (as the app classified the tickets)
            page.get_by_role("link", name="工单", exact=True).click()
            expect(page).to_have_url(f"{base}/tickets")
            _filter(page, state="待签收")
            expect(_rows(page)).to_have_text(["2", "1"])  # newest first
            expect(page.locator("#tickets")).to_contain_text("5栋电梯又坏了")
            shots.append(_shot(page, folder, "tickets-filtered"))
            _filter(page, state="待签收", category=categories[1])
            expect(_rows(page)).to_have_text([str(n) for n in (2, 1) if categories[n - 1] == categories[1]])
            _filter(page, state="已办结")
            expect(page.locator("#tickets")).to_contain_text(NONE_FOUND)
            expect(_rows(page)).to_have_count(0)

            # ticket 1, through its whole life cycle by the form
            page.goto(f"{base}/tickets?state=待签收")
            page.locator("#tickets").get_by_role("link", name="1", exact=True).click()
            expect(page).to_have_url(f"{base}/tickets/1")
            expect(page.locator("h1")).to_contain_text("待签收")
            form = page.locator("#act")
            status = page.locator("p.notice[role=status]")
            steps = [
                ("签收", "", "好的，1号工单已签收，办理时限11月9日前。"),
                ("进展", "已联系电梯公司", "好的，1号工单的进展已告诉居民。"),
                ("办结", "电梯已修好", "好的，1号工单已办结，已请居民评价。"),
            ]
            for action, note, answer in steps:
                form.locator("select[name=action]").select_option(action)
                form.locator("input[name=note]").fill(note)
                form.get_by_role("button", name="提交").click()
                expect(status).to_have_text(answer)
            expect(page.locator("h1")).to_contain_text("已办结")
            expect(page.locator("#events")).to_contain_text("电梯已修好")
            expect(page.locator("table").first).to_contain_text("电梯已修好")  # 办理结果
            shots.append(_shot(page, folder, "ticket-resolved"))
            page.reload()  # F5 on the answer sends the form again: the page's nonce makes it act once
            expect(status).to_have_text("这个操作已经提交过了。")

            # the resident rates it in the group; the page shows it once reloaded
            simulate(app, [say("11-02T11:30", "wxid_r1", "满意")])
            page.goto(f"{base}/tickets/1")
            expect(page.locator("h1")).to_contain_text("已评价")
            expect(page.locator("th:text-is('评价') + td")).to_have_text("满意")
            expect(status).to_have_count(0)

            page.get_by_role("link", name="工单", exact=True).click()
            _filter(page, state="已评价")
            expect(_rows(page)).to_have_text(["1"])

            # this month's report, built as the monthly job does, downloaded from the archive
            month_dir = web_app.settings.files_path / "reports" / "2026-11"
            build_report(app.engine, "2026-11", month_dir, now=clock(), settings=app.settings)
            page.get_by_role("link", name="民情月报").click()
            expect(page.locator("#reports")).to_contain_text("2026-11")
            shots.append(_shot(page, folder, "reports"))
            with page.expect_download() as downloading:
                page.locator("#reports").get_by_role("link", name="PDF").click()
            download = downloading.value
            assert download.suggested_filename == "民情月报-2026-11.pdf"
            saved = folder / download.suggested_filename
            download.save_as(saved)
            assert saved.read_bytes()[:5] == b"%PDF-" and saved.stat().st_size > 10_000

            # sign out: the console is closed again
            page.get_by_role("button", name="退出").click()
            expect(page).to_have_url(f"{base}/login")
            page.goto(f"{base}/")
            expect(page).to_have_url(f"{base}/login")
            expect(page.get_by_role("button", name="获取验证码")).to_be_visible()
            assert COOKIE not in {c["name"] for c in page.context.cookies()}
        finally:
            browser.close()

    assert errors == []
    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 5_000, shot
    assert [s.name for s in shots] == [
        "console-login.png",
        "console-overview.png",
        "console-tickets-filtered.png",
        "console-ticket-resolved.png",
        "console-reports.png",
    ]
    with session_scope(app.engine) as session:
        ticket = session.get(Ticket, 1)
        other = session.get(Ticket, 2)
        taken = session.exec(select(TicketEvent.action).where(TicketEvent.ticket_id == 1)).all()
    assert ticket is not None and ticket.state is TicketState.CLOSED
    assert taken.count("签收") == taken.count("进展") == taken.count("办结") == 1
    assert other is not None and other.state is TicketState.NEW
