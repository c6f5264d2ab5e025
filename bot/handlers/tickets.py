"""Tickets in the chat: intake of petitions, staff commands, residents' progress and ratings."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, or_, select

from access.policy import Verb
from bot.router import Context, Guard, Router, UsageError, first_word
from core.clock import local
from core.errors import XiaoqiError
from core.events import Incoming, MessageKind, Outgoing
from core.privacy import mask_private_numbers
from groups.messages import Message
from groups.models import ChatGroup, Membership, Person, Role
from groups.people import Want, resolve_person
from groups.registry import CATEGORIES
from moderation.service import exempt_ids
from nlp import Labels, normalize
from nlp.rules import emergency_rule, not_now
from tickets import lifecycle, ratings, texts
from tickets.conversation import gather, quote_of
from tickets.intake import Action, Decision, Reading, decide
from tickets.lifecycle import get_ticket
from tickets.models import (
    OPEN_STATES,
    LabelledExample,
    PendingConfirmation,
    Ticket,
    TicketEvent,
    TicketReporter,
)
from tickets.ratings import awaiting_rating, read_rating
from tickets.service import URGENT, Filed, file_petition, join_ticket, standing

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
router = Router()
SHORT_ECHO = 8  # "+1", "我家也是": a reaction this short tells the handler nothing new
PHOTO_WINDOW = timedelta(minutes=30)
_NOT_WORDS = re.compile(r"\[[^\[\]]{1,6}\]|[\s。，,！!？?~～.、…【】]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def _word(text: str) -> str:
    """The bare word of a one-word reply: no punctuation, emoji or WeChat emoticons like [强]."""
    return _NOT_WORDS.sub("", text)


def _split(args: str, parts: int, usage_hint: str = "") -> list[str]:
    pieces = args.split(maxsplit=parts - 1)
    if len(pieces) < parts or not pieces[0].lstrip("#＃").removesuffix("号").isdigit():
        raise UsageError(usage_hint)
    return pieces


def _labels_for(app: App, text: str) -> tuple[str, str]:
    labels = app.classify([text])[0]
    if labels is None:
        return "诉求", "其他"
    intent = URGENT if labels.intent == URGENT else "诉求"
    category = labels.category if labels.category in CATEGORIES else "其他"
    return intent, category


# -- intake -------------------------------------------------------------------------------------
@router.command(
    "反映", "诉求", usage="#反映 问题描述（也可以：@小棲 反映 …）", summary="向社区反映问题，登记为工单"
)
def report(
    app: App,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    args: str,
) -> list[Outgoing]:
    if not args.strip():
        raise UsageError("请在“反映”后面写上是什么问题、在哪里。")
    intent, category = _labels_for(app, args)
    return file_petition(
        app.desk,
        session,
        now=now,
        reporter=sender,
        group=group,
        message_id=message.message_id,
        text=args,
        intent=intent,
        category=category,
    ).notices


def _idle(ctx: Context) -> bool:
    """Nothing for intake to do (the replay's quick path takes the message): staff, or a resident's
    message that is neither a one-word answer to the bot nor anything intake might act on."""
    if ctx.sender.role.is_staff:
        return True
    word = _word(ctx.message.text)
    if word in texts.CONFIRM_WORDS or read_rating(ctx.message.text) is not None:
        return False
    said = Router.without_bot_mention(ctx.message.text, ctx.app.settings.bot_id, ctx.app.settings.bot_name)
    return not ctx.app.desk.intake.may_act(said, ctx.labels.intent if ctx.labels else None)


@router.on_message(kinds=(MessageKind.TEXT,), idle=_idle)
def intake(
    ctx: Context,
    app: App,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    record: Message,
    labels: Labels | None,
) -> list[Outgoing] | None:
    """A resident's message: a one-word answer to the bot (yes, a rating), or what intake decides."""
    if sender.role.is_staff:
        return None
    word = _word(message.text)
    if word in texts.CONFIRM_WORDS and (answer := _confirmed(app, session, now, sender, group)) is not None:
        return answer
    if (rating := read_rating(message.text)) is not None and (ticket := awaiting_rating(session, sender)):
        return ratings.rate(app.desk, session, now, sender, ticket, rating)
    said = Router.without_bot_mention(message.text, app.settings.bot_id, app.settings.bot_name)
    reply, quoted = quote_of(said)
    reading = Reading(
        text=reply,
        intent=record.intent,
        category=record.category if record.category in CATEGORIES else "其他",
        confidence=record.confidence or 0.0,
        category_confidence=_category_confidence(labels),
        intents=labels.scores.get("intent", {}) if labels is not None else {},
        **_danger(reply, record.intent),
        addressed=message.is_private or app.settings.bot_id in message.mentions or said != message.text,
        quoted=quoted,
        mentions_others=any(m != app.settings.bot_id for m in message.mentions),
        sender_id=sender.id,
    )
    policy = app.desk.intake
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
    return _act(ctx, app, session, now, message, sender, group, reading, decision)


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


def _act(
    ctx: Context,
    app: App,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    said: Reading,
    decision: Decision,
) -> list[Outgoing] | None:
    action = decision.action
    if action in (Action.NEW_TICKET, Action.EMERGENCY):
        return file_petition(
            app.desk,
            session,
            now=now,
            reporter=sender,
            group=group,
            message_id=message.message_id,
            text=said.text,
            intent=URGENT if action is Action.EMERGENCY else "诉求",
            category=said.category,
        ).notices
    if action is Action.JOIN_TICKET:
        assert decision.ticket_id is not None
        filed = join_ticket(
            app.desk,
            session,
            decision.ticket_id,
            now=now,
            reporter=sender,
            group=group,
            message_id=message.message_id,
            text=said.text,
            tell_handler=not app.desk.intake.echoes(said.text) or len(said.text) > SHORT_ECHO,
        )
        return filed.notices if filed is not None else None
    if action is Action.PROGRESS:
        assert decision.ticket_id is not None
        ticket = get_ticket(session, decision.ticket_id)
        chased: list[Outgoing] = []
        if ticket.state in OPEN_STATES:  # the handler hears that residents wait; the asker is kept posted
            filed = join_ticket(
                app.desk,
                session,
                ticket.number,
                now=now,
                reporter=sender,
                group=group,
                message_id=message.message_id,
                text=said.text,
                tell_handler=True,
            )
            chased = filed.notices if filed is not None else []
        return [ctx.tell("standing", standing(app.desk, session, ticket, now)), *chased]
    if action is Action.SECOND:
        assert decision.ticket_id is not None
        return _seconded(app, session, now, message, sender, group, decision.ticket_id)
    if action is Action.CONFIRM:
        session.add(
            PendingConfirmation(
                person_id=sender.id,
                group_id=group.id if group else None,
                message_id=message.message_id,
                text=said.text,
                intent="诉求",
                category=said.category,
                asked_at=now,
                expires_at=now + timedelta(minutes=app.desk.policy.confirm_minutes),
            )
        )
        return [
            ctx.tell(
                "confirmation", texts.CONFIRM.format(summary=texts.excerpt(mask_private_numbers(said.text)))
            )
        ]
    return None


def _seconded(
    app: App,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    group: ChatGroup | None,
    pending_id: int,
) -> list[Outgoing] | None:
    """A neighbour's "+1" to a petition the bot was unsure of: it is filed for its resident, the neighbour
    joins it."""
    pending = session.get(PendingConfirmation, pending_id)
    resident = session.get(Person, pending.person_id) if pending is not None else None
    if pending is None or resident is None or pending.answered:
        return None
    filed = _file_pending(app, session, now, pending, resident, group)
    join_ticket(
        app.desk,
        session,
        filed.ticket.number,
        now=now,
        reporter=sender,
        group=group,
        message_id=message.message_id,
        text=message.text,
        tell_handler=False,
    )
    return filed.notices


def _confirmed(
    app: App, session: Session, now: datetime, sender: Person, group: ChatGroup | None
) -> list[Outgoing] | None:
    pending = session.exec(
        select(PendingConfirmation)
        .where(
            PendingConfirmation.person_id == sender.id,
            PendingConfirmation.group_id == (group.id if group else None),
            PendingConfirmation.answered == False,  # noqa: E712
            PendingConfirmation.expires_at >= now,
        )
        .order_by(col(PendingConfirmation.asked_at).desc())
    ).first()
    if pending is None:
        return None
    return _file_pending(app, session, now, pending, sender, group).notices


def _file_pending(
    app: App,
    session: Session,
    now: datetime,
    pending: PendingConfirmation,
    resident: Person,
    group: ChatGroup | None,
) -> Filed:
    """File the petition a confirmation question was about, once."""
    pending.answered = True
    return file_petition(
        app.desk,
        session,
        now=now,
        reporter=resident,
        group=group,
        message_id=pending.message_id,
        text=pending.text,
        intent=pending.intent,
        category=pending.category,
    )


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


@router.on_message(
    kinds=(MessageKind.IMAGE,), idle=lambda ctx: _photo_ticket(ctx.session, ctx.sender, ctx.now) is None
)
def photo(
    app: App, session: Session, now: datetime, message: Incoming, sender: Person
) -> list[Outgoing] | None:
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
def my_progress(session: Session, sender: Person, args: str) -> str:
    query = (
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == Ticket.id)
        .where(TicketReporter.person_id == sender.id)
    )
    if args.strip():
        query = query.where(Ticket.id == get_ticket(session, args).id)
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
def add_info(app: App, session: Session, now: datetime, sender: Person, args: str) -> list[Outgoing]:
    number, note = _split(args, 2)
    ticket = get_ticket(session, number)
    if ticket.state not in OPEN_STATES:
        raise XiaoqiError(
            f"{ticket.id}号工单{ticket.state.value}了，不能再补充。如果问题还在，直接在群里再说一次就行。"
        )
    session.add(TicketEvent(ticket_id=ticket.number, at=now, actor_id=sender.id, action="补充", note=note))
    reply = Outgoing(
        texts.FOLLOW_UP.format(number=ticket.id, handler=app.desk.handler_label(session, ticket)),
        to_id=sender.id,
    )
    out = [reply]
    if ticket.handler_id:
        out.append(Outgoing(f"{ticket.id}号工单补充情况：{note}", to_id=ticket.handler_id))
    return out


# -- staff --------------------------------------------------------------------------------------
def _private(sender: Person, text: str) -> Outgoing:
    return Outgoing(text, to_id=sender.id)


@router.command(
    "我的工单", "mytickets", usage="#我的工单", summary="我负责的未办结工单", guard=Guard(Verb.HANDLE)
)
def my_tickets(session: Session, sender: Person) -> Outgoing:
    conditions = [Ticket.handler_id == sender.id]
    if sender.role is Role.SOCIAL_WORKER:
        conditions.append(Ticket.community_id == sender.community_id)
    tickets = session.exec(
        select(Ticket)
        .where(or_(*conditions), col(Ticket.state).in_(list(OPEN_STATES)))
        .order_by(col(Ticket.deadline))
        .limit(20)
    ).all()
    if not tickets:
        return _private(sender, "目前没有未办结的工单。")
    lines = [
        f"{t.id}号【{t.category}】{t.state.value}，{texts.when(t.deadline)}前：{texts.excerpt(t.summary, 18)}"
        + ("（紧急）" if t.urgent else "")
        for t in tickets
    ]
    return _private(sender, "\n".join([f"未办结工单 {len(tickets)} 件：", *lines]))


@router.command(
    "工单",
    "ticket",
    usage="#工单 工单号",
    summary="查看一件工单的详情和经过",
    guard=Guard(Verb.SEE, get_ticket),
)
def show_ticket(app: App, session: Session, sender: Person, args: str) -> Outgoing:
    """The ticket's story; residents' words, names and numbers only to those who may see details."""
    ticket = get_ticket(session, first_word(args)[0])
    details = app.access.may(session, sender, Verb.SEE_DETAILS, ticket)
    reporter = session.get(Person, ticket.reporter_id) if details else None
    text = ticket.details if details and ticket.details else ticket.summary
    events = session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
    ).all()
    who = reporter.name if reporter is not None else "居民"
    # where details are hidden, what residents wrote (补充, a 不满意 with words) is left out
    staff = set() if details else _staff_among(session, {e.actor_id for e in events})
    lines = [
        f"{ticket.id}号工单【{ticket.category}】{ticket.state.value}" + ("（紧急）" if ticket.urgent else ""),
        f"反映人：{who}（共{ticket.reporters}人反映）",
        f"内容：{text}",
        f"负责：{app.desk.handler_label(session, ticket)}；时限：{texts.when(ticket.deadline)}前",
        "经过：",
        *(
            f"  {local(e.at):%m-%d %H:%M} {e.action}" + _event_note(e.note, details, e.actor_id in staff)
            for e in events[-8:]
        ),
    ]
    return _private(sender, "\n".join(lines))


def _event_note(note: str, details: bool, by_staff: bool) -> str:
    if not note or not (details or by_staff):
        return ""
    return f"：{note}" if details else f"：{mask_private_numbers(note)}"


def _staff_among(session: Session, ids: set[str]) -> set[str]:
    """Which of these actors are staff (or the bot): their notes are work, not residents' words."""
    found = session.exec(select(Person.id).where(col(Person.id).in_(ids), Person.role != Role.RESIDENT))
    return {*found, "xiaoqi"}


def _staff_action(
    name: str,
    parts: int,
    usage: str,
    summary: str,
    verb: Verb = Verb.HANDLE,
    mentions: bool = False,
    doing: str = "",
):  # type: ignore[no-untyped-def]
    """Declare a `#动作 工单号 …` command that does `verb` to the ticket; the handler gets the ticket
    and the rest of the text (and, with `mentions`, the ids @-mentioned, for a person reference)."""

    def register(action):  # type: ignore[no-untyped-def]
        @router.command(name, usage=usage, summary=summary, guard=Guard(verb, get_ticket, doing))
        def command(
            app: App, session: Session, now: datetime, message: Incoming, sender: Person, args: str
        ) -> list[Outgoing]:
            pieces = _split(args, parts)
            ticket = get_ticket(session, pieces[0])
            extra = {"mentions": message.mentions} if mentions else {}
            out = action(app, session, now, sender, ticket, *pieces[1:], **extra)
            done = _done(name, ticket, app.desk.handler_label(session, ticket))
            return [_private(sender, done), *out]

        return action

    return register


# what the staff member who acted is told, by command
_DONE = {
    "签收": "好的，{number}号工单已签收，办理时限{deadline}前。",
    "进展": "好的，{number}号工单的进展已告诉居民。",
    "办结": "好的，{number}号工单已办结，已请居民评价。",
    "退回": "好的，{number}号工单已退回，社工会重新分派。",
    "转派": "好的，{number}号工单已转给{handler}。",
    "延期": "好的，{number}号工单的延期申请已提交。",
    "批准延期": "好的，{number}号工单已延期到{deadline}。",
    "改类": "好的，{number}号工单已改为“{category}”。",
}


def _done(action: str, ticket: Ticket, handler: str) -> str:
    return _DONE[action].format(
        number=ticket.id, handler=handler, deadline=texts.when(ticket.deadline), category=ticket.category
    )


@_staff_action("签收", 1, "#签收 工单号", "签收工单")
def _accept(app: App, session: Session, now: datetime, sender: Person, ticket: Ticket) -> list[Outgoing]:
    return lifecycle.accept(app.desk, session, now, sender, ticket)


@_staff_action("进展", 2, "#进展 工单号 进展情况", "报告进展（会转告反映人）", doing="报进展")
def _progress(
    app: App, session: Session, now: datetime, sender: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    return lifecycle.post_progress(app.desk, session, now, sender, ticket, note)


@_staff_action("办结", 2, "#办结 工单号 办理结果", "办结工单（会请反映人评价）")
def _resolve(
    app: App, session: Session, now: datetime, sender: Person, ticket: Ticket, note: str
) -> list[Outgoing]:
    return lifecycle.resolve(app.desk, session, now, sender, ticket, note)


@_staff_action("退回", 2, "#退回 工单号 理由", "退回给社工重新分派（必须写理由）")
def _return(
    app: App, session: Session, now: datetime, sender: Person, ticket: Ticket, reason: str
) -> list[Outgoing]:
    return lifecycle.return_ticket(app.desk, session, now, sender, ticket, reason)


@_staff_action(
    "转派",
    2,
    "#转派 工单号 对象（人员id、姓名或部门）",
    "把工单转给别人办理",
    verb=Verb.MANAGE,
    mentions=True,
)
def _reassign(
    app: App,
    session: Session,
    now: datetime,
    sender: Person,
    ticket: Ticket,
    target: str,
    mentions: tuple[str, ...] = (),
) -> list[Outgoing]:
    from groups.models import Department

    department = (
        session.get(Department, target)
        or session.exec(select(Department).where(Department.name == target)).first()
    )
    if department is not None and department.contact_id:
        person = session.get(Person, department.contact_id)
        assert person is not None
        return lifecycle.reassign(app.desk, session, now, sender, ticket, person, department.id)
    person = resolve_person(
        session,
        target,
        near=ticket.community_id or sender.community_id,
        mentions=mentions,
        hint="请写全名、微信号、部门名，或@他。",
    )
    return lifecycle.reassign(app.desk, session, now, sender, ticket, person)


@_staff_action("延期", 3, "#延期 工单号 工作日数 理由", "申请延长办理时限（社工批准）", doing="申请延期")
def _extend(
    app: App, session: Session, now: datetime, sender: Person, ticket: Ticket, days: str, reason: str
) -> list[Outgoing]:
    if not (days.isascii() and days.isdigit()) or len(days) > 3:
        raise UsageError("工作日数要写数字。")
    return lifecycle.request_extension(app.desk, session, now, sender, ticket, int(days), reason)


@_staff_action(
    "批准延期",
    1,
    "#批准延期 工单号",
    "批准延期申请",
    verb=Verb.MANAGE,
    doing="批准延期",
)
def _approve(app: App, session: Session, now: datetime, sender: Person, ticket: Ticket) -> list[Outgoing]:
    return lifecycle.approve_extension(app.desk, session, now, sender, ticket)


@_staff_action("改类", 2, "#改类 工单号 类别", "更正工单类别（会用于改进识别）")
def _recategorise(
    app: App, session: Session, now: datetime, sender: Person, ticket: Ticket, category: str
) -> list[Outgoing]:
    category = category.strip()
    if category not in CATEGORIES:
        raise UsageError(f"类别可以是：{'、'.join(CATEGORIES)}。")
    previous = ticket.category
    app.desk.move(
        session,
        ticket,
        now=now,
        actor_id=sender.id,
        action="改类",
        note=f"{previous}→{category}",
        category=category,
    )
    session.add(
        LabelledExample(
            text=ticket.summary,
            label_kind="category",
            label=category,
            previous=previous,
            source=f"ticket:{ticket.id}",
            corrected_by=sender.id,
            at=now,
        )
    )
    source = session.exec(select(Message).where(Message.platform_id == ticket.source_message_id)).first()
    if source is not None:
        source.category = category
    return []


@router.command(
    "代登记",
    usage="#代登记 居民（id或姓名） 问题描述",
    summary="替电话或上门的居民登记工单",
    guard=Guard(Verb.FILE_FOR),
)
def file_for_resident(
    app: App, session: Session, now: datetime, message: Incoming, sender: Person, args: str
) -> list[Outgoing]:
    pieces = args.split(maxsplit=1)
    if len(pieces) < 2:
        raise UsageError()
    who, text = pieces
    resident = resolve_person(
        session, who, near=sender.community_id, want=Want.RESIDENT, mentions=message.mentions
    )
    app.access.check(session, sender, Verb.FILE_FOR, resident, "代登记")
    membership = session.exec(
        select(Membership).where(Membership.person_id == resident.id, col(Membership.active).is_(True))
    ).first()
    group = session.get(ChatGroup, membership.group_id) if membership else None
    intent, category = _labels_for(app, text)
    filed = file_petition(
        app.desk,
        session,
        now=now,
        reporter=resident,
        group=group,
        message_id=message.message_id,
        text=text,
        intent=intent,
        category=category,
        filed_by=sender,
    )
    return [_private(sender, f"已替{resident.name}登记为{filed.ticket.id}号工单。"), *filed.notices]
