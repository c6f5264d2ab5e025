"""When a notice goes out: now, at a time ("明天9:00", "11月30日 8:00"), daily or weekly ("每周一9:00")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.clock import SHANGHAI, local, to_utc
from core.errors import XiaoqiError
from core.when import WEEKDAY_NAMES, WEEKDAYS, parse_clock, read_when
from notices.models import Repeat

NOW_WORDS = ("", "现在", "立即", "马上", "立刻")
_WEEKLY = re.compile(r"^(?:每周|每星期|每个?礼拜)(?P<wd>[一二三四五六日天七])(?P<clock>.*)$")
_DAILY = re.compile(r"^(?:每天|每日)(?P<clock>.*)$")
DEFAULT_TIME = time(9, 0)  # a notice with a day and no time goes at 09:00
HINT = "可以写：明天9:00、11月30日 8:00、每天8:00、每周一9:00。"


class ScheduleError(XiaoqiError):
    """A time the notice command cannot read."""


@dataclass(frozen=True)
class When:
    first: datetime  # the first sending
    repeat: Repeat

    def describe(self) -> str:
        at = local(self.first)
        if self.repeat is Repeat.WEEKLY:
            return f"每周{WEEKDAY_NAMES[at.weekday()]} {at:%H:%M}"
        if self.repeat is Repeat.DAILY:
            return f"每天 {at:%H:%M}"
        return f"{at.month}月{at.day}日 {at:%H:%M}"

    def following(self, after: datetime) -> datetime | None:
        """The next sending after `after` (missed ones are skipped, not sent late in a heap)."""
        if self.repeat is Repeat.ONCE:
            return None
        step = timedelta(days=7 if self.repeat is Repeat.WEEKLY else 1)
        moment = self.first
        if moment <= after:
            moment += step * ((after - moment) // step + 1)
        return moment


def _clock(text: str, said: str) -> time:
    """The time of day of a recurring notice ('每天8:00', '每周一下午3点'); none given is 09:00."""
    return parse_clock(text, hint=HINT, said=said) if text else DEFAULT_TIME


def parse_schedule(text: str, now: datetime) -> When:
    """The time part of #通知; it must lie in the future (a recurring one starts at its next turn)."""
    word = re.sub(r"\s+", "", text)
    today = local(now)
    if word in NOW_WORDS:
        return When(now, Repeat.ONCE)
    if found := _WEEKLY.match(word):
        at = _clock(found["clock"], text)
        days = (WEEKDAYS[found["wd"]] - today.weekday()) % 7
        first = datetime.combine(today.date() + timedelta(days=days), at, SHANGHAI)
        if first <= today:
            first += timedelta(days=7)
        return When(to_utc(first), Repeat.WEEKLY)
    if found := _DAILY.match(word):
        first = datetime.combine(today.date(), _clock(found["clock"], text), SHANGHAI)
        if first <= today:
            first += timedelta(days=1)
        return When(to_utc(first), Repeat.DAILY)
    first = read_when(text, now, hint=HINT).at(DEFAULT_TIME)
    if first <= today:
        raise ScheduleError("这个时间已经过了，请写一个以后的时间。")
    return When(to_utc(first), Repeat.ONCE)
