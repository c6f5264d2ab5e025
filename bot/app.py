"""The application: turns incoming events into replies, the same on every transport. It only puts
together the parts (pipeline, clock and jobs, delivery, spool, replay batching); all state that
matters lives in the database, so a restart loses nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum

from sqlalchemy.engine import Engine

from access.policy import Access
from bot import middlewares as mw
from bot.batch import ReplayBatch
from bot.context import Services
from bot.delivery import Delivery
from bot.knowledge import Knowledge
from bot.pipeline import Pipeline, Turn
from bot.router import Router
from bot.spooling import Spooling
from bot.timekeeper import Timekeeper
from consult.jobs import ConsultationJob
from core.events import Incoming, Outgoing
from core.outbox import Outbox
from core.scheduling import Job
from core.settings import Settings
from groups.accounts import GroupAccounts
from nlp import Labels, MessageClassifier
from tickets.desk import Desk


class Mode(StrEnum):
    """How the app shares its database and sends (chosen once, by the roof)."""

    SHARED = "shared"  # one of several processes on the database, sending inline (tests)
    ALONE = "alone"  # the only process on its database (simulate, demo, chat): replays batch
    LIVE = "live"  # `xiaoqi run`: released messages are claimed until the transport settles them
    CONSOLE = "console"  # the web console: queues for the bot process, runs no jobs, sends nothing


class App:
    """The parts of one bot process, and the message path through them."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        router: Router,
        desk: Desk,
        knowledge: Knowledge,
        *,
        jobs: Sequence[Job] = (),
        classifier: MessageClassifier | None = None,
        mode: Mode = Mode.SHARED,
        bulk: bool = True,
    ) -> None:
        self.settings, self.engine, self.router, self.desk = settings, engine, router, desk
        self.knowledge, self.jobs, self.classifier, self.mode = knowledge, jobs, classifier, mode
        self.outbox = Outbox(
            settings.account, settings.send_limits, settings.quiet_hours, accounts=GroupAccounts()
        )
        self.outbox.shared, self.outbox.sends = mode is not Mode.ALONE, mode is not Mode.CONSOLE
        self.access = Access(leaders_see_details=settings.leaders_see_details)
        self.replay = ReplayBatch(engine, bulk=bulk)
        self.timekeeper = Timekeeper(jobs, self.outbox, self.replay, live=mode is Mode.LIVE)
        self.delivery = Delivery(self.outbox, self.replay, engine, settings.account, live=mode is Mode.LIVE)
        self.spooling = Spooling(settings.spool_path, self.handle)
        consultations = next((job for job in jobs if isinstance(job, ConsultationJob)), None)
        self.services = Services(
            settings, desk, self.access, self.outbox, router, knowledge.matcher, self.classify, consultations
        )  # fmt: skip
        self.pipeline = Pipeline([
            mw.RecentPosts(self.replay),
            mw.ServingAccount(settings.account),
            mw.Capture(self.replay),
            mw.ParseCommand(router, settings.bot_id, settings.bot_name),
            mw.Labelling(self.classify),
            mw.moderation_hook,
            mw.Dispatch(self.services, self.replay),
            mw.StampAndQueue(self.outbox, self.timekeeper, self.replay, mode is Mode.CONSOLE, mode is Mode.LIVE),
        ])  # fmt: skip

    def with_mode(self, mode: Mode, *, jobs: Sequence[Job] | None = None, desk: Desk | None = None) -> App:
        """Another process's app on the same database and parts, built for `mode` (this one unchanged;
        tests may swap its jobs or ticket desk)."""
        return App(
            self.settings,
            self.engine,
            self.router,
            desk or self.desk,
            self.knowledge,
            jobs=self.jobs if jobs is None else jobs,
            classifier=self.classifier,
            mode=mode,
            bulk=self.replay.bulk,
        )

    def front_end(self) -> App:
        """The bot as the web console uses it, beside the bot process: it runs no jobs, sends nothing
        itself, answers its own user on the page and queues the rest."""
        return self if self.mode is Mode.CONSOLE else self.with_mode(Mode.CONSOLE, jobs=())

    def handle(self, incoming: Incoming, labels: Labels | None = None) -> list[Outgoing]:
        """Capture, label and answer one event; one bad message never stops the bot."""
        sent = [] if self.mode is Mode.CONSOLE else self.advance(incoming.at)
        with self.replay.unit(commit=False) as session:
            now = self.clock or incoming.at
            turn = Turn(incoming, session, now, labels, known_new=self.replay.known_new(incoming.message_id))
            return sent + self.pipeline(turn)

    def receive(self, incoming: Incoming) -> list[Outgoing]:
        """Live transports: handle an event, or spool it while the database is unreachable."""
        return self.spooling.receive(incoming)

    def advance(self, now: datetime) -> list[Outgoing]:
        """Move the clock to `now`: run everything due by then in time order, send what may be sent."""
        if not self.timekeeper.tick(now):
            return []
        return self.timekeeper.run_due(now) + self.delivery.deliver(now)

    def settle(self, sent: Sequence[int], failed: Sequence[tuple[int, str]]) -> None:
        """The transport reports which claimed messages went out and which failed."""
        self.delivery.settle(sent, failed, self.clock)

    @contextmanager
    def batch(self, on_commit: Callable[[], None] | None = None) -> Iterator[None]:
        """Replays (alone on the database): many events in one transaction; otherwise one each."""
        if self.mode is not Mode.ALONE or self.replay.active:
            yield
            if on_commit is not None:
                on_commit()
            return
        with self.replay.run(on_commit):
            yield

    def classify(self, texts: Sequence[str]) -> list[Labels | None]:
        if self.classifier is None or not texts:
            return [None] * len(texts)
        return list(self.classifier.classify_batch(texts))

    @property
    def clock(self) -> datetime | None:
        return self.timekeeper.clock
