"""Who may see, see the details of, and act on what: by role, by reach (grid, community, street,
district; a department's contact: the department's tickets) and by relation (the ticket's handler, the
staff alerted to an emergency).

The chat's router asks before a command's handler runs, the console before it shows a page or a list
(its actions are chat commands), and the Open311 API through access.api. A refusal raises Refused,
whose text the staff member reads; the caller writes it to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import Session, col, select

from access import texts
from consult.models import Consultation
from core.errors import XiaoqiError
from faq.models import FaqQuestion
from groups.models import ChatGroup, Community, Department, Person, Role, person_label
from groups.scope import ScopeKind
from moderation.models import ModerationCase
from notices.models import Notice
from tickets.models import Ticket, TicketAlerted, TicketReporter, TicketState


class Verb(StrEnum):
    SEE = "see"  # a ticket's summary and state, a consultation's figures, the statistics of a place
    SEE_DETAILS = "see_details"  # residents' own words, names and phone numbers
    HANDLE = "handle"  # 签收 进展 办结 退回 延期 改类: the work on a ticket
    MANAGE = "manage"  # 转派 批准延期: deciding who does a ticket and by when
    FILE_FOR = "file_for"  # 代登记: a petition for a resident who phoned or came by
    ORGANISE = "organise"  # 发起议事 开始投票 议事小结 议事落实
    SEND = "send"  # 通知 取消通知: notices to a place's groups
    MODERATE = "moderate"  # 处理 白名单 违规记录
    ANSWER = "answer"  # 答复 待答复: residents' questions
    LEARN = "learn"  # 入库: an answer into the knowledge base
    ADD_INFO = "add_info"  # 补充: the reporters, and the staff who may handle the ticket


_MANAGERS = frozenset({Role.SOCIAL_WORKER, Role.LEADER, Role.ADMIN})
# who may do each thing at all; where, their reach (or their relation to the thing) decides
ROLES: dict[Verb, frozenset[Role]] = {
    Verb.SEE: frozenset(r for r in Role if r.is_staff),
    Verb.SEE_DETAILS: frozenset(r for r in Role if r.is_staff),
    Verb.HANDLE: frozenset({Role.SOCIAL_WORKER, Role.GRID_WORKER, Role.LEADER, Role.ADMIN}),
    Verb.MANAGE: _MANAGERS,
    Verb.FILE_FOR: frozenset({Role.SOCIAL_WORKER, Role.GRID_WORKER, Role.LEADER, Role.ADMIN}),
    Verb.ORGANISE: _MANAGERS,
    Verb.SEND: _MANAGERS,
    Verb.MODERATE: frozenset({Role.SOCIAL_WORKER, Role.ADMIN}),
    Verb.ANSWER: frozenset({Role.SOCIAL_WORKER, Role.GRID_WORKER, Role.ADMIN}),
    Verb.LEARN: frozenset({Role.SOCIAL_WORKER, Role.ADMIN}),
    Verb.ADD_INFO: frozenset(Role),
}


class Level(StrEnum):
    NONE = "none"
    DEPARTMENT = "department"  # a department's contact: that department's tickets, nothing else
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


_WIDTH = {Level.GRID: 1, Level.COMMUNITY: 2, Level.STREET: 3, Level.DISTRICT: 4}


@dataclass(frozen=True)
class Reach:
    """How far a staff member's work goes."""

    level: Level
    community_id: str | None = None
    street_id: str | None = None
    departments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Place:
    """Where a thing is: one group, a community, a street or the whole district."""

    level: Level
    community_id: str | None = None
    street_id: str | None = None
    department_id: str | None = None  # a ticket's department, when a department handles it


class Refused(XiaoqiError):
    """Not this person's to see or do; the text says so in a sentence."""


def reach_of(session: Session, person: Person) -> Reach:
    """An admin's reach is the district; a leader's the district, or the street or community the
    registry gives them, or only their departments' tickets when they are a department's contact; a
    social worker's their community (or street); a grid worker's their grid, within their community."""
    if not person.role.is_staff or not person.registered:
        return Reach(Level.NONE)
    departments = frozenset(
        session.exec(select(Department.id).where(Department.contact_id == person.id)).all()
    )
    placed = person.community_id is not None or person.street_id is not None
    if person.role is Role.ADMIN or (person.role is Role.LEADER and not placed and not departments):
        return Reach(Level.DISTRICT, departments=departments)
    if not placed:
        return Reach(Level.DEPARTMENT if departments else Level.NONE, departments=departments)
    if person.street_id is not None and person.role in (Role.LEADER, Role.SOCIAL_WORKER):
        return Reach(Level.STREET, street_id=person.street_id, departments=departments)
    level = Level.GRID if person.role is Role.GRID_WORKER else Level.COMMUNITY
    street = _street_of(session, person.community_id)
    return Reach(level, community_id=person.community_id, street_id=street, departments=departments)


def _street_of(session: Session, community_id: str | None) -> str | None:
    community = session.get(Community, community_id) if community_id else None
    return community.street_id if community else None


def _community_place(session: Session, community_id: str | None, level: Level = Level.COMMUNITY) -> Place:
    if community_id is None:  # an unregistered group's thing: only the district sees it
        return Place(Level.DISTRICT)
    return Place(level, community_id=community_id, street_id=_street_of(session, community_id))


def _group_place(session: Session, group_id: str | None) -> Place:
    group = session.get(ChatGroup, group_id) if group_id else None
    return _community_place(session, group.community_id if group else None, Level.GRID)


def _scope_place(session: Session, kind: ScopeKind, scope_id: str) -> Place:
    if kind is ScopeKind.GROUP:
        return _group_place(session, scope_id)
    if kind is ScopeKind.COMMUNITY:
        return _community_place(session, scope_id)
    if kind is ScopeKind.STREET:
        return Place(Level.STREET, street_id=scope_id)
    return Place(Level.DISTRICT)


def place_of(session: Session, thing: object) -> Place:
    """Where a ticket, consultation, notice, moderation case, question, group or person is."""
    if isinstance(thing, Ticket):
        place = _community_place(session, thing.community_id, Level.GRID)
        return Place(place.level, place.community_id, place.street_id, thing.department_id)
    if isinstance(thing, Consultation | Notice):
        return _scope_place(session, thing.scope_kind, thing.scope_id)
    if isinstance(thing, ModerationCase):
        return _group_place(session, thing.group_id)
    if isinstance(thing, FaqQuestion):
        if thing.community_id is not None:
            return _community_place(session, thing.community_id, Level.GRID)
        return _group_place(session, thing.group_id)
    if isinstance(thing, ChatGroup):
        return _group_place(session, thing.id)
    if isinstance(thing, Person):
        return _community_place(session, thing.community_id, Level.GRID)
    if isinstance(thing, Place):
        return thing
    if isinstance(thing, tuple) and len(thing) >= 2 and isinstance(thing[0], ScopeKind):
        return _scope_place(session, thing[0], thing[1])  # a scope as groups.scope resolves it
    raise TypeError(f"no place for {type(thing).__name__}")


def covers(reach: Reach, place: Place) -> bool:
    """Whether a reach takes in a place (a grid worker's takes in their community's things; a
    department's contact, their departments' tickets)."""
    if reach.level is Level.DISTRICT:
        return True
    if place.department_id is not None and place.department_id in reach.departments:
        return True
    if reach.level in (Level.NONE, Level.DEPARTMENT) or _WIDTH[place.level] > _WIDTH[max_level(reach.level)]:
        return False
    if reach.level is Level.STREET:
        return place.street_id is not None and place.street_id == reach.street_id
    return place.community_id is not None and place.community_id == reach.community_id


def max_level(level: Level) -> Level:
    """How wide a place a reach's holder may address: a grid worker speaks for the community."""
    return Level.COMMUNITY if level is Level.GRID else level


@dataclass(frozen=True)
class Access:
    """The district's rules of access; `leaders_see_details` comes from its settings."""

    leaders_see_details: bool = False

    def may(self, session: Session, person: Person, verb: Verb, thing: object) -> bool:
        return self.refusal(session, person, verb, thing) is None

    def check(self, session: Session, person: Person, verb: Verb, thing: object, doing: str = "") -> None:
        """Raise Refused unless `person` may do `verb` to `thing`; `doing` names the act in the text."""
        reason = self.refusal(session, person, verb, thing, doing)
        if reason is not None:
            raise Refused(reason)

    def refusal(
        self, session: Session, person: Person, verb: Verb, thing: object, doing: str = ""
    ) -> str | None:
        """Why `person` may not do `verb` to `thing`, or None when they may."""
        if person.role not in ROLES[verb] and not (
            isinstance(thing, Ticket) and _related(session, person, thing)
        ):
            return texts.NOT_YOURS.get(verb.value, "这件事您没有权限办理。").format(
                doing=doing or "办理", what=texts.name_of(thing)
            )
        reach = reach_of(session, person)
        if isinstance(thing, Ticket):
            return self._ticket(session, person, reach, verb, thing, doing)
        if covers(reach, place_of(session, thing)):
            return None
        return texts.OUTSIDE.format(what=texts.name_of(thing), doing=doing or "办理")

    def _ticket(
        self, session: Session, person: Person, reach: Reach, verb: Verb, ticket: Ticket, doing: str
    ) -> str | None:
        related = _related(session, person, ticket)
        in_reach = covers(reach, place_of(session, ticket))
        department = ticket.department_id is not None and ticket.department_id in reach.departments
        if verb is Verb.SEE:
            ok = related or in_reach
        elif verb is Verb.SEE_DETAILS:
            ok = related or department or (in_reach and self._details_by_role(person))
        elif verb is Verb.HANDLE:
            ok = related or department or (in_reach and person.role in _MANAGERS)
        elif verb is Verb.MANAGE:
            ok = in_reach and person.role in _MANAGERS and reach.level is not Level.DEPARTMENT
        elif verb is Verb.ADD_INFO:
            ok = _reported(session, person, ticket) or (
                person.role.is_staff and self.may(session, person, Verb.HANDLE, ticket)
            )
            if not ok and not person.role.is_staff:
                return f"{ticket.id}号工单不是您反映的，不能补充。"
        else:
            ok = in_reach and person.role in ROLES[verb]
        if ok:
            return None
        taken = _taken_emergency(session, person, ticket)
        if taken is not None:
            return taken
        if verb in (Verb.SEE, Verb.SEE_DETAILS):
            return f"{ticket.id}号工单不在您负责的范围内。"
        if verb is Verb.MANAGE:
            return f"{ticket.id}号工单要由本社区的社工{doing or '办理'}。"
        return f"{ticket.id}号工单不是由您负责，不能{doing or '办理'}。"

    def _details_by_role(self, person: Person) -> bool:
        if person.role is Role.LEADER:
            return self.leaders_see_details
        return person.role in (Role.ADMIN, Role.SOCIAL_WORKER)

    def visible_tickets(self, session: Session, person: Person) -> ColumnElement[bool]:
        """The tickets `person` may list, as a WHERE clause on Ticket."""
        reach = reach_of(session, person)
        alerted = select(TicketAlerted.ticket_id).where(TicketAlerted.person_id == person.id)
        untaken = and_(col(Ticket.urgent).is_(True), col(Ticket.state) == TicketState.NEW)
        mine = or_(col(Ticket.handler_id) == person.id, and_(untaken, col(Ticket.id).in_(alerted)))
        if reach.level is Level.DISTRICT:
            return true()
        if reach.level is Level.DEPARTMENT:
            return or_(mine, col(Ticket.department_id).in_(sorted(reach.departments)))
        if reach.level is Level.STREET:
            communities = select(Community.id).where(Community.street_id == reach.street_id)
            return or_(mine, col(Ticket.community_id).in_(communities))
        if reach.level in (Level.COMMUNITY, Level.GRID):
            return or_(mine, col(Ticket.community_id) == reach.community_id)
        return mine if person.role.is_staff else false()

    def communities(self, session: Session, person: Person) -> list[str] | None:
        """The communities whose questions, moderation cases and notices `person` lists (None: all)."""
        reach = reach_of(session, person)
        if reach.level is Level.DISTRICT:
            return None
        if reach.level is Level.STREET:
            return list(session.exec(select(Community.id).where(Community.street_id == reach.street_id)))
        return [reach.community_id] if reach.community_id else []


def _related(session: Session, person: Person, ticket: Ticket) -> bool:
    """The ticket's handler, or one of the staff alerted to an emergency nobody has taken yet."""
    if not person.role.is_staff:
        return False
    if person.id == ticket.handler_id:
        return True
    return ticket.urgent and ticket.state is TicketState.NEW and _alerted(session, person, ticket)


def _reported(session: Session, person: Person, ticket: Ticket) -> bool:
    found = select(TicketReporter.id).where(
        TicketReporter.ticket_id == ticket.id, TicketReporter.person_id == person.id
    )
    return session.exec(found).first() is not None


def _alerted(session: Session, person: Person, ticket: Ticket) -> bool:
    return session.get(TicketAlerted, (ticket.id, person.id)) is not None


def _taken_emergency(session: Session, person: Person, ticket: Ticket) -> str | None:
    """What an alerted staff member hears when someone else already took the emergency."""
    if not ticket.urgent or ticket.state is TicketState.NEW or not _alerted(session, person, ticket):
        return None
    handler = session.get(Person, ticket.handler_id) if ticket.handler_id else None
    if handler is None:
        return None
    return f"{ticket.id}号紧急工单已由{person_label(handler)}签收处理，不用您再办了。"
