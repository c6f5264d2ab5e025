"""Whether a new report is a problem already open: the rules that merge duplicates into one ticket.

Reports of one problem differ in words and often in the category the classifier gives them ("13栋车库臭得
人头昏" and "13栋地库一股下水道的臭味"), so the rules lean on where (the same building, the same thread) and on
what (the things from data/tickets/subjects.txt each names), and use the category only where those say
little.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tickets.models import Ticket
from tickets.policy import TicketPolicy
from tickets.similarity import places, similarity, subjects

OWN_SIMILARITY = 0.3  # a resident's new message this alike to their open ticket continues it
OWN_SAME_DAY = timedelta(hours=24)  # or of the same category within this
OWN_SAME_THING = 0.15  # or naming the same thing and this alike, within the duplicate window


@dataclass(frozen=True)
class Report:
    """A petition about to be filed, as the matching rules see it."""

    summary: str
    category: str
    urgent: bool
    group_id: str | None


def compatible(policy: TicketPolicy, a: str, b: str) -> bool | None:
    """Whether two reports name the same thing (电梯 and 电梯, 灯 and 楼道灯); None when either names nothing
    from the lexicon."""
    named, naming = subjects(a, policy.subjects), subjects(b, policy.subjects)
    if not named or not naming:
        return None
    return any(x in y or y in x for x in named for y in naming)


def same_problem(
    policy: TicketPolicy, ticket: Ticket, last_at: datetime, report: Report, now: datetime, *, own: bool
) -> bool:
    """Whether `report` is the problem of the open `ticket` (last joined at `last_at`); `own`: the
    reporter already reported it."""
    if ticket.urgent != report.urgent:
        return False  # an emergency joins only an emergency, a petition only a petition
    live = now - last_at <= timedelta(minutes=policy.live_thread_minutes)
    if report.urgent:
        return live and (own or ticket.group_id == report.group_id)
    age = now - ticket.created_at
    same_kind = ticket.category == report.category
    things = compatible(policy, ticket.summary, report.summary)
    alike = similarity(ticket.summary, report.summary)
    if alike >= policy.duplicate_similarity and age <= timedelta(hours=policy.duplicate_window_hours):
        return True
    shared_place = bool(places(ticket.summary) & places(report.summary))
    if own and (alike >= OWN_SIMILARITY or (same_kind and age <= OWN_SAME_DAY)):
        return True
    window = age <= timedelta(hours=policy.duplicate_window_hours)
    if own and window and things and alike >= OWN_SAME_THING and (shared_place or not places(report.summary)):
        return True  # the reporter again on the same thing: "电梯又停了 早上又是卡在九楼"
    thread = report.group_id is not None and ticket.group_id == report.group_id
    if thread and live and things is not False:
        return True  # a live thread: "占了半个车位" right after "1幢楼下扔了一张旧床垫"
    if thread and age <= timedelta(hours=policy.thread_hours) and same_kind and things is not False:
        return True
    if shared_place:
        return bool(things) or (things is None and same_kind)
    return False
