"""Everyday care of a group: welcoming newcomers and answering common questions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from access.policy import Access, Verb
from bot.args import NO_TEXT, RecordNo, Text
from bot.context import Services
from bot.router import Context, Guard, Router
from core.events import Incoming, Outgoing, Priority
from faq import answer_text, details_text
from faq import questions as faq
from faq.asking import asks_details, is_question, is_statement
from groups.messages import MessageKind
from groups.models import ChatGroup, Membership, Person
from groups.noise import NoiseBudget
from groups.welcome import needs_welcome, nickname_fits, welcome_text
from nlp import Labels
from nlp.labels import QUESTION as ASKING

router = Router()


@router.on_message(kinds=(MessageKind.JOIN,))
def welcome(
    session: Session, now: datetime, message: Incoming, sender: Person, group: ChatGroup | None
) -> Outgoing | None:
    """One short welcome per newcomer, with the group's rules; it waits out the night like any notice."""
    if group is None or sender.role.is_staff:
        return None
    membership = session.get(Membership, (sender.id, group.id))
    if membership is None or not needs_welcome(membership):
        return None
    membership.welcomed_at = now
    name = message.sender_name or sender.name
    if not nickname_fits(name):  # the welcome asks for a fitting nickname: that is this member's ask
        membership.nickname_reminders += 1
    return Outgoing(
        welcome_text(group, name),
        group_id=group.id,
        mentions=(sender.id,),
        priority=Priority.ALERT,
    )


def _reading(services: Services, message: Incoming, intent: str | None) -> tuple[str, bool]:
    """The question without a leading @小棲, and whether it was put to Xiaoqi and asks something. A
    question nobody put to Xiaoqi was answered already if the knowledge base matches it closely
    (basic.answer_known_question); otherwise neighbours may answer it."""
    settings = services.settings
    text = services.router.without_bot_mention(message.text, settings.bot_id, settings.bot_name).strip()
    addressed = message.is_private or settings.bot_id in message.mentions or text != message.text.strip()
    asking = addressed and (is_question(text) or intent == ASKING) and not is_statement(text)
    return text, asking and bool(text)


@router.on_message(kinds=(MessageKind.TEXT,))
def answer_question(
    ctx: Context,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    labels: Labels | None,
    noise: NoiseBudget,
) -> list[Outgoing] | Outgoing | None:
    """咨询 from the knowledge base; when unsure and asked directly, a person answers instead. The
    knowledge base is asked for only then (`faq` as a parameter would build it for every message)."""
    if sender.role.is_staff:
        return None
    text, asking = _reading(ctx.services, message, labels.intent if labels is not None else None)
    if asks_details(text) and (matter_id := faq.last_answered(session, sender, group, now)) is not None:
        matter = ctx.services.faq_for(session).matter(matter_id)
        if matter is not None:
            return ctx.tell("answer", details_text(matter))
    if not asking:
        return None
    match = ctx.services.faq_for(session).match(text)
    if match.sure and match.matter is not None:
        faq.record_answer(session, now, sender, group, message.message_id, text, match.matter)
        return ctx.tell("answer", answer_text(match.matter))
    in_group = noise.said_in_group("question_forwarded")
    return faq.forward(session, now, sender, group, message.message_id, text, match.matter, in_group=in_group)


@router.command(
    "答复",
    "answer",
    usage="#答复 问题编号 回答内容",
    summary="回答小棲转来的居民提问",
    guard=Guard(Verb.ANSWER, faq.get_question),
)
def answer(
    session: Session, now: datetime, sender: Person, noise: NoiseBudget, number: RecordNo, text: Text
) -> list[Outgoing]:
    return faq.answer(session, now, sender, number, text, in_group=noise.said_in_group("answer"))


@router.command(
    "入库",
    "learn",
    usage="#入库 问题编号 [分类]",
    summary="把答复加入知识库，以后小棲直接回答",
    guard=Guard(Verb.LEARN, faq.get_question),
)
def learn(session: Session, now: datetime, sender: Person, number: RecordNo, category: Text = NO_TEXT) -> str:
    return faq.learn(session, now, sender, number, category)


@router.command(
    "待答复", "questions", usage="#待答复", summary="还没人回答的居民提问", guard=Guard(Verb.ANSWER)
)
def waiting(access: Access, session: Session, sender: Person) -> str:
    rows = faq.waiting(session, access.communities(session, sender))
    if not rows:
        return "没有等待答复的居民提问。"
    lines = [f"{q.id}号：{q.text[:40]}" for q in rows]
    return "等待答复的居民提问（回复“#答复 编号 回答”）：\n" + "\n".join(lines)
