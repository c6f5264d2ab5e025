"""Replay batching: many events in one transaction, and ordinary messages written in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import session_scope
from core.scheduling import JobRun
from groups.messages import Message
from groups.models import ChatGroup, Membership, Person
from tickets.models import Ticket

BATCH_EVENTS = 200  # events a replay handles per transaction
PRELOADED = (ChatGroup, Person, Membership, JobRun)
PINNED = (*PRELOADED, Ticket)  # a replay's tickets are read or written again and again
# statements that write nothing, by their first six characters (anything else counts as a write)
_READS = frozenset({"SELECT", "SAVEPO", "RELEAS", "ROLLBA", "PRAGMA"})


class HeldMessage:
    """A replay's new message kept as a row until a handler asks for it (`stored`); rows nobody asked
    for are written together, in one statement, before the next query or commit."""

    def __init__(self, batch: ReplayBatch, values: dict[str, Any]) -> None:
        self.batch, self.values = batch, values
        self._message: Message | None = None

    def stored(self) -> Message:
        """The message as an ordinary stored object (added now if it is still a row)."""
        session = self.batch.session
        assert session is not None
        if self._message is None or self._message not in session:
            self._message = Message(**self.values)
            session.add(self._message)
        return self._message

    def release(self) -> None:
        """Nobody asked for it: write it with the others."""
        if self._message is None:
            self.batch.rows.append(self.values)
            self.batch.held += 1


class ReplayBatch:
    """Replays (single process only): one transaction for many events, committed every BATCH_EVENTS
    events and before each scheduled job, instead of twice per message. A crash loses the uncommitted
    events; replaying the same events again redoes them, once (capture is idempotent, and each answer
    is queued in the transaction that marks its message handled)."""

    def __init__(self, engine: Engine, *, bulk: bool = True) -> None:
        self.engine = engine
        self.bulk = bulk  # False: every message is stored the ordinary way (tests compare the two)
        self.session: Session | None = None
        self.rows: list[dict[str, Any]] = []  # held messages nobody asked for, not yet written
        self.unseen: set[str] = set()  # coming ids known not to be stored yet
        self.writes = 0  # statements other than reads, so far
        self.events = 0
        self.posts_read = False
        self.held = 0  # messages written in bulk, as nobody needed them as objects
        self._written: list[dict[str, Any]] | None = None  # rows written inside a handler's savepoint

    @property
    def active(self) -> bool:
        return self.session is not None

    @contextmanager
    def unit(self, *, commit: bool = True) -> Iterator[Session]:
        """A unit of work: its own committed transaction, or a part of the open batch (committed with
        it, or at once with `commit`)."""
        if self.session is None:
            with session_scope(self.engine) as session:
                yield session
            return
        yield self.session
        if commit:
            self.session.commit()

    @contextmanager
    def run(self, on_commit: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold one transaction open for the events handled inside; `on_commit` runs after each commit
        (a replay shows what was sent only once it is committed)."""
        with Session(self.engine, expire_on_commit=False) as session:
            self.session, self.events, self.posts_read = session, 0, False
            # the identity map holds objects weakly: keep the registry's groups, people and memberships
            # (and the job runs and tickets) for the whole replay, so each is read once, not once a message
            pinned: list[object] = []
            if on_commit is not None:
                # after_commit also fires when a savepoint is released: only the real commit counts
                event.listen(
                    session,
                    "after_commit",
                    lambda done: None if done.in_nested_transaction() else on_commit(),
                )
            event.listen(session, "do_orm_execute", lambda _state: self.write_rows())
            # a savepoint's release is no commit: rows wait for the batch's own
            event.listen(
                session,
                "before_commit",
                lambda done: None if done.in_nested_transaction() else self.write_rows(),
            )

            @event.listens_for(session, "loaded_as_persistent")
            @event.listens_for(session, "pending_to_persistent")
            def pin(_session: Session, instance: object) -> None:
                if isinstance(instance, PINNED):
                    pinned.append(instance)

            for kind in PRELOADED:  # the registry (and when each job last ran), in a few queries
                session.exec(select(kind)).all()
            event.listen(self.engine, "before_cursor_execute", self._count_write)
            try:
                yield
                session.commit()
            except BaseException:
                self.rows.clear()  # uncommitted, as the rest of the batch
                session.rollback()
                raise
            finally:
                event.remove(self.engine, "before_cursor_execute", self._count_write)
                self.session = None
                self.unseen.clear()

    def expect(self, message_ids: Sequence[str]) -> None:
        """The ids of the coming events, looked up in one query, so that a new message needs no
        look-up of its own."""
        if self.session is None or not message_ids:
            return
        stored = self.session.exec(
            select(Message.platform_id).where(col(Message.platform_id).in_(message_ids))
        )
        self.unseen = set(message_ids) - set(stored.all())

    def known_new(self, message_id: str) -> bool:
        """Whether the id was looked up with the batch's others and found new (asked once per id)."""
        if message_id in self.unseen:
            self.unseen.discard(message_id)
            return True
        return False

    def hold(self, values: dict[str, Any]) -> HeldMessage | None:
        """A new message's row held back for bulk writing (None: store it the ordinary way)."""
        return HeldMessage(self, values) if self.bulk and self.session is not None else None

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Around a handler's savepoint: held rows that its queries caused to be written go back to the
        queue if the savepoint is rolled back (they are other messages', not the handler's to undo)."""
        self._written = []
        try:
            yield
        except BaseException:
            self.rows[:0] = self._written
            raise
        finally:
            self._written = None

    def write_rows(self) -> None:
        if self.rows and self.session is not None:
            rows, self.rows = self.rows, []
            if self._written is not None:
                self._written.extend(rows)
            self.session.connection().execute(insert(Message.__table__), rows)  # type: ignore[attr-defined]

    def handled(self) -> None:
        """One more event handled: commit every BATCH_EVENTS."""
        if self.session is None:
            return
        self.events += 1
        if self.events % BATCH_EVENTS == 0:
            self.session.commit()

    def untouched(self, session: Session, writes: int) -> bool:
        """Whether the batch's session wrote nothing since `writes` was counted and holds no change to
        write (outside a batch nothing is counted: then never)."""
        if self.session is not session or self.writes != writes:
            return False
        return not (session.new or session.dirty or session.deleted)

    def _count_write(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip()[:6].upper() not in _READS:
            self.writes += 1
