"""A month of district traffic for `xiaoqi bench month`, generated as a stream of simulator events.

Per hour a share of the month's messages (busy mornings and evenings, quiet nights, weekends and the
National Day holiday their own shape) is spent on conversation threads in groups chosen by their
activity (a few groups are far busier than most). Texts come from the pools of data/demo/scenes.yaml.
Events leave in time order through a heap, so at most an hour or so of traffic is ever held.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.simulator import Tick
from core.clock import SHANGHAI
from core.events import Incoming, MessageKind
from sim.district import DistrictPlan, GroupPlan, Member

MONTH = "2026-10"
FIRST_DAY = date(2026, 10, 1)
DAYS = 31
MONTH_START = datetime(2026, 10, 1, tzinfo=SHANGHAI)
MONTH_END = datetime(2026, 11, 1, tzinfo=SHANGHAI)
HOLIDAY = range(1, 8)  # National Day, October 1-7
MAKEUP_WORKDAY = {10}
BOT_ID, BOT_NAME = "xiaoqi", "小棲"
DUPLICATES = 0.005  # the puppet delivers the same message id twice
VOTE_SHARE = 0.3  # of residents' texts in a community while its consultation is open
HOURLY = {  # relative traffic in each hour of the day
    "workday": (
        3,
        1.2,
        0.5,
        0.3,
        0.5,
        2.5,
        12,
        36,
        46,
        38,
        24,
        20,
        22,
        13,
        15,
        15,
        17,
        22,
        26,
        36,
        44,
        39,
        20,
        7,
    ),
    "weekend": (
        5,
        2,
        0.8,
        0.4,
        0.5,
        1.5,
        6,
        18,
        34,
        42,
        38,
        28,
        24,
        16,
        18,
        20,
        20,
        23,
        26,
        36,
        42,
        38,
        24,
        10,
    ),
}
DAY_FACTOR = {"workday": 1.0, "weekend": 1.12, "holiday": 1.2}
Step = tuple[str, str, str, tuple[int, int]]  # who, kind, pool (or "=literal"), how many (min, max)
THREADS: dict[str, tuple[Step, ...]] = {
    "morning": (("r", "text", "morning_open", (1, 1)), ("o", "text", "morning_reply", (0, 4))),
    "evening": (("r", "text", "evening_open", (1, 1)), ("o", "text", "evening_reply", (0, 2))),
    "goodnight": (("r", "text", "goodnight_open", (1, 1)), ("o", "text", "goodnight_reply", (0, 3))),
    "chatter": (
        ("r", "text", "chatter_share", (1, 1)),
        ("o", "text", "chatter_react", (0, 3)),
        ("o", "text", "laugh", (0, 1)),
    ),
    "weather": (("r", "text", "weather", (1, 1)), ("o", "text", "chatter_react", (0, 2))),
    "food": (("r", "text", "food", (1, 1)), ("o", "text", "food_reply", (0, 3))),
    "holiday": (("r", "text", "holiday", (1, 1)), ("o", "text", "holiday_reply", (0, 3))),
    "weekend": (("r", "text", "weekend", (1, 1)), ("o", "text", "chatter_react", (0, 2))),
    "photo": (
        ("r", "image", "=[图片]", (1, 3)),
        ("r", "text", "photo_caption", (0, 1)),
        ("o", "text", "photo_reply", (0, 2)),
    ),
    "voice": (("r", "voice", "=[语音]", (1, 2)), ("o", "text", "voice_reply", (0, 1))),
    "link": (("r", "link", "link_title", (1, 1)), ("o", "text", "link_reply", (0, 1))),
    "miniprogram": (
        ("r", "miniprogram", "miniprogram_title", (1, 1)),
        ("o", "text", "miniprogram_reply", (0, 3)),
    ),
    "petition": (
        ("r", "text", "petition_fix", (1, 1)),
        ("r", "text", "petition_followup", (0, 1)),
        ("o", "text", "petition_echo", (0, 2)),
        ("gw", "text", "staff_ack_fix", (0, 1)),
    ),
    "conduct": (("r", "text", "petition_conduct", (1, 1)), ("o", "text", "petition_echo", (0, 2))),
    "bot_petition": (("r", "text", "bot_petition", (1, 1)),),
    "bot_question": (("r", "text", "bot_question", (1, 1)), ("o", "text", "me_too", (0, 1))),
    "complaint": (("r", "text", "night_noise", (1, 1)), ("o", "text", "night_reply", (0, 2))),
    "night_chat": (("r", "text", "night_chat", (1, 1)), ("o", "text", "night_chat_reply", (0, 1))),
    "ad": (("ad", "text", "ad", (1, 1)), ("o", "text", "ad_warning", (0, 1))),
    "praise": (("r", "text", "praise", (1, 1)), ("sw", "text", "praise_reply", (0, 1))),
    "suggestion": (("r", "text", "suggestion", (1, 1)), ("o", "text", "suggestion_reply", (0, 2))),
    "secondhand": (("r", "text", "secondhand", (1, 1)), ("o", "text", "secondhand_reply", (0, 2))),
    "staff_notice": (("sw", "text", "staff_notice", (1, 1)), ("o", "text", "ack", (0, 3))),
    "property_notice": (("wy", "text", "property_notice", (1, 1)), ("o", "text", "ack", (0, 2))),
    "join": (
        ("new", "join", "=", (1, 1)),
        ("new", "text", "newcomer_intro", (0, 1)),
        ("o", "text", "welcome", (0, 2)),
    ),
    "leave": (("r", "leave", "=", (1, 1)),),
    "recall": (
        ("r", "text", "recalled", (1, 1)),
        ("r", "recall", "=", (1, 1)),
        ("r", "text", "after_recall", (0, 1)),
    ),
}
COMMON = {
    "chatter": 26,
    "photo": 6,
    "voice": 2,
    "link": 4,
    "miniprogram": 2,
    "written": 8,
    "petition": 1.6,
    "conduct": 0.7,
    "bot_petition": 0.9,
    "bot_question": 3,
    "ad": 1.4,
    "praise": 2,
    "suggestion": 1.6,
    "secondhand": 2,
    "staff_notice": 2.5,
    "property_notice": 1.5,
    "join": 1,
    "leave": 0.3,
    "recall": 0.8,
}
WEIGHTS = {
    "night": {
        "night_chat": 10,
        "complaint": 2,
        "goodnight": 6,
        "chatter": 4,
        "ad": 1,
        "voice": 1,
        "recall": 0.5,
    },
    "morning": COMMON | {"morning": 30, "weather": 8},
    "day": COMMON | {"food": 5, "weather": 3},
    "evening": COMMON | {"evening": 8, "goodnight": 4, "food": 8},
}
TOPICS = (
    "东门空地改成微花园",
    "小区加装电动车充电桩",
    "楼道统一安装声控灯",
    "周末开放广场舞时间调整到晚上九点前",
    "北门增设快递柜",
    "小区引入垃圾分类督导员",
    "老年活动室延长开放时间",
    "地下车库加装监控",
)
STATISTICS = ("#统计", "#统计 本社区", "#统计 本社区 本周", "#统计 本群 今天", "#统计 本月")
NO_TEXT = {"join", "leave", "recall"}
ROLE_OF = {
    "resident": "r",
    "another resident": "o",
    "social worker": "sw",
    "grid worker": "gw",
    "property": "wy",
}


def day_kind(day: date) -> str:
    if day.day in HOLIDAY:
        return "holiday"
    return "weekend" if day.weekday() >= 5 and day.day not in MAKEUP_WORKDAY else "workday"


def part_of_day(hour: int) -> str:
    return (
        "night" if hour < 6 or hour >= 23 else "morning" if hour < 11 else "day" if hour < 18 else "evening"
    )


def hour_budgets(messages: int, rng: random.Random) -> list[int]:
    """The month's messages spread over its hours (largest remainder, so they sum exactly)."""
    weights: list[float] = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(offset)
        kind = day_kind(day)
        factor = DAY_FACTOR[kind] * rng.lognormvariate(0, 0.12)
        weights += [factor * w for w in HOURLY["workday" if kind == "workday" else "weekend"]]
    total = sum(weights)
    exact = [messages * w / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: messages - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class Material:
    """The texts of data/demo/scenes.yaml the month draws from."""

    pools: dict[str, list[Any]]
    threads: list[list[dict[str, str]]]
    newcomers: list[str]

    @classmethod
    def load(cls, path: Path) -> Material:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data["pools"], data["chatter_threads"] + data["qa"], data["newcomers"])


def _fits(item: Any, at: datetime) -> bool:
    if isinstance(item, str):
        return True
    for key, value in (("hours", at.hour), ("days", at.day)):
        if key in item:
            lo, hi = (int(x) for x in str(item[key]).split("-"))
            if not lo <= value < hi:
                return False
    return True


class MonthTraffic:
    """Iterates over the month's events (Incoming and hourly Tick) in time order; deterministic by seed."""

    def __init__(self, plan: DistrictPlan, material: Material, messages: int, seed: int) -> None:
        self.plan, self.material, self.messages = plan, material, messages
        self.seed = seed
        self.unique = self.duplicates = 0  # of the last pass, once it has ended
        self.cumulative = list(itertools.accumulate(g.activity for g in plan.groups))

    def __iter__(self) -> Iterator[Incoming | Tick]:
        rng = random.Random(self.seed * 7919 + 1)
        self.rng = rng
        self.serial = itertools.count(1)
        self.unique = self.duplicates = 0
        self.left: set[tuple[str, str]] = set()  # (group, member) who left: they say nothing more there
        self.newcomers = itertools.count(1)
        self.votes: dict[str, tuple[datetime, int]] = {}  # community -> open consultation's end, options
        budgets = hour_budgets(self.messages, rng)
        commands = self._command_hours(rng, budgets)
        heap: list[tuple[datetime, int, Incoming]] = []
        for hour, budget in enumerate(budgets):
            start = MONTH_START + timedelta(hours=hour)
            yield Tick(start)
            left = budget
            for command in commands.get(hour, []):
                if left:
                    left -= self._command(heap, command, start + timedelta(seconds=rng.randrange(3600)))
            while left > 0:
                group = self.plan.groups[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]
                at = start + timedelta(seconds=rng.randrange(3600))
                left -= self._thread(heap, group, at, left)
            end = start + timedelta(hours=1)
            while heap and heap[0][0] < end:
                yield heapq.heappop(heap)[2]
        while heap:
            yield heapq.heappop(heap)[2]

    # ---- staff commands ------------------------------------------------------------------
    def _command_hours(self, rng: random.Random, budgets: list[int]) -> dict[int, list[str]]:
        """A few staff commands a day, in working hours: statistics, notices, consultations."""
        daytime = [h for h, n in enumerate(budgets) if 8 <= h % 24 < 18 and n > 0]
        wanted = {
            "stat": max(2, self.messages // 5000),
            "notice": max(2, self.messages // 6000),
            "consult": max(1, self.messages // 4000),
        }
        chosen: dict[int, list[str]] = {}
        for kind, n in wanted.items():
            for hour in rng.choices(daytime, k=n) if daytime else []:
                chosen.setdefault(hour, []).append(kind)
        return chosen

    def _command(self, heap: list[tuple[datetime, int, Incoming]], kind: str, at: datetime) -> int:
        rng = self.rng
        group = self.plan.groups[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]
        community = group.community
        if kind == "stat":
            text = rng.choice(STATISTICS)
        elif kind == "notice":
            when = rng.choice(("", "", " 明天8:30"))
            text = f"#通知 本社区{when}\n{self._pick('staff_notice', at)}"
        else:
            if community.id in self.votes and self.votes[community.id][0] > at:
                return 0  # one consultation at a time in a community
            end = (at + timedelta(days=2)).replace(hour=20, minute=0, second=0)
            self.votes[community.id] = (end, 3)
            text = f"#发起议事 {rng.choice(TOPICS)}\n截止：{end.month}月{end.day}日20:00\n范围：本社区"
        self._push(heap, at, group, community.social_worker, "text", text, [])
        return 1

    # ---- conversation threads --------------------------------------------------------------
    def _thread(
        self, heap: list[tuple[datetime, int, Incoming]], group: GroupPlan, at: datetime, left: int
    ) -> int:
        rng = self.rng
        weights = WEIGHTS[part_of_day(at.hour)]
        kind = day_kind(at.date())
        if kind != "workday" and part_of_day(at.hour) != "night":
            weights = weights | {kind: 10}
        name = rng.choices(list(weights), weights=list(weights.values()))[0]
        opener = self._resident(group)
        other: Member | None = None
        steps: list[tuple[str, str, str]] = []
        if name == "written":
            steps = [
                (ROLE_OF.get(line["role"], "o"), "text", "=" + line["text"])
                for line in rng.choice(self.material.threads)
            ]
        else:
            for who, msg_kind, pool, (lo, hi) in THREADS[name]:
                steps += [(who, msg_kind, pool)] * rng.randint(lo, hi)
        newcomer: Member | None = None
        said = 0
        for who, msg_kind, pool in steps[:left]:
            if who == "o":
                other = self._resident(group, avoid=opener)
            elif who == "new" and newcomer is None:
                n = next(self.newcomers)
                name_text = self.material.newcomers[n % len(self.material.newcomers)]
                newcomer = Member(
                    f"wxid_new{n:05d}",
                    self._fill(name_text, group, opener, []),
                    rng.choice(group.buildings),
                    f"{rng.randint(2, 18)}0{rng.randint(1, 4)}",
                )
            speaker = {
                "r": opener,
                "o": other,
                "new": newcomer,
                "sw": group.community.social_worker,
                "gw": group.grid_worker,
                "wy": group.community.property,
                "ad": opener,
            }[who]
            assert speaker is not None
            mentions: list[str] = []
            text = pool[1:] if pool.startswith("=") else self._pick(pool, at)
            text = self._fill(text, group, speaker if who in ("r", "o", "new") else opener, mentions)
            vote = self.votes.get(group.community.id)
            if (
                who in ("r", "o")
                and msg_kind == "text"
                and vote
                and vote[0] > at
                and rng.random() < VOTE_SHARE
            ):
                text, mentions = f"投票 {rng.choices(range(1, vote[1] + 1), weights=(6, 3, 1))[0]}", []
            if text.startswith("@" + BOT_NAME):
                mentions.insert(0, BOT_ID)
            if msg_kind == "leave":
                self.left.add((group.id, speaker.id))
            self._push(heap, at, group, speaker, msg_kind, "" if msg_kind in NO_TEXT else text, mentions)
            said += 1
            at += timedelta(seconds=rng.randint(8, 240))
        return said

    def _push(
        self,
        heap: list[tuple[datetime, int, Incoming]],
        at: datetime,
        group: GroupPlan,
        speaker: Member,
        kind: str,
        text: str,
        mentions: list[str],
    ) -> None:
        at = min(at, MONTH_END - timedelta(seconds=1))
        serial = next(self.serial)
        self.unique += 1
        event = Incoming(
            message_id=f"bench-{self.seed}-{serial:08d}",
            sender_id=speaker.id,
            sender_name=speaker.name,
            text=text,
            at=at,
            group_id=group.id,
            kind=MessageKind(kind),
            mentions=tuple(mentions),
        )
        heapq.heappush(heap, (at, serial, event))
        if self.rng.random() < DUPLICATES:  # the same message id again, a little later (a redelivery)
            heapq.heappush(heap, (at + timedelta(seconds=self.rng.randint(1, 90)), serial, event))
            self.duplicates += 1

    def _resident(self, group: GroupPlan, avoid: Member | None = None) -> Member:
        for _ in range(5):
            i = bisect.bisect(group.talk, self.rng.random() * group.talk[-1])
            person = group.residents[min(i, len(group.residents) - 1)]
            if person != avoid and (group.id, person.id) not in self.left:
                break
        return person

    def _pick(self, pool: str, at: datetime) -> str:
        items = self.material.pools[pool]
        usable = [i for i in items if _fits(i, at)] or items
        item = self.rng.choice(usable)
        return item if isinstance(item, str) else str(item["text"])

    def _fill(self, text: str, group: GroupPlan, about: Member, mentions: list[str]) -> str:
        """The text with the placeholders of scenes.yaml filled for `about` in `group`."""
        if "{" not in text:
            return text
        rng, community = self.rng, group.community
        staff = {
            "gw": group.grid_worker or community.social_worker,
            "sw": community.social_worker,
            "wy": community.property,
        }

        def at_mention(match: re.Match[str]) -> str:
            person = staff[match[1]]
            if person.id not in mentions:
                mentions.append(person.id)
            return "@" + person.name

        door = about.door or f"{rng.randint(2, 6)}0{rng.randint(1, 2)}"
        values = {
            "bld": str(about.building or rng.choice(group.buildings)),
            "room": door,
            "floor": door[:-2],
            "oroom": door[:-2] + f"0{rng.randint(1, 4)}",
            "unit": str(rng.randint(1, 3)),
            "obld": str(rng.choice(group.buildings)),
            "word": community.word,
            "community": community.name[:-2],
            "gw": staff["gw"].name,
            "sw": staff["sw"].name,
            "wy": staff["wy"].name,
            "phone": "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9)),
            "plate": "苏A" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=5)),
            "nname": rng.choice(group.residents).name,
        }
        text = re.sub(r"\{@(gw|sw|wy)\}", at_mention, text)
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text)
