"""Residents' questions in the database: answered from the knowledge base, or forwarded to the social
worker, whose answer reaches the resident and, once approved, joins the knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing
from core.numbers import record_id
from core.privacy import mask_private_numbers
from faq.knowledge import Matter
from faq.models import FaqQuestion, QuestionState
from groups.models import ChatGroup, Person, Role, person_label
from nlp.labels import CATEGORIES
from tickets.routing import social_worker

LEARNED_PREFIX = "learned-"
BOT = "xiaoqi"
DETAILS_WINDOW = timedelta(hours=2)  # "要带什么" refers to an answer given this recently


class QuestionError(XiaoqiError):
    """A question number that does not exist, or an answer that cannot be given."""


def learned_matters(session: Session) -> list[Matter]:
    """Answers staff approved into the knowledge base, as matters the matcher can use."""
    rows = session.exec(
        select(FaqQuestion).where(FaqQuestion.state == QuestionState.LEARNED).order_by(col(FaqQuestion.id))
    ).all()
    return [
        Matter(
            id=f"{LEARNED_PREFIX}{row.id}",
            category=row.category or "政务服务",
            question=row.text,
            variants=(),
            answer=row.answer or "",
        )
        for row in rows
        if row.answer
    ]


def learned_version(session: Session) -> int:
    """Changes whenever an answer is approved: the matcher is rebuilt when it does."""
    return len(session.exec(select(FaqQuestion.id).where(FaqQuestion.state == QuestionState.LEARNED)).all())


def record_answer(
    session: Session,
    now: datetime,
    person: Person,
    group: ChatGroup | None,
    message_id: str,
    text: str,
    matter: Matter,
) -> None:
    """Keep what Xiaoqi answered (for follow-ups such as "要带什么", and for statistics)."""
    session.add(
        FaqQuestion(
            person_id=person.id,
            group_id=group.id if group else None,
            community_id=(group.community_id if group else None) or person.community_id,
            message_id=message_id,
            text=mask_private_numbers(text),
            asked_at=now,
            guess=matter.id,
            state=QuestionState.ANSWERED,
            answer=matter.answer,
            answered_by=BOT,
            answered_at=now,
            category=matter.category,
        )
    )


def last_answered(session: Session, person: Person, group: ChatGroup | None, now: datetime) -> str | None:
    """The matter Xiaoqi last answered this person about, if recent."""
    row = session.exec(
        select(FaqQuestion)
        .where(
            FaqQuestion.person_id == person.id,
            FaqQuestion.group_id == (group.id if group else None),
            FaqQuestion.answered_by == BOT,
            col(FaqQuestion.asked_at) >= now - DETAILS_WINDOW,
        )
        .order_by(col(FaqQuestion.asked_at).desc())
    ).first()
    return row.guess if row is not None else None


def forward(
    session: Session,
    now: datetime,
    person: Person,
    group: ChatGroup | None,
    message_id: str,
    text: str,
    guess: Matter | None,
    *,
    in_group: bool = True,
) -> list[Outgoing]:
    """Tell the resident politely that a person will answer (in the group they asked in, or privately),
    and ask the community's social worker."""
    community_id = (group.community_id if group else None) or person.community_id
    worker = social_worker(session, community_id) or _an_admin(session)
    question = FaqQuestion(
        person_id=person.id,
        group_id=group.id if group else None,
        community_id=community_id,
        message_id=message_id,
        text=mask_private_numbers(text),
        asked_at=now,
        guess=guess.id if guess else None,
    )
    session.add(question)
    session.flush()
    who = person_label(worker) if worker else "社区工作人员"
    reply = _to(
        person,
        group if in_group else None,
        f"这个问题小棲怕答不准，已经转给{who}，会尽快回复您。",
    )
    if worker is None:
        return [reply]
    where = (group.name if group else "") or "私聊"
    hint = f"\n（最接近的已有问答：{guess.question}）" if guess else ""
    ask = (
        f"【居民提问·{question.id}号】{where} {person.name or person.id}问：“{question.text}”{hint}\n"
        f"请回复：#答复 {question.id} 您的回答"
    )
    return [reply, Outgoing(ask, to_id=worker.id)]


def answer(
    session: Session, now: datetime, staff: Person, number: str, text: str, *, in_group: bool = False
) -> list[Outgoing]:
    """The social worker's answer goes to the resident: privately, or `in_group` where they asked."""
    question = get_question(session, number)
    if question.state is QuestionState.LEARNED:
        raise QuestionError(f"{question.id}号问题的答复已经在知识库里了。")
    text = text.strip()
    if not text:
        raise QuestionError("请写上答复内容。")
    question.answer, question.answered_by, question.answered_at = text, staff.id, now
    question.state = QuestionState.ANSWERED
    resident = session.get(Person, question.person_id)
    asked = question.text.removeprefix("请问")
    asked = asked if len(asked) <= 20 else asked[:19] + "…"
    reply = f"您问的“{asked}”，{person_label(staff)}回复：{mask_private_numbers(text)}"
    where = question.group_id if in_group else None
    out = [_to_id(question.person_id, where, reply)] if resident is not None else []
    confirm = (
        f"已转告居民。如果这个答复以后也适用，回复“#入库 {question.id}”加入知识库，"
        "小棲以后遇到同类问题会直接回答。"
    )
    return [*out, Outgoing(confirm, to_id=staff.id)]


def learn(session: Session, now: datetime, staff: Person, number: str, category: str = "") -> str:
    """Approve an answered question into the knowledge base."""
    question = get_question(session, number)
    if question.state is QuestionState.LEARNED:
        return f"{question.id}号问答已经在知识库里了。"
    if question.state is not QuestionState.ANSWERED or not question.answer or question.answered_by == BOT:
        raise QuestionError(f"{question.id}号问题还没有工作人员的答复，请先用“#答复 {question.id} 回答”。")
    category = category.strip()
    if category and category not in CATEGORIES:
        raise QuestionError(f"不认识分类“{category}”，可用：{'、'.join(CATEGORIES)}。")
    question.category = category or question.category or "政务服务"
    question.state, question.learned_by, question.learned_at = QuestionState.LEARNED, staff.id, now
    return f"已把{question.id}号问答加入知识库，以后有人问类似问题，小棲会直接回答。"


def waiting(session: Session, communities: Sequence[str] | None, limit: int = 10) -> list[FaqQuestion]:
    """The oldest unanswered questions asked in `communities` (None: anywhere)."""
    query = select(FaqQuestion).where(FaqQuestion.state == QuestionState.WAITING)
    if communities is not None:
        query = query.where(col(FaqQuestion.community_id).in_(communities))
    return list(session.exec(query.order_by(col(FaqQuestion.asked_at)).limit(limit)))


def get_question(session: Session, number: str) -> FaqQuestion:
    number_id = record_id(number)
    question = session.get(FaqQuestion, number_id) if number_id is not None else None
    if question is None or question.answered_by == BOT:
        raise QuestionError(f"没有找到{number.strip()}号居民提问。")
    return question


def _an_admin(session: Session) -> Person | None:
    return session.exec(select(Person).where(Person.role == Role.ADMIN).order_by(col(Person.id))).first()


def _to(person: Person, group: ChatGroup | None, text: str) -> Outgoing:
    return _to_id(person.id, group.id if group else None, text)


def _to_id(person_id: str, group_id: str | None, text: str) -> Outgoing:
    if group_id is not None:
        return Outgoing(text, group_id=group_id, mentions=(person_id,))
    return Outgoing(text, to_id=person_id)
