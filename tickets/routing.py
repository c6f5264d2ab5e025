"""Who handles a ticket: the registry's routing table, community x category -> person or department."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from groups.models import ChatGroup, Department, Person, Role, RoutingRule, person_label

DEFAULT_ROUTE = "default"


@dataclass(frozen=True)
class Assignment:
    handler_id: str | None
    department_id: str | None
    label: str  # how residents hear it: 网格员周网格 / 马群街道城管科


def _people(
    session: Session, role: Role, community_id: str | None, grid_id: str | None = None
) -> list[Person]:
    query = select(Person).where(Person.role == role).order_by(Person.id)
    if community_id is not None:
        query = query.where(Person.community_id == community_id)
    if grid_id is not None:
        query = query.where(Person.grid_id == grid_id)
    return list(session.exec(query))


def social_worker(session: Session, community_id: str | None) -> Person | None:
    found = _people(session, Role.SOCIAL_WORKER, community_id) if community_id else []
    return found[0] if found else None


def grid_worker(
    session: Session, community_id: str | None, group_id: str | None, reporter: Person | None
) -> Person | None:
    grids = []
    if group_id is not None and (group := session.get(ChatGroup, group_id)) is not None and group.grid_id:
        grids.append(group.grid_id)
    if reporter is not None and reporter.grid_id:
        grids.append(reporter.grid_id)
    for grid_id in grids:
        found = _people(session, Role.GRID_WORKER, community_id, grid_id)
        if found:
            return found[0]
    found = _people(session, Role.GRID_WORKER, community_id) if community_id else []
    return found[0] if found else None


def leaders(session: Session, community_id: str | None) -> list[Person]:
    """The community's own leaders if the registry names any, else the district's (not department contacts)."""
    local = _people(session, Role.LEADER, community_id) if community_id else []
    if local:
        return local
    contacts = select(Department.contact_id).where(col(Department.contact_id).is_not(None))
    query = select(Person).where(
        Person.role == Role.LEADER, col(Person.community_id).is_(None), col(Person.id).not_in(contacts)
    )
    return list(session.exec(query.order_by(Person.id)))


def _rule(session: Session, community_id: str | None, category: str) -> RoutingRule | None:
    """Community rule for the category, district rule for it, community default, district default."""
    order: list[tuple[str | None, str]] = [(None, category), (None, DEFAULT_ROUTE)]
    if community_id is not None:
        order = [
            (community_id, category),
            (None, category),
            (community_id, DEFAULT_ROUTE),
            (None, DEFAULT_ROUTE),
        ]
    for scope, key in order:
        rule = session.exec(
            select(RoutingRule).where(RoutingRule.community_id == scope, RoutingRule.category == key)
        ).first()
        if rule is not None:
            return rule
    return None


def route(
    session: Session,
    *,
    community_id: str | None,
    group_id: str | None,
    reporter: Person | None,
    category: str,
) -> Assignment:
    """Apply the routing table; anything unroutable goes to the community's social worker."""
    rule = _rule(session, community_id, category)
    if rule is not None and rule.department_id is not None:
        department = session.get(Department, rule.department_id)
        if department is not None:
            contact = session.get(Person, department.contact_id) if department.contact_id else None
            if contact is not None:
                return Assignment(contact.id, department.id, department.name)
    if rule is not None and rule.handler_role is Role.GRID_WORKER:
        worker = grid_worker(session, community_id, group_id, reporter)
        if worker is not None:
            return Assignment(worker.id, None, person_label(worker))
    if rule is not None and rule.handler_role in (Role.LEADER, Role.ADMIN):
        candidates = _people(session, rule.handler_role, community_id) or _people(
            session, rule.handler_role, None
        )
        if candidates:
            return Assignment(candidates[0].id, None, person_label(candidates[0]))
    fallback = social_worker(session, community_id) or next(iter(_people(session, Role.ADMIN, None)), None)
    if fallback is not None:  # an unregistered group has no social worker: the district's admin sees it
        return Assignment(fallback.id, None, person_label(fallback))
    return Assignment(None, None, "社区工作人员")
