"""Loading the district registry from YAML: validated whole, then written in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session, delete, select

from core.errors import XiaoqiError
from groups.models import (
    ChatGroup,
    Community,
    Department,
    District,
    Grid,
    Membership,
    ModerationExempt,
    Person,
    RoutingRule,
    Street,
)
from groups.registry_check import cross_check
from groups.registry_spec import ROLE_NAMES, Path_, RegistrySpec, RouteSpec
from nlp.labels import CATEGORIES

__all__ = ["CATEGORIES", "ROLE_NAMES", "RegistryError", "RegistrySummary", "load_registry", "parse_registry"]

log = logging.getLogger(__name__)


class RegistryError(XiaoqiError):
    """A registry file that cannot be loaded; the text names the file, line and field."""


@dataclass(frozen=True)
class RegistrySummary:
    streets: int
    communities: int
    groups: int
    people: int
    routing_rules: int


def _lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    """Remember the line of every path in a composed YAML document."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _lines(value_node, (*path, key_node.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), lines)


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（请检查拼写）",
    "string_type": "应该是文字",
    "list_type": "应该是列表，例如 [a, b]",
    "dict_type": "应该是键值对",
    "model_type": "应该是键值对",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
}


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(文件)"


def _line_of(path: Path_, lines: Mapping[Path_, int]) -> int:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return 1


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line_map(source: str) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}
    node = yaml.compose(source, Loader=yaml.SafeLoader)
    if node is not None:
        _lines(node, (), lines)
    return lines


def parse_registry(path: Path) -> RegistrySpec:
    """Read and validate a registry file; raises RegistryError naming line and field."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryError(f"{path}: 无法读取：{error}") from error
    try:
        data = yaml.load(source, Loader=_FAST_LOADER)  # a safe loader: libyaml's when built
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise RegistryError(f"{path}{line}: YAML 格式错误：{getattr(error, 'problem', error)}") from error
    if data is None:
        raise RegistryError(f"{path}: 文件是空的")
    try:
        spec = RegistrySpec.model_validate(data)
    except ValidationError as error:
        lines = _line_map(source)  # only a bad file pays for the line numbers
        problems = sorted(error.errors(), key=lambda e: _line_of(tuple(e["loc"]), lines))
        first = problems[0]
        loc = tuple(first["loc"])
        message = _PYDANTIC_MESSAGES.get(first["type"], first["msg"].removeprefix("Value error, "))
        more = f"（另有 {error.error_count() - 1} 处错误）" if error.error_count() > 1 else ""
        raise RegistryError(f"{path}:{_line_of(loc, lines)}: {_where(loc)}: {message}{more}") from error
    problem = cross_check(spec)
    if problem is not None:
        loc, message = problem
        raise RegistryError(f"{path}:{_line_of(loc, _line_map(source))}: {_where(loc)}: {message}")
    return spec


def load_registry(session: Session, path: Path) -> RegistrySummary:
    """Validate the whole file first, then upsert it; a bad file changes nothing."""
    spec = parse_registry(path)
    groups = _write_places(session, spec)
    rules = _write_routing(session, spec)
    _write_people(session, spec)
    log.info("registry %s loaded: %d groups, %d people", path, groups, len(spec.people))
    return RegistrySummary(
        streets=len(spec.streets),
        communities=sum(len(s.communities) for s in spec.streets),
        groups=groups,
        people=len(spec.people),
        routing_rules=rules,
    )


def _write_places(session: Session, spec: RegistrySpec) -> int:
    """The district, its streets, departments, communities, grids and groups; returns the group count."""
    session.merge(District(id=spec.district.id, name=spec.district.name))
    groups = 0
    for street in spec.streets:
        session.merge(Street(id=street.id, name=street.name, district_id=spec.district.id))
    session.flush()
    for department in spec.departments:
        session.merge(
            Department(
                id=department.id,
                name=department.name,
                street_id=department.street,
                contact_id=department.contact,
            )
        )
    for street in spec.streets:
        for community in street.communities:
            session.merge(Community(id=community.id, name=community.name, street_id=street.id))
            session.flush()
            for grid in community.grids:
                session.merge(Grid(id=grid.id, name=grid.name, community_id=community.id))
            session.flush()
            for group in community.groups:
                groups += 1
                session.merge(
                    ChatGroup(
                        id=group.id,
                        name=group.name,
                        community_id=community.id,
                        grid_id=group.grid,
                        account=group.account,
                        rules=group.rules,
                    )
                )
    session.flush()
    return groups


def _write_routing(session: Session, spec: RegistrySpec) -> int:
    """Replace every routing rule with the file's (district-wide and per community); returns their count."""
    session.exec(delete(RoutingRule))  # type: ignore[call-overload]
    rules = [
        RoutingRule(community_id=None, category=category, **_route_fields(route))
        for category, route in spec.routing.items()
    ]
    for street in spec.streets:
        for community in street.communities:
            rules += [
                RoutingRule(community_id=community.id, category=category, **_route_fields(route))
                for category, route in community.routing.items()
            ]
    session.add_all(rules)
    return len(rules)


def _write_people(session: Session, spec: RegistrySpec) -> None:
    """People, their memberships and exemptions: read what exists once, then insert or update."""
    known = {p.id: p for p in session.exec(select(Person))}
    memberships: dict[str, dict[str, Membership]] = {}
    for membership in session.exec(select(Membership)):
        memberships.setdefault(membership.person_id, {})[membership.group_id] = membership
    exemptions = {e.person_id: e for e in session.exec(select(ModerationExempt))}
    _upsert_people(session, spec, known)
    session.flush()
    _sync_memberships(session, spec, memberships, exemptions)
    session.flush()


def _upsert_people(session: Session, spec: RegistrySpec, known: Mapping[str, Person]) -> None:
    for person in spec.people:
        fields: dict[str, Any] = {
            "name": person.name,
            "role": ROLE_NAMES[person.role],
            "community_id": person.community,
            "street_id": person.street,
            "grid_id": person.grid,
            "household": person.household,
            "registered": True,
        }
        existing = known.get(person.id)
        if existing is None:
            session.add(Person(id=person.id, **fields))
        else:
            for name, value in fields.items():
                if getattr(existing, name) != value:
                    setattr(existing, name, value)


def _sync_memberships(
    session: Session,
    spec: RegistrySpec,
    memberships: Mapping[str, dict[str, Membership]],
    exemptions: Mapping[str, ModerationExempt],
) -> None:
    for person in spec.people:
        current = memberships.get(person.id, {})
        for group_id in person.groups:
            if group_id in current:
                current[group_id].active = True
            else:
                session.add(Membership(person_id=person.id, group_id=group_id))
        exempt = exemptions.get(person.id)
        if person.exempt and exempt is None:
            session.add(ModerationExempt(person_id=person.id, added_by="registry"))
        elif not person.exempt and exempt is not None and exempt.added_by == "registry":
            session.delete(exempt)


def _route_fields(route: RouteSpec) -> dict[str, Any]:
    return {
        "handler_role": ROLE_NAMES[route.role] if route.role else None,
        "department_id": route.department,
    }
