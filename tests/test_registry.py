"""Registry loading: a good file lands whole; a bad one names its line and field and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from access.policy import Level, Reach, reach_of
from bot.app import App
from core.db import session_scope
from groups.models import ChatGroup, Membership, Person, Role, RoutingRule
from groups.registry import RegistryError, load_registry, parse_registry

from .conftest import REGISTRY


def test_registry_is_stored(app: App) -> None:
    with session_scope(app.engine) as session:
        assert session.exec(select(func.count()).select_from(ChatGroup)).one() == 3
        grid_worker = session.get(Person, "wxid_wg")
        assert grid_worker is not None
        assert (grid_worker.role, grid_worker.grid_id) == (Role.GRID_WORKER, "c1-g1")
        assert session.get(Person, "wxid_sg2").role is Role.SOCIAL_WORKER  # type: ignore[union-attr]
        rules = session.exec(select(RoutingRule)).all()
        assert {(r.community_id, r.category) for r in rules} >= {(None, "default"), ("c1", "噪音扰民")}


def test_reloading_is_idempotent(app: App) -> None:
    with session_scope(app.engine) as session:
        load_registry(session, REGISTRY)
    with session_scope(app.engine) as session:
        assert session.exec(select(func.count()).select_from(Membership)).one() == 7
        assert session.exec(select(func.count()).select_from(RoutingRule)).one() == 4


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    source = REGISTRY.read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "bad.yaml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "role: 网格员, community: c1, grid: c1-g1",
            "role: 网络员, community: c1, grid: c1-g1",
            "网络员",
            "people[1].role: 不认识的角色“网络员”",
        ),
        (
            "grid: c1-g1, groups: [g1@chatroom]}",
            "groups: [g1@chatroom]}",
            "wxid_wg",
            "people[1].grid: 网格员必须写 grid",
        ),
        (
            "groups: [g3@chatroom]}\n  - {id: wxid_ld",
            "groups: [g9@chatroom]}\n  - {id: wxid_ld",
            "g9@chatroom",
            "people[2].groups[0]: 没有 id 为“g9@chatroom”的群",
        ),
        (
            "市政设施: {department: cg}",
            "市政设施: {department: nowhere}",
            "nowhere",
            "routing.市政设施.department: 没有 id 为“nowhere”的部门",
        ),
        ("噪音扰民: {role: 社工}", "噪声: {role: 社工}", "噪声", "不认识的类别“噪声”"),
        (
            "- {id: wxid_r3,",
            "- {id: wxid_r2,",
            "{id: wxid_r2, name: 老张",
            "people[8].id: 人员 id “wxid_r2” 重复",
        ),
        ("name: 幸福社区", "nmae: 幸福社区", "- id: c1", "streets[0].communities[0].name: 缺少必填项"),
        ("name: 第二网格}", "name: 第二网格, size: 3}", "size: 3", "grids[1].size: 不认识的字段"),
    ],
)
def test_bad_registry_names_line_and_field(
    tmp_path: Path, old: str, new: str, needle: str, expected: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(RegistryError) as caught:
        parse_registry(path)
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"{path}:{_line_of(path, needle)}:")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  - id: s1\n", "  - id: s1\n   bad: [\n")
    with pytest.raises(RegistryError, match=r"bad.yaml:1[0-9]: YAML 格式错误"):
        parse_registry(path)


def test_bad_file_leaves_the_database_untouched(app: App, tmp_path: Path) -> None:
    path = _broken(tmp_path, "role: 居民, community: c2", "role: 居民, community: c9")
    with pytest.raises(RegistryError), session_scope(app.engine) as session:
        load_registry(session, path)
    with session_scope(app.engine) as session:
        assert session.get(Person, "wxid_r3").community_id == "c2"  # type: ignore[union-attr]


def test_a_street_leader_reaches_the_street_and_no_further(app: App, tmp_path: Path) -> None:
    """`street:` gives a leader the street's communities; a district leader keeps the district, a
    department's contact only the department's tickets."""
    path = _broken(
        tmp_path,
        "  - {id: wxid_ld, name: 陈主任, role: 领导}",
        "  - {id: wxid_ld, name: 陈主任, role: 领导}\n  - {id: wxid_ld_s1, name: 街道刘主任, role: 领导, street: s1}",
    )
    with session_scope(app.engine) as session:
        load_registry(session, path)
        reaches = {
            who: reach_of(session, session.get(Person, who)) for who in ("wxid_ld", "wxid_ld_s1", "wxid_dept")
        }  # type: ignore[arg-type]
    assert reaches["wxid_ld_s1"] == Reach(Level.STREET, street_id="s1")
    assert reaches["wxid_ld"].level is Level.DISTRICT
    assert reaches["wxid_dept"] == Reach(Level.DEPARTMENT, departments=frozenset({"cg"}))
    street_grid_worker = _broken(tmp_path, "grid: c1-g1, groups: [g1@chatroom]}", "grid: c1-g1, street: s1}")
    with pytest.raises(RegistryError, match="只有领导和社工可以写 street"):
        parse_registry(street_grid_worker)
