"""Cross-references inside a registry file: unique ids, and known communities, grids, groups, people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from groups.models import Role
from groups.registry_spec import (
    DEFAULT_ROUTE,
    ROLE_NAMES,
    CommunitySpec,
    Path_,
    RegistrySpec,
    RouteSpec,
)
from nlp.labels import CATEGORIES

Problem = tuple[Path_, str]


@dataclass
class _Seen:
    """The ids met so far, and which community each grid and group is in."""

    ids: dict[str, set[str]] = field(
        default_factory=lambda: {
            kind: set() for kind in ("street", "community", "grid", "group", "person", "department")
        }
    )
    grid_community: dict[str, str] = field(default_factory=dict)
    group_community: dict[str, str] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)


def cross_check(spec: RegistrySpec) -> Problem | None:
    """References between parts of the file: unique ids, known communities, grids, groups."""
    seen = _Seen()
    return (
        _check_accounts(spec, seen)
        or _check_streets(spec, seen)
        or _check_departments(spec, seen)
        or check_routes(spec.routing, ("routing",), spec)
        or _check_people(spec, seen)
        or _check_contacts(spec, seen)
    )


def _check_accounts(spec: RegistrySpec, seen: _Seen) -> Problem | None:
    for a_i, account in enumerate(spec.accounts):
        if account.id in seen.accounts:
            return ("accounts", a_i, "id"), f"账号 id “{account.id}” 重复"
        seen.accounts.add(account.id)
    return None


def _check_streets(spec: RegistrySpec, seen: _Seen) -> Problem | None:
    for s_i, street in enumerate(spec.streets):
        if street.id in seen.ids["street"]:
            return ("streets", s_i, "id"), f"街道 id “{street.id}” 重复"
        seen.ids["street"].add(street.id)
        for c_i, community in enumerate(street.communities):
            problem = _check_community(community, ("streets", s_i, "communities", c_i), spec, seen)
            if problem:
                return problem
    return None


def _check_community(
    community: CommunitySpec, where: Path_, spec: RegistrySpec, seen: _Seen
) -> Problem | None:
    if community.id in seen.ids["community"]:
        return (*where, "id"), f"社区 id “{community.id}” 重复"
    seen.ids["community"].add(community.id)
    for g_i, grid in enumerate(community.grids):
        if grid.id in seen.ids["grid"]:
            return (*where, "grids", g_i, "id"), f"网格 id “{grid.id}” 重复"
        seen.ids["grid"].add(grid.id)
        seen.grid_community[grid.id] = community.id
    for g_i, group in enumerate(community.groups):
        if group.id in seen.ids["group"]:
            return (*where, "groups", g_i, "id"), f"群 id “{group.id}” 重复"
        seen.ids["group"].add(group.id)
        seen.group_community[group.id] = community.id
        if group.grid is not None and seen.grid_community.get(group.grid) != community.id:
            return (*where, "groups", g_i, "grid"), f"网格“{group.grid}”不在社区“{community.id}”里"
        if group.account is not None and group.account not in seen.accounts:
            known = "、".join(sorted(seen.accounts)) or "（没有，请先在 accounts 里登记）"
            return (
                *where,
                "groups",
                g_i,
                "account",
            ), f"没有登记账号“{group.account}”，已登记：{known}"
    problem = check_routes(community.routing, (*where, "routing"), spec)
    if problem:
        return problem
    return None


def _check_departments(spec: RegistrySpec, seen: _Seen) -> Problem | None:
    for d_i, department in enumerate(spec.departments):
        if department.id in seen.ids["department"]:
            return ("departments", d_i, "id"), f"部门 id “{department.id}” 重复"
        seen.ids["department"].add(department.id)
        if department.street is not None and department.street not in seen.ids["street"]:
            return ("departments", d_i, "street"), f"没有 id 为“{department.street}”的街道"
    return None


def _check_people(spec: RegistrySpec, seen: _Seen) -> Problem | None:
    for p_i, person in enumerate(spec.people):
        where: Path_ = ("people", p_i)
        if person.id in seen.ids["person"]:
            return (*where, "id"), f"人员 id “{person.id}” 重复"
        seen.ids["person"].add(person.id)
        role = ROLE_NAMES[person.role]
        if person.community is None and role in (Role.RESIDENT, Role.SOCIAL_WORKER, Role.GRID_WORKER):
            return (*where, "community"), f"{role.label}必须写 community"
        if person.community is not None and person.community not in seen.ids["community"]:
            return (*where, "community"), f"没有 id 为“{person.community}”的社区"
        if person.street is not None and person.street not in seen.ids["street"]:
            return (*where, "street"), f"没有 id 为“{person.street}”的街道"
        if person.street is not None and role not in (Role.LEADER, Role.SOCIAL_WORKER):
            return (*where, "street"), "只有领导和社工可以写 street（负责整个街道）"
        if role is Role.GRID_WORKER and person.grid is None:
            return (*where, "grid"), "网格员必须写 grid"
        if person.grid is not None and seen.grid_community.get(person.grid) != person.community:
            return (*where, "grid"), f"网格“{person.grid}”不在社区“{person.community}”里"
        for g_i, group_id in enumerate(person.groups):
            if group_id not in seen.group_community:
                return (*where, "groups", g_i), f"没有 id 为“{group_id}”的群"
    return None


def _check_contacts(spec: RegistrySpec, seen: _Seen) -> Problem | None:
    for d_i, department in enumerate(spec.departments):
        if department.contact is not None and department.contact not in seen.ids["person"]:
            return ("departments", d_i, "contact"), f"没有 id 为“{department.contact}”的人员"
    return None


def check_routes(routes: Mapping[str, RouteSpec], where: Path_, spec: RegistrySpec) -> Problem | None:
    departments = {d.id for d in spec.departments}
    for category, route in routes.items():
        if category not in CATEGORIES and category != DEFAULT_ROUTE:
            return (*where, category), f"不认识的类别“{category}”，可用：{'、'.join(CATEGORIES)}、default"
        if route.department is not None and route.department not in departments:
            return (*where, category, "department"), f"没有 id 为“{route.department}”的部门"
    return None
