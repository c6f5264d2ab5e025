"""Write data/demo/registry.yaml: the invented Qixia demo district that `xiaoqi demo` loads.

The structure (streets, communities, groups, grids, departments, routing, staff) is written out
below by hand; the ~300 residents are drawn with a fixed seed so that display names and households
look like a real WeChat group and the file is identical on every run.

    python tools/make_demo_registry.py [--out data/demo/registry.yaml]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SEED = 20261001
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "demo" / "registry.yaml"


@dataclass(frozen=True)
class GroupSpec:
    id: str
    name: str
    grid: str
    buildings: tuple[int, int]  # first and last building number covered by the group
    residents: int


@dataclass(frozen=True)
class CommunitySpec:
    id: str
    name: str
    short: str  # how residents call it
    street: str
    word: str  # 栋 or 幢, as the estate's signs say
    groups: tuple[GroupSpec, GroupSpec]
    social_worker: tuple[str, str]  # id, display name
    grid_workers: tuple[tuple[str, str], tuple[str, str]]
    property_desk: tuple[str, str]  # the property company's customer-service account
    routing: dict[str, dict[str, str]]


STREETS = (("maqun", "马群街道"), ("xianlin", "仙林街道"))

COMMUNITIES = (
    CommunitySpec(
        "xinjiayuan",
        "新家园社区",
        "新家园",
        "maqun",
        "栋",
        (
            GroupSpec("xjy-1@chatroom", "新家园1-5栋邻里群", "xjy-g1", (1, 5), 38),
            GroupSpec("xjy-2@chatroom", "新家园6-12栋邻里群", "xjy-g2", (6, 12), 30),
        ),
        ("wxid_sg_li", "新家园社工李婷"),
        (("wxid_wg_zhou", "新家园一网格周敏"), ("wxid_wg_xu", "新家园二网格徐磊")),
        ("wxid_wy_xjy", "新家园物业客服小陈"),
        {"噪音扰民": {"role": "社工"}},
    ),
    CommunitySpec(
        "zitengyuan",
        "紫藤苑社区",
        "紫藤苑",
        "maqun",
        "幢",
        (
            GroupSpec("zty-1@chatroom", "紫藤苑一期1-8幢业主群", "zty-g1", (1, 8), 34),
            GroupSpec("zty-2@chatroom", "紫藤苑二期9-16幢邻里群", "zty-g2", (9, 16), 26),
        ),
        ("wxid_sg_wang", "紫藤苑社工王晓燕"),
        (("wxid_wg_sun", "紫藤苑网格员孙浩"), ("wxid_wg_ding", "紫藤苑网格员丁慧")),
        ("wxid_wy_zty", "紫藤苑物业-客服部"),
        {},
    ),
    CommunitySpec(
        "wutongli",
        "梧桐里社区",
        "梧桐里",
        "maqun",
        "栋",
        (
            GroupSpec("wtl-1@chatroom", "梧桐里北区邻里群", "wtl-g1", (1, 6), 30),
            GroupSpec("wtl-2@chatroom", "梧桐里南区邻里群", "wtl-g2", (7, 14), 28),
        ),
        ("wxid_sg_zhao", "梧桐里社工赵晴"),
        (("wxid_wg_jiang", "梧桐里网格员蒋涛"), ("wxid_wg_shen", "梧桐里网格员沈玉梅")),
        ("wxid_wy_wtl", "梧桐里物业管家小吴"),
        {"邻里纠纷": {"role": "网格员"}},
    ),
    CommunitySpec(
        "qiyunli",
        "栖云里社区",
        "栖云里",
        "xianlin",
        "栋",
        (
            GroupSpec("qyl-1@chatroom", "栖云里1-10栋邻里群", "qyl-g1", (1, 10), 32),
            GroupSpec("qyl-2@chatroom", "栖云里11-18栋邻里群", "qyl-g2", (11, 18), 24),
        ),
        ("wxid_sg_liu", "栖云里社工刘芳"),
        (("wxid_wg_qian", "栖云里网格员钱斌"), ("wxid_wg_gu", "栖云里网格员顾晓雯")),
        ("wxid_wy_qyl", "栖云里物业服务中心"),
        {"市政设施": {"department": "chengguan-xianlin"}, "违建占道": {"department": "chengguan-xianlin"}},
    ),
    CommunitySpec(
        "guiyuwan",
        "桂语湾社区",
        "桂语湾",
        "xianlin",
        "幢",
        (
            GroupSpec("gyw-1@chatroom", "桂语湾一期1-9幢邻里群", "gyw-g1", (1, 9), 34),
            GroupSpec("gyw-2@chatroom", "桂语湾二期10-18幢邻里群", "gyw-g2", (10, 18), 24),
        ),
        ("wxid_sg_chen", "桂语湾社工陈静"),
        (("wxid_wg_lu", "桂语湾网格员陆家明"), ("wxid_wg_xia", "桂语湾网格员夏雪")),
        ("wxid_wy_gyw", "桂语湾物业前台"),
        {
            "市政设施": {"department": "chengguan-xianlin"},
            "违建占道": {"department": "chengguan-xianlin"},
            "养老助残": {"role": "网格员"},
        },
    ),
)

DEPARTMENTS = (
    {"id": "chengguan-maqun", "name": "马群街道城管科", "street": "maqun", "contact": "wxid_dept_cg_mq"},
    {"id": "chengguan-xianlin", "name": "仙林街道城管科", "street": "xianlin", "contact": "wxid_dept_cg_xl"},
    {"id": "jingwu-qixia", "name": "栖霞公安分局社区警务室", "contact": "wxid_dept_jw_qx"},
)
# The person who receives each department's tickets. The loader wants a registered person who may
# handle tickets; like tests/data/registry.yaml, they are 领导 without a community or group.
DEPARTMENT_CONTACTS = (
    ("wxid_dept_cg_mq", "马群城管科张科长"),
    ("wxid_dept_cg_xl", "仙林城管科吴科长"),
    ("wxid_dept_jw_qx", "社区警务室周警官"),
)

ROUTING = {
    "物业管理": {"role": "网格员"},
    "环境卫生": {"role": "网格员"},
    "市政设施": {"department": "chengguan-maqun"},
    "治安消防": {"department": "jingwu-qixia"},
    "交通停车": {"role": "网格员"},
    "噪音扰民": {"role": "网格员"},
    "违建占道": {"department": "chengguan-maqun"},
    "养老助残": {"role": "社工"},
    "政务服务": {"role": "社工"},
    "邻里纠纷": {"role": "社工"},
    "其他": {"role": "社工"},
    "default": {"role": "社工"},
}

LEADERS = (("wxid_ld_chen", "陈建华主任"), ("wxid_ld_sun", "孙书记"))
ADMIN = ("wxid_admin_he", "小棲管理员何工")

# --- name material -------------------------------------------------------------------------
SURNAMES = (
    "王王王李李李张张张刘刘陈陈陈徐徐孙孙朱朱吴吴周周杨杨胡蒋沈丁汤钱施顾陆夏赵黄马"
    "郭何高林罗梁宋郑谢韩唐冯曹许邓彭潘袁戴葛范姜"
)
GIVEN_OLD_M = (
    "建国",
    "建华",
    "国强",
    "志明",
    "德福",
    "永康",
    "卫东",
    "振华",
    "宝根",
    "金海",
    "长林",
    "海涛",
    "文斌",
    "家荣",
    "庆生",
    "春生",
    "立新",
    "学军",
    "福根",
    "国平",
)
GIVEN_OLD_F = (
    "秀英",
    "桂英",
    "玉兰",
    "淑芬",
    "凤英",
    "红梅",
    "秀兰",
    "美华",
    "翠萍",
    "金凤",
    "素珍",
    "丽华",
    "月娥",
    "小妹",
    "桂芳",
    "巧云",
    "兰芳",
    "玉珍",
)
GIVEN_MID = (
    "伟",
    "磊",
    "军",
    "勇",
    "涛",
    "斌",
    "静",
    "燕",
    "敏",
    "娟",
    "丽",
    "芳",
    "霞",
    "红",
    "晓东",
    "海燕",
    "志强",
    "晓玲",
    "春梅",
    "建军",
    "雪梅",
    "俊",
    "鹏",
    "琳",
    "婷婷",
)
GIVEN_YOUNG = (
    "子涵",
    "浩然",
    "欣怡",
    "雨桐",
    "梓萱",
    "宇轩",
    "思远",
    "佳怡",
    "一诺",
    "晨曦",
    "若溪",
    "嘉豪",
    "诗琪",
    "梦瑶",
    "天宇",
    "可馨",
    "逸凡",
    "紫萱",
)
TITLES = ("阿姨", "阿姨", "阿姨", "叔叔", "奶奶", "爹爹", "姐", "哥", "老师", "师傅", "大姐")
KIDS = (
    "小雨",
    "豆豆",
    "乐乐",
    "朵朵",
    "糖糖",
    "果果",
    "轩轩",
    "萌萌",
    "球球",
    "安安",
    "然然",
    "小宝",
    "甜甜",
    "阳阳",
    "丁丁",
    "悠悠",
    "多多",
    "可可",
    "睿睿",
    "皮皮",
)
KIN = ("妈妈", "妈妈", "妈妈", "爸爸", "奶奶", "外婆", "爷爷")
ENGLISH = (
    "Lily",
    "Kevin",
    "Amy",
    "Jason",
    "Cathy",
    "Tony",
    "Vivian",
    "Echo",
    "Coco",
    "Jack",
    "Annie",
    "Leo",
    "Mia",
    "Sunny",
    "Grace",
    "Ryan",
    "Zoe",
    "Eric",
    "Helen",
    "Cindy",
    "Judy",
    "Frank",
    "Nancy",
    "Michael",
    "Sophie",
)
MOTTOS = (
    "🌸平安是福",
    "🍀知足常乐",
    "岁月静好🌿",
    "荷塘月色",
    "宁静致远",
    "☀️阳光总在风雨后",
    "海阔天空",
    "心若向阳",
    "淡然",
    "风轻云淡",
    "随缘",
    "家和万事兴",
    "🌹玫瑰人生",
    "静待花开",
    "开心就好😊",
    "快乐每一天",
    "夕阳红",
    "上善若水",
    "🍵清茶一杯",
    "🐟年年有余",
    "天道酬勤",
    "花开富贵🌺",
    "平平淡淡才是真",
    "微笑向暖",
    "一帆风顺⛵",
    "🌻向日葵",
    "梅香如故",
    "💐康乃馨",
    "莫问前程",
    "好运连连🍀",
    "。",
    "A🍊",
    "山水有相逢",
    "健康是福",
    "流年",
    "晴天",
)
ODD = (
    "老{s}",
    "{s}老师",
    "{s}总",
    "阿{g1}",
    "小{g1}",
    "{s}姐",
    "{g1}{g1}",
    "{s}工",
    "{s}医生",
    "A{s}师傅家电维修",
    "{s}姐烘焙",
)


def household(rng: random.Random, group: GroupSpec, tall: dict[int, int]) -> tuple[int, str]:
    """A building in the group's range and a room number on one of its floors."""
    building = rng.randint(*group.buildings)
    floor = rng.randint(1, tall[building])
    return building, f"{building}-{floor}{rng.randint(1, 4):02d}"


def display_name(rng: random.Random, word: str, building: int, room: str) -> str:
    """A WeChat group nickname, drawn from the styles seen in real neighbourhood groups."""
    s = rng.choice(SURNAMES)
    door = room.split("-", 1)[1]
    given = rng.choice(GIVEN_MID + GIVEN_OLD_F + GIVEN_OLD_M)
    english = rng.choice(ENGLISH)
    g1 = rng.choice(GIVEN_MID + GIVEN_OLD_F)[-1]
    styles: dict[str, tuple[int, Callable[[], str]]] = {
        "room_title": (
            20,
            lambda: (
                rng.choice(
                    (
                        f"{building}{word}-{door}",
                        f"{building}{word}-{door}",
                        f"{building}{word}{door}",
                        f"{building}-{door}",
                    )
                )
                + f" {s}{rng.choice(TITLES)}"
            ),
        ),
        "room_name": (
            9,
            lambda: rng.choice(
                (
                    f"{building}-{door} {s}{given}",
                    f"{s}{given}{building}-{door}",
                    f"{building}{word}{door}{s}",
                )
            ),
        ),
        "full": (22, lambda: s + rng.choice(GIVEN_OLD_M + GIVEN_OLD_F + GIVEN_MID + GIVEN_YOUNG)),
        "kid": (12, lambda: rng.choice(KIDS) + rng.choice(KIN)),
        "old_s": (6, lambda: f"{building}{word}老{s}"),
        "english": (
            8,
            lambda: rng.choice((english, english, f"{english} {s}", f"{english}_{building}{word}")),
        ),
        "motto": (13, lambda: rng.choice(MOTTOS)),
        "odd": (10, lambda: rng.choice(ODD).format(s=s, g1=g1)),
    }
    names = list(styles)
    style = rng.choices(names, weights=[styles[n][0] for n in names])[0]
    return styles[style][1]()


def residents(rng: random.Random) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    seen: set[str] = set()
    number = 0
    for c in COMMUNITIES:
        first, last = c.groups[0].buildings[0], c.groups[1].buildings[1]
        tall = {b: rng.choice((6, 6, 11, 18, 18, 26)) for b in range(first, last + 1)}
        for g in c.groups:
            households: list[tuple[int, str]] = []
            for _ in range(g.residents):
                # about one resident in six shares a flat with another (spouse, grown-up child)
                if households and rng.random() < 0.17:
                    building, room = rng.choice(households)
                else:
                    building, room = household(rng, g, tall)
                    while any(room == h for _, h in households):
                        building, room = household(rng, g, tall)
                    households.append((building, room))
                name = display_name(rng, c.word, building, room)
                while name in seen:
                    name = display_name(rng, c.word, building, room)
                seen.add(name)
                number += 1
                people.append(
                    {
                        "id": f"wxid_r{number:04d}",
                        "name": name,
                        "role": "居民",
                        "community": c.id,
                        "household": room,
                        "groups": [g.id],
                    }
                )
    # a few people are in both groups of their community (a second flat, a parent's flat)
    for person in rng.sample(people, 9):
        c = next(c for c in COMMUNITIES if c.id == person["community"])
        other = next(g.id for g in c.groups if g.id not in person["groups"])
        person["groups"] = sorted([*person["groups"], other])
    return people


def staff() -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    all_groups = [g.id for c in COMMUNITIES for g in c.groups]
    for c in COMMUNITIES:
        groups = [g.id for g in c.groups]
        sid, sname = c.social_worker
        people.append({"id": sid, "name": sname, "role": "社工", "community": c.id, "groups": groups})
        for (wid, wname), g in zip(c.grid_workers, c.groups, strict=True):
            people.append(
                {
                    "id": wid,
                    "name": wname,
                    "role": "网格员",
                    "community": c.id,
                    "grid": g.grid,
                    "groups": groups,
                }
            )
    for lid, lname in LEADERS + DEPARTMENT_CONTACTS:
        people.append({"id": lid, "name": lname, "role": "领导"})
    people.append({"id": ADMIN[0], "name": ADMIN[1], "role": "管理员", "groups": all_groups})
    return people


def property_desks() -> list[dict[str, Any]]:
    return [
        {
            "id": c.property_desk[0],
            "name": c.property_desk[1],
            "role": "居民",
            "community": c.id,
            "groups": [g.id for g in c.groups],
            "exempt": True,
        }
        for c in COMMUNITIES
    ]


def streets() -> list[dict[str, Any]]:
    out = []
    for sid, sname in STREETS:
        communities = []
        for c in COMMUNITIES:
            if c.street != sid:
                continue
            entry: dict[str, Any] = {
                "id": c.id,
                "name": c.name,
                "grids": [
                    {"id": g.grid, "name": n} for g, n in zip(c.groups, ("第一网格", "第二网格"), strict=True)
                ],
            }
            if c.routing:
                entry["routing"] = c.routing
            entry["groups"] = [{"id": g.id, "name": g.name, "grid": g.grid} for g in c.groups]
            communities.append(entry)
        out.append({"id": sid, "name": sname, "communities": communities})
    return out


HEADER = """\
# Demo district for `xiaoqi demo` and the evaluations: 栖霞区 with 2 streets, 5 communities,
# 10 WeChat groups, 10 grids, 3 departments and about 300 residents. Every place, person and id in
# it is invented. Format: docs/registry-format.md.
#
# Generated by tools/make_demo_registry.py (fixed seed): edit that script, not this file.
# Each community's property company speaks in its groups through a customer-service account,
# registered here as a 居民 without a household, exempt from advertising warnings. Besides the district's two leaders, the three
# department contacts (the people who receive a department's tickets) are 领导 in no group.
"""


class _NoAliasDumper(yaml.SafeDumper):
    """Spell shared lists out in full: anchors would make the file harder to read and edit."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120
    )


def render() -> str:
    rng = random.Random(SEED)
    people = staff() + property_desks() + residents(rng)
    parts = [
        HEADER,
        dump({"district": {"id": "qixia", "name": "栖霞区"}}),
        "\n# default routing for every community: category -> handler\n",
        dump({"routing": ROUTING}),
        "\n",
        dump({"departments": list(DEPARTMENTS)}),
        "\n",
        dump({"streets": streets()}),
        "\n# staff first, then the property desks, then the residents\n",
        dump({"people": people}),
    ]
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
