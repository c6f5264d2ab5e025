"""The report in a browser (Debian's headless Chromium), and the scheduler job that builds and sends it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import App
from core.clock import SHANGHAI
from core.db import session_scope
from core.outbox import OutboxMessage
from core.scheduling import JobRun
from core.settings import Settings
from groups.registry import load_registry
from reports.build import build_report, default_segmenter
from reports.jobs import JOB_NAME, monthly_report_job, monthly_trigger
from xiaoqi.wiring import create_app

from .conftest import REGISTRY, require_or_skip
from .test_report import BUILT_AT, simulate_month

CHROMIUM = "/usr/bin/chromium"
LEADERS = ["wxid_dept", "wxid_ld"]


@pytest.fixture
def report_app(settings: Settings) -> Iterator[App]:
    """The app with the monthly report job, as create_app should wire it."""
    job = monthly_report_job(settings.files_path, default_segmenter(settings))
    application = create_app(settings, jobs=[job])
    with session_scope(application.engine) as session:
        load_registry(session, REGISTRY)
    yield application
    application.engine.dispose()


def _queued(app: App) -> list[OutboxMessage]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_the_report_renders_in_headless_chromium(app: App, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        require_or_skip("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("python playwright is not installed")
    simulate_month(app)
    files = build_report(app.engine, "2026-10", tmp_path / "report", now=BUILT_AT, settings=app.settings)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: problems.append(f"a dialog opened: {d.message}"))
        page.goto(files.html.as_uri())
        page.wait_for_load_state("load")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        images = page.eval_on_selector_all("img.chart", "els => els.map(e => e.complete && e.naturalWidth)")
        fonts_ok = page.evaluate('document.fonts.check("12px \\"Xiaoqi CJK\\"", "民情月报")')
        shown = page.inner_text("body")
        browser.close()
    assert problems == []
    assert shot.stat().st_size > 50_000
    assert images and all(images)
    assert fonts_ok
    assert "<script>alert(" in shown  # the resident's text is shown as text, never run


def test_the_trigger_is_08_00_on_the_first_and_never_days_29_to_31() -> None:
    trigger = monthly_trigger()
    at = datetime(2026, 1, 15, tzinfo=SHANGHAI)
    for _ in range(24):
        fire = trigger.get_next_fire_time(None, at)
        assert fire is not None
        local = fire.astimezone(SHANGHAI)
        assert (local.day, local.hour, local.minute) == (1, 8, 0)
        at = fire + timedelta(seconds=1)


def test_the_job_builds_last_month_at_08_00_on_the_1st_and_sends_it_to_leaders(report_app: App) -> None:
    simulate_month(report_app)  # starts on 1 September: at 08:00 on 1 October September's report went out
    report_app.advance(BUILT_AT - timedelta(minutes=1))
    archive = report_app.settings.files_path / "reports" / "2026-10"
    assert not archive.exists()
    sent = report_app.advance(BUILT_AT)
    assert (archive / "report.pdf").stat().st_size > 10_000
    assert (archive / "report.html").exists()
    to_leaders = [o for o in _queued(report_app) if o.file_path and "2026-10" in o.file_path]
    assert sorted(o.to_id or "" for o in to_leaders) == LEADERS
    assert all(o.file_path == str(archive / "report.pdf") for o in to_leaders)
    assert all(o.text.startswith("【民情月报】测试区 2026年10月") for o in to_leaders)
    assert {o.to_id for o in sent if o.file_path} <= set(LEADERS)
    with session_scope(report_app.engine) as session:
        run = session.get(JobRun, JOB_NAME)
        assert run is not None and run.last_run_at == BUILT_AT
    report_app.advance(BUILT_AT + timedelta(days=3))
    assert len([o for o in _queued(report_app) if o.file_path]) == 4  # September's and October's, once each


def test_a_missed_run_is_caught_up_once_after_downtime(settings: Settings, report_app: App) -> None:
    report_app.advance(datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI))
    report_app.advance(datetime(2026, 10, 1, 8, 0, tzinfo=SHANGHAI))  # runs: September's report
    report_app.engine.dispose()
    # the bot was down from mid-October to 3 January; a new process starts on the same database
    job = monthly_report_job(settings.files_path, default_segmenter(settings))
    restarted = create_app(settings, jobs=[job])
    restarted.advance(datetime(2027, 1, 3, 10, 0, tzinfo=SHANGHAI))
    reports = settings.files_path / "reports"
    built = sorted(p.name for p in reports.iterdir())
    assert built == ["2026-09", "2026-12"]  # three 1sts missed: coalesced into one run, the latest month
    with session_scope(restarted.engine) as session:
        run = session.get(JobRun, JOB_NAME)
        assert run is not None and run.last_run_at == datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI)
    december = [o for o in _queued(restarted) if o.file_path and "2026-12" in o.file_path]
    assert sorted(o.to_id or "" for o in december) == LEADERS
    restarted.engine.dispose()


def test_the_command_line_builds_a_report_and_refuses_a_bad_month(app: App, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xiaoqi.cli import app as cli

    simulate_month(app)
    runner = CliRunner()
    out = tmp_path / "cli-report"
    result = runner.invoke(
        cli, ["report", "build", "--month", "2026-10", "--out", str(out), "--db", app.settings.database_url]
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").stat().st_size > 10_000 and (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert (
        result.output.startswith("【民情月报】测试区 2026年10月") and str(out / "report.pdf") in result.output
    )
    bad = runner.invoke(
        cli, ["report", "build", "--month", "2026-13", "--out", str(out), "--db", app.settings.database_url]
    )
    assert bad.exit_code == 1 and "月份格式应为 YYYY-MM" in bad.output
