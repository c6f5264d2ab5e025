"""Newcomers: one short welcome with the group's rules; members whose nickname doesn't say their
building and room get a gentle reminder, once a week at most, in one message per group, by day."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from groups.messages import Message, MessageKind
from groups.models import ChatGroup, Membership, Person, Role
from moderation.models import ModerationExempt
from xiaoqi.clock import SHANGHAI
from xiaoqi.outgoing import Outgoing, Priority
from xiaoqi.scheduling import CronJob

DEFAULT_RULES = "本群用于邻里交流和社区通知，请文明发言，不发广告、链接和二维码。"
REMIND_EVERY = timedelta(days=7)
MAX_REMINDERS = 2  # after the welcome and two reminders a member has chosen their nickname
MAX_MENTIONS = 20  # per reminder message; the rest wait for next week
# building-room: 5栋-302, 5-302, 5#302, 5栋302, 12幢301, 3号楼502, 5栋2单元302, 5-2-302
_HOUSEHOLD_NAME = re.compile(
    r"\d{1,3}\s*(?:栋|幢|号楼|座|#|＃|-|－|—|_)\s*(?:\d{1,2}\s*(?:单元|-|－)\s*)?-?\s*\d{2,4}"
)
NICKNAME_REMINDER = (
    "{names}各位邻居好，麻烦把群昵称改成“楼栋-房号”（例如 5栋-302），方便邻居和网格员联系您，谢谢！"
)


def nickname_fits(name: str) -> bool:
    """Whether a group nickname says building and room, as neighbours and grid workers need."""
    return bool(_HOUSEHOLD_NAME.search(name or ""))


def welcome_text(group: ChatGroup | None, name: str) -> str:
    rules = (group.rules if group is not None else None) or DEFAULT_RULES
    greeting = f"欢迎{name or '新邻居'}加入{(group.name if group else '') or '本群'}！{rules}"
    if not nickname_fits(name):
        greeting += "请把群昵称改成“楼栋-房号”，例如 5栋-302，方便邻居和网格员联系您。"
    return greeting + "有事可以直接在群里说，或@小棲。"


def needs_welcome(membership: Membership | None) -> bool:
    return membership is not None and membership.welcomed_at is None


def reminder_due(membership: Membership, now: datetime) -> bool:
    """Not asked (welcome or reminder) in the last week, and not asked too often already."""
    if membership.nickname_reminders >= MAX_REMINDERS:
        return False
    asked = [t for t in (membership.welcomed_at, membership.nickname_reminded_at) if t is not None]
    return not asked or now - max(asked) >= REMIND_EVERY


def nickname_reminders(session: Session, now: datetime) -> list[Outgoing]:
    """One message per group @-mentioning residents who spoke this week under a nickname that
    doesn't say where they live (the name they use in that group, as the platform reported it)."""
    staff_or_exempt = {
        *session.exec(select(Person.id).where(col(Person.role) != Role.RESIDENT)).all(),
        *session.exec(select(ModerationExempt.person_id)).all(),
    }
    shown: dict[tuple[str, str], str] = {}
    for group_id, sender_id, name in session.exec(
        select(Message.group_id, Message.sender_id, Message.sender_name)
        .where(
            col(Message.sent_at) > now - REMIND_EVERY,
            col(Message.sent_at) <= now,
            col(Message.kind) == MessageKind.TEXT,
            col(Message.group_id).is_not(None),
        )
        .order_by(col(Message.sent_at))
    ).all():
        if group_id is not None and sender_id not in staff_or_exempt:
            shown[(group_id, sender_id)] = name  # the latest name wins
    by_group: dict[str, list[str]] = {}
    for (group_id, person_id), name in sorted(shown.items()):
        if nickname_fits(name) or len(by_group.get(group_id, [])) >= MAX_MENTIONS:
            continue
        membership = session.get(Membership, (person_id, group_id))
        group = session.get(ChatGroup, group_id)
        if membership is None or not membership.active or group is None or not group.registered:
            continue
        if not reminder_due(membership, now):
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


def nickname_job() -> CronJob:
    """Saturday 10:00: a calm time, after the working week's notices."""
    return CronJob(
        "nickname_reminders",
        CronTrigger(day_of_week="sat", hour=10, minute=0, timezone=SHANGHAI),
        _run_reminders,
    )


def _run_reminders(session: Session, at: datetime) -> Sequence[object]:
    return nickname_reminders(session, at)
