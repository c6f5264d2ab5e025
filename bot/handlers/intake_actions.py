"""What the chat does with intake's decision on a message: file, join, chase, second or ask first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.router import Context
from core.events import Outgoing
from core.privacy import mask_private_numbers
from groups.models import ChatGroup, Person
from nlp.labels import EMERGENCY as URGENT
from nlp.labels import PETITION
from tickets import texts
from tickets.desk import Desk
from tickets.intake import Action, Decision, Reading
from tickets.lifecycle import get_ticket
from tickets.models import OPEN_STATES, PendingConfirmation
from tickets.service import Filed, file_petition, join_ticket, standing

SHORT_ECHO = 8  # "+1", "我家也是": a reaction this short tells the handler nothing new


def act(ctx: Context, said: Reading, decision: Decision) -> list[Outgoing] | None:
    """Carry out intake's decision on the message in `ctx`; what residents and staff are told, or None
    when nothing is done."""
    action = decision.action
    if action in (Action.NEW_TICKET, Action.EMERGENCY):
        return _file_new(ctx, said, urgent=action is Action.EMERGENCY)
    if action is Action.JOIN_TICKET:
        assert decision.ticket_id is not None
        tell_handler = not ctx.services.desk.intake.echoes(said.text) or len(said.text) > SHORT_ECHO
        filed = _join(ctx, decision.ticket_id, said.text, tell_handler=tell_handler)
        return filed.notices if filed is not None else None
    if action is Action.PROGRESS:
        assert decision.ticket_id is not None
        return _chase(ctx, said, decision.ticket_id)
    if action is Action.SECOND:
        assert decision.ticket_id is not None
        return _seconded(ctx, decision.ticket_id)
    if action is Action.CONFIRM:
        return [_ask_confirmation(ctx, said)]
    return None


def _file_new(ctx: Context, said: Reading, *, urgent: bool) -> list[Outgoing]:
    """A new petition (or emergency) from what the resident said."""
    return file_petition(
        ctx.services.desk,
        ctx.session,
        now=ctx.now,
        reporter=ctx.sender,
        group=ctx.group,
        message_id=ctx.message.message_id,
        text=said.text,
        intent=URGENT if urgent else PETITION,
        category=said.category,
    ).notices


def _join(ctx: Context, number: int, text: str, *, tell_handler: bool) -> Filed | None:
    """The sender joins ticket `number` as one more resident who reported it."""
    return join_ticket(
        ctx.services.desk,
        ctx.session,
        number,
        now=ctx.now,
        reporter=ctx.sender,
        group=ctx.group,
        message_id=ctx.message.message_id,
        text=text,
        tell_handler=tell_handler,
    )


def _chase(ctx: Context, said: Reading, number: int) -> list[Outgoing]:
    """A resident asks how a ticket stands: told so; while it is open, its handler hears that they wait."""
    ticket = get_ticket(ctx.session, number)
    chased: list[Outgoing] = []
    if ticket.state in OPEN_STATES:
        filed = _join(ctx, ticket.number, said.text, tell_handler=True)
        chased = filed.notices if filed is not None else []
    return [ctx.tell("standing", standing(ctx.services.desk, ctx.session, ticket, ctx.now)), *chased]


def _ask_confirmation(ctx: Context, said: Reading) -> Outgoing:
    """Keep the petition the bot is unsure of as pending, and ask the resident whether to file it."""
    ctx.session.add(
        PendingConfirmation(
            person_id=ctx.sender.id,
            group_id=ctx.group.id if ctx.group else None,
            message_id=ctx.message.message_id,
            text=said.text,
            intent=PETITION,
            category=said.category,
            asked_at=ctx.now,
            expires_at=ctx.now + timedelta(minutes=ctx.services.desk.policy.confirm_minutes),
        )
    )
    summary = texts.excerpt(mask_private_numbers(said.text))
    return ctx.tell("confirmation", texts.CONFIRM.format(summary=summary))


def _seconded(ctx: Context, pending_id: int) -> list[Outgoing] | None:
    """A neighbour's "+1" to a petition the bot was unsure of: it is filed for its resident, the neighbour
    joins it."""
    session = ctx.session
    pending = session.get(PendingConfirmation, pending_id)
    resident = session.get(Person, pending.person_id) if pending is not None else None
    if pending is None or resident is None or pending.answered:
        return None
    filed = _file_pending(ctx.services.desk, session, ctx.now, pending, resident, ctx.group)
    _join(ctx, filed.ticket.number, ctx.message.text, tell_handler=False)
    return filed.notices


def answer_confirmation(
    desk: Desk, session: Session, now: datetime, sender: Person, group: ChatGroup | None
) -> list[Outgoing] | None:
    """A resident's "yes": the petition they were last asked about here is filed, if still pending."""
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
    return _file_pending(desk, session, now, pending, sender, group).notices


def _file_pending(
    desk: Desk,
    session: Session,
    now: datetime,
    pending: PendingConfirmation,
    resident: Person,
    group: ChatGroup | None,
) -> Filed:
    """File the petition a confirmation question was about, once."""
    pending.answered = True
    return file_petition(
        desk,
        session,
        now=now,
        reporter=resident,
        group=group,
        message_id=pending.message_id,
        text=pending.text,
        intent=pending.intent,
        category=pending.category,
    )
