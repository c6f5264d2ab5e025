"""A generated district for `xiaoqi bench month`: streets, communities, groups, staff and residents."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GROUPS_PER_COMMUNITY = 9.2  # Qixia: 1,160 groups in 126 communities
COMMUNITIES_PER_STREET = 10.5
RESIDENTS_PER_COMMUNITY = (150, 350)
STREET_NAMES = [
    "马群",
    "仙林",
    "尧化",
    "燕子矶",
    "迈皋桥",
    "栖霞",
    "龙潭",
    "八卦洲",
    "西岗",
    "摄山",
    "靖安",
    "金陵",
    "幕府",
    "和燕",
    "新港",
    "铁北",
]
FIRST = "新紫梧桂栖仙云翠金银玉枫桃杏兰竹松柏荷月星明和康福安泰瑞"
SECOND = [
    "家园",
    "藤苑",
    "桐里",
    "语湾",
    "云里",
    "林苑",
    "景苑",
    "华府",
    "湖苑",
    "山庄",
    "花园",
    "新村",
    "佳园",
    "雅居",
    "锦城",
    "水岸",
    "翠庭",
    "馨园",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
TITLES = [
    "阿姨",
    "叔叔",
    "大爷",
    "奶奶",
    "师傅",
    "老师",
    "姐",
    "哥",
    "先生",
    "女士",
    "大姐",
    "爷爷",
    "宝妈",
    "小妹",
    "阿婆",
    "老伯",
    "同学",
    "医生",
    "会计",
    "工",
]
NICKNAMES = [
    "健康是福",
    "阿东",
    "🌈彩虹",
    "方舟",
    "岁月静好",
    "平安喜乐",
    "开心就好",
    "海阔天空",
    "向日葵🌻",
    "知足常乐",
    "蓝天白云",
    "小鱼儿",
    "清风徐来",
    "静待花开",
    "老顽童",
    "淡定",
    "风雨同舟",
    "阳光男孩",
    "随缘",
    "一路有你",
    "晨曦",
    "秋水",
    "幸福一家人",
    "花开富贵",
    "小太阳",
    "Lucky",
    "大海",
    "Tina",
    "云淡风轻",
    "冬冬妈妈",
]


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    building: int = 0  # residents only: where they live
    door: str = ""


@dataclass
class GroupPlan:
    id: str
    name: str
    community: CommunityPlan
    grid: str
    buildings: list[int]
    activity: float  # relative share of the district's traffic
    residents: list[Member] = field(default_factory=list)
    talk: list[float] = field(default_factory=list)  # cumulative talkativeness of `residents`
    grid_worker: Member | None = None


@dataclass
class CommunityPlan:
    id: str
    name: str
    street: str
    word: str  # 栋 or 幢
    social_worker: Member
    grid_workers: list[Member]
    property: Member
    groups: list[GroupPlan] = field(default_factory=list)


@dataclass
class DistrictPlan:
    streets: list[tuple[str, str]]
    communities: list[CommunityPlan]
    groups: list[GroupPlan]
    leaders: list[Member]
    departments: list[tuple[str, str, str | None, Member]]  # id, name, street, contact
    admin: Member
    residents: int

    @property
    def people(self) -> int:
        staff = sum(2 + len(c.grid_workers) for c in self.communities)
        return self.residents + staff + len(self.leaders) + len(self.departments) + 1


def _spread(total: int, parts: int, rng: random.Random, skew: float) -> list[int]:
    """`total` split into `parts` counts of at least one each, uneven by a log-normal factor."""
    weights = [rng.lognormvariate(0, skew) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


def plan_district(groups: int, seed: int) -> DistrictPlan:
    """About 9 groups per community and 10 communities per street, as in Qixia, scaled to `groups`."""
    rng = random.Random(seed)
    n_communities = max(1, round(groups / GROUPS_PER_COMMUNITY))
    n_streets = max(1, round(n_communities / COMMUNITIES_PER_STREET))
    streets = [
        (f"st{i + 1:02d}", f"{STREET_NAMES[i]}街道" if i < len(STREET_NAMES) else f"第{i + 1}街道")
        for i in range(n_streets)
    ]
    names = rng.sample([a + b for a in FIRST for b in SECOND], n_communities)
    per_community = _spread(groups, n_communities, rng, 0.35)
    communities: list[CommunityPlan] = []
    all_groups: list[GroupPlan] = []
    residents = 0
    for c_i, (short, n_groups) in enumerate(zip(names, per_community, strict=True)):
        cid = f"c{c_i + 1:03d}"
        community = CommunityPlan(
            id=cid,
            name=f"{short}社区",
            street=streets[c_i % n_streets][0],
            word=rng.choice("栋栋幢"),
            social_worker=Member(f"wxid_sg_{cid}", f"{short}社工{_person(rng)}"),
            grid_workers=[
                Member(f"wxid_wg_{cid}_{k + 1}", f"{short}网格员{_person(rng)}")
                for k in range(rng.choice((1, 2, 2)))
            ],
            property=Member(f"wxid_wy_{cid}", f"{short}物业客服"),
        )
        buildings = list(range(1, max(6, 3 * n_groups) + 1))
        chunk = max(1, len(buildings) // n_groups)
        for g_i in range(n_groups):
            mine = buildings[g_i * chunk : (g_i + 1) * chunk] or buildings[-chunk:]
            grid = g_i % len(community.grid_workers)
            group = GroupPlan(
                id=f"{cid}-{g_i + 1}@chatroom",
                name=f"{short}{mine[0]}-{mine[-1]}{community.word}邻里群",
                community=community,
                grid=f"{cid}-g{grid + 1}",
                buildings=mine,
                activity=rng.lognormvariate(0, 1.0),  # a few groups are far busier than most
                grid_worker=community.grid_workers[grid],
            )
            community.groups.append(group)
        n_residents = rng.randint(*RESIDENTS_PER_COMMUNITY)
        for r_i in range(n_residents):
            home = rng.choice(community.groups)
            building = rng.choice(home.buildings)
            door = f"{rng.randint(1, 18)}0{rng.randint(1, 4)}"
            name = (
                f"{building}{community.word}-{door} {_person(rng)}"
                if rng.random() < 0.6
                else rng.choice(NICKNAMES) + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
            )
            member = Member(f"wxid_{cid}_r{r_i + 1:04d}", name, building, door)
            joined = [home]
            if len(community.groups) > 1 and rng.random() < 0.15:
                joined.append(rng.choice([g for g in community.groups if g is not home]))
            for group in joined:
                group.residents.append(member)
                talk = rng.paretovariate(1.3)
                group.talk.append(talk + (group.talk[-1] if group.talk else 0.0))
        residents += n_residents
        communities.append(community)
        all_groups.extend(community.groups)
    departments: list[tuple[str, str, str | None, Member]] = [
        (
            f"chengguan-{sid}",
            f"{sname}城管科",
            sid,
            Member(f"wxid_dept_cg_{sid}", f"{sname}城管科{_person(rng)}"),
        )
        for sid, sname in streets
    ]
    departments.append(("jingwu", "公安分局社区警务室", None, Member("wxid_dept_jw", "社区警务室周警官")))
    return DistrictPlan(
        streets=streets,
        communities=communities,
        groups=all_groups,
        leaders=[Member("wxid_ld_1", "陈建华主任"), Member("wxid_ld_2", "孙书记")],
        departments=departments,
        admin=Member("wxid_admin", "小棲管理员何工"),
        residents=residents,
    )


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(TITLES)


ROUTING = {
    "物业管理": {"role": "网格员"},
    "环境卫生": {"role": "网格员"},
    "交通停车": {"role": "网格员"},
    "噪音扰民": {"role": "网格员"},
    "治安消防": {"department": "jingwu"},
    "养老助残": {"role": "社工"},
    "政务服务": {"role": "社工"},
    "邻里纠纷": {"role": "社工"},
    "其他": {"role": "社工"},
    "default": {"role": "社工"},
}


def registry_document(plan: DistrictPlan) -> dict[str, Any]:
    """The plan in the registry format of docs/registry-format.md."""
    people: list[dict[str, Any]] = []
    streets: dict[str, list[dict[str, Any]]] = {sid: [] for sid, _ in plan.streets}
    for c in plan.communities:
        group_ids = [g.id for g in c.groups]
        streets[c.street].append(
            {
                "id": c.id,
                "name": c.name,
                "grids": [
                    {"id": f"{c.id}-g{k + 1}", "name": f"第{k + 1}网格"} for k in range(len(c.grid_workers))
                ],
                "routing": {
                    "市政设施": {"department": f"chengguan-{c.street}"},
                    "违建占道": {"department": f"chengguan-{c.street}"},
                },
                "groups": [{"id": g.id, "name": g.name, "grid": g.grid} for g in c.groups],
            }
        )
        sw = c.social_worker
        people.append({"id": sw.id, "name": sw.name, "role": "社工", "community": c.id, "groups": group_ids})
        for k, gw in enumerate(c.grid_workers):
            mine = [g.id for g in c.groups if g.grid == f"{c.id}-g{k + 1}"]
            people.append(
                {
                    "id": gw.id,
                    "name": gw.name,
                    "role": "网格员",
                    "community": c.id,
                    "grid": f"{c.id}-g{k + 1}",
                    "groups": mine,
                }
            )
        wy = c.property
        people.append(
            {
                "id": wy.id,
                "name": wy.name,
                "role": "居民",
                "community": c.id,
                "exempt": True,
                "groups": group_ids,
            }
        )
        members: dict[str, tuple[Member, list[str]]] = {}
        for g in c.groups:
            for r in g.residents:
                members.setdefault(r.id, (r, []))[1].append(g.id)
        for r, groups in sorted(members.values(), key=lambda m: m[0].id):
            people.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "role": "居民",
                    "community": c.id,
                    "household": f"{r.building}-{r.door}",
                    "groups": groups,
                }
            )
    people += [{"id": m.id, "name": m.name, "role": "领导"} for m in plan.leaders]
    people += [{"id": d[3].id, "name": d[3].name, "role": "领导"} for d in plan.departments]
    people.append({"id": plan.admin.id, "name": plan.admin.name, "role": "管理员"})
    return {
        "district": {"id": "bench", "name": "栖霞区"},
        "routing": ROUTING,
        "departments": [
            {"id": i, "name": n, **({"street": s} if s else {}), "contact": m.id}
            for i, n, s, m in plan.departments
        ],
        "streets": [{"id": sid, "name": name, "communities": streets[sid]} for sid, name in plan.streets],
        "people": people,
    }


def write_registry(plan: DistrictPlan, path: Path) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as sink:
        sink.write("# Generated by `xiaoqi bench month`: every place, person and id is invented.\n")
        yaml.dump(
            registry_document(plan), sink, Dumper=dumper, allow_unicode=True, sort_keys=False, width=200
        )
