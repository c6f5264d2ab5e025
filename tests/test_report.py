"""The monthly report (民情月报) built from a simulated month driven through the app, on SQLite and PostgreSQL:
its numbers against direct counts, privacy and escaping, the PDF's text, and one street's report."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import App
from core.clock import SHANGHAI
from core.db import session_scope
from groups.messages import Message
from nlp import Labels
from reports.build import ReportFiles, build_report
from reports.casework import staff_label
from reports.render import SECTION_TITLES
from tickets.models import Ticket, TicketState

from .conftest import require_or_skip
from .events import said

OCTOBER = datetime(2026, 10, 1, tzinfo=SHANGHAI)
BUILT_AT = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
PHONE = "13912345678"
SCRIPT = "<script>alert('x')</script>"
GROUPS = {"g1@chatroom": "c1", "g2@chatroom": "c1", "g3@chatroom": "c2"}
CHATTER = ["早上好", "收到，谢谢", "今天天气不错", "哈哈哈", "有人一起去买菜吗"]
PETITIONS = [
    ("物业管理", "{b}栋电梯又坏了，老人上不了楼"),
    ("环境卫生", "{b}栋门口垃圾堆了三天没人清"),
    ("噪音扰民", "楼上装修天天从早上七点吵到晚上"),
    ("交通停车", "消防通道上天天停满了车"),
]


def labels(intent: str, category: str = "无", sentiment: str = "中性") -> Labels:
    return Labels(intent, category, sentiment, {"intent": {intent: 0.95}, "category": {category: 0.9}})


class Traffic:
    """Feeds a month of group traffic to the app, staff answering through the same chat commands."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.count = 0

    def say(self, at: datetime, who: str, group: str | None, text: str, label: Labels | None = None) -> None:
        self.count += 1
        self.app.handle(said(text, who, in_group=group, at=at, id=f"t-{self.count}"), label)

    def newest_ticket(self) -> Ticket | None:
        with session_scope(self.app.engine) as session:
            return session.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()

    def petition(
        self, at: datetime, who: str, group: str, category: str, text: str, *, resolve: bool
    ) -> None:
        before = self.newest_ticket()
        self.say(at, who, group, text, labels("诉求", category, "负面"))
        ticket = self.newest_ticket()
        if ticket is None or (before is not None and ticket.id == before.id) or not resolve:
            return
        handler = ticket.handler_id or "wxid_dept"
        self.say(at + timedelta(minutes=20), handler, None, f"#签收 {ticket.number}")
        self.say(at + timedelta(hours=3), handler, None, f"#办结 {ticket.number} 已处理完毕")
        self.say(at + timedelta(hours=4), who, group, "满意")


def simulate_month(app: App) -> None:
    month = Traffic(app)
    start = OCTOBER - timedelta(days=30)  # September, for 环比
    for day in range(0, 30, 3):
        at = start + timedelta(days=day, hours=10)
        month.say(at, "wxid_r1", "g1@chatroom", "早上好", labels("闲聊", sentiment="正面"))
        month.say(at + timedelta(minutes=5), "wxid_r3", "g3@chatroom", "今天天气不错", labels("闲聊"))
    for day in range(31):
        at = OCTOBER + timedelta(days=day, hours=9)
        for k, (group, _) in enumerate(GROUPS.items()):
            who = f"wxid_n{(day + k) % 9}{group[1]}"
            month.say(at + timedelta(minutes=k), who, group, CHATTER[(day + k) % 5], labels("闲聊"))
        if day % 2 == 0:
            category, text = PETITIONS[day % 4]
            group = list(GROUPS)[day % 3]
            who = f"wxid_p{day}{group[1]}"
            month.petition(
                at + timedelta(hours=1), who, group, category, text.format(b=day % 7 + 1), resolve=day < 24
            )
    month.say(
        OCTOBER + timedelta(days=5, hours=20),
        "wxid_r2",
        "g2@chatroom",
        "你好呀 " + SCRIPT,
        labels("咨询", "其他"),
    )
    # two petitions left open (overdue by the 1st), so their masked, escaped summaries are in the report
    month.petition(
        OCTOBER + timedelta(days=2, hours=15),
        "wxid_r1",
        "g1@chatroom",
        "邻里纠纷",
        f"楼上漏水到我家，王阿姨家一直不理，我电话{PHONE}",
        resolve=False,
    )
    month.petition(
        OCTOBER + timedelta(days=3, hours=15),
        "wxid_r3",
        "g3@chatroom",
        "治安消防",
        f"楼道里有人飞线充电 {SCRIPT}",
        resolve=False,
    )
    month.say(OCTOBER + timedelta(days=9), "wxid_r3", "g3@chatroom", "", None)  # a stray empty text
    app.advance(BUILT_AT - timedelta(hours=1))


@pytest.fixture
def built(app: App, tmp_path: Path) -> ReportFiles:
    simulate_month(app)
    return build_report(app.engine, "2026-10", tmp_path / "report", now=BUILT_AT, settings=app.settings)


def _october(session: Session) -> list[object]:
    return [
        col(Message.sent_at) >= OCTOBER,
        col(Message.sent_at) < datetime(2026, 11, 1, tzinfo=SHANGHAI),
        col(Message.group_id).is_not(None),
    ]


def test_report_numbers_match_direct_counts(app: App, built: ReportFiles) -> None:
    report = built.report
    m, t = report.messages, report.tickets
    with session_scope(app.engine) as session:
        where = _october(session)
        total = session.exec(select(func.count()).select_from(Message).where(*where)).one()
        speakers = session.exec(select(func.count(func.distinct(Message.sender_id))).where(*where)).one()
        intents = dict(
            session.exec(
                select(Message.intent, func.count())
                .where(*where, col(Message.intent).is_not(None))
                .group_by(col(Message.intent))
            ).all()
        )
        september = session.exec(
            select(func.count())
            .select_from(Message)
            .where(col(Message.sent_at) < OCTOBER, col(Message.group_id).is_not(None))
        ).one()
        tickets = session.exec(
            select(Ticket).where(col(Ticket.created_at) >= OCTOBER, col(Ticket.created_at) < BUILT_AT)
        ).all()
    assert m.total.value == total > 100
    assert m.total.previous == september == 20
    assert m.speakers == speakers
    assert {x.label: x.count for x in m.intents} == intents
    assert sum(n for _, n in m.by_day) == total
    assert sum(map(sum, m.heatmap)) == total
    assert sum(c.messages for c in m.communities) == total
    assert m.petitions.value == intents["诉求"]
    assert m.groups_active == m.groups_total == 3
    done = [x for x in tickets if x.state in (TicketState.RESOLVED, TicketState.CLOSED)]
    assert t.total.value == len(tickets) >= 12
    assert t.resolution_rate.value == pytest.approx(len(done) / len(tickets))
    assert sum(h.total for h in t.communities) == sum(h.total for h in t.streets) == len(tickets)
    assert t.satisfaction_rate == 1.0
    assert t.overdue_total == sum(1 for x in tickets if x not in done and x.deadline < BUILT_AT)
    assert {h.name for h in t.handlers} <= {
        "幸福社区 网格员 周某",
        "幸福社区 社工 李某",
        "和平社区 社工 何某",
        "街道城管科",
    }
    assert {c.title for c in report.cases} <= {"多人反映的同一问题", "紧急情况快速处置", "协商议事促成行动"}
    assert report.month.key == "2026-10" and report.scope.name == "测试区"
    assert "2026年10月" in built.summary_text


def test_report_is_private_and_escaped(built: ReportFiles) -> None:
    html = built.html.read_text(encoding="utf-8")
    assert PHONE not in html and "139****5678" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    for name in ("王阿姨", "周网格", "李社工", "陈主任", "小雨妈妈"):
        assert name not in html, name
    assert 'lang="zh-CN"' in html and "data:font/woff2;base64," in html


def test_pdf_has_every_section_and_no_phone_number(built: ReportFiles) -> None:
    if shutil.which("pdftotext") is None:
        require_or_skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(built.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for title in SECTION_TITLES:
        assert title in text, title
    assert PHONE not in text and "139****5678" in text
    assert "<script>alert" in text  # shown as text, not run
    flat = "".join(text.split())
    assert "第1页/共" in flat and "民情月报·测试区·2026年10月" in flat  # footer and header, in the CJK font
    fonts = subprocess.run(["pdffonts", str(built.pdf)], capture_output=True, text=True, check=True).stdout
    assert "Xiaoqi-CJK" in fonts and "DejaVu" not in fonts


def test_a_street_and_a_community_report(app: App, tmp_path: Path) -> None:
    simulate_month(app)
    whole = build_report(app.engine, "2026-10", tmp_path / "all", now=BUILT_AT, settings=app.settings)
    one = build_report(
        app.engine, "2026-10", tmp_path / "c2", scope="community:c2", now=BUILT_AT, settings=app.settings
    )
    street = build_report(
        app.engine, "2026-10", tmp_path / "s1", scope="street:s1", now=BUILT_AT, settings=app.settings
    )
    c2 = next(c for c in whole.report.messages.communities if c.id == "c2")
    assert one.report.scope.name == "和平社区"
    assert one.report.messages.total.value == c2.messages
    assert [c.id for c in one.report.messages.communities] == ["c2"]
    assert one.report.tickets.total.value == sum(h.total for h in one.report.tickets.communities)
    assert street.report.messages.total.value == whole.report.messages.total.value
    assert one.pdf.stat().st_size > 10_000


def test_staff_appear_by_role_and_surname_only() -> None:
    assert staff_label("周网格", "网格员", "幸福社区") == "幸福社区 网格员 周某"
    assert staff_label("小吴", "管理员") == "管理员 吴某"
    assert staff_label("", "社工") == "社工"
