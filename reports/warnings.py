"""Early warnings (预警): a category or community rising sharply above its own baseline, and many distinct
residents on one issue (a risk of collective petition, 群体性诉求).

Baseline: the mean of up to three earlier months that have any messages; a month is flagged when it has at
least MIN_COUNT petitions and is RISE_RATIO times its baseline. Within the month, the last week's petitions
are compared with the earlier weeks' (z-score against their mean and spread), which needs no history.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.clock import local
from groups.messages import Message
from nlp.labels import NO_CATEGORY, PETITION_INTENTS
from reports.figures import UNREGISTERED
from reports.period import Month, Scope
from reports.sql import community_of_group, hour_value, message_filter, utc_hour
from reports.topics import HotTopic
from tickets.models import Ticket, TicketReporter

BASELINE_MONTHS = 3
MIN_COUNT = 10
RISE_RATIO = 1.5
HIGH_RATIO = 2.5
WEEK_Z = 3.0
CROWD_TICKET = 5  # distinct residents on one ticket
CROWD_TOPIC = 10  # distinct residents in one hot topic
MAX_PER_KIND = 5


@dataclass(frozen=True)
class EarlyWarning:
    level: str  # 高 | 中
    kind: str  # 类别上升 | 社区上升 | 群体性诉求风险
    subject: str
    detail: str
    score: float = 0.0  # how far above normal, for ordering within a kind


def _petitions(session: Session, month: Month, scope: Scope) -> list[tuple[str | None, str, date, int]]:
    """(community, category, Shanghai day, petitions) of one month, grouped in SQL by UTC hour."""
    link = community_of_group()
    bucket = utc_hour(Message.sent_at)
    rows = session.exec(
        select(link.c.cid, Message.category, bucket, func.count())  # type: ignore[call-overload]
        .join(link, link.c.gid == Message.group_id)
        .where(*message_filter(month, scope), col(Message.intent).in_(PETITION_INTENTS))
        .group_by(link.c.cid, col(Message.category), bucket)
    ).all()
    return [(cid, cat or NO_CATEGORY, local(hour_value(h)).date(), int(n)) for cid, cat, h, n in rows]


def _monthly(session: Session, month: Month, scope: Scope) -> tuple[int, Counter[str], Counter[str | None]]:
    """Messages, petitions by category and by community of one month (for the baseline)."""
    link = community_of_group()
    total = int(
        session.exec(select(func.count()).select_from(Message).where(*message_filter(month, scope))).one()
    )
    by_category: Counter[str] = Counter()
    by_community: Counter[str | None] = Counter()
    if total:
        for cid, cat, n in session.exec(
            select(link.c.cid, Message.category, func.count())  # type: ignore[call-overload]
            .join(link, link.c.gid == Message.group_id)
            .where(*message_filter(month, scope), col(Message.intent).in_(PETITION_INTENTS))
            .group_by(link.c.cid, col(Message.category))
        ).all():
            by_category[cat or NO_CATEGORY] += int(n)
            by_community[cid] += int(n)
    return total, by_category, by_community


def _weekly_z(series: Mapping[date, int], month: Month) -> tuple[int, float, float] | None:
    """The last 7 days against the earlier 7-day windows: (last week, mean, z), or None when too short."""
    days = [month.first_day.fromordinal(month.first_day.toordinal() + i) for i in range(month.days)]
    weeks = [sum(series.get(d, 0) for d in days[i : i + 7]) for i in range(len(days) - 7, -1, -7)][::-1]
    if len(weeks) < 3:
        return None
    last, earlier = weeks[-1], weeks[:-1]
    mean = sum(earlier) / len(earlier)
    spread = math.sqrt(sum((w - mean) ** 2 for w in earlier) / len(earlier))
    return last, mean, (last - mean) / max(spread, math.sqrt(mean), 1.0)


def _rise(now: int, baseline: float) -> str | None:
    if now < MIN_COUNT or now < RISE_RATIO * baseline or now - baseline < MIN_COUNT / 2:
        return None
    return "高" if baseline == 0 or now >= HIGH_RATIO * baseline else "中"


def _rising(
    kind: str,
    series: Mapping[Any, Mapping[date, int]],
    history: list[dict[Any, int]],
    names: Mapping[Any, str],
    month: Month,
) -> list[EarlyWarning]:
    """Keys whose petitions rose above their earlier months' mean, or whose last week jumped."""
    warnings = []
    for key, days in series.items():
        now = sum(days.values())
        subject = names.get(key, UNREGISTERED)
        if history:
            baseline = sum(h.get(key, 0) for h in history) / len(history)
            level = _rise(now, baseline)
            if level is not None:
                times = f"{now / baseline:.1f} 倍" if baseline else "新出现"
                detail = f"本月诉求 {now} 条，前 {len(history)} 个月月均 {baseline:.0f} 条（{times}）"
                warnings.append(EarlyWarning(level, kind, subject, detail, now / max(baseline, 1.0)))
                continue
        week = _weekly_z(days, month)
        if week is not None and week[0] >= MIN_COUNT and week[2] >= WEEK_Z:
            level = "高" if week[2] >= 2 * WEEK_Z else "中"
            detail = f"月末一周诉求 {week[0]} 条，此前每周平均 {week[1]:.0f} 条（z = {week[2]:.1f}）"
            warnings.append(EarlyWarning(level, kind, subject, detail, week[2]))
    return warnings


def early_warnings(
    session: Session, month: Month, scope: Scope, names: dict[str | None, str], topics: list[HotTopic]
) -> list[EarlyWarning]:
    rows = _petitions(session, month, scope)
    by_category: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    by_community: dict[str | None, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for cid, cat, day, n in rows:
        by_category[cat][day] += n
        by_community[cid][day] += n
    history = [_monthly(session, month.shift(-k), scope) for k in range(1, BASELINE_MONTHS + 1)]
    history = [h for h in history if h[0] > 0]
    categories = {k: v for k, v in by_category.items() if k != NO_CATEGORY}
    warnings = _rising(
        "类别上升", categories, [dict(h[1]) for h in history], {k: k for k in categories}, month
    )
    warnings += _rising("社区上升", by_community, [dict(h[2]) for h in history], names, month)
    where = [col(Ticket.created_at) >= month.start, col(Ticket.created_at) < month.end]
    if scope.community_ids is not None:
        where.append(col(Ticket.community_id).in_(scope.community_ids))
    crowd = session.exec(
        select(
            Ticket.id,
            Ticket.category,
            Ticket.community_id,
            func.count(func.distinct(TicketReporter.person_id)),
        )
        .join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id))
        .where(*where)
        .group_by(col(Ticket.id), col(Ticket.category), col(Ticket.community_id))
        .having(func.count(func.distinct(TicketReporter.person_id)) >= CROWD_TICKET)
        .order_by(func.count(func.distinct(TicketReporter.person_id)).desc(), col(Ticket.id))
        .limit(10)
    ).all()
    for number, category, cid, n in crowd:
        warnings.append(
            EarlyWarning(
                "高" if n >= 2 * CROWD_TICKET else "中",
                "群体性诉求风险",
                f"{number} 号工单",
                f"{names.get(cid, UNREGISTERED)} {n} 位居民反映同一{category}问题",
                n,
            )
        )
    for topic in topics:
        if topic.petition_residents >= CROWD_TOPIC:
            warnings.append(
                EarlyWarning(
                    "高" if topic.petition_residents >= 3 * CROWD_TOPIC else "中",
                    "群体性诉求风险",
                    "、".join(topic.keywords),
                    f"{topic.petition_residents} 位居民在 {topic.groups} 个群里反映同一{topic.category}问题",
                    topic.petition_residents,
                )
            )
    return _shortlist(warnings)


def _shortlist(warnings: list[EarlyWarning]) -> list[EarlyWarning]:
    """The strongest MAX_PER_KIND of each kind; the rest of a kind summed up in one line."""
    order = {"高": 0, "中": 1}
    kept: list[EarlyWarning] = []
    for kind in ("类别上升", "社区上升", "群体性诉求风险"):
        same = sorted(
            (w for w in warnings if w.kind == kind), key=lambda w: (order[w.level], -w.score, w.subject)
        )
        kept += same[:MAX_PER_KIND]
        rest = same[MAX_PER_KIND:]
        if rest:
            subjects = "、".join(w.subject for w in rest[:5]) + ("等" if len(rest) > 5 else "")
            level = min((w.level for w in rest), key=order.__getitem__)
            kept.append(EarlyWarning(level, kind, f"另 {len(rest)} 项", f"{subjects}也有上升或集中反映", 0.0))
    return sorted(kept, key=lambda w: (order[w.level], w.kind, w.subject.startswith("另"), -w.score))
