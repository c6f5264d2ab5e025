"""The report reads what residents raise: hot topics not from questions, group buys or the property desk,
typical cases only among real, resolved tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.app import App
from core.clock import SHANGHAI
from core.db import session_scope
from groups.messages import Message
from groups.models import ModerationExempt, Person, Role
from reports.build import default_segmenter
from reports.casework import ConsultSection, typical_cases
from reports.period import Month, Scope
from reports.topics import hot_topics
from tickets.models import Rating, Ticket, TicketReporter, TicketState

OCTOBER = Month(2026, 10)
DISTRICT = Scope("district", None, "测试区", None, None)
NOBODY_CONSULTED = ConsultSection(0, 0, 0, None, 0, [])
AT = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)


def _people(session: Session) -> None:
    for n in range(12):
        session.add(Person(id=f"wxid_t{n}", name=f"居民{n}", role=Role.RESIDENT, community_id="c1"))
    session.add(Person(id="wxid_desk", name="物业客服", role=Role.RESIDENT, community_id="c1"))
    session.add(ModerationExempt(person_id="wxid_desk", added_by="wxid_sg", added_at=AT))
    session.flush()


def _say(session: Session, n: int, who: str, text: str, intent: str, category: str) -> None:
    session.add(
        Message(
            platform_id=f"m{n}",
            group_id="g1@chatroom",
            sender_id=who,
            raw_text=text,
            text=text,
            sent_at=AT + timedelta(minutes=n),
            received_at=AT + timedelta(minutes=n),
            intent=intent,
            category=category,
            sentiment="中性",
        )
    )


def test_hot_topics_come_from_what_residents_raise(app: App) -> None:
    with session_scope(app.engine) as session:
        _people(session)
        n = 0
        for who in range(5):  # five residents ask the price of the group buy: questions, not a topic
            n += 1
            _say(session, n, f"wxid_t{who}", "团购的大米多少钱一袋 便宜吗 价格多少", "咨询", "其他")
        for _ in range(5):  # the property desk posts its notice again and again
            n += 1
            _say(session, n, "wxid_desk", "5栋电梯维修保养通知 电梯暂停使用 请走楼梯", "诉求", "物业管理")
        for who in range(5, 9):  # four residents complain about the lift
            n += 1
            _say(session, n, f"wxid_t{who}", "5栋电梯又坏了 老人上不了楼 电梯天天停", "诉求", "物业管理")
    with Session(app.engine) as session:
        found = hot_topics(session, OCTOBER, DISTRICT, default_segmenter(app.settings))
    assert [t.residents for t in found.topics] == [4]
    assert found.topics[0].quote.startswith("5栋电梯又坏了")
    assert found.considered == 4  # only the residents' petitions were read


def _ticket(session: Session, number: int, summary: str, **fields: object) -> None:
    values: dict[str, object] = {
        "id": number,
        "source_message_id": f"s{number}",
        "community_id": "c1",
        "group_id": "g1@chatroom",
        "reporter_id": "wxid_t0",
        "category": "养老助残",
        "summary": summary,
        "created_at": AT,
        "deadline": AT + timedelta(hours=1),
        "assigned_at": AT,
    }
    values.update(fields)
    session.add(Ticket(**values))  # type: ignore[arg-type]
    session.flush()
    session.add(
        TicketReporter(ticket_id=number, person_id=str(values["reporter_id"]), message_id=f"r{number}", at=AT)
    )


def test_typical_cases_are_real_resolved_tickets(app: App) -> None:
    with session_scope(app.engine) as session:
        _people(session)
        done = {"state": TicketState.CLOSED, "accepted_at": AT + timedelta(minutes=2)}
        # the fastest "emergency" was a false alarm, closed as such by staff
        _ticket(
            session,
            1,
            "家里的煤气灶点不着火是咋回事",
            urgent=True,
            resolution="误报，灶具打火问题",
            **done,
            resolved_at=AT + timedelta(minutes=10),
            rating=Rating.SATISFIED,
        )
        # a fast one the resident was not satisfied with
        _ticket(
            session,
            2,
            "楼道里有烟味",
            urgent=True,
            resolution="已处理",
            **done,
            resolved_at=AT + timedelta(minutes=15),
            rating=Rating.UNSATISFIED,
        )
        # one the property desk filed itself
        _ticket(
            session,
            3,
            "5栋电梯困人",
            urgent=True,
            reporter_id="wxid_desk",
            resolution="已放出",
            **done,
            resolved_at=AT + timedelta(minutes=20),
            rating=Rating.SATISFIED,
        )
        # the real one: a resident's, resolved, satisfied
        _ticket(
            session,
            4,
            "隔壁独居老人三天没见着 敲门不应",
            urgent=True,
            resolution="已开门，老人摔倒已送医",
            **done,
            resolved_at=AT + timedelta(minutes=40),
            rating=Rating.SATISFIED,
        )
        # still open: never a typical case
        _ticket(session, 5, "老人在楼下摔倒了", urgent=True)
    with Session(app.engine) as session:
        cases = typical_cases(session, OCTOBER, DISTRICT, NOBODY_CONSULTED)
    (fast,) = [c for c in cases if c.title == "紧急情况快速处置"]
    assert "隔壁独居老人三天没见着" in fast.text
