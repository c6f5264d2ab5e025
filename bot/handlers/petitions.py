"""Residents' petitions in the chat: #反映, what intake makes of a message, photos, #进度 and #补充."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from sqlmodel import Session, col, select

from access.policy import Verb
from bot.args import RecordNo, Text
from bot.handlers.intake_actions import act, answer_confirmation
from bot.router import Context, Guard, Router
from core.errors import XiaoqiError
from core.events import Incoming, MessageKind, Outgoing
from core.settings import Settings
from groups.models import ChatGroup, Person
from groups.registry import CATEGORIES
from moderation.service import exempt_ids
from nlp import Labels, normalize
from nlp.labels import EMERGENCY as URGENT
from nlp.labels import PETITION
from nlp.rules import emergency_rule, not_now
from tickets import ratings, texts
from tickets.conversation import gather, quote_of
from tickets.desk import Desk
from tickets.intake import Reading, decide
from tickets.lifecycle import get_ticket
from tickets.models import OPEN_STATES, Ticket, TicketEvent, TicketReporter
from tickets.ratings import awaiting_rating, read_rating
from tickets.service import file_petition

log = logging.getLogger(__name__)
router = Router()
Classify = Callable[[Sequence[str]], list[Labels | None]]
PHOTO_WINDOW = timedelta(minutes=30)
_NOT_WORDS = re.compile(r"\[[^\[\]]{1,6}\]|[\s。，,！!？?~～.、…【】]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def _word(text: str) -> str:
    """The bare word of a one-word reply: no punctuation, emoji or WeChat emoticons like [强]."""
    return _NOT_WORDS.sub("", text)


def labels_for(classify: Classify, text: str) -> tuple[str, str]:
    """The intent (petition or emergency) and category of a petition someone files by command."""
    labels = classify([text])[0]
    if labels is None:
        return PETITION, "其他"
    intent = URGENT if labels.intent == URGENT else PETITION
    category = labels.category if labels.category in CATEGORIES else "其他"
    return intent, category


# -- intake -------------------------------------------------------------------------------------
@router.command(
    "反映", "诉求", usage="#反映 问题描述（也可以：@小棲 反映 …）", summary="向社区反映问题，登记为工单"
)
def report(
    desk: Desk,
    classify: Classify,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    text: Annotated[Text, "请在“反映”后面写上是什么问题、在哪里。"],
) -> list[Outgoing]:
    intent, category = labels_for(classify, text)
    return file_petition(
        desk,
        session,
        now=now,
        reporter=sender,
        group=group,
        message_id=message.message_id,
        text=text,
        intent=intent,
        category=category,
    ).notices


@router.on_message(kinds=(MessageKind.TEXT,))
def intake(
    ctx: Context,
    desk: Desk,
    settings: Settings,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    labels: Labels | None,
) -> list[Outgoing] | None:
    """A resident's message: a one-word answer to the bot (yes, a rating), or what intake decides.
    Staff, and a message that is neither such an answer nor anything intake might act on, are left
    at once."""
    if sender.role.is_staff:
        return None
    word = _word(message.text)
    rating = read_rating(message.text)
    said = Router.without_bot_mention(message.text, settings.bot_id, settings.bot_name)
    intent = labels.intent if labels is not None else None
    if word not in texts.CONFIRM_WORDS and rating is None and not desk.intake.may_act(said, intent):
        return None
    confirming = word in texts.CONFIRM_WORDS
    if confirming and (answer := answer_confirmation(desk, session, now, sender, group)) is not None:
        return answer
    if rating is not None and (ticket := awaiting_rating(session, sender)):
        return ratings.rate(desk, session, now, sender, ticket, rating)
    reply, quoted = quote_of(said)
    category = labels.category if labels is not None else None
    reading = Reading(
        text=reply,
        intent=intent,
        category=category if category in CATEGORIES else "其他",
        confidence=(labels.confidence if labels is not None else None) or 0.0,
        category_confidence=_category_confidence(labels),
        intents=labels.scores.get("intent", {}) if labels is not None else {},
        **_danger(reply, intent),
        addressed=message.is_private or settings.bot_id in message.mentions or said != message.text,
        quoted=quoted,
        mentions_others=any(m != settings.bot_id for m in message.mentions),
        sender_id=sender.id,
    )
    policy = desk.intake
    talk = gather(
        session,
        now=now,
        speaker=sender,
        group_id=group.id if group else None,
        community_id=(group.community_id if group else None) or sender.community_id,
        message_id=message.message_id,
        text=message.text,
        exempt=exempt_ids(session),
        lookback=policy.lookback,
        progress=policy.asks_progress(reply),
    )
    decision = decide(reading, talk, policy, now)
    log.debug("intake %s: %s (%s)", message.message_id, decision.action.value, decision.reason)
    return act(ctx, reading, decision)


def _danger(text: str, intent: str | None) -> dict[str, Any]:
    """What the emergency rules say of a 紧急 message: which one fires, how strong, or that it is not now."""
    if intent != URGENT:
        return {}
    normal = normalize(text)
    rule = emergency_rule(normal)
    return {
        "danger_rule": rule.name if rule is not None else None,
        "danger_strong": rule is not None and rule.strong,
        "not_now": not_now(normal),
    }


def _category_confidence(labels: Labels | None) -> float:
    """How sure the classifier is of what a petition is about (not just "早就该管管了"), among the real
    categories; without labels (no classifier) the category is taken as known."""
    if labels is None:
        return 1.0
    categories = [v for k, v in labels.scores.get("category", {}).items() if k in CATEGORIES]
    return max(categories, default=0.0) / max(1e-9, sum(categories))


def _photo_ticket(session: Session, sender: Person, now: datetime) -> Ticket | None:
    """The open ticket this person reported within the last minutes, which a photo now belongs to."""
    return session.exec(
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == Ticket.id)
        .where(
            TicketReporter.person_id == sender.id,
            TicketReporter.at >= now - PHOTO_WINDOW,
            col(Ticket.state).in_(list(OPEN_STATES)),
        )
        .order_by(col(TicketReporter.at).desc())
    ).first()


@router.on_message(kinds=(MessageKind.IMAGE,))
def photo(session: Session, now: datetime, message: Incoming, sender: Person) -> list[Outgoing] | None:
    """A photo right after a resident's petition is added to that ticket."""
    ticket = _photo_ticket(session, sender, now)
    if ticket is None:
        return None
    session.add(
        TicketEvent(
            ticket_id=ticket.number, at=now, actor_id=sender.id, action="补充照片", note=message.message_id
        )
    )
    out = (
        [Outgoing(f"{ticket.id}号工单居民补充了一张照片。", to_id=ticket.handler_id)]
        if ticket.handler_id
        else []
    )
    return out


# -- residents ----------------------------------------------------------------------------------
@router.command("进度", "progress", usage="#进度 [工单号]", summary="查看自己反映的问题办到哪一步了")
def my_progress(session: Session, sender: Person, number: RecordNo | None = None) -> str:
    query = (
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == Ticket.id)
        .where(TicketReporter.person_id == sender.id)
    )
    if number is not None:
        query = query.where(Ticket.id == get_ticket(session, number).id)
    tickets = session.exec(query.order_by(col(Ticket.id).desc()).limit(5)).all()
    if not tickets:
        return "没有找到您反映过的问题。有问题可以直接在群里说，或发送“#反映 问题描述”。"
    return "\n".join(
        f"{t.id}号（{texts.topic(t.summary, 14)}）：{texts.RESIDENT_STATES[t.state.value]}"
        + (f"，{texts.when(t.deadline)}前办好" if t.state in OPEN_STATES else "")
        for t in tickets
    )


@router.command(
    "补充",
    usage="#补充 工单号 补充内容",
    summary="给自己反映的问题补充情况",
    guard=Guard(Verb.ADD_INFO, get_ticket),
)
def add_info(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo, note: Text
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    if ticket.state not in OPEN_STATES:
        raise XiaoqiError(
            f"{ticket.id}号工单{ticket.state.value}了，不能再补充。如果问题还在，直接在群里再说一次就行。"
        )
    session.add(TicketEvent(ticket_id=ticket.number, at=now, actor_id=sender.id, action="补充", note=note))
    reply = Outgoing(
        texts.FOLLOW_UP.format(number=ticket.id, handler=desk.handler_label(session, ticket)),
        to_id=sender.id,
    )
    out = [reply]
    if ticket.handler_id:
        out.append(Outgoing(f"{ticket.id}号工单补充情况：{note}", to_id=ticket.handler_id))
    return out
