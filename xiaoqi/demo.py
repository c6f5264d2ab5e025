"""`xiaoqi demo`: a demo district and a month of its traffic through the real pipeline."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import App
from bot.simulator import EventError, Tick, drain, output_record, parse_event, replay
from core.clock import local
from core.db import session_scope
from core.events import Incoming, Outgoing
from core.settings import Settings
from faq.models import FaqQuestion
from groups.messages import KIND_LABELS, Message, MessageKind, residents_group_speech
from groups.models import Membership, Person
from groups.registry import load_registry
from moderation.models import ModerationCase
from nlp.labels import NO_CATEGORY
from notices.models import Notice, NoticeRun
from tickets.models import Ticket
from xiaoqi.conversations import Conversation, Figures, figures, read_labelled
from xiaoqi.demo_staff import DemoPeople
from xiaoqi.nlp_wiring import load_classifier
from xiaoqi.wiring import Mode, create_app

log = logging.getLogger(__name__)


def _events(path: Path, bot_id: str) -> list[Incoming | Tick]:
    events: list[Incoming | Tick] = []
    with path.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    events.append(parse_event(line, line_no, bot_id))
                except EventError as error:
                    raise SystemExit(f"{path}:{line_no}: {error}") from error
    return events


@dataclass
class Traffic:
    """What the bot said in the demo month: all its messages, and those in groups."""

    sent: int = 0
    sent_to_groups: int = 0


def run_month(
    app: App, events: Sequence[Incoming | Tick], until: datetime, replies: Path, console: Console
) -> Traffic:
    """Feed the month to the app while simulated staff and residents answer back."""
    people = DemoPeople()
    traffic = Traffic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with replies.open("w", encoding="utf-8") as sink, Progress(*columns, console=console) as progress:
        task = progress.add_task("回放一个月的群消息", total=len(events))

        def emit(produced: list[Outgoing]) -> None:
            people.react(produced)
            for message in produced:
                sink.write(json.dumps(output_record(message), ensure_ascii=False) + "\n")
            traffic.sent += len(produced)
            traffic.sent_to_groups += sum(1 for message in produced if message.group_id is not None)

        def reactions(before: datetime) -> None:
            for reaction in people.due(before):
                emit(app.handle(reaction))

        def advancing() -> Iterator[Incoming | Tick]:
            for event in events:
                yield event
                progress.advance(task)

        replay(app, advancing(), emit, before=reactions)
        reactions(until)
        emit(app.advance(until))
        drain(app, emit, until=until)  # the month ends here: its report is built next
    return traffic


def _summary(session: Session, traffic: Traffic, talk: Conversation, seconds: float, out: Path) -> Table:
    table = Table(title="小棲演示：一个月的社区群消息", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    total = session.exec(select(func.count()).select_from(Message)).one()
    kinds = session.exec(select(Message.kind, func.count()).group_by(Message.kind)).all()
    kind_text = "，".join(
        f"{KIND_LABELS[MessageKind(kind)]} {n}" for kind, n in sorted(kinds, key=lambda r: -r[1])
    )
    table.add_row("收到并存储的消息", f"{total}（{kind_text}）")
    groups = session.exec(select(func.count(func.distinct(Message.group_id)))).one()
    speakers = session.exec(select(func.count(func.distinct(Message.sender_id)))).one()
    table.add_row("活跃群 / 发言人数", f"{groups} 个群 / {speakers} 人")
    newcomers = session.exec(
        select(func.count()).select_from(Person).where(Person.registered == False)  # noqa: E712
    ).one()
    table.add_row("名册外的新成员（记为居民）", str(newcomers))
    in_groups = [col(Message.intent).is_not(None), col(Message.private).is_(False)]
    intents = session.exec(
        select(Message.intent, func.count()).where(*in_groups).group_by(Message.intent)
    ).all()
    if intents:
        table.add_row("群消息的意图", "，".join(f"{i} {n}" for i, n in sorted(intents, key=lambda r: -r[1])))
    categories = session.exec(
        select(Message.category, func.count())
        .where(*in_groups, col(Message.category) != NO_CATEGORY)
        .group_by(Message.category)
    ).all()
    if categories:
        top = sorted(categories, key=lambda r: -r[1])[:5]
        table.add_row("群里的话题前五", "，".join(f"{c} {n}" for c, n in top))
    for label, value in ticket_summary(session):
        table.add_row(label, value)
    for label, value in community_summary(session):
        table.add_row(label, value)
    for label, value in judgement_summary(figures(session, talk, traffic.sent_to_groups)):
        table.add_row(label, value)
    table.add_row("小棲发出的消息", f"{traffic.sent}（群里 {traffic.sent_to_groups}）")
    if residents := residents_group_speech(session):
        table.add_row("小棲的群消息 / 每百条居民发言", f"{100 * traffic.sent_to_groups / residents:.1f}")
    table.add_row("用时", f"{seconds:.1f} 秒")
    table.add_row("数据库 / 日志", f"{out / 'xiaoqi.db'} / {out / 'xiaoqi.log'}")
    table.add_row("小棲的全部回复", str(out / "replies.jsonl"))
    return table


def judgement_summary(found: Figures) -> list[tuple[str, str]]:
    """How many tickets and emergencies the month's scripted lines say are real (each line is labelled)."""
    if not found.tickets:
        return []
    return [
        (
            "工单是否真实",
            f"{found.real_tickets}/{found.tickets} 件出自真实问题；{found.problems_ticketed}/{found.problems} "
            f"个问题立了工单，同一问题重复立单 {found.duplicates} 件",
        ),
        (
            "紧急工单是否真实",
            f"{found.real_urgent_tickets}/{found.urgent_tickets} 件出自真实紧急情况；"
            f"{found.emergencies_caught}/{found.emergencies} 起紧急情况及时报警",
        ),
    ]


def community_summary(session: Session) -> list[tuple[str, str]]:
    """Notices, answers, welcomes and moderation: the repetitive work taken off the social workers."""
    runs = session.exec(select(func.count(), func.sum(NoticeRun.sent), func.sum(NoticeRun.groups))).one()
    notices = session.exec(select(func.count()).select_from(Notice)).one()
    asked = dict(session.exec(select(FaqQuestion.state, func.count()).group_by(FaqQuestion.state)).all())
    by_bot = session.exec(
        select(func.count()).select_from(FaqQuestion).where(FaqQuestion.answered_by == "xiaoqi")
    ).one()
    forwarded = sum(asked.values()) - by_bot
    cases = dict(
        session.exec(select(ModerationCase.state, func.count()).group_by(ModerationCase.state)).all()
    )
    welcomed = session.exec(
        select(func.count()).select_from(Membership).where(col(Membership.welcomed_at).is_not(None))
    ).one()
    reminded = session.exec(select(func.sum(Membership.nickname_reminders))).one() or 0
    return [
        ("通知", f"{notices} 条通知发送 {runs[0]} 次，送达 {runs[1] or 0}/{runs[2] or 0} 个群次"),
        (
            "办事咨询",
            f"小棲直接回答 {by_bot} 次，转给社工 {forwarded} 次（已答复 {forwarded - asked.get('waiting', 0)}）",
        ),
        (
            "广告提醒",
            f"{sum(cases.values())} 次（报社工 {cases.get('reported', 0) + cases.get('upheld', 0)}，"
            f"撤销 {cases.get('withdrawn', 0)}）",
        ),
        ("新成员欢迎 / 昵称提醒", f"{welcomed} 人 / {reminded} 次"),
    ]


def ticket_summary(session: Session) -> list[tuple[str, str]]:
    total = session.exec(select(func.count()).select_from(Ticket)).one()
    if not total:
        return [("工单", "0")]
    states = session.exec(select(Ticket.state, func.count()).group_by(Ticket.state)).all()
    urgent = session.exec(select(func.count()).select_from(Ticket).where(Ticket.urgent == True)).one()  # noqa: E712
    merged = session.exec(select(func.sum(Ticket.reporters - 1))).one() or 0
    escalated = session.exec(select(func.count()).select_from(Ticket).where(Ticket.escalations > 0)).one()
    urged = session.exec(
        select(func.count()).select_from(Ticket).where(col(Ticket.urged_at).is_not(None))
    ).one()
    ratings = session.exec(
        select(Ticket.rating, func.count()).where(col(Ticket.rating).is_not(None)).group_by(Ticket.rating)
    ).all()
    return [
        (
            "工单",
            f"{total} 件（"
            + "，".join(f"{state} {n}" for state, n in sorted(states, key=lambda r: -r[1]))
            + "）",
        ),
        ("紧急工单 / 升级", f"{urgent} 件 / {escalated} 件无人及时签收而升级"),
        ("重复反映合并", f"{merged} 次"),
        ("催办", f"{urged} 件超期被催办"),
        (
            "居民评价",
            "，".join(f"{rating} {n}" for rating, n in sorted(ratings, key=lambda r: -r[1])) or "暂无",
        ),
    ]


def run_demo(settings: Settings, out: Path, console: Console | None = None) -> None:
    console = console or Console()
    started = time.perf_counter()
    db_path = out / "xiaoqi.db"
    for stale in (db_path, out / "xiaoqi.db-wal", out / "xiaoqi.db-shm"):
        stale.unlink(missing_ok=True)
    settings = replace(settings, database_url=f"sqlite:///{db_path}")
    demo_dir = settings.data_dir / "demo"
    console.print("正在准备消息理解模型（第一次运行需要训练，之后直接读缓存）…")
    app = create_app(settings, Mode.ALONE, classifier=load_classifier(settings))  # it owns its database
    with session_scope(app.engine) as session:
        summary = load_registry(session, demo_dir / "registry.yaml")
    console.print(
        f"演示辖区：{summary.streets} 个街道、{summary.communities} 个社区、"
        f"{summary.groups} 个群、{summary.people} 名登记人员"
    )
    events = _events(demo_dir / "month.jsonl", settings.bot_id)
    last = max(e.at for e in events)
    month_end = (local(last).replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    traffic = run_month(app, events, month_end, out / "replies.jsonl", console)
    with (demo_dir / "month.jsonl").open(encoding="utf-8") as lines:
        talk = read_labelled(lines, settings.bot_id)
    with session_scope(app.engine) as session:
        console.print(_summary(session, traffic, talk, time.perf_counter() - started, out))
    from reports.build import build_report

    report_month = local(last).strftime("%Y-%m")
    console.print(f"正在生成 {report_month} 的民情月报…")
    files = build_report(app.engine, report_month, out / "report", now=month_end, settings=settings)
    console.print(f"民情月报（{report_month}）：{files.pdf}（网页版：{files.html}）")
    from web.context import WebContext
    from xiaoqi.serve import demo_sign_in

    sign_in = demo_sign_in(WebContext(create_app(settings, Mode.CONSOLE, engine=app.engine, jobs=[])))
    console.print(
        f"工作人员控制台：运行 xiaoqi serve --db sqlite:///{db_path} --demo ，再打开 http://127.0.0.1:8000/ ；"
        f"{sign_in or ''}",
        soft_wrap=True,
    )
    app.engine.dispose()
