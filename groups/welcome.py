"""Newcomers: one short welcome with the group's rules. Members whose nickname doesn't say where they
live are asked to change it once in all (the welcome's ask counts), in one batched message per group
at most once a week (data/groups/noise.yaml)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from core.clock import SHANGHAI
from core.events import Outgoing, Priority
from core.scheduling import CronJob
from groups.messages import Message, MessageKind
from groups.models import ChatGroup, Membership, ModerationExempt, Person, Role
from groups.noise import NoiseBudget

DEFAULT_RULES = "本群用于邻里交流和社区通知，请文明发言，不发广告、链接和二维码。"
# building-room: 5栋-302, 5-302, 5#302, 5栋302, 12幢301, 3号楼502, 5栋2单元302, 5-2-302
_HOUSEHOLD_NAME = re.compile(
    r"\d{1,3}\s*(?:栋|幢|号楼|座|#|＃|-|－|—|_)\s*(?:\d{1,2}\s*(?:单元|-|－)\s*)?-?\s*\d{2,4}"
)
# or the building alone, which is enough for neighbours and the grid worker: 3栋王阿姨, 9号楼老李, 十二幢
_BUILDING = re.compile(r"(?:\d{1,3}|[一二三四五六七八九十]{1,3})\s*(?:栋|幢|号楼|座|#|＃)")
NICKNAME_REMINDER = (
    "{names}麻烦把在本群的昵称改成带楼栋号的（例如 5栋-302 或 5栋王阿姨），方便邻居和网格员联系您，谢谢！"
)


def nickname_fits(name: str) -> bool:
    """Whether a group nickname says where the member lives: building and room, or the building."""
    return bool(_HOUSEHOLD_NAME.search(name or "") or _BUILDING.search(name or ""))


def welcome_text(group: ChatGroup | None, name: str) -> str:
    rules = (group.rules if group is not None else None) or DEFAULT_RULES
    greeting = f"欢迎{name or '新邻居'}加入{(group.name if group else '') or '本群'}！{rules}"
    if not nickname_fits(name):
        greeting += "麻烦把群昵称改成带楼栋号的，例如 5栋-302，方便邻居和网格员联系您。"
    return greeting + "有事可以直接在群里说，或@小棲。"


def needs_welcome(membership: Membership | None) -> bool:
    return membership is not None and membership.welcomed_at is None


def reminder_due(membership: Membership, budget: NoiseBudget) -> bool:
    """Not yet asked as often as the budget allows (a welcome that asked counts as one ask)."""
    return membership.nickname_reminders < budget.nickname_asks_per_person


def _reminded_lately(session: Session, group_id: str, since: datetime) -> bool:
    return (
        session.exec(
            select(Membership.person_id).where(
                Membership.group_id == group_id, col(Membership.nickname_reminded_at) > since
            )
        ).first()
        is not None
    )


def nickname_reminders(session: Session, now: datetime, budget: NoiseBudget | None = None) -> list[Outgoing]:
    """One message per group @-mentioning residents who spoke lately under a nickname that doesn't
    say where they live (the name they use in that group, as the platform reported it)."""
    budget = budget or NoiseBudget()
    every = timedelta(days=budget.nickname_reminder_days)
    staff_or_exempt = {
        *session.exec(select(Person.id).where(col(Person.role) != Role.RESIDENT)).all(),
        *session.exec(select(ModerationExempt.person_id)).all(),
    }
    shown: dict[tuple[str, str], str] = {}
    for group_id, sender_id, name in session.exec(
        select(Message.group_id, Message.sender_id, Message.sender_name)
        .where(
            col(Message.sent_at) > now - every,
            col(Message.sent_at) <= now,
            col(Message.kind) == MessageKind.TEXT,
            col(Message.group_id).is_not(None),
        )
        .order_by(col(Message.sent_at))
    ).all():
        if group_id is not None and sender_id not in staff_or_exempt:
            shown[(group_id, sender_id)] = name  # the latest name wins
    by_group: dict[str, list[str]] = {}
    lately: dict[str, bool] = {}  # a group already had its batch within the budget's days
    for (group_id, person_id), name in sorted(shown.items()):
        if nickname_fits(name) or len(by_group.get(group_id, [])) >= budget.nickname_reminder_mentions:
            continue
        membership = session.get(Membership, (person_id, group_id))
        group = session.get(ChatGroup, group_id)
        if membership is None or not membership.active or group is None or not group.registered:
            continue
        if group_id not in lately:
            lately[group_id] = _reminded_lately(session, group_id, now - every)
        if not reminder_due(membership, budget) or lately[group_id]:
            continue
        membership.nickname_reminded_at = now
        membership.nickname_reminders += 1
        by_group.setdefault(group_id, []).append(person_id)
    out = []
    for group_id, people in by_group.items():
        names = "".join(f"@{shown[(group_id, p)] or p} " for p in people)
        out.append(
            Outgoing(
                NICKNAME_REMINDER.format(names=names),
                group_id=group_id,
                mentions=tuple(people),
                priority=Priority.BULK,
            )
        )
    return out


def nickname_job(budget: NoiseBudget) -> CronJob:
    """Saturday 10:00: a calm time, after the working week's notices."""

    def run(session: Session, at: datetime) -> Sequence[object]:
        return nickname_reminders(session, at, budget)

    return CronJob(
        "nickname_reminders", CronTrigger(day_of_week="sat", hour=10, minute=0, timezone=SHANGHAI), run
    )
