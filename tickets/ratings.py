"""A resident's rating of a resolved ticket, as they write it: the word, and the words around it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from core.events import Outgoing
from groups.models import Person
from tickets import texts
from tickets.desk import Desk, S, notify_handler, notify_reporters
from tickets.models import Rating, Ticket, TicketEvent, TicketReporter

# longest first, so that 不满意 is never read as 满意
_WORDS: dict[str, Rating] = {
    "非常不满意": Rating.UNSATISFIED,
    "很不满意": Rating.UNSATISFIED,
    "不太满意": Rating.UNSATISFIED,
    "不满意": Rating.UNSATISFIED,
    "基本满意": Rating.BASICALLY,
    "还算满意": Rating.BASICALLY,
    "还满意": Rating.BASICALLY,
    "比较满意": Rating.BASICALLY,
    "非常满意": Rating.SATISFIED,
    "很满意": Rating.SATISFIED,
    "挺满意": Rating.SATISFIED,
    "满意": Rating.SATISFIED,
}
_ALTERNATIVES = "|".join(sorted(_WORDS, key=len, reverse=True))
_MARKS = r"[\s。，,！!？?~～.、…；;：:\-—]|\[[^\[\]]{1,6}\]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
# the rating opens the message ("不满意 车还是停在楼道里") and is not the start of a longer word
# (满意度, 满意吗); or it closes the message ("这回可以 满意")
_OPENS = re.compile(rf"^(?:{_MARKS})*({_ALTERNATIVES})(?![度吗吧呢的么没不])")
_CLOSES = re.compile(rf"({_ALTERNATIVES})(?:了|啦|哈|呀|的)?(?:{_MARKS})*$")
_EDGES = re.compile(rf"^(?:{_MARKS})+|(?:{_MARKS})+$")


@dataclass(frozen=True)
class RatingSaid:
    rating: Rating
    comment: str  # the resident's own words around the rating, kept with it ("" when none)


def read_rating(text: str) -> RatingSaid | None:
    """The rating a message gives, when it opens or closes with one; None for any other message."""
    said = text.strip()
    if (opening := _OPENS.search(said)) is not None:
        return RatingSaid(_WORDS[opening.group(1)], _EDGES.sub("", said[opening.end() :]))
    if (closing := _CLOSES.search(said)) is not None:
        before = said[: closing.start()]
        if before.endswith(("不", "没", "否", "满", "太")):
            return None  # the end of a question or of another phrase: 满不满意, 是否满意, 没太满意
        return RatingSaid(_WORDS[closing.group(1)], _EDGES.sub("", before))
    return None


def derived_rating(ratings: Iterable[Rating | None]) -> Rating:
    """The ticket's rating from its reporters' own: 满意 only when everyone who rated was satisfied,
    基本满意 when someone was only fairly satisfied, 默认满意 when nobody rated."""
    given = [r for r in ratings if r is not None and r is not Rating.DEFAULT]
    if not given:
        return Rating.DEFAULT
    if Rating.UNSATISFIED in given:
        return Rating.UNSATISFIED
    return Rating.BASICALLY if Rating.BASICALLY in given else Rating.SATISFIED


def awaiting_rating(session: Session, person: Person) -> Ticket | None:
    """The resolved ticket this person reported most recently: the one a rating from them is about."""
    return session.exec(
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == Ticket.id)
        .where(TicketReporter.person_id == person.id, Ticket.state == S.RESOLVED)
        .order_by(col(Ticket.resolved_at).desc(), col(Ticket.id).desc())
    ).first()


def rated(session: Session, ticket: Ticket) -> set[str]:
    """The reporters whose rating of the ticket stands (given, and not 不满意)."""
    return {r.person_id for r in _reporters(session, ticket) if r.rating is not None}


def _reporters(session: Session, ticket: Ticket) -> list[TicketReporter]:
    return list(
        session.exec(
            select(TicketReporter)
            .where(TicketReporter.ticket_id == ticket.id)
            .order_by(col(TicketReporter.id))
        ).all()
    )


def rate(
    desk: Desk, session: Session, now: datetime, person: Person, ticket: Ticket, said: RatingSaid
) -> list[Outgoing]:
    """One reporter rates a resolved ticket for themselves. 不满意 reopens it (only they hear the
    apology); once every reporter has rated, it closes with the rating derived from theirs."""
    if ticket.state is not S.RESOLVED:
        raise XiaoqiError(f"{ticket.id}号工单现在是“{ticket.state.value}”，不能评价。")
    rows = _reporters(session, ticket)
    own = next((r for r in rows if r.person_id == person.id), None)
    if own is None:
        raise XiaoqiError(f"只有反映{ticket.id}号工单的居民可以评价。")
    own.rating, own.rated_at, own.comment = said.rating, now, said.comment
    session.add(own)
    note = said.rating.value + (f"：{said.comment}" if said.comment else "")
    if said.rating is Rating.UNSATISFIED:
        own.rating = None  # they rate the next resolution; the others' ratings stand
        return _reopen(desk, session, now, person, ticket, note)
    if any(r.rating is None for r in rows):  # the others may still rate
        session.add(
            TicketEvent(ticket_id=ticket.number, at=now, actor_id=person.id, action="评价", note=note)
        )
    else:
        desk.move(
            session,
            ticket,
            now=now,
            actor_id=person.id,
            action="评价",
            to_state=S.CLOSED,
            note=note,
            rating=derived_rating(r.rating for r in rows),
            closed_at=now,
        )
    return notify_reporters(session, ticket, texts.THANKS_FOR_RATING, only={person.id})


def _reopen(
    desk: Desk,
    session: Session,
    now: datetime,
    person: Person,
    ticket: Ticket,
    note: str,
) -> list[Outgoing]:
    deadline = desk.calendar.add_working_days(now, desk.policy.working_days(ticket.category))
    desk.move(
        session,
        ticket,
        now=now,
        actor_id=person.id,
        action="重办",
        to_state=S.NEW,
        note=note,
        rating=Rating.UNSATISFIED,
        reopened=ticket.reopened + 1,
        deadline=deadline,
        assigned_at=now,
        accepted_at=None,
        resolved_at=None,
        reminded_at=None,
        urged_at=None,
        supervised_at=None,
    )
    apology = texts.REOPENED.format(
        summary=texts.topic(ticket.summary),
        number=ticket.id,
        handler=desk.handler_label(session, ticket),
        deadline=texts.when(deadline),
    )
    out = notify_reporters(session, ticket, apology, only={person.id})
    comment = note.split("：", 1)[1] if "：" in note else "不满意"
    return out + notify_handler(
        session, ticket, texts.REOPENED_FOR_HANDLER, said=f"{person.name or '居民'}：{comment}"
    )


def auto_close(desk: Desk, session: Session, ticket: Ticket, at: datetime) -> list[Outgoing]:
    """Days after the resolution: close with the ratings given; those who gave none are told."""
    rows = _reporters(session, ticket)
    rating = derived_rating(r.rating for r in rows)
    desk.move(
        session,
        ticket,
        now=at,
        actor_id="xiaoqi",
        action="评价",
        to_state=S.CLOSED,
        note=rating.value,
        rating=rating,
        closed_at=at,
    )
    silent = {r.person_id for r in rows if r.rating is None}
    if not silent:
        return []
    return notify_reporters(
        session,
        ticket,
        texts.AUTO_CLOSED.format(
            summary=texts.topic(ticket.summary), number=ticket.id, days=desk.policy.auto_close_days
        ),
        in_group=desk.in_group(ticket, "auto_closed"),
        only=silent,
    )
