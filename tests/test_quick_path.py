"""A replay's quick path for ordinary messages changes nothing anyone sees: the same generated month
(petitions, questions, adverts, repeats, votes, newcomers, duplicates, staff at work) replayed with and
without it leaves the same rows in every table and sends the same messages at the same times."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlmodel import Session, col

from bot.app import App
from bot.context import Context
from bot.router import Router
from bot.simulator import drain, output_record, replay
from core.db import session_scope
from core.events import Incoming, MessageKind, Outgoing
from core.settings import Settings
from groups.messages import Message
from groups.registry import load_registry
from nlp import Labels, MessageClassifier
from sim.district import DistrictPlan, plan_district, write_registry
from sim.month import MONTH_END, Material, MonthTraffic
from xiaoqi.demo_staff import DemoPeople
from xiaoqi.wiring import Mode, create_app

from . import events

SCENES = Settings().data_dir / "demo" / "scenes.yaml"
GROUPS, MESSAGES, SEED = 24, 2500, 11


def _replay_month(
    settings: Settings, classifier: MessageClassifier, registry: Path, *, quick: bool
) -> tuple[list[Any], int]:
    plan = plan_district(GROUPS, SEED)
    write_registry(plan, registry)
    app = create_app(settings, Mode.ALONE, classifier=classifier, bulk=quick)
    with session_scope(app.engine) as session:
        load_registry(session, registry)
    people, shown = DemoPeople(), []

    def emit(produced: list[Outgoing]) -> None:
        people.react(produced)
        shown.extend(output_record(message) for message in produced)

    def reactions(before: datetime) -> None:
        for reaction in people.due(before):
            emit(app.handle(reaction))

    traffic = MonthTraffic(plan, Material.load(SCENES), MESSAGES, SEED)
    events = heapq.merge(iter(traffic), _repeats(plan), key=lambda event: event.at)
    replay(app, events, emit, before=reactions)
    reactions(MONTH_END)
    emit(app.advance(MONTH_END))
    drain(app, emit, until=MONTH_END)
    app.engine.dispose()
    return shown, app.replay.held


def _repeats(plan: DistrictPlan) -> list[Incoming]:
    """A resident who chats, then posts the same long text again and again (刷屏 on the third time),
    and a neighbour who says 满意 with no ticket to rate."""
    group = plan.groups[0]
    chatty, other = group.residents[0], group.residents[1]
    start = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
    said = [
        (chatty, "大家早上好，今天天气不错"),
        (chatty, "出一辆九成新的儿童自行车，需要的邻居找我"),
        (other, "满意"),
        (chatty, "出一辆九成新的儿童自行车，需要的邻居找我"),
        (chatty, "出一辆九成新的儿童自行车，需要的邻居找我！"),
    ]
    return [
        events.said(
            text,
            who.id,
            in_group=group.id,
            at=start + timedelta(minutes=7 * n),
            id=f"repeat-{n}",
            name=who.name,
        )
        for n, (who, text) in enumerate(said)
    ]


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted; a message's surrogate id (the quick path writes in bulk, later) left out."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    try:
        with engine.connect() as conn:
            tables = {}
            for name, table in meta.tables.items():
                if name in {"alembic_version", "lease"}:
                    continue
                columns = [c for c in table.columns if not (name == "message" and c.name == "id")]
                rows = [tuple(row) for row in conn.execute(select(*columns))]
                tables[name] = sorted(rows, key=repr)
            return tables
    finally:
        engine.dispose()


@pytest.mark.slow
def test_quick_path_stores_and_sends_exactly_what_the_full_path_does(
    db_url: str, tmp_path: Path, cache_dir: Path, classifier: MessageClassifier
) -> None:
    full_url = db_url
    # SQLite: a second file; PostgreSQL: the same database, emptied between the two replays
    quick_url = f"sqlite:///{tmp_path / 'quick.db'}" if db_url.startswith("sqlite") else db_url
    registry = tmp_path / "registry.yaml"
    # one files folder for both: a report's path is part of what is sent
    full_settings = Settings.from_env(
        database_url=full_url, cache_dir=cache_dir, files_dir=tmp_path / "files"
    )
    full_sent, full_quick = _replay_month(full_settings, classifier, registry, quick=False)
    full_tables = _tables(full_url)
    if quick_url == full_url:
        _empty(full_url)
    quick_settings = Settings.from_env(
        database_url=quick_url, cache_dir=cache_dir, files_dir=tmp_path / "files"
    )
    quick_sent, quick_handled = _replay_month(quick_settings, classifier, registry, quick=True)
    quick_tables = _tables(quick_url)

    assert full_quick == 0
    # most of a month is ordinary talk: the quick path must take most of it
    assert quick_handled > MESSAGES * 0.6, quick_handled
    assert len(full_sent) > 200  # replies, tickets, warnings, notices: a month with something to compare
    assert any("请不要反复发" in said["text"] for said in full_sent)  # a repeated post's warning
    assert quick_sent == full_sent
    assert quick_tables.keys() == full_tables.keys()
    for name, rows in full_tables.items():
        assert quick_tables[name] == rows, name
    assert len(full_tables["message"]) >= MESSAGES


def _empty(url: str) -> None:
    """Delete every row (PostgreSQL: the second replay reuses the test's database), sequences restarted."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    names = ", ".join(f'"{t}"' for t in meta.tables if t != "alembic_version")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


def test_a_handler_that_fails_in_a_replay_loses_no_message_held_for_bulk_writing(app: App) -> None:
    """Ordinary messages wait as rows; a later handler's query writes them inside its savepoint. When
    that handler fails and its savepoint is undone, the waiting messages are still stored, once."""
    extra = Router()

    @extra.on_message()
    def breaks_on_purpose(ctx: Context, session: Session, message: Incoming) -> None:
        if message.text == "坏了":
            session.exec(select(Message.id)).all()  # a query: the rows waiting so far are written now
            assert ctx.record is not None  # asked for: stored now, inside the savepoint about to be undone
            session.flush()
            raise RuntimeError("a bug in a handler")

    app.router.include(extra)
    replay_app = app.with_mode(Mode.ALONE)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    texts = ["今天天气不错", "[图片]", "是啊", "坏了", "大家早"]
    arriving = [
        events.said(
            text, at=start + timedelta(minutes=n), id=f"held-{n}",
            kind=MessageKind.IMAGE if text == "[图片]" else MessageKind.TEXT,
        )
        for n, text in enumerate(texts)
    ]  # fmt: skip
    chat = Labels("闲聊", "无", "中性")  # as a replay classifies ahead; the photo has no labels
    with replay_app.batch():
        replay_app.replay.expect([e.message_id for e in arriving])
        answers = [replay_app.handle(e, None if e.kind is MessageKind.IMAGE else chat) for e in arriving]
    assert answers == [[], [], [], [], []]  # not addressed to the bot: nothing said, even on failure
    with session_scope(app.engine) as session:
        stored = session.scalars(select(Message).where(col(Message.platform_id).like("held-%"))).all()
        assert sorted(m.raw_text for m in stored) == sorted(texts)
        assert [m.failed for m in stored if m.raw_text == "坏了"] == [True]
        assert all(m.handled_at is not None for m in stored)
        assert {m.raw_text: m.intent for m in stored} == {t: None if t == "[图片]" else "闲聊" for t in texts}
    assert replay_app.replay.held == 4  # the four ordinary ones were written in bulk
