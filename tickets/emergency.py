"""Emergencies: an alarm to the staff in the group and privately, and advice for the resident."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from core.events import Outgoing
from groups.messages import Message
from groups.models import Person, person_label
from tickets import texts
from tickets.alerted import record_alerted
from tickets.desk import Desk, to_person, where_of
from tickets.models import Ticket
from tickets.routing import grid_worker, social_worker

_FIRE = re.compile(r"火|烟|燃气|煤气|天然气|液化气|焦味|糊味|爆炸|电瓶.*(炸|冒)")
_MEDICAL = re.compile(
    r"摔|倒地|晕|昏|不省人事|没反应|没有反应|心脏|出血|流血|吐血|中风|喘不上|抽搐|受伤|起不来"
)
_POLICE = re.compile(r"偷|抢|打人|砍|刀|撬|失踪|走丢|找不到孩子|小孩不见|跳楼|轻生|威胁|闯入")


def advice_for(text: str) -> str:
    """What to do right now, by what the emergency sounds like."""
    parts = [
        advice
        for pattern, advice in (
            (_FIRE, texts.ADVICE_FIRE),
            (_MEDICAL, texts.ADVICE_MEDICAL),
            (_POLICE, texts.ADVICE_POLICE),
        )
        if pattern.search(text)
    ]
    return "".join(parts) or texts.ADVICE_GENERAL


def emergency_notices(desk: Desk, session: Session, ticket: Ticket, reporter: Person) -> list[Outgoing]:
    """At once: @ the grid worker and social worker in the group, message each, tell the resident what to do."""
    staff: list[Person] = []
    for person in (
        session.get(Person, ticket.handler_id) if ticket.handler_id else None,
        grid_worker(session, ticket.community_id, ticket.group_id, reporter),
        social_worker(session, ticket.community_id),
    ):
        if person is not None and person not in staff:
            staff.append(person)
    where = where_of(session, ticket)
    notices: list[Outgoing] = []
    handler_names = "、".join(person_label(p) for p in staff) or "社区工作人员"
    advice = advice_for(ticket.summary)
    if ticket.group_id is not None and staff:  # one alarm in the group: the staff, the reporter, advice
        shown = session.exec(
            select(Message.sender_name).where(Message.platform_id == ticket.source_message_id)
        ).first()
        notices.append(
            Outgoing(
                texts.URGENT_IN_GROUP.format(
                    names="".join(f"@{p.name} " for p in staff),
                    reporter=shown or reporter.name or "居民",
                    summary=texts.topic(ticket.summary, 40),
                    advice=advice,
                ),
                group_id=ticket.group_id,
                mentions=(*(p.id for p in staff), reporter.id),
            )
        )
    for person in staff:
        notices.append(
            Outgoing(
                texts.URGENT_FOR_STAFF.format(
                    number=ticket.id, where=where, reporter=reporter.name or reporter.id, text=ticket.details
                ),
                to_id=person.id,
            )
        )
    record_alerted(session, ticket, staff, ticket.created_at)
    if ticket.group_id is None or not staff:
        filed = texts.FILED_URGENT.format(number=ticket.id, handler=handler_names, advice=advice)
        notices.append(to_person(ticket.group_id, reporter.id, filed))
    return notices
