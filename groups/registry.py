"""Loading the district registry from YAML: validated whole, then written in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
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
    Role,
    RoutingRule,
    Street,
)
from nlp.labels import CATEGORIES

log = logging.getLogger(__name__)

DEFAULT_ROUTE = "default"
ROLE_NAMES: dict[str, Role] = {
    "居民": Role.RESIDENT,
    "社工": Role.SOCIAL_WORKER,
    "网格员": Role.GRID_WORKER,
    "领导": Role.LEADER,
    "管理员": Role.ADMIN,
    **{role.value: role for role in Role},
}
Path_ = tuple[str | int, ...]


class RegistryError(XiaoqiError):
    """A registry file that cannot be loaded; the text names the file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RouteSpec(_Strict):
    role: str | None = None
    department: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLE_NAMES:
            raise ValueError(f"不认识的角色“{value}”，可用：{'、'.join(list(ROLE_NAMES)[:5])}")
        return value

    def model_post_init(self, _context: Any) -> None:
        if (self.role is None) == (self.department is None):
            raise ValueError("每条分派规则要写 role 或 department 之一")


class GroupSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    grid: str | None = None
    account: str | None = None
    rules: str | None = None  # the group's rules, quoted in the welcome (default: the district's)


class AccountSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = ""


class GridSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class CommunitySpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    grids: list[GridSpec] = []
    groups: list[GroupSpec] = []
    routing: dict[str, RouteSpec] = {}


class StreetSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    communities: list[CommunitySpec] = []


class DepartmentSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    street: str | None = None
    contact: str | None = None


class PersonSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    role: str
    community: str | None = None
    street: str | None = None  # a street's staff (a 街道 leader or social worker) work for the whole street
    grid: str | None = None
    household: str | None = None
    groups: list[str] = []
    exempt: bool = False  # may post links and notices without moderation (a property company's account)

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLE_NAMES:
            raise ValueError(f"不认识的角色“{value}”，可用：{'、'.join(list(ROLE_NAMES)[:5])}")
        return value

    @field_validator("household", mode="before")
    @classmethod
    def _household_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class DistrictSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class RegistrySpec(_Strict):
    district: DistrictSpec
    accounts: list[AccountSpec] = []
    routing: dict[str, RouteSpec] = {}
    departments: list[DepartmentSpec] = []
    streets: list[StreetSpec] = Field(min_length=1)
    people: list[PersonSpec] = []


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
    problem = _cross_check(spec)
    if problem is not None:
        loc, message = problem
        raise RegistryError(f"{path}:{_line_of(loc, _line_map(source))}: {_where(loc)}: {message}")
    return spec


def _cross_check(spec: RegistrySpec) -> tuple[Path_, str] | None:
    """References between parts of the file: unique ids, known communities, grids, groups."""
    seen: dict[str, set[str]] = {
        kind: set() for kind in ("street", "community", "grid", "group", "person", "department")
    }
    grid_community: dict[str, str] = {}
    group_community: dict[str, str] = {}
    accounts: set[str] = set()
    for a_i, account in enumerate(spec.accounts):
        if account.id in accounts:
            return ("accounts", a_i, "id"), f"账号 id “{account.id}” 重复"
        accounts.add(account.id)
    for s_i, street in enumerate(spec.streets):
        if street.id in seen["street"]:
            return ("streets", s_i, "id"), f"街道 id “{street.id}” 重复"
        seen["street"].add(street.id)
        for c_i, community in enumerate(street.communities):
            where: Path_ = ("streets", s_i, "communities", c_i)
            if community.id in seen["community"]:
                return (*where, "id"), f"社区 id “{community.id}” 重复"
            seen["community"].add(community.id)
            for g_i, grid in enumerate(community.grids):
                if grid.id in seen["grid"]:
                    return (*where, "grids", g_i, "id"), f"网格 id “{grid.id}” 重复"
                seen["grid"].add(grid.id)
                grid_community[grid.id] = community.id
            for g_i, group in enumerate(community.groups):
                if group.id in seen["group"]:
                    return (*where, "groups", g_i, "id"), f"群 id “{group.id}” 重复"
                seen["group"].add(group.id)
                group_community[group.id] = community.id
                if group.grid is not None and grid_community.get(group.grid) != community.id:
                    return (*where, "groups", g_i, "grid"), f"网格“{group.grid}”不在社区“{community.id}”里"
                if group.account is not None and group.account not in accounts:
                    known = "、".join(sorted(accounts)) or "（没有，请先在 accounts 里登记）"
                    return (
                        *where,
                        "groups",
                        g_i,
                        "account",
                    ), f"没有登记账号“{group.account}”，已登记：{known}"
            problem = _check_routes(community.routing, (*where, "routing"), spec)
            if problem:
                return problem
    for d_i, department in enumerate(spec.departments):
        if department.id in seen["department"]:
            return ("departments", d_i, "id"), f"部门 id “{department.id}” 重复"
        seen["department"].add(department.id)
        if department.street is not None and department.street not in seen["street"]:
            return ("departments", d_i, "street"), f"没有 id 为“{department.street}”的街道"
    problem = _check_routes(spec.routing, ("routing",), spec)
    if problem:
        return problem
    for p_i, person in enumerate(spec.people):
        where = ("people", p_i)
        if person.id in seen["person"]:
            return (*where, "id"), f"人员 id “{person.id}” 重复"
        seen["person"].add(person.id)
        role = ROLE_NAMES[person.role]
        if person.community is None and role in (Role.RESIDENT, Role.SOCIAL_WORKER, Role.GRID_WORKER):
            return (*where, "community"), f"{role.label}必须写 community"
        if person.community is not None and person.community not in seen["community"]:
            return (*where, "community"), f"没有 id 为“{person.community}”的社区"
        if person.street is not None and person.street not in seen["street"]:
            return (*where, "street"), f"没有 id 为“{person.street}”的街道"
        if person.street is not None and role not in (Role.LEADER, Role.SOCIAL_WORKER):
            return (*where, "street"), "只有领导和社工可以写 street（负责整个街道）"
        if role is Role.GRID_WORKER and person.grid is None:
            return (*where, "grid"), "网格员必须写 grid"
        if person.grid is not None and grid_community.get(person.grid) != person.community:
            return (*where, "grid"), f"网格“{person.grid}”不在社区“{person.community}”里"
        for g_i, group_id in enumerate(person.groups):
            if group_id not in group_community:
                return (*where, "groups", g_i), f"没有 id 为“{group_id}”的群"
    for d_i, department in enumerate(spec.departments):
        if department.contact is not None and department.contact not in seen["person"]:
            return ("departments", d_i, "contact"), f"没有 id 为“{department.contact}”的人员"
    return None


def _check_routes(
    routes: Mapping[str, RouteSpec], where: Path_, spec: RegistrySpec
) -> tuple[Path_, str] | None:
    departments = {d.id for d in spec.departments}
    for category, route in routes.items():
        if category not in CATEGORIES and category != DEFAULT_ROUTE:
            return (*where, category), f"不认识的类别“{category}”，可用：{'、'.join(CATEGORIES)}、default"
        if route.department is not None and route.department not in departments:
            return (*where, category, "department"), f"没有 id 为“{route.department}”的部门"
    return None


def load_registry(session: Session, path: Path) -> RegistrySummary:
    """Validate the whole file first, then upsert it; a bad file changes nothing."""
    spec = parse_registry(path)
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
    # people, their memberships and exemptions: read what exists once, then insert or update
    known = {p.id: p for p in session.exec(select(Person))}
    memberships: dict[str, dict[str, Membership]] = {}
    for membership in session.exec(select(Membership)):
        memberships.setdefault(membership.person_id, {})[membership.group_id] = membership
    exemptions = {e.person_id: e for e in session.exec(select(ModerationExempt))}
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
    session.flush()
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
    session.flush()
    log.info("registry %s loaded: %d groups, %d people", path, groups, len(spec.people))
    return RegistrySummary(
        streets=len(spec.streets),
        communities=sum(len(s.communities) for s in spec.streets),
        groups=groups,
        people=len(spec.people),
        routing_rules=len(rules),
    )


def _route_fields(route: RouteSpec) -> dict[str, Any]:
    return {
        "handler_role": ROLE_NAMES[route.role] if route.role else None,
        "department_id": route.department,
    }
