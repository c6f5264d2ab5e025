"""Building the app for one mode: database (migrated), handlers, jobs, classifier."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from bot.app import App, Mode
from bot.handlers import build_router
from bot.knowledge import Knowledge
from bot.router import Router
from consult.jobs import ConsultationJob, Summariser
from core.db import make_engine
from core.scheduling import Job
from core.settings import Settings
from groups.noise import NoiseBudget
from groups.welcome import nickname_job
from nlp import MessageClassifier
from notices.service import NoticeJob
from reports.build import default_segmenter
from reports.jobs import monthly_report_job
from tickets.desk import Desk
from tickets.intake import IntakePolicy
from tickets.lifecycle import TicketAlertsJob
from tickets.policy import TicketPolicy
from tickets.workdays import WorkCalendar
from xiaoqi.schema import migrate

__all__ = ["Mode", "create_app"]


def create_app(
    settings: Settings,
    mode: Mode = Mode.SHARED,
    *,
    engine: Engine | None = None,
    classifier: MessageClassifier | None = None,
    jobs: Sequence[Job] | None = None,
    router: Router | None = None,
    bulk: bool = True,
) -> App:
    """Everything one bot process (or the console beside it) needs, built once for its mode."""
    engine = engine or make_engine(settings.database_url)
    migrate(engine)
    data = settings.data_dir
    desk = Desk(
        TicketPolicy.load(data / "tickets" / "policy.yaml"),
        WorkCalendar.load(data / "calendar"),
        IntakePolicy.load(data / "tickets" / "intake.yaml"),
        NoiseBudget.load(data / "groups" / "noise.yaml"),
    )
    segmenter = default_segmenter(settings)  # jieba, loaded on first use
    if jobs is None:
        jobs = [
            TicketAlertsJob(desk),
            NoticeJob(),
            nickname_job(desk.noise),
            ConsultationJob(Summariser(segmenter), settings.files_path),
            monthly_report_job(settings.files_path, segmenter),
        ]
    return App(
        settings,
        engine,
        router or build_router(),
        desk,
        Knowledge(data / "faq" / "knowledge.yaml", segmenter),
        jobs=jobs,
        classifier=classifier,
        mode=mode,
        bulk=bulk,
    )
