"""Message figures of one month and scope, aggregated in the database (never message by message)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from core.clock import local
from groups.messages import Message
from groups.models import ChatGroup, Community, Membership, Street
from nlp.labels import INTENTS, NEGATIVE, NO_CATEGORY, PETITION_INTENTS, SENTIMENTS
from reports.period import Month, Scope
from reports.sql import community_of_group, hour_value, message_filter, utc_hour

UNREGISTERED = "（未登记的群）"


@dataclass(frozen=True)
class Compared:
    """A figure with the same figure one month earlier (环比) and one year earlier (同比, when data exists)."""

    value: float
    previous: float | None = None
    last_year: float | None = None

    @property
    def mom(self) -> float | None:
        """Relative change on the previous month (0.12 = +12%); None without a base."""
        return _change(self.value, self.previous)

    @property
    def yoy(self) -> float | None:
        return _change(self.value, self.last_year)


def _change(value: float, base: float | None) -> float | None:
    return None if not base else (value - base) / base


@dataclass(frozen=True)
class LabelCount:
    label: str
    count: int
    previous: int | None
    last_year: int | None

    @property
    def compared(self) -> Compared:
        return Compared(self.count, self.previous, self.last_year)


@dataclass(frozen=True)
class CommunityRow:
    """One community's line in the appendix (tickets are filled in by the ticket figures)."""

    id: str | None
    name: str
    street: str
    groups_total: int
    groups_active: int
    members: int
    speakers: int
    messages: int
    labelled: int
    negative: int
    petitions: int

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.labelled if self.labelled else None


@dataclass(frozen=True)
class MonthTotals:
    """The few numbers compared across months."""

    messages: int
    petitions: int
    labelled: int
    negative: int
    intents: dict[str, int]
    categories: dict[str, int]


@dataclass(frozen=True)
class MessageFigures:
    total: Compared
    petitions: Compared
    negative_share: Compared
    by_day: list[tuple[date, int]]
    petitions_by_day: list[tuple[date, int]]
    heatmap: list[list[int]]  # [weekday 0=Monday][hour 0-23], Shanghai time
    sentiment_by_day: list[tuple[date, dict[str, int]]]
    groups_total: int
    groups_active: int
    members_total: int
    speakers: int
    intents: list[LabelCount]
    categories: list[LabelCount]
    communities: list[CommunityRow]
    previous_exists: bool
    last_year_exists: bool
    peak_day: tuple[date, int] | None = None
    peak_hour: tuple[int, int] | None = field(default=None)  # (weekday, hour)


def month_totals(session: Session, month: Month, scope: Scope) -> MonthTotals:
    """Messages by intent, category and sentiment of one month: one grouped query."""
    rows = session.exec(
        select(Message.intent, Message.category, Message.sentiment, func.count())
        .where(*message_filter(month, scope))
        .group_by(col(Message.intent), col(Message.category), col(Message.sentiment))
    ).all()
    intents: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    messages = labelled = negative = petitions = 0
    for intent, category, sentiment, n in rows:
        messages += n
        if intent is None:
            continue
        intents[intent] += n
        if sentiment is not None:
            labelled += n
            negative += n if sentiment == NEGATIVE else 0
        if intent in PETITION_INTENTS:
            petitions += n
        if category and category != NO_CATEGORY:
            categories[category] += n
    return MonthTotals(messages, petitions, labelled, negative, dict(intents), dict(categories))


def _label_counts(
    now: dict[str, int],
    before: dict[str, int] | None,
    year: dict[str, int] | None,
    order: tuple[str, ...] = (),
) -> list[LabelCount]:
    """Labels by count (or in `order`), with last month's and last year's counts when those months have data."""
    labels = sorted(now, key=lambda k: (-now[k], k))
    if order:
        labels = [k for k in order if k in now] + [k for k in labels if k not in order]
    return [
        LabelCount(
            k, now[k], None if before is None else before.get(k, 0), None if year is None else year.get(k, 0)
        )
        for k in labels
    ]


def _by_hour(session: Session, month: Month, scope: Scope) -> list[tuple[Any, str | None, int, int]]:
    """(UTC hour, sentiment, messages, petitions) rows: about 2,000 for a month."""
    bucket = utc_hour(Message.sent_at)
    petition = case((col(Message.intent).in_(PETITION_INTENTS), 1), else_=0)
    return [
        (hour_value(h), s, int(n), int(p or 0))
        for h, s, n, p in session.exec(
            select(bucket, Message.sentiment, func.count(), func.sum(petition))  # type: ignore[call-overload]
            .where(*message_filter(month, scope))
            .group_by(bucket, col(Message.sentiment))
        ).all()
    ]


def _communities(session: Session, month: Month, scope: Scope) -> list[CommunityRow]:
    link = community_of_group()
    negative = case((col(Message.sentiment) == NEGATIVE, 1), else_=0)
    labelled = case((col(Message.sentiment).is_not(None), 1), else_=0)
    petition = case((col(Message.intent).in_(PETITION_INTENTS), 1), else_=0)
    rows = session.exec(
        select(  # type: ignore[call-overload]
            link.c.cid,
            func.count(),
            func.count(func.distinct(Message.group_id)),
            func.count(func.distinct(Message.sender_id)),
            func.sum(labelled),
            func.sum(negative),
            func.sum(petition),
        )
        .join(link, link.c.gid == Message.group_id)
        .where(*message_filter(month, scope))
        .group_by(link.c.cid)
    ).all()
    active = {cid: row for cid, *row in rows}
    groups, members = _groups_and_members(session, scope)
    where = [] if scope.community_ids is None else [col(Community.id).in_(scope.community_ids)]
    names = {
        cid: (name, street)
        for cid, name, street in session.exec(
            select(Community.id, Community.name, Street.name)
            .join(Street, col(Street.id) == col(Community.street_id))
            .where(*where)
        ).all()
    }
    result = []
    for cid in sorted(
        set(names) | set(active), key=lambda c: (c is None, names.get(c, ("", ""))[1], c or "")
    ):
        n, groups_active, speakers, lab, neg, pet = active.get(cid, (0, 0, 0, 0, 0, 0))
        name, street = names.get(cid, (UNREGISTERED, "—"))
        result.append(
            CommunityRow(
                cid,
                name,
                street,
                int(groups.get(cid, 0)),
                int(groups_active),
                int(members.get(cid, 0)),
                int(speakers),
                int(n),
                int(lab or 0),
                int(neg or 0),
                int(pet or 0),
            )
        )
    return result


def _groups_and_members(session: Session, scope: Scope) -> tuple[dict[Any, int], dict[Any, int]]:
    """Registered groups, and the people active in them, by community."""
    group_where = [col(ChatGroup.registered).is_(True)]
    if scope.group_ids is not None:
        group_where.append(col(ChatGroup.id).in_(scope.group_ids))
    groups = session.exec(
        select(ChatGroup.community_id, func.count()).where(*group_where).group_by(col(ChatGroup.community_id))
    ).all()
    members = session.exec(
        select(ChatGroup.community_id, func.count(func.distinct(Membership.person_id)))
        .join(ChatGroup, col(ChatGroup.id) == col(Membership.group_id))
        .where(*group_where, col(Membership.active).is_(True))
        .group_by(col(ChatGroup.community_id))
    ).all()
    return dict(groups), dict(members)


def _speakers(session: Session, month: Month, scope: Scope) -> int:
    return int(
        session.exec(
            select(func.count(func.distinct(Message.sender_id))).where(*message_filter(month, scope))
        ).one()
    )


def message_figures(session: Session, month: Month, scope: Scope) -> MessageFigures:
    """Volume, rhythm, activity, labels and sentiment of the month, with 环比 and 同比."""
    now = month_totals(session, month, scope)
    before = month_totals(session, month.shift(-1), scope)
    year = month_totals(session, month.shift(-12), scope)
    days = [month.first_day.fromordinal(month.first_day.toordinal() + i) for i in range(month.days)]
    volume: Counter[date] = Counter()
    petitions: Counter[date] = Counter()
    sentiment: dict[date, Counter[str]] = defaultdict(Counter)
    heat = [[0] * 24 for _ in range(7)]
    for hour, mood, n, p in _by_hour(session, month, scope):
        at = local(hour)
        volume[at.date()] += n
        petitions[at.date()] += p
        heat[at.weekday()][at.hour] += n
        if mood is not None:
            sentiment[at.date()][mood] += n
    communities = _communities(session, month, scope)
    share = lambda t: t.negative / t.labelled if t.labelled else 0.0  # noqa: E731
    peak = max(((d, volume[d]) for d in days), key=lambda x: x[1], default=None)
    peak_cell = max(((w, h) for w in range(7) for h in range(24)), key=lambda c: heat[c[0]][c[1]])
    return MessageFigures(
        total=Compared(now.messages, before.messages or None, year.messages or None),
        petitions=Compared(now.petitions, before.petitions or None, year.petitions or None),
        negative_share=Compared(
            share(now), share(before) if before.labelled else None, share(year) if year.labelled else None
        ),
        by_day=[(d, volume[d]) for d in days],
        petitions_by_day=[(d, petitions[d]) for d in days],
        heatmap=heat,
        sentiment_by_day=[(d, {s: sentiment[d][s] for s in SENTIMENTS}) for d in days],
        groups_total=sum(c.groups_total for c in communities),
        groups_active=sum(c.groups_active for c in communities),
        members_total=sum(c.members for c in communities),
        speakers=_speakers(session, month, scope),
        intents=_label_counts(
            now.intents,
            before.intents if before.messages else None,
            year.intents if year.messages else None,
            INTENTS,
        ),
        categories=_label_counts(
            now.categories,
            before.categories if before.messages else None,
            year.categories if year.messages else None,
        ),
        communities=communities,
        previous_exists=before.messages > 0,
        last_year_exists=year.messages > 0,
        peak_day=peak if peak and peak[1] else None,
        peak_hour=peak_cell if heat[peak_cell[0]][peak_cell[1]] else None,
    )
