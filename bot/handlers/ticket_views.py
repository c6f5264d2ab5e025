"""Staff look at tickets in the chat: #我的工单 (what I hold) and #工单 (one ticket's story)."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from access.policy import Access, Verb
from bot.args import RecordNo
from bot.router import Guard, Router
from core.clock import local
from core.events import Outgoing
from core.privacy import mask_private_numbers
from groups.models import Person, Role
from tickets import texts
from tickets.desk import Desk
from tickets.lifecycle import get_ticket
from tickets.models import OPEN_STATES, Ticket, TicketEvent

router = Router()


def private(sender: Person, text: str) -> Outgoing:
    """A reply to the staff member alone, never to the group."""
    return Outgoing(text, to_id=sender.id)


@router.command(
    "我的工单", "mytickets", usage="#我的工单", summary="我负责的未办结工单", guard=Guard(Verb.HANDLE)
)
def my_tickets(session: Session, sender: Person) -> Outgoing:
    conditions = [Ticket.handler_id == sender.id]
    if sender.role is Role.SOCIAL_WORKER:
        conditions.append(Ticket.community_id == sender.community_id)
    tickets = session.exec(
        select(Ticket)
        .where(or_(*conditions), col(Ticket.state).in_(list(OPEN_STATES)))
        .order_by(col(Ticket.deadline))
        .limit(20)
    ).all()
    if not tickets:
        return private(sender, "目前没有未办结的工单。")
    lines = [
        f"{t.id}号【{t.category}】{t.state.value}，{texts.when(t.deadline)}前：{texts.excerpt(t.summary, 18)}"
        + ("（紧急）" if t.urgent else "")
        for t in tickets
    ]
    return private(sender, "\n".join([f"未办结工单 {len(tickets)} 件：", *lines]))


@router.command(
    "工单",
    "ticket",
    usage="#工单 工单号",
    summary="查看一件工单的详情和经过",
    guard=Guard(Verb.SEE, get_ticket),
)
def show_ticket(desk: Desk, access: Access, session: Session, sender: Person, number: RecordNo) -> Outgoing:
    """The ticket's story; residents' words, names and numbers only to those who may see details."""
    ticket = get_ticket(session, number)
    details = access.may(session, sender, Verb.SEE_DETAILS, ticket)
    reporter = session.get(Person, ticket.reporter_id) if details else None
    text = ticket.details if details and ticket.details else ticket.summary
    events = session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
    ).all()
    who = reporter.name if reporter is not None else "居民"
    # where details are hidden, what residents wrote (补充, a 不满意 with words) is left out
    staff = set() if details else _staff_among(session, {e.actor_id for e in events})
    lines = [
        f"{ticket.id}号工单【{ticket.category}】{ticket.state.value}" + ("（紧急）" if ticket.urgent else ""),
        f"反映人：{who}（共{ticket.reporters}人反映）",
        f"内容：{text}",
        f"负责：{desk.handler_label(session, ticket)}；时限：{texts.when(ticket.deadline)}前",
        "经过：",
        *(
            f"  {local(e.at):%m-%d %H:%M} {e.action}" + _event_note(e.note, details, e.actor_id in staff)
            for e in events[-8:]
        ),
    ]
    return private(sender, "\n".join(lines))


def _event_note(note: str, details: bool, by_staff: bool) -> str:
    if not note or not (details or by_staff):
        return ""
    return f"：{note}" if details else f"：{mask_private_numbers(note)}"


def _staff_among(session: Session, ids: set[str]) -> set[str]:
    """Which of these actors are staff (or the bot): their notes are work, not residents' words."""
    found = session.exec(select(Person.id).where(col(Person.id).in_(ids), Person.role != Role.RESIDENT))
    return {*found, "xiaoqi"}
