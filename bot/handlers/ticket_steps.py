"""Staff steps on a ticket in the chat: 签收, 进展, 办结, 退回, 转派, 延期, 批准延期, 改类, and 代登记."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlmodel import Session, col, select

from access.policy import Access, Verb
from bot.args import Count, PersonRef, RecordNo, Text, UsageError
from bot.handlers.petitions import Classify, labels_for
from bot.handlers.ticket_views import private
from bot.router import Guard, Router
from core.events import Incoming, Outgoing
from groups.messages import Message
from groups.models import ChatGroup, Membership, Person
from groups.people import Want, resolve_person
from groups.registry import CATEGORIES
from tickets import lifecycle, texts
from tickets.desk import Desk
from tickets.lifecycle import get_ticket
from tickets.models import LabelledExample, Ticket
from tickets.service import file_petition

router = Router()

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


def _done(
    action: str, desk: Desk, session: Session, sender: Person, ticket: Ticket, out: list[Outgoing]
) -> list[Outgoing]:
    """What a step tells others, after a private word to the staff member who took it."""
    done = _DONE[action].format(
        number=ticket.id,
        handler=desk.handler_label(session, ticket),
        deadline=texts.when(ticket.deadline),
        category=ticket.category,
    )
    return [private(sender, done), *out]


@router.command("签收", usage="#签收 工单号", summary="签收工单", guard=Guard(Verb.HANDLE, get_ticket))
def accept(desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    return _done("签收", desk, session, sender, ticket, lifecycle.accept(desk, session, now, sender, ticket))


@router.command(
    "进展",
    usage="#进展 工单号 进展情况",
    summary="报告进展（会转告反映人）",
    guard=Guard(Verb.HANDLE, get_ticket, "报进展"),
)
def post_progress(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo, note: Text
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    out = lifecycle.post_progress(desk, session, now, sender, ticket, note)
    return _done("进展", desk, session, sender, ticket, out)


@router.command(
    "办结",
    usage="#办结 工单号 办理结果",
    summary="办结工单（会请反映人评价）",
    guard=Guard(Verb.HANDLE, get_ticket),
)
def resolve(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo, note: Text
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    return _done(
        "办结", desk, session, sender, ticket, lifecycle.resolve(desk, session, now, sender, ticket, note)
    )


@router.command(
    "退回",
    usage="#退回 工单号 理由",
    summary="退回给社工重新分派（必须写理由）",
    guard=Guard(Verb.HANDLE, get_ticket),
)
def return_ticket(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo, reason: Text
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    out = lifecycle.return_ticket(desk, session, now, sender, ticket, reason)
    return _done("退回", desk, session, sender, ticket, out)


@router.command(
    "转派",
    usage="#转派 工单号 对象（人员id、姓名或部门）",
    summary="把工单转给别人办理",
    guard=Guard(Verb.MANAGE, get_ticket),
)
def reassign(
    desk: Desk,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    number: RecordNo,
    target: PersonRef,
) -> list[Outgoing]:
    """`target` is a department (by id or name) or a person (groups.people)."""
    from groups.models import Department

    ticket = get_ticket(session, number)
    department = (
        session.get(Department, target)
        or session.exec(select(Department).where(Department.name == target)).first()
    )
    if department is not None and department.contact_id:
        person = session.get(Person, department.contact_id)
        assert person is not None
        out = lifecycle.reassign(desk, session, now, sender, ticket, person, department.id)
    else:
        person = resolve_person(
            session,
            target,
            near=ticket.community_id or sender.community_id,
            mentions=message.mentions,
            hint="请写全名、微信号、部门名，或@他。",
        )
        out = lifecycle.reassign(desk, session, now, sender, ticket, person)
    return _done("转派", desk, session, sender, ticket, out)


@router.command(
    "延期",
    usage="#延期 工单号 工作日数 理由",
    summary="申请延长办理时限（社工批准）",
    guard=Guard(Verb.HANDLE, get_ticket, "申请延期"),
)
def request_extension(
    desk: Desk,
    session: Session,
    now: datetime,
    sender: Person,
    number: RecordNo,
    days: Annotated[Count, "工作日数要写数字。"],
    reason: Text,
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    out = lifecycle.request_extension(desk, session, now, sender, ticket, days, reason)
    return _done("延期", desk, session, sender, ticket, out)


@router.command(
    "批准延期",
    usage="#批准延期 工单号",
    summary="批准延期申请",
    guard=Guard(Verb.MANAGE, get_ticket, "批准延期"),
)
def approve_extension(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    out = lifecycle.approve_extension(desk, session, now, sender, ticket)
    return _done("批准延期", desk, session, sender, ticket, out)


@router.command(
    "改类",
    usage="#改类 工单号 类别",
    summary="更正工单类别（会用于改进识别）",
    guard=Guard(Verb.HANDLE, get_ticket),
)
def recategorise(
    desk: Desk, session: Session, now: datetime, sender: Person, number: RecordNo, category: Text
) -> list[Outgoing]:
    ticket = get_ticket(session, number)
    if category not in CATEGORIES:
        raise UsageError(f"类别可以是：{'、'.join(CATEGORIES)}。")
    previous = ticket.category
    desk.move(
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
    return _done("改类", desk, session, sender, ticket, [])


@router.command(
    "代登记",
    usage="#代登记 居民（id或姓名） 问题描述",
    summary="替电话或上门的居民登记工单",
    guard=Guard(Verb.FILE_FOR),
)
def file_for_resident(
    desk: Desk,
    access: Access,
    classify: Classify,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    who: PersonRef,
    text: Text,
) -> list[Outgoing]:
    resident = resolve_person(
        session, who, near=sender.community_id, want=Want.RESIDENT, mentions=message.mentions
    )
    access.check(session, sender, Verb.FILE_FOR, resident, "代登记")
    membership = session.exec(
        select(Membership).where(Membership.person_id == resident.id, col(Membership.active).is_(True))
    ).first()
    group = session.get(ChatGroup, membership.group_id) if membership else None
    intent, category = labels_for(classify, text)
    filed = file_petition(
        desk,
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
    return [private(sender, f"已替{resident.name}登记为{filed.ticket.id}号工单。"), *filed.notices]
