"""A deterministic week of group traffic for the crash-safety test (`xiaoqi simulate`'s input format).

Petitions use the explicit `#反映` form and come before anything else that could open a ticket, so
tickets 1..len(PETITIONS) are numbered in the order below and staff commands can name them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import SHANGHAI

from .events import line, said, tick

# Registered residents of 幸福社区 (c1) who may vote, added to tests/data/registry.yaml by the test.
NEIGHBOURS = """\
  - {id: wxid_v1, name: 5栋-101 张大爷, role: 居民, community: c1, household: 5-101, groups: [g1@chatroom]}
  - {id: wxid_v2, name: 6栋-302 王大伯, role: 居民, community: c1, household: 6-302, groups: [g1@chatroom]}
  - {id: wxid_v3, name: 7栋-102 刘姐, role: 居民, community: c1, household: 7-102, groups: [g2@chatroom]}
  - {id: wxid_v4, name: 8栋-301 小马, role: 居民, community: c1, household: 8-301, groups: [g2@chatroom]}
  - {id: wxid_v5, name: 6栋-201 孙阿姨, role: 居民, community: c1, household: 6-201, groups: [g1@chatroom]}
  - {id: wxid_v6, name: 9栋-201 赵叔, role: 居民, community: c1, household: 9-201, groups: [g2@chatroom]}
"""
G1, G2, G3 = "g1@chatroom", "g2@chatroom", "g3@chatroom"
HOME = {
    "wxid_r1": G1,
    "wxid_v1": G1,
    "wxid_v2": G1,
    "wxid_v5": G1,
    "wxid_r2": G2,
    "wxid_v3": G2,
    "wxid_v4": G2,
    "wxid_v6": G2,
    "wxid_r3": G3,
}
VOTERS = ["wxid_r1", "wxid_r2", "wxid_v1", "wxid_v2", "wxid_v3", "wxid_v4", "wxid_v5", "wxid_v6"]
STRANGERS = [(f"wxid_u{n:02d}", G1 if n % 3 == 0 else G2 if n % 3 == 1 else G3) for n in range(1, 13)]

# (reporter, petition, the staff member who accepts and resolves it); ticket N is PETITIONS[N - 1]
PETITIONS = [
    ("wxid_r1", "5栋电梯坏了三天了，老人下不了楼", "wxid_wg"),
    ("wxid_r2", "7栋门口的路灯不亮，晚上黑漆漆的", "wxid_dept"),
    ("wxid_r3", "和平小区垃圾站两天没人清运，臭气熏天", "wxid_sg2"),
    ("wxid_v1", "楼上每天半夜装修电钻声，吵得睡不着", "wxid_sg"),
    ("wxid_v3", "地下车库的车位被外来车辆占了，晚上没地方停车", "wxid_sg"),
    ("wxid_v2", "6栋楼道里堆满杂物，消防通道被堵了", "wxid_sg"),
    ("wxid_v4", "楼下垃圾桶满了没人清理，苍蝇到处飞", "wxid_sg"),
    ("wxid_v6", "9栋旁边的绿化带好久没人修剪了", "wxid_wg"),
    ("wxid_u02", "和平小区门口的下水道井盖丢了，很危险", "wxid_dept"),
]
# later reports of the same problems from other residents: they join the open tickets
ECHOES = [
    ("wxid_v5", "5栋电梯又坏了，老人根本下不了楼"),
    ("wxid_u08", "和平小区门口的井盖丢了好几天了，太危险了"),
]
PLAIN_COMPLAINTS = [
    ("wxid_v5", "6栋的水管爆了，楼道里全是水，赶紧来人修一下"),
    ("wxid_u06", "小区里的健身器材坏了好久了也没人修"),
    ("wxid_r3", "我们楼的电梯天天坏，物业也不管"),
]
CHATTER = [
    "早上好各位邻居",
    "今天天气真不错",
    "有人知道菜场几点开门吗",
    "谢谢社区的工作人员",
    "晚上广场舞几点开始",
    "哈哈哈哈",
    "[强][强]",
    "收到",
    "谁家的快递放错了，在我家门口",
    "明天降温，大家注意保暖",
    "小区里的桂花开了，好香",
    "周末有没有一起去爬山的",
    "孩子们放学注意安全",
    "好的好的",
    "这个月的水费怎么交",
]
OPEN_CONSULTATION = (
    "#发起议事 东门空地怎么用？\n选项：改成微花园；做停车位；维持现状\n截止：11月5日18:00\n范围：本社区"
)


def _at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


class _Script:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.events: list[dict[str, Any]] = []
        self.count = 0

    def say(
        self,
        at: datetime,
        who: str,
        text: str,
        group: str | None = None,
        *,
        private: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        self.count += 1
        place = None if private else group or HOME.get(who) or G1
        event = line(said(text, who, in_group=place, at=at, id=f"crash-{self.count:04d}"), **extra)
        self.events.append(event)
        return event

    def again(self, event: dict[str, Any]) -> None:
        """The platform delivers the same message (same id) a second time."""
        self.events.append(dict(event))

    def tick(self, at: datetime) -> None:
        self.events.append(tick(at))

    def chatter(self, start: datetime, minutes: int, count: int) -> None:
        times = sorted(self.random.randrange(minutes * 60) for _ in range(count))
        people = [*HOME, *(who for who, _ in STRANGERS)]
        for offset in times:
            who = self.random.choice(people)
            group = HOME.get(who) or dict(STRANGERS)[who]
            event = self.say(start + timedelta(seconds=offset), who, self.random.choice(CHATTER), group)
            if self.random.random() < 0.05:
                self.again(event)


def build_events(seed: int = 9) -> list[dict[str, Any]]:
    s = _Script(seed)
    # Monday: chatter, then the petitions (tickets 1..8), each delivered twice once in a while
    s.tick(_at(2, 8))
    s.chatter(_at(2, 8, 1), 60, 40)
    for n, (who, text, _) in enumerate(PETITIONS):
        event = s.say(_at(2, 9, 10 + 3 * n), who, f"#反映 {text}", HOME.get(who) or dict(STRANGERS)[who])
        if n % 3 == 0:
            s.again(event)
    s.chatter(_at(2, 9, 40), 50, 30)
    for n, (who, text) in enumerate(ECHOES):
        s.say(_at(2, 10, 40 + n), who, text, HOME.get(who) or dict(STRANGERS)[who])
    s.say(_at(2, 10, 45), "wxid_r1", "#进度", private=True)
    # staff accept most tickets (some twice: the second is refused), an uninvolved resident tries too
    for n, (_, _, staff) in enumerate(PETITIONS, start=1):
        if n == 8:
            continue
        event = s.say(_at(2, 11, 2 * n), staff, f"#签收 {n}", private=True)
        if n in (2, 5):
            s.again(event)
    s.say(_at(2, 11, 20), "wxid_wg", "#签收 1", private=True)
    s.say(_at(2, 11, 21), "wxid_r2", "#签收 2", private=True)
    s.tick(_at(2, 12))
    s.chatter(_at(2, 13), 240, 35)
    for n, (who, text) in enumerate(PLAIN_COMPLAINTS):
        s.say(_at(2, 17, 5 * n), who, text, HOME.get(who) or dict(STRANGERS)[who])
        s.say(_at(2, 17, 5 * n + 1), who, "是", HOME.get(who) or dict(STRANGERS)[who])
    s.tick(_at(2, 23))

    # Tuesday: a consultation with votes; some tickets resolved and rated
    s.tick(_at(3, 9))
    s.chatter(_at(3, 9, 1), 55, 25)
    opened = s.say(_at(3, 10), "wxid_sg", OPEN_CONSULTATION, G1)
    s.again(opened)
    choices = {who: s.random.randint(1, 3) for who in VOTERS}
    for n, who in enumerate(VOTERS):
        vote = s.say(_at(3, 10, 5 + n), who, f"投票 {choices[who]}")
        if n % 4 == 1:
            s.again(vote)
    s.say(_at(3, 10, 20), "wxid_r3", "投票 1", G3)  # outside the consultation's scope
    s.say(_at(3, 10, 21), "wxid_u01", "投票 2", G2)  # not in the registry
    s.say(_at(3, 10, 22), "wxid_wg", "投票 1", G1)  # staff
    s.say(_at(3, 10, 23), "wxid_v1", "投票 9")  # no such option
    s.chatter(_at(3, 10, 30), 120, 30)
    for n in (1, 4, 6):
        staff = PETITIONS[n - 1][2]
        s.say(_at(3, 14, n), staff, f"#办结 {n} 已处理完毕，请查看", private=True)
    for n, rating in ((1, "满意"), (4, "基本满意")):
        who = PETITIONS[n - 1][0]
        s.say(_at(3, 15, n), who, rating, HOME[who])
    s.chatter(_at(3, 15, 30), 180, 25)

    # Wednesday: changed votes, a duplicate delivery long after the first, more chatter
    s.tick(_at(4, 9))
    for n, who in enumerate(VOTERS[:5]):
        changed = choices[who] % 3 + 1
        event = s.say(_at(4, 10, n), who, f"投票 {changed}")
        if n == 2:
            s.again(event)
    s.again(opened)
    s.say(_at(4, 10, 30), "wxid_r2", "#议事", G2)
    s.chatter(_at(4, 11), 290, 40)
    s.say(_at(4, 16), "wxid_dept", "#办结 2 路灯已更换", private=True)
    s.say(_at(4, 16, 5), "wxid_r2", "不满意", G2)

    # Thursday: the vote closes at 18:00; Friday morning a burst of questions to 小棲 drains slowly
    s.tick(_at(5, 9))
    s.chatter(_at(5, 9, 30), 240, 30)
    s.say(_at(5, 17, 50), "wxid_v6", "投票 2")
    s.tick(_at(5, 18, 1))
    s.tick(_at(6, 9))
    burst = [*VOTERS, *(who for who, group in STRANGERS if group != G3)]
    for n in range(48):
        who = burst[n % len(burst)]
        group = HOME.get(who) or dict(STRANGERS)[who]
        text = "#帮助" if n % 3 else "#进度"
        event = s.say(_at(6, 10, n // 24, (n % 24) * 2), who, text, group)
        if n % 11 == 5:
            s.again(event)
    return s.events


def write_events(path: Path, seed: int = 9) -> list[dict[str, Any]]:
    events = build_events(seed)
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return events


def message_ids(events: list[dict[str, Any]]) -> Iterator[str]:
    return (e["id"] for e in events if "id" in e)


if __name__ == "__main__":
    import sys

    write_events(Path(sys.argv[1]))
