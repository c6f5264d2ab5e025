"""When a notice goes out: now, at a time ("明天9:00", "11月30日 8:00"), daily or weekly ("每周一9:00")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from consult.service import parse_when
from core.clock import SHANGHAI, local, to_utc
from core.errors import XiaoqiError
from notices.models import Repeat

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
WEEKDAY_NAMES = "一二三四五六日"
NOW_WORDS = ("", "现在", "立即", "马上", "立刻")
_CLOCK = r"(?P<H>\d{1,2})\s*(?:[:：点时])\s*(?P<M>\d{1,2})?\s*分?|(?P<half>\d{1,2})\s*点半"
_WEEKLY = re.compile(rf"^(?:每周|每星期|每个?礼拜)(?P<wd>[一二三四五六日天七])\s*(?:{_CLOCK})?$")
_DAILY = re.compile(rf"^每天\s*(?:{_CLOCK})?$")
_RELATIVE = re.compile(rf"^(?P<day>今天|今晚|明天|后天)\s*(?:{_CLOCK})?$")
DEFAULT_TIME = time(9, 0)  # a notice with a day and no time goes at 09:00


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


def _clock(match: re.Match[str]) -> time:
    if match["half"]:
        hour, minute = int(match["half"]), 30
    elif match["H"]:
        hour, minute = int(match["H"]), int(match["M"] or 0)
    else:
        return DEFAULT_TIME
    if "今晚" in match.group(0) and hour < 12:
        hour += 12
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ScheduleError(f"没有这个时间：“{match.group(0)}”。")
    return time(hour, minute)


def parse_schedule(text: str, now: datetime) -> When:
    """The time part of #通知; it must lie in the future (a recurring one starts at its next turn)."""
    word = re.sub(r"\s+", "", text)
    today = local(now)
    if word in NOW_WORDS:
        return When(now, Repeat.ONCE)
    if found := _WEEKLY.match(word):
        at = _clock(found)
        days = (WEEKDAYS[found["wd"]] - today.weekday()) % 7
        first = datetime.combine(today.date() + timedelta(days=days), at, SHANGHAI)
        if first <= today:
            first += timedelta(days=7)
        return When(to_utc(first), Repeat.WEEKLY)
    if found := _DAILY.match(word):
        first = datetime.combine(today.date(), _clock(found), SHANGHAI)
        if first <= today:
            first += timedelta(days=1)
        return When(to_utc(first), Repeat.DAILY)
    if found := _RELATIVE.match(word):
        offset = {"今天": 0, "今晚": 0, "明天": 1, "后天": 2}[found["day"]]
        first = datetime.combine(today.date() + timedelta(days=offset), _clock(found), SHANGHAI)
    else:
        try:
            first = parse_when(text, now)
        except XiaoqiError:
            raise ScheduleError(
                f"看不懂时间“{text.strip()}”，可以写：明天9:00、11月30日 8:00、每天8:00、每周一9:00。"
            ) from None
        if not re.search(r"\d\s*[:：点时]", text):
            first = first.replace(hour=DEFAULT_TIME.hour, minute=DEFAULT_TIME.minute)
    if first <= today:
        raise ScheduleError("这个时间已经过了，请写一个以后的时间。")
    return When(to_utc(first), Repeat.ONCE)
