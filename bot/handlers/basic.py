"""Everyday commands: help, group statistics, group information."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot import replies
from bot.router import Router, UsageError
from groups.messages import KIND_LABELS, Message, MessageKind
from groups.models import STAFF_ROLES, ChatGroup, Community, Grid, Membership, Person, Role
from xiaoqi.clock import local
from xiaoqi.outbox import Backlog, backlog

if TYPE_CHECKING:
    from bot.app import App

router = Router()

PERIODS = {"今天": 1, "今日": 1, "本周": 7, "7天": 7, "本月": 30, "30天": 30}


@router.command("帮助", "help", usage="#帮助", summary="看看小棲能做什么")
def show_help(app: App, sender: Person) -> str:
    return "\n".join([replies.HELP_HEADER, *app.router.help_lines(sender.role)])


def _period_start(now: datetime, args: str) -> tuple[str, datetime]:
    word = args.strip() or "今天"
    if word not in PERIODS:
        raise UsageError(f"不认识“{word}”，可以用：今天、本周、本月。")
    start_of_today = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return word, start_of_today - timedelta(days=PERIODS[word] - 1)


@router.command(
    "统计",
    "stats",
    usage="#统计 [今天|本周|本月]",
    summary="本群（私聊时为您负责的范围）的消息统计",
    roles=STAFF_ROLES,
)
def stats(session: Session, now: datetime, args: str, sender: Person, group: ChatGroup | None) -> str:
    word, since = _period_start(now, args)
    conditions: list[ColumnElement[bool]] = [col(Message.sent_at) >= since, col(Message.sent_at) <= now]
    if group is not None:
        scope = group.name or "本群"
        conditions.append(col(Message.group_id) == group.id)
    elif sender.role in (Role.LEADER, Role.ADMIN) or sender.community_id is None:
        scope = "全区"
    else:
        community = session.get(Community, sender.community_id)
        scope = community.name if community else "本社区"
        group_ids = select(ChatGroup.id).where(ChatGroup.community_id == sender.community_id)
        conditions.append(col(Message.group_id).in_(group_ids))
    by_kind = session.exec(select(Message.kind, func.count()).where(*conditions).group_by(Message.kind)).all()
    total = sum(count for _, count in by_kind)
    if total == 0:
        return f"{scope}{word}还没有消息。"
    people = session.exec(select(func.count(func.distinct(Message.sender_id))).where(*conditions)).one()
    parts = "，".join(
        f"{KIND_LABELS[MessageKind(kind)]} {count}" for kind, count in sorted(by_kind, key=lambda r: -r[1])
    )
    return f"{scope}{word}共 {total} 条消息（{parts}），{people} 人发言。"


@router.command(
    "群信息",
    "groupinfo",
    usage="#群信息（在群里发送）",
    summary="本群所属社区、网格和成员数",
    roles=STAFF_ROLES,
)
def group_info(session: Session, group: ChatGroup | None) -> str:
    if group is None:
        raise UsageError("请在群里发送这个命令。")
    members = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.group_id == group.id,
            Membership.active == True,  # noqa: E712
        )
    ).one()
    if group.community_id is None:
        return f"本群（{group.id}）还没有登记到社区，现有 {members} 名成员。请管理员在名册里登记。"
    community = session.get(Community, group.community_id)
    grid = session.get(Grid, group.grid_id) if group.grid_id else None
    where = community.name if community else group.community_id
    if grid is not None:
        where += f" {grid.name}"
    return f"{group.name}：属于{where}，现有 {members} 名成员。"


@router.command(
    "发送队列",
    "queue",
    usage="#发送队列",
    summary="还有多少消息在排队等着发出",
    roles=STAFF_ROLES,
)
def send_queue(app: App, session: Session, now: datetime) -> str:
    return describe_backlog(backlog(session, now), now, app.settings.send_limits.per_minute)


def describe_backlog(accounts: list[Backlog], now: datetime, per_minute: int) -> str:
    """The queue in a few lines for staff: one line per bot account."""
    if not any(a.queued or a.sending or a.failed for a in accounts):
        sent = sum(a.sent_last_hour for a in accounts)
        return f"发送队列是空的，消息都已发出（最近一小时发出 {sent} 条）。"
    lines = []
    for a in accounts:
        parts = [f"待发 {a.queued} 条"]
        if a.queued and a.oldest is not None:
            waited = max(0, int((now - a.oldest).total_seconds() // 60))
            parts[0] += f"（最早一条已等 {waited} 分钟）" if waited else "（刚排上）"
        if a.sending:
            parts.append(f"发送中 {a.sending} 条")
        if a.failed:
            parts.append(f"发送失败 {a.failed} 条")
        parts.append(f"最近一小时发出 {a.sent_last_hour} 条")
        line = f"账号 {a.account}：" + "，".join(parts) + "。"
        if a.queued:
            line += f"按每分钟 {per_minute} 条，约 {-(-a.queued // per_minute)} 分钟发完。"
        lines.append(line)
    return "\n".join(lines)
