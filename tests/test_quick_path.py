"""A replay's quick path for ordinary messages changes nothing anyone sees: the same generated month
(petitions, questions, adverts, repeats, votes, newcomers, duplicates, staff at work) replayed with and
without it leaves the same rows in every table and sends the same messages at the same times."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select

from bot.app import create_app
from bot.simulator import drain, output_record, replay
from core.db import session_scope
from core.events import Incoming, Outgoing
from core.settings import Settings
from groups.registry import load_registry
from nlp import MessageClassifier
from sim.district import DistrictPlan, plan_district, write_registry
from sim.month import MONTH_END, Material, MonthTraffic
from xiaoqi.demo_staff import DemoPeople

SCENES = Settings().data_dir / "demo" / "scenes.yaml"
GROUPS, MESSAGES, SEED = 24, 2500, 11


def _replay_month(
    settings: Settings, classifier: MessageClassifier, registry: Path, *, quick: bool
) -> tuple[list[Any], int]:
    plan = plan_district(GROUPS, SEED)
    write_registry(plan, registry)
    app = create_app(settings, classifier=classifier)
    app.single_process, app.quick_path = True, quick
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
    return shown, app.quick_handled


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
        Incoming(
            f"repeat-{n}",
            who.id,
            text,
            start + timedelta(minutes=7 * n),
            group_id=group.id,
            sender_name=who.name,
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
