"""Notices to many groups: one command with the target, now, later or recurring."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from access.policy import Access, Verb
from bot.args import RecordNo, Text
from bot.router import Guard, Router, UsageError
from groups.models import ChatGroup, Person
from groups.scope import resolve_scope
from notices import service
from notices.models import Repeat
from notices.service import NoticeError

router = Router()


@router.command(
    "通知",
    "notice",
    usage=service.USAGE,
    summary="给本群、社区、街道或全区的群发通知",
    guard=Guard(Verb.SEND),
)
def send_notice(
    access: Access, session: Session, now: datetime, sender: Person, group: ChatGroup | None, form: Text
) -> str:
    try:
        scope = resolve_scope(session, service.parse_notice(form).scope, sender, group, district=True)
        access.check(session, sender, Verb.SEND, scope, "发通知")
        notice, groups = service.create_notice(session, now, sender, group, form)
    except NoticeError as error:
        if not str(error):
            raise UsageError("") from None
        raise
    where = f"{notice.scope_name}的 {groups} 个群" if groups > 1 else notice.scope_name
    if notice.repeat is not Repeat.ONCE:
        return (
            f"好的，{notice.id}号通知{service.describe(notice)}发到{where}。"
            f"不需要时发“#取消通知 {notice.id}”。"
        )
    if notice.next_at is not None and notice.next_at > now:
        return f"好的，{notice.id}号通知将在{service.describe(notice)}发到{where}，发完告诉您结果。"
    return f"好的，{notice.id}号通知正在发到{where}，发完告诉您结果。"


@router.command(
    "取消通知",
    "cancelnotice",
    usage="#取消通知 通知编号",
    summary="取消定时或每周的通知",
    guard=Guard(Verb.SEND, service.get_notice, "取消"),
)
def cancel_notice(session: Session, now: datetime, sender: Person, number: RecordNo) -> str:
    return service.cancel(session, now, sender, number)


@router.command(
    "通知列表", "notices", usage="#通知列表", summary="还要发送的定时和每周通知", guard=Guard(Verb.SEND)
)
def list_notices(access: Access, session: Session, sender: Person) -> str:
    every = service.active_notices(session, None)
    notices = [n for n in every if n.author_id == sender.id or access.may(session, sender, Verb.SEND, n)]
    if not notices:
        return "没有待发的定时通知。"
    lines = [f"{n.id}号 {service.describe(n)} → {n.scope_name}：{n.text[:20]}" for n in notices]
    return "待发的通知：\n" + "\n".join(lines)
