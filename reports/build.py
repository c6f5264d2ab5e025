"""Build the monthly public-opinion report (民情月报): figures from the database, then HTML and PDF."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.clock import wall_now
from core.db import session_scope
from core.settings import Settings
from groups.models import Community
from nlp.segment import Segmenter
from reports.casework import (
    Case,
    ConsultSection,
    TicketSection,
    consult_section,
    ticket_section,
    typical_cases,
)
from reports.figures import MessageFigures, message_figures
from reports.names import NameMask
from reports.period import Month, Scope, resolve_scope
from reports.topics import TopicResult, hot_topics
from reports.warnings import EarlyWarning, early_warnings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonthlyReport:
    month: Month
    scope: Scope
    generated_at: datetime
    messages: MessageFigures
    topics: TopicResult
    tickets: TicketSection
    consult: ConsultSection
    warnings: list[EarlyWarning]
    cases: list[Case]
    community_names: dict[str | None, str]
    timings: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path
    summary_text: str
    report: MonthlyReport = field(repr=False, compare=False)


def default_segmenter(settings: Settings) -> Segmenter:
    return Segmenter(userdict=settings.data_dir / "nlp" / "userdict.txt", cache_dir=settings.cache_dir)


def collect(
    session: Session, month: Month, scope_text: str | None, now: datetime, segmenter: Segmenter
) -> MonthlyReport:
    """Every figure of the report, each computed by aggregation in the database."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal started
        timings[stage] = time.perf_counter() - started
        started = time.perf_counter()

    scope = resolve_scope(session, scope_text)
    names: dict[str | None, str] = dict(session.exec(select(Community.id, Community.name)).all())
    messages = message_figures(session, month, scope)
    lap("messages")
    people = NameMask.from_registry(session, segmenter)  # whose names residents' quotes must not show
    topics = hot_topics(session, month, scope, segmenter, people)
    lap("topics")
    tickets = ticket_section(session, month, scope, now, people)
    consult = consult_section(session, month, scope)
    lap("tickets")
    warnings = early_warnings(session, month, scope, names, topics.topics)
    cases = typical_cases(session, month, scope, consult, people)
    lap("warnings")
    return MonthlyReport(
        month, scope, now, messages, topics, tickets, consult, warnings, cases, names, timings
    )


def write_report(
    session: Session,
    month: Month,
    out_dir: Path,
    *,
    scope: str | None = None,
    now: datetime,
    segmenter: Segmenter,
) -> ReportFiles:
    """Collect the figures with `session` and write report.html and report.pdf into out_dir."""
    from reports.render import browser_html, print_html, render_template, write_pdf
    from reports.texts import leader_message

    report = collect(session, month, scope, now, segmenter)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    document = render_template(report)
    report.timings["charts+html"] = time.perf_counter() - started
    started = time.perf_counter()
    html_path = out_dir / "report.html"
    html_path.write_text(browser_html(document), encoding="utf-8")
    report.timings["font subset"] = time.perf_counter() - started
    started = time.perf_counter()
    pdf_path = write_pdf(print_html(document), out_dir / "report.pdf")
    report.timings["pdf"] = time.perf_counter() - started
    log.info("report %s%s written to %s", month.key, report.scope.suffix, out_dir)
    return ReportFiles(html_path, pdf_path, leader_message(report), report)


def build_report(
    engine: Engine,
    month: str,
    out_dir: Path,
    scope: str | None = None,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    segmenter: Segmenter | None = None,
) -> ReportFiles:
    """Build the report of `month` ('2026-10') for the district, 'street:ID' or 'community:ID'."""
    settings = settings or Settings.from_env()
    with session_scope(engine) as session:
        return write_report(
            session,
            Month.parse(month),
            out_dir,
            scope=scope,
            now=now or wall_now(),
            segmenter=segmenter or default_segmenter(settings),
        )


def archive_dir(files_path: Path, month: Month, scope: Scope | None = None) -> Path:
    """Where the scheduler keeps a report: <files>/reports/2026-10 (or 2026-10-street-s1)."""
    return files_path / "reports" / f"{month.key}{scope.suffix if scope else ''}"
