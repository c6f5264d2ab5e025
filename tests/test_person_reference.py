"""Person references in staff commands: full name, short name, surname and role, @-mention, WeChat id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from core.db import session_scope
from core.settings import Settings
from groups.models import Person
from groups.people import AmbiguousPerson, PersonNotFound, Want, resolve_person
from groups.registry import load_registry
from tickets.lifecycle import get_ticket
from xiaoqi.wiring import create_app

from .events import said
from .simulate import say, simulate, to

# two 周 in 新家园, a 周敏 and a 周强 in 梧桐里, twin 王磊 in 紫藤苑, a resident called 周敏, and (added below)
# an unregistered member whose group nickname is 网格员周敏
TOWN = """
district: {id: d, name: 测试区}
routing:
  default: {role: 社工}
streets:
  - id: s1
    name: 马群街道
    communities:
      - id: xjy
        name: 新家园社区
        grids: [{id: xjy-g1, name: 第一网格}, {id: xjy-g2, name: 第二网格}]
        groups: [{id: xjy@chatroom, name: 新家园邻里群, grid: xjy-g1}]
      - id: wtl
        name: 梧桐里社区
        grids: [{id: wtl-g1, name: 第一网格}]
        groups: [{id: wtl@chatroom, name: 梧桐里邻里群, grid: wtl-g1}]
      - id: zty
        name: 紫藤苑社区
        grids: [{id: zty-g1, name: 第一网格}]
        groups: [{id: zty@chatroom, name: 紫藤苑邻里群, grid: zty-g1}]
people:
  - {id: wxid_sg_li, name: 新家园社工李婷, role: 社工, community: xjy, groups: [xjy@chatroom]}
  - {id: wxid_wg_zhou, name: 新家园一网格周敏, role: 网格员, community: xjy, grid: xjy-g1, groups: [xjy@chatroom]}
  - {id: wxid_wg_zhouq, name: 网格员周强, role: 网格员, community: xjy, grid: xjy-g2, groups: [xjy@chatroom]}
  - {id: wxid_sg_zhao, name: 梧桐里社工赵晴, role: 社工, community: wtl, groups: [wtl@chatroom]}
  - {id: wxid_wg_wtl, name: 梧桐里网格员周敏, role: 网格员, community: wtl, grid: wtl-g1, groups: [wtl@chatroom]}
  - {id: wxid_sg_wtl_zhou, name: 周强, role: 社工, community: wtl}
  - {id: wxid_wg_wang1, name: 网格员王磊, role: 网格员, community: zty, grid: zty-g1}
  - {id: wxid_wg_wang2, name: 网格员王磊, role: 网格员, community: zty, grid: zty-g1}
  - {id: wxid_ld_sun, name: 孙书记, role: 领导}
  - {id: wxid_dept, name: 马群城管科张科长, role: 领导}
  - {id: wxid_wy_zty, name: 紫藤苑物业-客服部, role: 居民, community: zty, groups: [zty@chatroom], exempt: true}
  - {id: wxid_r_zhou, name: 周敏, role: 居民, community: xjy, household: 3-201, groups: [xjy@chatroom]}
  - {id: wxid_r_wang, name: 5栋-302 王阿姨, role: 居民, community: xjy, household: 5-302, groups: [xjy@chatroom]}
  - {id: wxid_r_chen, name: 老陈, role: 居民, community: wtl, household: 1-101, groups: [wtl@chatroom]}
"""
FAKE = "wxid_fake"  # a member who named themselves 网格员周敏 in the group; not in the registry


@pytest.fixture
def town(settings: Settings, tmp_path: Path) -> Iterator[App]:
    registry = tmp_path / "town.yaml"
    registry.write_text(TOWN, encoding="utf-8")
    application = create_app(settings)
    with session_scope(application.engine) as session:
        load_registry(session, registry)
        session.add(Person(id=FAKE, name="网格员周敏", community_id="xjy", registered=False))
    yield application
    application.engine.dispose()


# (reference, actor's community, whom the command may name, mentions) -> the person's id
FOUND = [
    pytest.param("新家园一网格周敏", "xjy", Want.STAFF, (), "wxid_wg_zhou", id="full name"),
    pytest.param("周敏", "xjy", Want.STAFF, (), "wxid_wg_zhou", id="short name, resident namesake ignored"),
    pytest.param("周敏", "wtl", Want.STAFF, (), "wxid_wg_wtl", id="short name, the actor's community wins"),
    pytest.param("网格员周敏", "xjy", Want.STAFF, (), "wxid_wg_zhou", id="role and name, impostor ignored"),
    pytest.param("李婷", "xjy", Want.STAFF, (), "wxid_sg_li", id="short name of a social worker"),
    pytest.param("李社工", "wtl", Want.STAFF, (), "wxid_sg_li", id="surname and role, another community"),
    pytest.param("周网格", "wtl", Want.STAFF, (), "wxid_wg_wtl", id="surname and role"),
    pytest.param("周强", "xjy", Want.STAFF, (), "wxid_wg_zhouq", id="short name near before full name afar"),
    pytest.param("周强", "wtl", Want.STAFF, (), "wxid_sg_wtl_zhou", id="full name in the actor's community"),
    pytest.param("周强", None, Want.STAFF, (), "wxid_sg_wtl_zhou", id="full name before short name"),
    pytest.param("张科长", "xjy", Want.STAFF, (), "wxid_dept", id="surname and title"),
    pytest.param("孙书记", None, Want.STAFF, (), "wxid_ld_sun", id="full name of a leader"),
    pytest.param("@周敏", "xjy", Want.STAFF, ("wxid_wg_wtl",), "wxid_wg_wtl", id="an @-mention"),
    pytest.param("@敏敏", "xjy", Want.STAFF, ("xiaoqi", "wxid_wg_zhou"), "wxid_wg_zhou", id="@ nickname"),
    pytest.param("wxid_wg_wtl", "xjy", Want.STAFF, (), "wxid_wg_wtl", id="WeChat id"),
    pytest.param("周敏", "xjy", Want.RESIDENT, (), "wxid_r_zhou", id="a resident by name"),
    pytest.param("5栋-302 王阿姨", None, Want.RESIDENT, (), "wxid_r_wang", id="a name with a space"),
    pytest.param("紫藤苑物业", "zty", Want.ANYONE, (), "wxid_wy_zty", id="part of a name, when allowed"),
    pytest.param(
        "网格员周敏", "xjy", Want.ANYONE, (), "wxid_wg_zhou", id="anyone: the impostor never shadows"
    ),
]


@pytest.mark.parametrize(("ref", "near", "want", "mentions", "expected"), FOUND)
def test_a_reference_names_one_person(
    town: App, ref: str, near: str | None, want: Want, mentions: tuple[str, ...], expected: str
) -> None:
    with session_scope(town.engine) as session:
        person = resolve_person(session, ref, near=near, want=want, mentions=mentions, partial=True)
        assert person.id == expected


# (reference, actor's community, whom the command may name) -> the error shown to the actor
REFUSED = [
    pytest.param(
        "周网格",
        "xjy",
        Want.STAFF,
        "有两位“周网格”：新家园一网格周敏、网格员周强（新家园），请写全名。",
        id="two in the actor's community",
    ),
    pytest.param(
        "周敏",
        None,
        Want.STAFF,
        "有两位“周敏”：梧桐里网格员周敏、新家园一网格周敏，请写全名。",
        id="one in each of two communities, the actor in neither",
    ),
    pytest.param(
        "王磊",
        "xjy",
        Want.STAFF,
        "有两位“王磊”：网格员王磊（紫藤苑，微信号wxid_wg_wang1）、网格员王磊（紫藤苑，微信号wxid_wg_wang2），请写微信号。",
        id="twins",
    ),
    pytest.param(
        "钱多多", "xjy", Want.STAFF, "名册里找不到工作人员“钱多多”，请写全名、微信号，或@他。", id="unknown"
    ),
    pytest.param(FAKE, "xjy", Want.STAFF, "网格员周敏不是登记的工作人员。", id="an impostor's id"),
    pytest.param("wxid_r_zhou", "xjy", Want.STAFF, "周敏不是登记的工作人员。", id="a resident's id"),
    pytest.param(
        "新家园一网格周敏",
        "xjy",
        Want.RESIDENT,
        "名册里找不到居民“新家园一网格周敏”，请写全名、微信号，或@他。",
        id="staff where a resident is meant",
    ),
    pytest.param(" ", "xjy", Want.STAFF, "请写上是谁：全名、微信号，或@他。", id="nothing"),
]


@pytest.mark.parametrize(("ref", "near", "want", "error"), REFUSED)
def test_a_reference_that_names_nobody_or_several_says_so(
    town: App, ref: str, near: str | None, want: Want, error: str
) -> None:
    with session_scope(town.engine) as session, pytest.raises((PersonNotFound, AmbiguousPerson)) as caught:
        resolve_person(session, ref, near=near, want=want)
    assert str(caught.value) == error


def test_an_ambiguous_reference_carries_its_candidates(town: App) -> None:
    with session_scope(town.engine) as session, pytest.raises(AmbiguousPerson) as caught:
        resolve_person(session, "周", near="xjy")
    assert sorted(p.id for p in caught.value.candidates) == ["wxid_wg_zhou", "wxid_wg_zhouq"]


def _new_ticket(text: str) -> int | None:
    """The number of the ticket a handler's notice hands over (it asks them to sign for it)."""
    found = re.search(r"“#签收 (\d+)”", text)
    return int(found[1]) if found else None


def _handler(app: App, number: int) -> str | None:
    with session_scope(app.engine) as session:
        return get_ticket(session, number).handler_id


def test_a_social_worker_passes_tickets_on_by_the_names_people_use(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_r_wang", "#反映 3栋楼道的灯坏了好几天了", group="xjy@chatroom"),
            say("11-02T09:05", FAKE, "大家早上好", group="xjy@chatroom", name="网格员周敏"),
            say("11-02T09:10", "wxid_sg_li", "#转派 1 周敏", group=None),
            say("11-02T09:20", "wxid_sg_li", "#转派 1 周网格", group="xjy@chatroom"),
            say(
                "11-02T09:30",
                "wxid_sg_li",
                "#转派1 @周强\u2005",
                group="xjy@chatroom",
                mentions=["wxid_wg_zhouq"],
            ),
            say("11-02T10:00", "wxid_r_chen", "#反映 2号楼门口的路灯不亮", group="wtl@chatroom"),
            say("11-02T10:10", "wxid_sg_zhao", "#转派 2号\u3000周网格", group=None),
        ],
    )
    ambiguous = "有两位“周网格”：新家园一网格周敏、网格员周强（新家园），请写全名。"
    actor = [o for o in out if o["to"] == "wxid_sg_li" or "wxid_sg_li" in o["mentions"]]
    answers = [o["text"] for o in actor if not _new_ticket(o["text"])]
    assert len(answers) == 3
    assert answers[0].startswith("好的，1号工单") and "周敏" in answers[0]
    assert answers[1] == ambiguous
    assert answers[2].startswith("好的，1号工单") and "周强" in answers[2]
    assert [(o["group"], o["mentions"]) for o in actor if o["text"] == ambiguous] == [
        ("xjy@chatroom", ["wxid_sg_li"])
    ]
    assert not [o for o in out if o["text"] == ambiguous and o["to"] is not None]
    # the first new handler hears of the ticket once and is not called again by the ambiguous command
    assert [_new_ticket(t) for t in to(out, "wxid_wg_zhou") if _new_ticket(t)] == [1]
    assert [_new_ticket(t) for t in to(out, "wxid_wg_zhouq") if _new_ticket(t)] == [1]
    assert _handler(town, 1) == "wxid_wg_zhouq"
    # in 梧桐里 "周网格" is that community's 周敏, although 新家园 has two of them
    assert to(out, "wxid_sg_zhao")[-1].startswith("好的，2号工单")
    assert "周敏" in to(out, "wxid_sg_zhao")[-1]
    assert [_new_ticket(t) for t in to(out, "wxid_wg_wtl")] == [2]
    assert _handler(town, 2) == "wxid_wg_wtl"
    # the resident hears of each hand-over and nothing of the failed one; namesakes hear nothing
    resident = to(out, "wxid_r_wang")
    assert len([t for t in resident if "转给" in t]) == 2
    assert "周强" in resident[-1]
    assert not [t for t in resident if "有两位" in t or "找不到" in t]
    assert to(out, "wxid_r_zhou") == []
    assert to(out, FAKE) == []
    assert not [o for o in out if o["to"] is None and not o["mentions"] and "转" in o["text"]]


def test_an_unknown_or_non_staff_name_changes_nothing(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_r_wang", "#反映 3栋楼道的灯坏了好几天了", group="xjy@chatroom"),
            say("11-02T09:05", FAKE, "大家早上好", group="xjy@chatroom", name="网格员周敏"),
            say("11-02T09:10", "wxid_sg_li", "#转派 1 钱多多", group=None),
            say("11-02T09:11", "wxid_sg_li", f"#转派 1 {FAKE}", group=None),
            say("11-02T09:12", "wxid_sg_li", "#代登记 周敏 3栋门口堆了很多杂物", group=None),
        ],
    )
    answers = [t for t in to(out, "wxid_sg_li") if not _new_ticket(t)]
    assert answers[:2] == [
        "名册里找不到工作人员“钱多多”，请写全名、微信号、部门名，或@他。",
        "网格员周敏不是登记的工作人员。",
    ]
    assert answers[2].startswith("已替周敏登记为2号工单")  # the resident 周敏, not a namesake on the staff
    assert _handler(town, 1) == "wxid_sg_li"
    with session_scope(town.engine) as session:
        assert get_ticket(session, 2).reporter_id == "wxid_r_zhou"
    assert to(out, FAKE) == []


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("#转派 1 周敏", "1 周敏"),
        ("#转派1 周敏", "1 周敏"),
        ("＃转派1号\u3000周敏", "1号 周敏"),
        ("#转派 1号\u3000周敏", "1号\u3000周敏"),
        ("#转派#1 周敏", "#1 周敏"),
    ],
)
def test_a_ticket_number_may_follow_the_command_without_a_space(town: App, text: str, args: str) -> None:
    message = said(text, "wxid_sg_li", in_group=None)
    parsed = town.router.parse(message, town.settings.bot_id, town.settings.bot_name)
    assert parsed is not None and (parsed.name, parsed.args) == ("转派", args)
