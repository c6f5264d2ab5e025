"""Simulated staff and residents for the demo: they answer Xiaoqi's messages through the chat, as people would."""

from __future__ import annotations

import heapq
import itertools
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.clock import local
from core.events import Incoming, Outgoing

_ASSIGNED = re.compile(r"回复“#签收 (\d+)”")
_RATE = re.compile(r"已经办好：[^\n]*\n您满意吗")  # tickets.texts.RESOLVED
_REOPENED = re.compile(r"^【重办】(\d+)号工单")
_QUESTION = re.compile(r"^【居民提问·(\d+)号】")
_AD_REPORT = re.compile(r"^【(?:广告|刷屏)提醒·(\d+)号】")
# the bot's answer to a ticket step that cannot be taken: the person leaves that ticket alone
_REFUSED = re.compile(
    r"^(\d+)号(?:紧急)?工单(?:现在是“[^”]+”，不能|不是由您负责|刚刚已被别人处理|已由.+签收处理，不用您再办|不在您负责)"
)
_STEP = re.compile(r"^#(?:签收|进展|办结) (\d+)")
ANSWERS = [
    "您好，这个我问清楚了：工作日上午到社区服务大厅找我，我当面帮您办。",
    "您好，这个要看具体情况，我明天上午打电话跟您细说。",
    "您好，已经帮您问了物业，他们这两天会在群里统一答复。",
]
PROGRESS_NOTES = [
    "已联系物业，正在安排",
    "已到现场查看，正在协调处理",
    "已通知相关单位，明天上门",
    "材料已报街道，等待答复",
]
RESOLUTIONS = [
    "已处理完毕，现场已恢复正常",
    "已联系相关单位修好",
    "已上门沟通，问题已解决",
    "已清理干净，将加强巡查",
]


@dataclass
class DemoPeople:
    """Reacts to what the bot sent: handlers accept and resolve, some late; residents rate, some not at
    all; social workers answer forwarded questions and decide on reported adverts."""

    seed: int = 20261001
    _queue: list[tuple[datetime, int, Incoming]] = field(default_factory=list)
    _ids: Iterable[int] = field(default_factory=itertools.count)
    _handled: set[tuple[int, str]] = field(default_factory=set)
    _urgent: set[int] = field(default_factory=set)
    _gave_up: set[tuple[int, str]] = field(default_factory=set)  # (ticket, person) after a refusal

    def _later(self, at: datetime, sender: str, text: str, group: str | None = None) -> None:
        n = next(self._ids)  # type: ignore[call-overload]
        shown = local(at)
        if shown.hour >= 22 or shown.hour < 7:  # people sleep: what they would do at night waits for morning
            morning = shown.replace(hour=7, minute=30 + n % 30, second=0, microsecond=0)
            at = morning if shown.hour < 7 else morning + timedelta(days=1)
        heapq.heappush(self._queue, (at, n, Incoming(f"demo-staff-{n}", sender, text, at, group_id=group)))

    def react(self, sent: Iterable[Outgoing]) -> None:
        for out in sent:
            assert out.at is not None
            if out.to_id is not None and (match := _ASSIGNED.search(out.text) or _REOPENED.search(out.text)):
                number = int(match[1])
                if out.text.startswith(
                    "【紧急】"
                ):  # everyone on duty hears it; the first one named handles it
                    if number in self._urgent:
                        continue
                    self._urgent.add(number)
                self._handler(number, out.to_id, out.at, urgent=out.text.startswith("【紧急】"))
            elif (match := _RATE.search(out.text)) is not None:  # each reporter rates for themselves
                for person in out.mentions if out.group_id is not None else (out.to_id or "",):
                    self._resident(out.text, person, out.group_id, out.at)
            elif out.to_id is not None and (match := _REFUSED.match(out.text)):
                self._gave_up.add((int(match[1]), out.to_id))  # someone else has it: no more steps
            elif out.to_id is not None and (match := _QUESTION.match(out.text)):
                rng = random.Random(f"{self.seed}-question-{match[1]}")
                answer = f"#答复 {match[1]} {rng.choice(ANSWERS)}"
                self._later(out.at + timedelta(minutes=rng.randint(15, 180)), out.to_id, answer)
            elif out.to_id is not None and (match := _AD_REPORT.match(out.text)):
                rng = random.Random(f"{self.seed}-advert-{match[1]}")
                self._later(
                    out.at + timedelta(minutes=rng.randint(10, 90)), out.to_id, f"#处理 {match[1]} 维持"
                )

    def _handler(self, number: int, person: str, at: datetime, *, urgent: bool) -> None:
        if (number, person) in self._handled:
            return
        self._handled.add((number, person))
        rng = random.Random(f"{self.seed}-{number}-{person}")
        if rng.random() < (0.3 if urgent else 0.08):
            return  # this one does not react: the ticket escalates or goes overdue
        accept_at = at + timedelta(minutes=rng.randint(1, 4) if urgent else rng.randint(20, 240))
        self._later(accept_at, person, f"#签收 {number}")
        if rng.random() < 0.6:
            self._later(
                accept_at + timedelta(hours=rng.randint(1, 8)),
                person,
                f"#进展 {number} {rng.choice(PROGRESS_NOTES)}",
            )
        resolve_at = accept_at + timedelta(hours=rng.randint(3, 80))
        self._later(resolve_at, person, f"#办结 {number} {rng.choice(RESOLUTIONS)}")

    def _resident(self, asked: str, person: str, group: str | None, at: datetime) -> None:
        rng = random.Random(f"{self.seed}-rating-{asked}-{person}")
        roll = rng.random()
        if roll < 0.12:
            return  # never answers: closes as 默认满意
        word = "满意" if roll < 0.75 else "基本满意" if roll < 0.9 else "不满意"
        self._later(at + timedelta(hours=rng.randint(1, 20)), person, word, group)

    def due(self, until: datetime) -> list[Incoming]:
        """Reactions that happen before `until`, in time order."""
        ready: list[Incoming] = []
        while self._queue and self._queue[0][0] <= until:
            reaction = heapq.heappop(self._queue)[2]
            step = _STEP.match(reaction.text)
            if step is None or (int(step[1]), reaction.sender_id) not in self._gave_up:
                ready.append(reaction)
        return ready
