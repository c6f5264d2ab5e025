"""The application: one object that turns incoming events into replies, the same on every transport."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from access.policy import Access, Refused
from bot import replies
from bot.router import Context, ParsedCommand, Router
from consult.jobs import ConsultationJob, Summariser
from core import audit, leases
from core.db import make_engine, session_scope
from core.errors import XiaoqiError
from core.events import Incoming, MessageKind, Outgoing, Priority
from core.leases import hold
from core.outbox import Outbox
from core.scheduling import Job, JobRun, next_run, schedule_changes
from core.settings import Settings
from core.spool import Spool
from faq import FaqMatcher, load_knowledge
from faq.questions import learned_matters, learned_version
from groups.accounts import GroupAccounts
from groups.messages import Message, capture_message, message_values
from groups.models import ChatGroup, Membership, Person
from groups.noise import NoiseBudget
from groups.welcome import nickname_job
from moderation.service import note_post, read_all_recent_posts
from nlp import Labels, MessageClassifier
from nlp.segment import Segmenter
from notices.service import NoticeJob
from tickets.desk import Desk
from tickets.intake import IntakePolicy
from tickets.lifecycle import TicketAlertsJob
from tickets.models import Ticket
from tickets.policy import TicketPolicy
from tickets.workdays import WorkCalendar
from xiaoqi.schema import migrate

log = logging.getLogger(__name__)
CLASSIFIED_KINDS = frozenset({MessageKind.TEXT})
# how long the clock runs without looking at the jobs when nothing is due: changes made by this process
# reset it at once; another process's (a new deadline it set) are seen within this much clock time
RECHECK = timedelta(seconds=60)
ALONE = timedelta(days=3650)  # a process alone with its database: only its own changes move the schedule
SCHEDULER_LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=90)  # `xiaoqi run` renews it every tick (30 s)
EMERGENCY = "紧急"
BATCH_EVENTS = 200  # events a replay handles per transaction
PRELOADED = (ChatGroup, Person, Membership, JobRun)
PINNED = (*PRELOADED, Ticket)  # a replay's tickets are read or written again and again
# kinds that change a membership when stored (capture does that): never taken by the quick path
MEMBERSHIP_KINDS = frozenset({MessageKind.JOIN, MessageKind.LEAVE})
# statements that write nothing, by their first six characters (anything else counts as a write)
_READS = frozenset({"SELECT", "SAVEPO", "RELEAS", "ROLLBA", "PRAGMA"})


@dataclass
class App:
    """Holds the wiring; all state that matters lives in the database, so a restart loses nothing."""

    settings: Settings
    engine: Engine
    router: Router
    desk: Desk
    jobs: Sequence[Job] = ()
    classifier: MessageClassifier | None = None
    segmenter: Segmenter | None = None  # jieba, loaded on first use (FAQ, summaries, reports)
    outbox: Outbox = field(init=False)
    spool: Spool = field(init=False)
    access: Access = field(init=False)
    live_delivery: bool = False  # True under `xiaoqi run`: released messages are claimed until settled
    quick_path: bool = True  # replays store ordinary messages in bulk (`_quick`); False: all the full way
    quick_handled: int = field(default=0, init=False)  # messages the quick path took
    clock: datetime | None = field(default=None, init=False)
    _baseline: datetime | None = field(default=None, init=False)
    _quiet_until: datetime | None = field(default=None, init=False)
    _faq: tuple[int, FaqMatcher] | None = field(default=None, init=False)
    _batch: Session | None = field(default=None, init=False)  # replays: one transaction for many events
    _batch_events: int = field(default=0, init=False)
    _posts_read: bool = field(default=False, init=False)
    _quick_rows: list[dict[str, object]] = field(default_factory=list, init=False)  # quick path, unwritten
    _unseen: set[str] = field(default_factory=set, init=False)  # coming ids known not to be stored yet
    _writes: int = field(default=0, init=False)  # a batch's statements other than reads, so far

    def __post_init__(self) -> None:
        self.outbox = Outbox(
            self.settings.account,
            self.settings.send_limits,
            self.settings.quiet_hours,
            accounts=GroupAccounts(),
        )
        self.spool = Spool(self.settings.spool_path)
        self.access = Access(leaders_see_details=self.settings.leaders_see_details)

    def faq(self, session: Session) -> FaqMatcher:
        """The knowledge base's matcher, rebuilt when staff approve a new answer into it."""
        version = learned_version(session)
        if self._faq is None or self._faq[0] != version:
            if self._faq is None:
                if self.segmenter is None:
                    self.segmenter = default_segmenter(self.settings)
                base = FaqMatcher(
                    load_knowledge(self.settings.data_dir / "faq" / "knowledge.yaml"), self.segmenter
                )
            else:
                base = self._faq[1]
            self._faq = (version, base.extended(learned_matters(session)))
        return self._faq[1]

    @property
    def noise(self) -> NoiseBudget:
        """How often the bot may speak in a group, and what goes privately instead."""
        return self.desk.noise

    @property
    def single_process(self) -> bool:
        """True when no other process writes to this database (simulate, demo, chat): the clock then
        never looks for other processes' changes to the schedule or the send queue."""
        return not self.outbox.shared

    @single_process.setter
    def single_process(self, alone: bool) -> None:
        self.outbox.shared = not alone

    @property
    def console(self) -> bool:
        """A front end beside the bot process (the web console): it runs no jobs and sends nothing
        itself; `handle` returns the answers to its own user and queues the rest for the bot to send."""
        return not self.outbox.sends

    @console.setter
    def console(self, front_end: bool) -> None:
        self.outbox.sends = not front_end

    @contextmanager
    def batch(self, on_commit: Callable[[], None] | None = None) -> Iterator[None]:
        """Replays (single process only): handle many events in one transaction, committed every
        BATCH_EVENTS events and before each scheduled job, instead of twice per message. A crash
        loses the uncommitted events; replaying the same events again redoes them, once (capture
        is idempotent, and each answer is queued in the transaction that marks its message handled).
        `on_commit` runs after each commit: a replay shows what was sent only once it is committed."""
        if not self.single_process or self._batch is not None:
            yield
            if on_commit is not None:
                on_commit()
            return
        with Session(self.engine, expire_on_commit=False) as session:
            self._batch, self._batch_events, self._posts_read = session, 0, False
            # the identity map holds objects weakly: keep the registry's groups, people and
            # memberships (and the job runs and tickets) for the whole replay, so each is read once
            # instead of once a message
            pinned: list[object] = []

            if on_commit is not None:
                # after_commit also fires when a savepoint is released: only the real commit counts
                event.listen(
                    session,
                    "after_commit",
                    lambda done: None if done.in_nested_transaction() else on_commit(),
                )

            # rows the quick path keeps back are written before anything reads or commits
            event.listen(session, "do_orm_execute", lambda _state: self._write_quick(session))
            event.listen(session, "before_commit", lambda _session: self._write_quick(session))

            @event.listens_for(session, "loaded_as_persistent")
            @event.listens_for(session, "pending_to_persistent")
            def pin(_session: Session, instance: object) -> None:
                if isinstance(instance, PINNED):
                    pinned.append(instance)

            # the registry (and when each job last ran), read in a few queries, not one object at a time
            for kind in PRELOADED:
                session.exec(select(kind)).all()
            # every statement that may write, counted: a refusal that wrote nothing needs no rollback
            event.listen(self.engine, "before_cursor_execute", self._count_write)
            try:
                yield
                session.commit()
            except BaseException:
                self._quick_rows.clear()  # uncommitted, as the rest of the batch
                session.rollback()
                raise
            finally:
                event.remove(self.engine, "before_cursor_execute", self._count_write)
                self._batch = None
                self._unseen.clear()

    def _count_write(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip()[:6].upper() not in _READS:
            self._writes += 1

    def expect(self, message_ids: Sequence[str]) -> None:
        """Replays: the ids of the coming events, looked up in one query, so that a new ordinary
        message needs no look-up of its own (`handle`'s quick path)."""
        if self._batch is None or not message_ids:
            return
        stored = self._batch.exec(
            select(Message.platform_id).where(col(Message.platform_id).in_(message_ids))
        )
        self._unseen = set(message_ids) - set(stored.all())

    def _write_quick(self, session: Session) -> None:
        if self._quick_rows:
            rows, self._quick_rows = self._quick_rows, []
            session.connection().execute(insert(Message.__table__), rows)  # type: ignore[attr-defined]

    @contextmanager
    def _unit(self, *, commit: bool = True) -> Iterator[Session]:
        """A unit of work: its own committed transaction, or a part of the open batch (committed
        with it, or at once with `commit`)."""
        if self._batch is None:
            with session_scope(self.engine) as session:
                yield session
            return
        yield self._batch
        if commit:
            self._batch.commit()

    def advance(self, now: datetime) -> list[Outgoing]:
        """Move the clock to `now`: run everything due by then in time order, send what may be sent."""
        if self._baseline is None:
            self._baseline = now
        if self.clock is not None and now <= self.clock:
            return []
        self.clock = now
        released: list[Outgoing] = []
        if self._quiet_until is None or now >= self._quiet_until:
            released = self._run_jobs(now)
        return released + self.deliver(now)

    def deliver(self, now: datetime) -> list[Outgoing]:
        """The queued messages the send limits allow by `now` (live: claimed; settle them once sent)."""
        if not self.outbox.may_release(now):
            return []
        with self._unit(commit=False) as session:
            return self.outbox.release(session, now, live=self.live_delivery)

    def settle(self, sent: Sequence[int], failed: Sequence[tuple[int, str]]) -> None:
        """The transport reports which claimed messages went out and which failed."""
        with session_scope(self.engine) as session:
            self.outbox.settle(session, sent, failed, self.clock or datetime.now(UTC))

    def close(self) -> None:
        """Give up this process's leases (scheduler, sending) so that another process takes over at once."""
        with session_scope(self.engine) as session:
            for name in (SCHEDULER_LEASE, f"send:{self.settings.account}"):
                leases.release(session, name, self.outbox.holder)

    def _run_jobs(self, now: datetime) -> list[Outgoing]:
        """Run due jobs in time order. Inline, what each produces is sent at its own time before the
        next job runs (a job may look at what an earlier run sent); live, the transport sends it now."""
        assert self._baseline is not None
        failed: set[str] = set()
        released: list[Outgoing] = []
        while True:
            with self._unit() as session:
                self._write_quick(session)  # before any savepoint, so that a failing job cannot undo them
                jobs = [job for job in self.jobs if job.name not in failed]
                due, earliest = next_run(session, jobs, self._baseline, now)
                if due is not None:
                    # something is due: take the scheduler lease (first in this transaction, so the
                    # work commits with it), then look again, as another process may have just run it
                    if not hold(session, SCHEDULER_LEASE, self.outbox.holder, now, LEASE_TTL):
                        self._quiet_until = now + RECHECK  # another process runs the jobs
                        return released
                    if not self.single_process:
                        due, earliest = next_run(session, jobs, self._baseline, now)
                if due is None:
                    # nothing is due before `earliest` unless this process changes it (handle() then
                    # forgets this); other processes' changes are seen within RECHECK of clock time
                    horizon = now + (ALONE if self.single_process else RECHECK)
                    self._quiet_until = min(earliest, horizon) if earliest is not None else horizon
                    return released
                at, job = due
                if self._batch is not None:
                    session.commit()  # a job (the report, say) may read through other connections
                try:
                    with session.begin_nested():
                        produced = job.run(session, at)
                        outgoing = [out for out in produced if isinstance(out, Outgoing)]
                        self.outbox.enqueue(session, outgoing, at=at, priority=Priority.ALERT)
                except Exception:
                    log.exception("scheduled job %s failed at %s", job.name, at.isoformat())
                    failed.add(job.name)
                    continue
                if not self.live_delivery and at < now:
                    released += self.outbox.release(session, at)

    def receive(self, incoming: Incoming) -> list[Outgoing]:
        """Live transports: handle an event, or keep it in the local spool while the database is
        unreachable. Spooled events are handled first, in order, once it answers again."""
        sent = self.retry_spooled()
        if len(self.spool):
            self.spool.add(incoming)  # still unreachable: keep the order
            return sent
        try:
            return sent + self.handle(incoming)
        except DBAPIError as error:
            if not _unreachable(error):
                raise
            self.spool.add(incoming)
            return sent

    def retry_spooled(self) -> list[Outgoing]:
        """Handle what the spool holds, if the database answers again (the clock calls this too)."""
        if not len(self.spool):
            return []
        sent: list[Outgoing] = []
        try:
            handled = self.spool.drain(lambda incoming: sent.extend(self.handle(incoming)))
        except DBAPIError as error:
            if not _unreachable(error):
                raise
            log.info("database still unreachable: %d messages wait in the spool", len(self.spool))
            return sent
        log.warning("database reachable again: %d spooled messages handled", handled)
        return sent

    def classify(self, texts: Sequence[str]) -> list[Labels | None]:
        if self.classifier is None or not texts:
            return [None] * len(texts)
        return list(self.classifier.classify_batch(texts))

    def handle(self, incoming: Incoming, labels: Labels | None = None) -> list[Outgoing]:
        """Capture, label and answer one event; one bad message never stops the bot."""
        sent = [] if self.console else self.advance(incoming.at)
        with self._unit(commit=False) as session:
            if self._batch is not None and not self._posts_read:
                read_all_recent_posts(session, incoming.at)  # the batch then sees every message stored
                self._posts_read = True
            known_new = incoming.message_id in self._unseen
            if known_new:
                self._unseen.discard(incoming.message_id)
                quick = self._quick(session, incoming, labels) if self.quick_path else None
                if quick is not None:
                    self.quick_handled += 1
                    return sent + quick
            self._write_quick(session)  # before any savepoint, so that a failing handler cannot undo them
            if incoming.group_id is not None and not self._serves(session, incoming.group_id):
                return sent  # another bot account in this group serves it
            captured = capture_message(
                session,
                platform_id=incoming.message_id,
                kind=incoming.kind,
                group_id=incoming.group_id,
                sender_id=incoming.sender_id,
                sender_name=incoming.sender_name,
                text=incoming.text,
                mentions=incoming.mentions,
                sent_at=incoming.at,
                now=self.clock or incoming.at,
                known_new=known_new,
            )
            if self._batch is None:
                session.commit()  # stored before anything else can go wrong
            if not captured.needs_handling:
                log.debug("message %s already handled", incoming.message_id)
                return sent
            message, sender, group = captured.message, captured.sender, captured.group
            assert sender is not None
            if incoming.kind is MessageKind.TEXT:
                note_post(session, sender.id, incoming.at, message.raw_text)
            parsed = self.router.parse(incoming, self.settings.bot_id, self.settings.bot_name)
            # staff commands say nothing about residents' opinions: stored, not labelled
            staff_command = parsed is not None and sender.role.is_staff
            if labels is None and incoming.kind in CLASSIFIED_KINDS and not staff_command:
                labels = self.classify([message.text])[0]
            if labels is not None:
                message.intent, message.category = labels.intent, labels.category
                message.sentiment, message.confidence = labels.sentiment, labels.confidence
            answer = self._dispatch(session, incoming, message, sender, group, parsed, labels)
            # the answer is queued in the same transaction that marks the message handled: a crash
            # before the commit handles the message again when it is redelivered, one after it sends
            urgent = labels is not None and labels.intent == EMERGENCY
            stamped = _stamp(answer, incoming, urgent)
            if self.console:  # its user reads the answer on the page, not on WeChat
                sent += [out for out in stamped if out.to_id == incoming.sender_id]
                stamped = [out for out in stamped if out.to_id != incoming.sender_id]
            self.outbox.enqueue(
                session,
                stamped,
                at=incoming.at,
                priority=Priority.URGENT if urgent else Priority.REPLY,
                replying_to=incoming.sender_id if incoming.is_private else None,
            )
            message.handled_at = incoming.at
            changed = schedule_changes(session)
            if changed is True:
                self._quiet_until = None  # look at every job again
            elif changed and self._quiet_until is not None:
                self._quiet_until = min(self._quiet_until, changed)  # some work became due sooner
            released = (
                [] if self.console else self.outbox.release(session, incoming.at, live=self.live_delivery)
            )
            if self._batch is not None:
                self._batch_events += 1
                if self._batch_events % BATCH_EVENTS == 0:
                    session.commit()
        return sent + released

    def _quick(self, session: Session, incoming: Incoming, labels: Labels | None) -> list[Outgoing] | None:
        """A replay's quick path for the ordinary group message (most of a month's traffic): a new
        message, from a known member, no command, and no handler with anything to do (each says so by
        its `idle` test). Stored exactly as `handle` would store it, but written in bulk; None: take
        the full path."""
        kind, group_id = incoming.kind, incoming.group_id
        if group_id is None or kind in MEMBERSHIP_KINDS or (kind in CLASSIFIED_KINDS and labels is None):
            return None
        group = session.get(ChatGroup, group_id)
        sender = session.get(Person, incoming.sender_id)
        if (
            group is None
            or sender is None
            or (group.account is not None and group.account != self.settings.account)
        ):
            return None
        renamed = not sender.registered and incoming.sender_name and sender.name != incoming.sender_name
        if renamed or (sender.community_id is None and group.community_id):
            return None  # capture updates the person
        if session.get(Membership, (sender.id, group_id)) is None:
            return None  # capture adds the membership
        if self.settings.bot_id in incoming.mentions:
            return None
        if self.router.parse(incoming, self.settings.bot_id, self.settings.bot_name) is not None:
            return None
        ctx = Context(self, session, incoming.at, incoming, sender, group, labels=labels)
        if not self.router.idle(ctx):
            return None
        row = message_values(
            incoming.message_id,
            kind,
            group_id,
            sender.id,
            incoming.sender_name,
            incoming.text,
            incoming.mentions,
            incoming.at,
            self.clock or incoming.at,
        )
        row |= {
            "handled_at": incoming.at,
            "failed": False,
            "intent": labels.intent if labels else None,
            "category": labels.category if labels else None,
            "sentiment": labels.sentiment if labels else None,
            "confidence": labels.confidence if labels else None,
        }
        self._quick_rows.append(row)
        if kind is MessageKind.TEXT:
            note_post(session, sender.id, incoming.at, str(row["raw_text"]))
        released = self.outbox.release(session, incoming.at, live=self.live_delivery)
        self._batch_events += 1
        if self._batch_events % BATCH_EVENTS == 0:
            session.commit()
        return released

    def _serves(self, session: Session, group_id: str) -> bool:
        group = session.get(ChatGroup, group_id)
        return group is None or group.account is None or group.account == self.settings.account

    def _dispatch(
        self,
        session: Session,
        incoming: Incoming,
        message: Message,
        sender: Person,
        group: ChatGroup | None,
        parsed: ParsedCommand | None,
        labels: Labels | None = None,
    ) -> list[Outgoing]:
        ctx = Context(self, session, incoming.at, incoming, sender, group, record=message, labels=labels)
        addressed = incoming.is_private or self.settings.bot_id in incoming.mentions
        failed: XiaoqiError | None = None  # the command was refused (access.Refused) or could not be done
        try:
            with session.begin_nested():
                writes = self._writes
                try:
                    if parsed is not None:
                        answer = self.router.dispatch_command(ctx, parsed)
                    else:
                        answer = self.router.dispatch_message(ctx)
                except XiaoqiError as error:
                    if not self._untouched(session, writes):
                        raise  # undo what it wrote before refusing
                    # refused before writing anything (a step on a ticket someone else took): keep the
                    # savepoint, since rolling one back walks every object a replay holds
                    answer, failed = [ctx.reply(str(error))], error
        except XiaoqiError as error:
            answer, failed = [ctx.reply(str(error))], error
        except Exception:
            log.exception("handling message %s failed", incoming.message_id)
            message.failed = True
            answer = [ctx.reply(replies.APOLOGY)] if addressed or parsed is not None else []
        if ctx.audited is not None:  # after the savepoint: a refusal's rollback keeps its audit line
            name, args = ctx.audited
            audit.record(
                session,
                at=incoming.at,
                actor_id=sender.id,
                action=f"refused:{name}" if isinstance(failed, Refused) else f"command:{name}",
                target=incoming.group_id or "private",
                detail=args if failed is None else f"{args}｜{failed}"[: audit.MAX_DETAIL],
            )
        if not answer and addressed and parsed is None and incoming.kind is MessageKind.TEXT:
            answer = [ctx.reply(replies.GREETING)]
        return answer

    def _untouched(self, session: Session, writes: int) -> bool:
        """Whether a replay's session wrote nothing since `writes` was counted, and holds no change
        to write (outside a replay nothing is counted: then never)."""
        if self._batch is not session or self._writes != writes:
            return False
        return not (session.new or session.dirty or session.deleted)


def _unreachable(error: DBAPIError) -> bool:
    """Whether a database error means "not reachable now" (worth retrying) rather than a bug."""
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)


def _stamp(produced: Sequence[object], incoming: Incoming, urgent: bool) -> list[Outgoing]:
    """Time-stamp an answer; what goes to anyone but the sender (in their group or privately), such
    as staff or other groups, is not a direct answer: unless urgent it waits like any alert (quiet
    hours included)."""
    stamped = []
    for out in produced:
        if not isinstance(out, Outgoing):
            continue
        direct = out.to_id == incoming.sender_id or (
            out.group_id is not None and out.group_id == incoming.group_id
        )
        level = out.priority
        if level is None and not direct and not urgent:
            level = Priority.ALERT
        stamped.append(replace(out, at=out.at or incoming.at, priority=level))
    return stamped


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    classifier: MessageClassifier | None = None,
    jobs: Sequence[Job] | None = None,
    router: Router | None = None,
) -> App:
    """Build everything: database (migrated), router with every handler, jobs, classifier."""
    from bot.handlers import build_router

    engine = engine or make_engine(settings.database_url)
    migrate(engine)
    desk = Desk(
        TicketPolicy.load(settings.data_dir / "tickets" / "policy.yaml"),
        WorkCalendar.load(settings.data_dir / "calendar"),
        IntakePolicy.load(settings.data_dir / "tickets" / "intake.yaml"),
        NoiseBudget.load(settings.data_dir / "groups" / "noise.yaml"),
    )
    # one jieba tokenizer (loaded on first use) for the FAQ, discussion summaries and the monthly report
    segmenter = default_segmenter(settings)
    if jobs is None:
        from reports.jobs import monthly_report_job

        jobs = [
            TicketAlertsJob(desk),
            NoticeJob(),
            nickname_job(desk.noise),
            ConsultationJob(Summariser(segmenter), settings.files_path),
            monthly_report_job(settings.files_path, segmenter),
        ]
    return App(
        settings=settings,
        engine=engine,
        router=router or build_router(),
        desk=desk,
        jobs=jobs,
        classifier=classifier,
        segmenter=segmenter,
    )


def default_segmenter(settings: Settings) -> Segmenter:
    return Segmenter(settings.data_dir / "nlp" / "userdict.txt", settings.cache_dir)
