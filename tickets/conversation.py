"""What surrounds a resident's message, read from the database for intake: the group's last messages, the
tickets open in its thread, the speaker's own, the community's emergencies under way."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from groups.messages import Message, MessageKind
from groups.models import Person, Role
from tickets.models import OPEN_STATES, PendingConfirmation, Ticket, TicketReporter, TicketState

# the quoted part of a WeChat reply: 「name：text」 and a dashed line, before or after the reply itself
_QUOTE = re.compile(r"「(?P<name>[^：:」]{0,40})[：:](?P<quoted>.*?)」\s*(?:[-－—]\s*){3,}", re.S)
_QUOTE_AFTER = re.compile(r"(?:[-－—]\s*){3,}「(?P<name>[^：:」]{0,40})[：:](?P<quoted>.*?)」\s*$", re.S)
RECENT_MESSAGES = 12  # the group's messages looked at before this one
KNOWN_FOR = timedelta(days=30)  # a progress question may be about a ticket of the group this recent
KNOWN_TICKETS = 50


@dataclass(frozen=True)
class Earlier:
    """A message said shortly before in the same group."""

    sender_id: str
    at: datetime
    text: str
    intent: str | None
    ticket_id: int | None  # the open ticket it belongs to (it opened or joined it), if any
    staff: bool


@dataclass(frozen=True)
class OpenTicket:
    id: int
    urgent: bool
    category: str
    summary: str
    last_at: datetime  # when it was opened or last joined
    reporters: frozenset[str]
    state: TicketState = TicketState.NEW
    group_id: str | None = None


@dataclass(frozen=True)
class Conversation:
    exempt: bool = False  # staff, the property desk and other exempt accounts
    earlier: tuple[Earlier, ...] = ()  # newest first
    open: tuple[OpenTicket, ...] = ()  # open in this group, newest activity first
    mine: tuple[OpenTicket, ...] = ()  # the speaker's own tickets (open or lately resolved), newest first
    known: tuple[OpenTicket, ...] = ()  # the group's tickets of the last weeks, for progress questions
    emergencies: tuple[OpenTicket, ...] = ()  # the community's open emergencies, newest activity first
    group_id: str | None = None
    repeated: bool = False  # the speaker said the same text here a moment ago
    unsure: tuple[
        int, ...
    ] = ()  # others' petitions the bot asked about here lately, unanswered, newest first


def quote_of(text: str) -> tuple[str, str]:
    """A WeChat reply split into (the reply, the quoted text); ("text", "") when nothing is quoted."""
    for pattern in (_QUOTE, _QUOTE_AFTER):
        match = pattern.search(text)
        if match is not None:
            return (text[: match.start()] + text[match.end() :]).strip(), match["quoted"].strip()
    return text, ""


@dataclass(frozen=True)
class Lookback:
    """How far back intake looks: for tickets open in the thread, for the group's messages, for the same
    words said again, for emergencies under way."""

    thread: timedelta
    messages: timedelta
    repeat: timedelta
    emergencies: timedelta


def gather(
    session: Session,
    *,
    now: datetime,
    speaker: Person,
    group_id: str | None,
    community_id: str | None,
    message_id: str,
    text: str,
    exempt: Collection[str],
    lookback: Lookback,
    progress: bool = False,
) -> Conversation:
    """What surrounds a message. `exempt`: the ids of residents' accounts that speak for others (the
    property desk); `progress`: the message asks how a problem is going (the group's recent tickets are read)."""
    if speaker.role.is_staff or speaker.id in exempt:
        return Conversation(exempt=True)
    open_tickets = _open_in_group(session, group_id, now - lookback.thread)
    earlier = _earlier(session, group_id, message_id, now - lookback.messages, open_tickets, exempt)
    repeated = (
        session.exec(
            select(Message.id).where(
                Message.sender_id == speaker.id,
                Message.group_id == group_id,
                Message.raw_text == text,
                col(Message.sent_at) >= now - lookback.repeat,
                Message.platform_id != message_id,
                col(Message.sent_at) <= now,
            )
        ).first()
        is not None
    )
    return Conversation(
        exempt=False,
        earlier=earlier,
        open=open_tickets,
        mine=_own_tickets(session, speaker.id, now),
        known=_group_tickets(session, group_id, now) if progress else (),
        emergencies=_emergencies(session, community_id, now - lookback.emergencies),
        group_id=group_id,
        repeated=repeated,
        unsure=_unsure(session, group_id, speaker.id, now - lookback.messages, now),
    )


def _unsure(
    session: Session, group_id: str | None, speaker_id: str, since: datetime, now: datetime
) -> tuple[int, ...]:
    """Confirmation questions still open in the group, to residents other than the speaker."""
    if group_id is None:
        return ()
    return tuple(
        i
        for i in session.exec(
            select(PendingConfirmation.id)
            .where(
                PendingConfirmation.group_id == group_id,
                PendingConfirmation.person_id != speaker_id,
                PendingConfirmation.answered == False,  # noqa: E712
                col(PendingConfirmation.asked_at) >= since,
                col(PendingConfirmation.expires_at) >= now,
            )
            .order_by(col(PendingConfirmation.asked_at).desc())
        ).all()
        if i is not None
    )


def _open_tickets(session: Session, tickets: Sequence[Ticket]) -> tuple[OpenTicket, ...]:
    if not tickets:
        return ()
    rows = session.exec(
        select(TicketReporter.ticket_id, TicketReporter.person_id, TicketReporter.at).where(
            col(TicketReporter.ticket_id).in_([t.id for t in tickets])
        )
    ).all()
    reporters: dict[int, set[str]] = {}
    last: dict[int, datetime] = {}
    for ticket_id, person_id, at in rows:
        reporters.setdefault(ticket_id, set()).add(person_id)
        last[ticket_id] = max(last.get(ticket_id, at), at)
    found = [
        OpenTicket(
            t.number,
            t.urgent,
            t.category,
            t.summary,
            last.get(t.number, t.created_at),
            frozenset(reporters.get(t.number, ())),
            t.state,
            t.group_id,
        )
        for t in tickets
    ]
    return tuple(sorted(found, key=lambda t: t.last_at, reverse=True))


def _open_in_group(session: Session, group_id: str | None, since: datetime) -> tuple[OpenTicket, ...]:
    if group_id is None:
        return ()
    active = select(TicketReporter.ticket_id).where(
        TicketReporter.group_id == group_id, col(TicketReporter.at) >= since
    )
    tickets = session.exec(
        select(Ticket).where(col(Ticket.id).in_(active), col(Ticket.state).in_(list(OPEN_STATES)))
    ).all()
    return _open_tickets(session, tickets)


def _emergencies(session: Session, community_id: str | None, since: datetime) -> tuple[OpenTicket, ...]:
    if community_id is None:
        return ()
    active = select(TicketReporter.ticket_id).where(col(TicketReporter.at) >= since)
    tickets = session.exec(
        select(Ticket).where(
            Ticket.community_id == community_id,
            col(Ticket.urgent).is_(True),
            col(Ticket.id).in_(active),
            col(Ticket.state).in_(list(OPEN_STATES)),
        )
    ).all()
    return _open_tickets(session, tickets)


def _own_tickets(session: Session, person_id: str, now: datetime) -> tuple[OpenTicket, ...]:
    tickets = session.exec(
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == Ticket.id)
        .where(
            TicketReporter.person_id == person_id,
            or_(
                col(Ticket.state).in_(list(OPEN_STATES)), col(Ticket.resolved_at) >= now - timedelta(days=30)
            ),
        )
        .order_by(col(Ticket.id).desc())
        .limit(5)
    ).all()
    return _open_tickets(session, tickets)


def _group_tickets(session: Session, group_id: str | None, now: datetime) -> tuple[OpenTicket, ...]:
    if group_id is None:
        return ()
    tickets = session.exec(
        select(Ticket)
        .where(
            Ticket.group_id == group_id,
            col(Ticket.created_at) >= now - KNOWN_FOR,
            or_(col(Ticket.state).in_(list(OPEN_STATES)), col(Ticket.resolved_at) >= now - KNOWN_FOR),
        )
        .order_by(col(Ticket.id).desc())
        .limit(KNOWN_TICKETS)
    ).all()
    return _open_tickets(session, tickets)


def _earlier(
    session: Session,
    group_id: str | None,
    message_id: str,
    since: datetime,
    open_tickets: Sequence[OpenTicket],
    exempt: Collection[str],
) -> tuple[Earlier, ...]:
    if group_id is None:
        return ()
    rows = session.execute(
        sa_select(
            col(Message.platform_id),
            col(Message.sender_id),
            col(Message.sent_at),
            col(Message.raw_text),
            col(Message.intent),
        )
        .where(
            col(Message.group_id) == group_id,
            col(Message.sent_at) >= since,
            col(Message.kind) == MessageKind.TEXT,
            col(Message.platform_id) != message_id,
        )
        .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
        .limit(RECENT_MESSAGES)
    ).all()
    if not rows:
        return ()
    ids = [r[0] for r in rows]
    belongs = dict(
        session.exec(
            select(TicketReporter.message_id, TicketReporter.ticket_id).where(
                col(TicketReporter.message_id).in_(ids)
            )
        ).all()
    )
    senders = {r[1] for r in rows}
    staff = set(
        session.exec(select(Person.id).where(col(Person.id).in_(senders), Person.role != Role.RESIDENT)).all()
    ) | (senders & set(exempt))
    known = {t.id for t in open_tickets}
    return tuple(
        Earlier(
            sender_id=sender,
            at=at,
            text=quote_of(text)[0],
            intent=intent,
            ticket_id=belongs.get(platform_id) if belongs.get(platform_id) in known else None,
            staff=sender in staff,
        )
        for platform_id, sender, at, text, intent in rows
    )
