"""Write data/demo/month.jsonl: October 2026 of traffic in the ten demo groups.

The month is composed from the demo registry and the hand-written pools, threads and scenes of
data/demo/scenes.yaml. Scenes (a lift breaks, the water goes off, a cat is lost, ...) happen on
their days; everyday threads (greetings, chatter, questions, complaints, notices, ads, pictures,
voice messages) fill each group's days with the rhythm of a real neighbourhood group: busy
mornings and evenings, quiet nights, a different pace at weekends and over the National Day
holiday. A fixed seed makes every run write the same file.

Every line carries a `label` saying what it is (docs/conversations.md), so the month can be
measured: ticket:P, echo:P, emergency:E, question or none. The material says the kind (each pool,
pool item, written thread line and scene step; see the head of scenes.yaml) and the generator
gives each problem its id: p0001, ... for everyday complaints (e0001, ... for an everyday
emergency), s-<scene id>-<n> for the n-th play of a scene. Labelling draws no random numbers,
so the labels change nothing else in the month.

    python tools/make_demo_month.py [--registry ...] [--scenes ...] [--out ...] [--stats]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import yaml

SEED = 20261031
ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
TZ = timezone(timedelta(hours=8))
FIRST_DAY = date(2026, 10, 1)
DAYS = 31
MONTH_END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=TZ)
BOT_NAME = "小棲"
BOT_ID = "xiaoqi"

# State Council schedule for 2026: National Day holiday Oct 1-7, make-up working day Sat Oct 10.
HOLIDAY = frozenset(range(1, 8))
MAKEUP_WORKDAY = frozenset({10})
BACK_TO_WORK = max(HOLIDAY) + 1

# Relative weight of each hour of the day for the start of an everyday thread.
HOURLY = {
    "workday": (
        0.3,
        0.12,
        0.05,
        0.03,
        0.05,
        0.25,
        1.2,
        3.6,
        4.6,
        3.8,
        2.4,
        2.0,
        2.2,
        1.3,
        1.5,
        1.5,
        1.7,
        2.2,
        2.6,
        3.6,
        4.4,
        3.9,
        2.0,
        0.7,
    ),
    "weekend": (
        0.5,
        0.2,
        0.08,
        0.04,
        0.05,
        0.15,
        0.6,
        1.8,
        3.4,
        4.2,
        3.8,
        2.8,
        2.4,
        1.6,
        1.8,
        2.0,
        2.0,
        2.3,
        2.6,
        3.6,
        4.2,
        3.8,
        2.4,
        1.0,
    ),
    "holiday": (
        0.6,
        0.25,
        0.1,
        0.04,
        0.04,
        0.1,
        0.4,
        1.4,
        3.0,
        4.0,
        4.0,
        3.0,
        2.6,
        1.8,
        1.8,
        2.0,
        2.2,
        2.6,
        2.8,
        3.8,
        4.4,
        4.0,
        2.8,
        1.2,
    ),
}
# Everyday threads per group per day, for a group of average size.
THREADS_PER_DAY = {"workday": 4.2, "weekend": 4.7, "holiday": 5.0}
FIRST_OF_OCTOBER_BOOST = 1.2

# Which everyday thread starts, by part of the day.
THREAD_WEIGHTS: dict[str, dict[str, float]] = {
    "night": {"night": 22, "chatter": 3, "ad": 1.5, "voice": 0.5, "recall": 0.5},
    "morning": {
        "morning": 30,
        "chatter": 14,
        "weather": 9,
        "staff_notice": 4,
        "qa": 6,
        "bot_question": 2.2,
        "petition": 4.5,
        "bot_petition": 2.4,
        "link": 4,
        "voice": 2,
        "photo": 2,
        "ad": 1,
        "recall": 0.6,
        "praise": 1.4,
        "suggestion": 1.2,
        "property_notice": 1.5,
    },
    "day": {
        "chatter": 28,
        "weather": 4,
        "food": 6,
        "photo": 5,
        "staff_notice": 6,
        "property_notice": 3,
        "qa": 8,
        "bot_question": 3,
        "petition": 5.5,
        "bot_petition": 2.6,
        "suggestion": 2,
        "praise": 2,
        "ad": 1.6,
        "link": 4,
        "miniprogram": 2.2,
        "voice": 2,
        "secondhand": 2.2,
        "recall": 0.8,
    },
    "evening": {
        "evening": 9,
        "chatter": 30,
        "weather": 3,
        "food": 9,
        "photo": 6,
        "staff_notice": 2,
        "qa": 8,
        "bot_question": 3,
        "petition": 5.5,
        "bot_petition": 2.6,
        "suggestion": 2,
        "praise": 2.2,
        "ad": 1.2,
        "link": 4,
        "miniprogram": 2,
        "voice": 1.6,
        "secondhand": 2,
        "recall": 0.8,
    },
}
# Added to the weights above on days of a kind (not at night).
EXTRA_WEIGHTS: dict[str, dict[str, float]] = {
    "holiday": {"holiday": 26, "photo": 4},
    "weekend": {"weekend": 5},
    "back_to_work": {"workday_back": 30},
    "makeup_day": {"makeup_day": 30},
}
QUIET_DAY_NOTICES = 0.3  # share of staff notices left on weekends and holidays
MINIPROGRAMS_BY_STAFF = ("报名", "登记", "问卷", "投票", "招募", "义诊")
ADVERTISER_NAMES = re.compile(r"维修|烘焙|总$")
# nicknames that say "older woman", for scenes where staff call the resident 阿姨
OLDER_WOMAN = re.compile(
    r"阿姨|奶奶|外婆|大姐|秀英|桂英|玉兰|淑芬|凤英|秀兰|美华|翠萍|金凤|素珍|"
    r"丽华|月娥|桂芳|巧云|兰芳|玉珍"
)
LEAVERS = 5  # residents who leave a group during the month (moved away)

T = TypeVar("T")
Item = str | dict[str, str]


@dataclass
class Person:
    id: str
    name: str
    role: str
    household: str | None
    groups: list[str]
    grid: str | None = None
    weight: float = 1.0  # how talkative
    joined: datetime | None = None
    left: dict[str, datetime] = field(default_factory=dict)

    def building(self) -> int | None:
        return int(self.household.split("-")[0]) if self.household else None

    def door(self) -> str | None:
        return self.household.split("-", 1)[1] if self.household else None

    def present(self, group: str, at: datetime) -> bool:
        if self.joined and at <= self.joined:
            return False
        left = self.left.get(group)
        return not (left and at >= left)


@dataclass
class Group:
    id: str
    community: str
    community_name: str
    grid: str | None
    word: str  # 栋 or 幢
    residents: list[Person] = field(default_factory=list)
    grid_worker: Person | None = None
    social_worker: Person | None = None
    property: Person | None = None
    buildings: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Message:
    at: datetime
    group: str
    sender: Person
    text: str
    kind: str
    mentions: tuple[str, ...]
    source: str  # the pool or scene it came from, for --stats
    label: str = "none"  # what the line is: ticket:P, echo:P, emergency:E, question or none


ROLES = {
    "居民": "resident",
    "社工": "social worker",
    "网格员": "grid worker",
    "领导": "leader",
    "管理员": "admin",
    "resident": "resident",
    "social_worker": "social worker",
    "grid_worker": "grid worker",
    "leader": "leader",
    "admin": "admin",
}


# How the material labels a line: a kind, and for a scene's second problem a letter (ticket:b).
WRITTEN_LABEL = re.compile(r"(none|question|(ticket|echo|emergency)(:[a-z])?)")
POOL_LABEL = re.compile(r"none|question|ticket|echo|emergency")


class Problems:
    """The problems one thread or one played scene reports: turns each line's label as the
    material writes it into the label of the month, giving each problem its id."""

    def __init__(self, new_id: Callable[[str, str], str], where: str = "") -> None:
        self.new_id = new_id  # (kind, letter) -> a new id
        self.where = where  # a scene, where an echo must follow its problem
        self.found: dict[str, tuple[str, str]] = {}  # letter -> kind, id

    def label(self, written: str) -> str:
        kind, _, letter = written.partition(":")
        if kind in ("none", "question"):
            return kind
        if kind in ("ticket", "emergency") and letter not in self.found:
            self.found[letter] = kind, self.new_id(kind, letter)
        if letter not in self.found:
            if self.where:
                raise SystemExit(f"{self.where}: {written} before the problem is reported")
            return "none"  # agreeing with a thread that reports nothing
        known, pid = self.found[letter]
        if "emergency" in (kind, known):
            return f"emergency:{pid}"  # reports to an emergency, and its echoes, are part of it
        return f"{kind}:{pid}"


def pool_labels(material: dict[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The label of every pool item by pool and text (its own, or its pool's), and the items'
    own labels; checks that the material labels every line it can."""
    of_pool = {pool: label for label, pools in material["pool_labels"].items() for pool in pools}
    if not all(POOL_LABEL.fullmatch(label) for label in material["pool_labels"]):
        raise SystemExit(f"pool_labels: unknown label in {sorted(material['pool_labels'])}")
    if sorted(of_pool) != sorted(material["pools"]) or len(of_pool) != sum(
        len(p) for p in material["pool_labels"].values()
    ):
        raise SystemExit("pool_labels must name every pool exactly once")
    labels: dict[str, dict[str, str]] = {}
    own: dict[str, dict[str, str]] = {}
    for pool, items in material["pools"].items():
        labels[pool], own[pool] = {}, {}
        for item in items:
            text = item if isinstance(item, str) else item["text"]
            if isinstance(item, dict) and "label" in item:
                own[pool][text] = item["label"]
            label = own[pool].get(text, of_pool[pool])
            if not POOL_LABEL.fullmatch(label) or text in labels[pool]:
                raise SystemExit(f"pool {pool}: bad label or repeated text: {text}")
            labels[pool][text] = label
    for section in ("qa", "chatter_threads"):
        for thread in material[section]:
            for step in thread:
                if not WRITTEN_LABEL.fullmatch(step.get("label", "none")) or ":" in step.get("label", ""):
                    raise SystemExit(f"{section}: bad label in {step}")
    for scene in material["scenes"]:
        for step in scene["steps"]:
            if not WRITTEN_LABEL.fullmatch(str(step.get("label"))):
                raise SystemExit(f"scene {scene['id']}: every step needs a label: {step}")
    return labels, own


def load_groups(registry: dict[str, Any]) -> dict[str, Group]:
    groups = {}
    for street in registry["streets"]:
        for c in street["communities"]:
            word = "幢" if any("幢" in g["name"] for g in c["groups"]) else "栋"
            short = c["name"].removesuffix("社区")
            for g in c["groups"]:
                groups[g["id"]] = Group(g["id"], c["id"], short, g.get("grid"), word)
    return groups


def load_people(registry: dict[str, Any], groups: dict[str, Group], rng: random.Random) -> dict[str, Person]:
    """People by id, each placed in its groups: residents with a household as residents, the
    household-less resident of a community as its property desk, and the staff."""
    people = {}
    for p in registry["people"]:
        person = Person(
            p["id"], p["name"], ROLES[p["role"]], p.get("household"), list(p.get("groups", [])), p.get("grid")
        )
        people[person.id] = person
        for gid in person.groups:
            g = groups[gid]
            if person.role == "resident" and person.household:
                g.residents.append(person)
            elif person.role == "resident":
                g.property = person
            elif person.role == "social worker":
                g.social_worker = person
            elif person.role == "grid worker" and (g.grid_worker is None or person.grid == g.grid):
                g.grid_worker = person
    for g in groups.values():
        g.buildings = sorted({b for p in g.residents if (b := p.building()) is not None})
    # a few people do most of the talking; about one in five only reads
    for person in sorted(people.values(), key=lambda p: p.id):
        talk = min(rng.paretovariate(1.3), 8.0)
        person.weight = talk * (0.08 if rng.random() < 0.2 else 1.0)
    return people


def day_kind(day: date) -> str:
    if day.day in HOLIDAY:
        return "holiday"
    if day.day in MAKEUP_WORKDAY:
        return "workday"
    return "workday" if day.weekday() < 5 else "weekend"


def part_of_day(hour: int) -> str:
    if hour >= 23 or hour < 6:
        return "night"
    if hour < 10:
        return "morning"
    return "day" if hour < 19 else "evening"


def _range(value: str) -> tuple[int, int]:
    lo, hi = value.split("-")
    return int(lo), int(hi)


def minutes(rng: random.Random, value: Any, default: float) -> float:
    """Minutes to wait, from a scene: a number, "a-b", or nothing."""
    if value is None:
        return default
    if isinstance(value, str):
        return rng.uniform(*_range(value))
    return float(value)


def how_many(rng: random.Random, value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, str):
        return rng.randint(*_range(value))
    return int(value)


def fits(item: dict[str, str], at: datetime) -> bool:
    """Whether a pool item bound to some hours or days of October may be said at `at`."""
    for key, now in (("hours", at.hour), ("days", at.day)):
        if key in item:
            lo, hi = _range(item[key])
            if not lo <= now < hi:
                return False
    return True


def fits_needs(person: Person, needs: str | None) -> bool:
    if needs == "high_floor":
        return int(person.door() or "0") >= 700
    if needs == "older_woman":
        return OLDER_WOMAN.search(person.name) is not None
    return True


def first_text(thread: list[dict[str, Any]]) -> str:
    return str(thread[0]["text"])


def short_name(person: Person | None) -> str:
    """How residents address a staff member: the personal name at the end of the nickname."""
    if person is None:
        return "网格员"
    return re.sub(r"^.*(社工|网格员|网格)", "", person.name) or person.name


def clock(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), TZ)


class Month:
    """Everything said in the demo groups in October, and the choices that shape it."""

    def __init__(self, registry: dict[str, Any], material: dict[str, Any], seed: int) -> None:
        self.rng = random.Random(seed)
        self.groups = load_groups(registry)
        self.people = load_people(registry, self.groups, self.rng)
        self.admin = next((p for p in self.people.values() if p.role == "admin"), None)
        self.pools: dict[str, list[Item]] = material["pools"]
        self.qa: list[list[dict[str, Any]]] = material["qa"]
        self.asks: list[list[dict[str, Any]]] = material["chatter_threads"]
        self.scenes: list[dict[str, Any]] = material["scenes"]
        self.labels, self.own_labels = pool_labels(material)
        self.problem_count: Counter[str] = Counter()  # everyday problems: p (tickets), e (emergencies)
        self.plays: Counter[str] = Counter()  # how often each scene has been played
        self.newcomer_names: list[str] = material["newcomers"]
        self.messages: list[Message] = []
        self.uses: Counter[str] = Counter()
        self.in_scenes: set[str] = set()
        self.removed: set[str] = set()  # people a scene removes from a group; they say no more
        self.advertisers: list[Person] = []
        self.newcomers = 0

    def compose(self) -> list[Message]:
        self.play_scenes()
        self.choose_leavers()
        self.choose_advertisers()
        self.fill_days()
        kept = [m for m in self.messages if m.at <= MONTH_END]
        return sorted(kept, key=lambda m: (m.at, m.group))

    # ---- people ------------------------------------------------------------------------
    def resident(
        self,
        group: Group,
        at: datetime,
        avoid: Collection[str] = (),
        *,
        needs: str | None = None,
        near: int | None = None,
    ) -> Person:
        """A resident present in the group at that time; talkative ones and, when asked, those
        living in building `near` are likelier."""
        present = [p for p in group.residents if p.present(group.id, at)]
        pool = [
            p for p in present if p.id not in avoid and p.id not in self.removed and fits_needs(p, needs)
        ] or present
        weights = [p.weight * (8 if near is not None and p.building() == near else 1) for p in pool]
        return self.rng.choices(pool, weights=weights)[0]

    def staff(self, group: Group, role: str) -> Person:
        person = {
            "grid worker": group.grid_worker,
            "social worker": group.social_worker,
            "property": group.property,
            "admin": self.admin,
        }[role]
        if person is None:
            raise SystemExit(f"{group.id} has no {role} in the registry")
        return person

    def newcomer(self, group: Group) -> Person:
        """Someone not in the registry, who will join the group."""
        self.newcomers += 1
        door = f"{self.rng.randint(2, 18)}{self.rng.randint(1, 4):02d}"
        person = Person(
            f"wxid_new{self.newcomers:03d}",
            "",
            "resident",
            f"{self.rng.choice(group.buildings)}-{door}",
            [group.id],
        )
        template = self.newcomer_names[(self.newcomers - 1) % len(self.newcomer_names)]
        person.name = self.fill(template, group, person, [])
        self.people[person.id] = person
        group.residents.append(person)
        return person

    # ---- texts -------------------------------------------------------------------------
    def everyday_id(self, kind: str, letter: str) -> str:
        prefix = "e" if kind == "emergency" else "p"
        self.problem_count[prefix] += 1
        return f"{prefix}{self.problem_count[prefix]:04d}"

    def fresh(self, items: Sequence[T], key: Callable[[T], str]) -> T:
        """One of the items, preferring what the month has used least, so no text wears out."""
        weights = [1 / (1 + self.uses[key(i)]) ** 2 for i in items]
        item = self.rng.choices(items, weights=weights)[0]
        self.uses[key(item)] += 1
        return item

    def pick(self, pool: str, at: datetime) -> str:
        """A text from a pool; an item bound to some hours or days only when `at` is in them."""
        items = self.pools[pool]
        usable = [i for i in items if isinstance(i, str) or fits(i, at)] or items
        return self.fresh([i if isinstance(i, str) else i["text"] for i in usable], str)

    def fill(
        self, text: str, group: Group, about: Person, mentions: list[str], unit: int | None = None
    ) -> str:
        """The text with its placeholders filled for `about` (the one the text is about)."""
        rng = self.rng
        building = about.building() or rng.choice(group.buildings)
        door = about.door() or f"{rng.randint(2, 6)}0{rng.randint(1, 2)}"
        others = [b for b in group.buildings if b != building] or group.buildings
        values = {
            "bld": str(building),
            "room": door,
            "floor": door[:-2],
            "oroom": door[:-2] + rng.choice([f"0{n}" for n in range(1, 5) if f"0{n}" != door[-2:]]),
            "unit": str(unit or rng.randint(1, 3)),
            "obld": str(rng.choice(others)),
            "word": group.word,
            "community": group.community_name,
            "gw": short_name(group.grid_worker),
            "sw": short_name(group.social_worker),
            "wy": group.property.name if group.property else "物业",
            "phone": "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9)),
            "plate": "苏A" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=5)),
            "nname": rng.choice(group.residents).name,
        }

        def at_mention(match: re.Match[str]) -> str:
            role = {"gw": "grid worker", "sw": "social worker", "wy": "property"}[match[1]]
            person = self.staff(group, role)
            if person.id not in mentions:
                mentions.append(person.id)
            return "@" + person.name

        text = re.sub(r"\{@(gw|sw|wy)\}", at_mention, text)
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text)

    def say(
        self,
        at: datetime,
        group: Group,
        sender: Person,
        text: str,
        *,
        kind: str = "text",
        source: str = "",
        about: Person | None = None,
        unit: int | None = None,
        label: str = "none",
    ) -> None:
        mentions: list[str] = []
        text = self.fill(text, group, about or sender, mentions, unit)
        if text.startswith("@" + BOT_NAME):
            mentions.insert(0, BOT_ID)
        self.messages.append(Message(at, group.id, sender, text, kind, tuple(mentions), source, label))

    # ---- scenes ------------------------------------------------------------------------
    def play_scenes(self) -> None:
        """Each scene in the file, on its day or on days of its kind, in groups taken in turn."""
        order = sorted(self.groups.values(), key=lambda g: g.id)
        self.rng.shuffle(order)
        turn = 0
        for scene in self.scenes:
            for start in self.scene_starts(scene):
                if scene["when"].get("every"):  # in every group, not all at the same minute
                    for group in sorted(self.groups.values(), key=lambda g: g.id):
                        self.play(scene, group, start + timedelta(minutes=self.rng.randint(0, 60)))
                    continue
                self.play(scene, order[turn % len(order)], start)
                turn += 1

    def scene_starts(self, scene: dict[str, Any]) -> list[datetime]:
        when = scene["when"]
        if "date" in when:
            hh, mm = _range(str(when["at"]).replace(":", "-"))
            return [clock(date.fromisoformat(str(when["date"])), hh, mm)]
        reach = max(int(s.get("day", 0)) for s in scene["steps"])
        wanted = when.get("days", "any")
        days = [
            d
            for d in (FIRST_DAY + timedelta(n) for n in range(DAYS - reach))
            if wanted == "any" or day_kind(d) == wanted
        ]
        lo, hi = _range(str(when.get("hours", "8-21")))
        return [
            clock(day, self.rng.randint(lo, hi - 1), self.rng.randint(0, 59))
            for day in sorted(self.rng.sample(days, int(when.get("count", 1))))
        ]

    def cast(self, scene: dict[str, Any], group: Group, start: datetime) -> dict[str, Person]:
        """The fixed roles of a scene: its resident, a neighbour, a newcomer."""
        roles = {s["role"] for s in scene["steps"]}
        leaving = {s["role"] for s in scene["steps"] if s.get("kind") == "leave"}
        cast: dict[str, Person] = {}
        if "resident" in roles:
            cast["resident"] = self.resident(group, start, needs=scene.get("needs"))
        if "neighbour" in roles:
            # someone removed from the group must not have spoken in scenes played before
            avoid = {p.id for p in cast.values()} | (self.in_scenes if "neighbour" in leaving else set())
            near = cast["resident"].building() if scene.get("near") and cast else None
            cast["neighbour"] = self.resident(group, start, avoid, near=near)
        if "newcomer" in roles:
            cast["newcomer"] = self.newcomer(group)
        return cast

    def play(self, scene: dict[str, Any], group: Group, start: datetime) -> None:
        rng = self.rng
        cast = self.cast(scene, group, start)
        near = cast["resident"].building() if scene.get("near") and "resident" in cast else None
        used = {p.id for p in cast.values()}
        unit = rng.randint(1, 3)
        self.plays[scene["id"]] += 1
        play = f"s-{scene['id']}-{self.plays[scene['id']]}"
        problems = Problems(lambda kind, letter: play + letter, "scene " + scene["id"])
        at = start
        for i, step in enumerate(scene["steps"]):
            at = self.step_time(step, at, first=i == 0)
            for n in range(how_many(rng, step.get("count"))):
                if n:
                    at += timedelta(seconds=rng.randint(15, 150))
                role = step["role"]
                if role in cast:
                    speaker = cast[role]
                elif role == "another resident":
                    speaker = self.resident(group, at, used, near=near)
                    used.add(speaker.id)
                else:
                    speaker = self.staff(group, role)
                label = step["label"]
                if "pool" in step:  # a pooled line speaks for its speaker
                    text, about = self.pick(step["pool"], at), speaker
                    label = self.own_labels[step["pool"]].get(text, label)
                else:
                    text, about = step.get("text", ""), cast.get("resident", speaker)
                kind = step.get("kind", "text")
                self.say(
                    at,
                    group,
                    speaker,
                    text,
                    kind=kind,
                    source="scene:" + scene["id"],
                    about=about,
                    unit=unit,
                    label=problems.label(label),
                )
                if kind == "join":
                    speaker.joined = at
                elif kind == "leave":
                    speaker.left[group.id] = at
                    self.removed.add(speaker.id)
        self.in_scenes |= used

    def step_time(self, step: dict[str, Any], at: datetime, *, first: bool) -> datetime:
        """When a scene's step starts: `day` days later at a time, or `after` minutes."""
        rng = self.rng
        if "day" in step:
            hh, mm = _range(str(step["at"]).replace(":", "-"))
            return clock(at.date() + timedelta(int(step["day"])), hh, mm) + timedelta(
                seconds=rng.randint(0, 240)
            )
        if first:
            return at + timedelta(seconds=rng.randint(0, 90))
        wait = minutes(rng, step.get("after"), rng.uniform(1, 6))
        return at + timedelta(seconds=max(8, wait * 60 * rng.uniform(0.75, 1.25)))

    # ---- everyday life -----------------------------------------------------------------
    def everyday_residents(self) -> list[Person]:
        return sorted(
            (
                p
                for g in self.groups.values()
                for p in g.residents
                if p.id not in self.in_scenes and p.id not in self.removed and p.joined is None
            ),
            key=lambda p: p.id,
        )

    def choose_leavers(self) -> None:
        """A handful of residents leave a group (moved away) and say nothing there afterwards."""
        for person in self.rng.sample(self.everyday_residents(), LEAVERS):
            gid = person.groups[0]
            day = FIRST_DAY + timedelta(self.rng.randint(9, 29))
            at = clock(day, self.rng.randint(8, 21), self.rng.randint(0, 59), self.rng.randint(0, 59))
            person.left[gid] = at
            self.say(at, self.groups[gid], person, "", kind="leave", source="leave")

    def choose_advertisers(self) -> None:
        """The residents who post ads: the ones whose nicknames sell something, and a few more."""
        residents = self.everyday_residents()
        self.advertisers = [p for p in residents if ADVERTISER_NAMES.search(p.name)]
        self.advertisers += self.rng.sample(residents, 4)

    def fill_days(self) -> None:
        mean_size = sum(len(g.residents) for g in self.groups.values()) / len(self.groups)
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(offset)
            for group in sorted(self.groups.values(), key=lambda g: g.id):
                rate = THREADS_PER_DAY[day_kind(day)] * (len(group.residents) / mean_size) ** 0.8
                if day == FIRST_DAY:
                    rate *= FIRST_OF_OCTOBER_BOOST
                for _ in range(self.poisson(rate)):
                    hour = self.rng.choices(range(24), weights=HOURLY[day_kind(day)])[0]
                    start = clock(day, hour, self.rng.randint(0, 59), self.rng.randint(0, 59))
                    kind = self.thread_kind(day, hour)
                    PLAYERS[kind](Thread(self, group, start), kind)

    def poisson(self, rate: float) -> int:
        limit, k, p = math.exp(-rate), 0, self.rng.random()
        while p > limit:
            p *= self.rng.random()
            k += 1
        return k

    def thread_kind(self, day: date, hour: int) -> str:
        part = part_of_day(hour)
        weights = dict(THREAD_WEIGHTS[part])
        kind = day_kind(day)
        extra: dict[str, float] = {}
        if part != "night" and kind in ("holiday", "weekend"):
            extra = EXTRA_WEIGHTS[kind]
            weights["staff_notice"] = weights.get("staff_notice", 0) * QUIET_DAY_NOTICES
        if part == "morning" and day.day == BACK_TO_WORK:
            extra = EXTRA_WEIGHTS["back_to_work"]
        if part == "morning" and day.day in MAKEUP_WORKDAY:
            extra = EXTRA_WEIGHTS["makeup_day"]
        for name, w in extra.items():
            weights[name] = weights.get(name, 0) + w
        names = sorted(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]


class Thread:
    """One everyday conversation in one group: its clock and who has spoken in it."""

    def __init__(self, month: Month, group: Group, start: datetime) -> None:
        self.month = month
        self.rng = month.rng
        self.group = group
        self.at = start
        self.opener = month.resident(group, start)
        self.talked = {self.opener.id}
        self.problems = Problems(month.everyday_id)

    def wait(self, lo: float = 0.3, hi: float = 6.0) -> None:
        """Let some minutes pass, between lo and hi give or take a half."""
        spread = self.rng.uniform(0.5, 1.5)
        self.at += timedelta(seconds=int(60 * self.rng.uniform(lo, hi) * spread) + 5)

    def other(self) -> Person:
        person = self.month.resident(self.group, self.at, self.talked)
        self.talked.add(person.id)
        return person

    def post(
        self,
        sender: Person,
        text: str,
        kind: str,
        source: str,
        *,
        about: Person | None = None,
        unit: int | None = None,
        label: str = "none",
    ) -> None:
        if not sender.present(self.group.id, self.at):
            return  # left the group before the thread got this far
        self.month.say(
            self.at,
            self.group,
            sender,
            text,
            kind=kind,
            source=source,
            about=about,
            unit=unit,
            label=self.problems.label(label),
        )

    def line(
        self,
        sender: Person,
        pool: str,
        kind: str = "text",
        *,
        about: Person | None = None,
        unit: int | None = None,
    ) -> None:
        text = self.month.pick(pool, self.at)
        self.post(sender, text, kind, pool, about=about, unit=unit, label=self.month.labels[pool][text])

    def image(self, sender: Person, label: str = "none") -> None:
        """A picture: of the complaint when `label` says so (ticket), else of nothing to act on."""
        self.post(sender, "[图片]", "image", "image", label=label)

    def replies(self, pool: str, lo: int, hi: int, extra: str | None = None) -> None:
        """A few replies by other residents, mostly few; some from `extra` (laughs)."""
        said: set[str] = set()
        for _ in range(min(self.rng.randint(lo, hi), self.rng.randint(lo, hi))):
            self.wait()
            use = extra if extra and self.rng.random() < 0.3 else pool
            text = self.month.pick(use, self.at)
            if text not in said:
                said.add(text)
                self.post(self.other(), text, "text", use, label=self.month.labels[use][text])

    def written(self, thread: list[dict[str, Any]], source: str) -> None:
        """A thread written out in full: the opener asks, the others answer as written."""
        for i, step in enumerate(thread):
            role = step["role"]
            if i and role == "resident":
                self.wait(1, 8)
            elif i:
                self.wait(2, 25)
            if role == "resident":
                speaker = self.opener
            elif role == "another resident":
                speaker = self.other()
            else:
                speaker = self.month.staff(self.group, role)
            text = step["text"]
            if i == 0 and source == "qa" and self.rng.random() < 0.15:
                text = "{@sw} " + text
            label = step.get("label", "question" if i == 0 and source == "qa" else "none")
            self.post(
                speaker,
                text,
                "text",
                source if i == 0 else source + "_answer",
                about=self.opener,
                label=label,
            )


# ---- everyday thread kinds: each plays one thread ------------------------------------------
def greeting(t: Thread, kind: str) -> None:
    if kind == "evening" and t.at.hour >= 21:
        kind = "goodnight"
    t.line(t.opener, f"{kind}_open")
    t.replies(f"{kind}_reply", 0, 4)


def chatter(t: Thread, kind: str) -> None:
    if kind == "chatter" and t.rng.random() < 0.3:
        t.written(t.month.fresh(t.month.asks, first_text), "chatter_ask")
        return
    t.line(t.opener, "chatter_share" if kind == "chatter" else kind)
    if kind == "holiday" and t.rng.random() < 0.3:
        t.wait(0.2, 1)
        t.image(t.opener)
    t.replies("holiday_reply" if kind == "holiday" else "chatter_react", 0, 3, "laugh")


def food(t: Thread, kind: str) -> None:
    t.line(t.opener, "food")
    if t.rng.random() < 0.45:
        t.wait(0.1, 1)
        t.image(t.opener)
    t.replies("food_reply", 0, 3)


def photo(t: Thread, kind: str) -> None:
    t.line(t.opener, "photo_caption")
    for _ in range(t.rng.randint(1, 3)):
        t.wait(0.05, 0.5)
        t.image(t.opener)
    if t.rng.random() < 0.2:
        t.wait(0.05, 0.5)
        t.line(t.opener, "video_caption", "video")
    t.replies("photo_reply", 0, 3)


def notice(t: Thread, kind: str) -> None:
    role = (
        "property"
        if kind == "property_notice"
        else t.rng.choice(("social worker", "social worker", "grid worker"))
    )
    staff = t.month.staff(t.group, role)
    t.line(staff, kind)
    if kind == "staff_notice" and t.rng.random() < 0.2:
        t.wait(0.1, 1)
        t.line(staff, "file_title", "file")
    t.replies("ack", 1, 6)


def question(t: Thread, kind: str) -> None:
    t.written(t.month.fresh(t.month.qa, first_text), "qa")


def bot_question(t: Thread, kind: str) -> None:
    t.line(t.opener, "bot_question")
    if t.rng.random() < 0.25:
        t.wait()
        t.line(t.other(), "me_too")


def petition(t: Thread, kind: str) -> None:
    """A complaint; maybe a photo, a word more, neighbours agreeing, staff answering, thanks the
    next day. Fixes and conduct get answers and thanks that fit them."""
    rng, person, unit = t.rng, t.opener, t.rng.randint(1, 3)
    if kind == "petition":
        kind = rng.choice(("petition_fix", "petition_conduct"))
    ack, thanks = {
        "petition_fix": ("staff_ack_fix", "fixed_thanks"),
        "petition_conduct": ("staff_ack_conduct", "settled_thanks"),
        "bot_petition": ("staff_ack", "thanks_generic"),
    }[kind]
    t.line(person, kind, unit=unit)
    if rng.random() < 0.25:
        t.wait(0.2, 2)
        t.image(person, "ticket")
    if rng.random() < 0.2:
        t.wait(0.5, 5)
        t.line(person, "petition_followup", unit=unit)
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        t.wait(1, 15)
        t.line(t.other(), "petition_echo", about=person, unit=unit)
    if rng.random() < 0.4:
        return
    t.wait(5, 90)
    handler = t.month.staff(t.group, rng.choice(("grid worker", "grid worker", "property")))
    t.line(handler, ack, about=person)
    if rng.random() < 0.5:
        return
    t.at = clock(t.at.date() + timedelta(1), rng.randint(7, 20), rng.randint(0, 59), rng.randint(0, 59))
    t.line(person, thanks, about=person)
    if rng.random() < 0.35:
        t.wait(1, 30)
        t.line(handler, "fixed_reply")


def opinion(t: Thread, kind: str) -> None:
    t.line(t.opener, kind)
    t.replies(f"{kind}_reply", 0, 3)


def advert(t: Thread, kind: str) -> None:
    poster = [p for p in t.month.advertisers if t.group.id in p.groups and p.present(t.group.id, t.at)] or [
        t.opener
    ]
    t.line(t.rng.choice(poster), "ad")
    if t.rng.random() < 0.4:
        warner = t.rng.choice((t.other(), t.other(), t.month.staff(t.group, "social worker")))
        t.wait(1, 20)
        t.line(warner, "ad_warning")


def link(t: Thread, kind: str) -> None:
    t.line(t.opener, "link_title", "link")
    t.replies("link_reply", 0, 2)


def miniprogram(t: Thread, kind: str) -> None:
    title = t.month.pick("miniprogram_title", t.at)
    staff_post = any(w in title for w in MINIPROGRAMS_BY_STAFF)
    poster = t.month.staff(t.group, "social worker") if staff_post else t.opener
    t.post(
        poster, title, "miniprogram", "miniprogram_title", label=t.month.labels["miniprogram_title"][title]
    )
    t.replies("miniprogram_reply", 1, 5)


def voice(t: Thread, kind: str) -> None:
    for i in range(t.rng.randint(1, 3)):
        if i:
            t.wait(0.1, 1.2)
        t.post(t.opener, "[语音]", "voice", "voice")
    if t.rng.random() < 0.5:
        t.wait()
        t.line(t.other(), "voice_reply")


def secondhand(t: Thread, kind: str) -> None:
    t.line(t.opener, "secondhand")
    if t.rng.random() < 0.3:
        t.wait(0.1, 1)
        t.image(t.opener)
    t.replies("secondhand_reply", 0, 2)


def recall(t: Thread, kind: str) -> None:
    t.line(t.opener, "recalled")
    t.wait(0.1, 1.5)
    t.post(t.opener, "", "recall", "recall")
    if t.rng.random() < 0.6:
        t.wait(0.1, 1)
        t.line(t.opener, "after_recall")


def night(t: Thread, kind: str) -> None:
    if t.rng.random() < 0.7:
        t.line(t.opener, "night_noise")
        t.replies("night_reply", 0, 2)
    else:
        t.line(t.opener, "night_chat")
        t.replies("night_chat_reply", 0, 2)


PLAYERS: dict[str, Callable[[Thread, str], None]] = {
    "morning": greeting,
    "evening": greeting,
    "chatter": chatter,
    "weather": chatter,
    "holiday": chatter,
    "weekend": chatter,
    "workday_back": chatter,
    "makeup_day": chatter,
    "food": food,
    "photo": photo,
    "staff_notice": notice,
    "property_notice": notice,
    "qa": question,
    "bot_question": bot_question,
    "petition": petition,
    "bot_petition": petition,
    "suggestion": opinion,
    "praise": opinion,
    "ad": advert,
    "link": link,
    "miniprogram": miniprogram,
    "voice": voice,
    "secondhand": secondhand,
    "recall": recall,
    "night": night,
}


def write(messages: list[Message], out: Path) -> None:
    lines = []
    for n, m in enumerate(messages, 1):
        record: dict[str, Any] = {
            "at": m.at.isoformat(timespec="seconds"),
            "group": m.group,
            "from": m.sender.id,
            "name": m.sender.name,
            "text": m.text,
            "id": f"qx202610-{n:05d}",
        }
        if m.kind != "text":
            record["kind"] = m.kind
        if m.mentions:
            record["mentions"] = list(m.mentions)
        record["label"] = m.label
        lines.append(json.dumps(record, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=DEMO / "registry.yaml")
    parser.add_argument("--scenes", type=Path, default=DEMO / "scenes.yaml")
    parser.add_argument("--out", type=Path, default=DEMO / "month.jsonl")
    parser.add_argument("--stats", action="store_true", help="print what the month is made of")
    args = parser.parse_args()
    registry = yaml.safe_load(args.registry.read_text(encoding="utf-8"))
    material = yaml.safe_load(args.scenes.read_text(encoding="utf-8"))
    messages = Month(registry, material, SEED).compose()
    write(messages, args.out)
    if args.stats:
        sources = Counter(m.source.split(":")[0] for m in messages)
        for source, n in sources.most_common():
            print(f"{source:20} {n:5} {100 * n / len(messages):5.1f}%", file=sys.stderr)
        labels = Counter(m.label.split(":")[0] for m in messages)
        problems = {m.label.split(":", 1)[1] for m in messages if ":" in m.label}
        print("labels:", dict(labels.most_common()), f"problems: {len(problems)}", file=sys.stderr)


if __name__ == "__main__":
    main()
