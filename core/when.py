"""The one reader of times people type in commands: '明天18点半', '下午3点', '周五', '11月20日18:00'.

Grammar (after full-width digits and colons are made plain, see `_normalise`):

    when   = [day] [clock] [前 | 之前 | 以前 | 为止]          at least one of day, clock
    day    = [YYYY (-|/|.|年)] M (-|/|.|月) D [日|号] [(周X)]  11月20日, 11-20, 2026-11-20, 11月20号（周五）
           | 今天 | 今日 | 今晚 | 明天 | 明日 | 明早 | 明晚 | 后天 | 大后天
           | [下 | 下个 | 这 | 这个 | 本] (周|星期|礼拜) X      周五, 星期五, 下周一
    clock  = [period] ( H:MM | H (点|时) [半 | 一刻 | 三刻 | M [分]] )
    period = 凌晨 | 早上 | 早晨 | 上午 | 中午 | 下午 | 傍晚 | 晚上 | 夜里
Numbers may be digits or Chinese numerals (三点, 十一月二十日). Times are Asia/Shanghai wall-clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.clock import SHANGHAI, local
from core.errors import XiaoqiError

HINT = "请写成 11月20日18:00、明天下午3点 这样。"
YEAR_BEHIND = timedelta(days=180)  # "1月5日" said in December is next January; "10月1日" in November is past
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
WEEKDAY_NAMES = "一二三四五六日"
RELATIVE_DAYS = {
    "今天": 0, "今日": 0, "今晚": 0, "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "后天": 2, "大后天": 3,
}  # fmt: skip
EVENING = ("下午", "傍晚", "晚上", "夜里")  # "8点" in these is 20:00
IMPLIED_PERIOD = {"今晚": "晚上", "明晚": "晚上", "明早": "早上"}
_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

_N = r"\d{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_WD = r"[一二三四五六日天七]"
_DAY = rf"""
    (?:(?P<year>\d{{4}})\s?[-/.年]\s?)?(?P<month>{_N})\s?[-/.月]\s?(?P<day>{_N})\s?[日号]?
        (?:\s?\(?\s?(?:周|星期|礼拜)(?P<check>{_WD})\s?\)?)?
  | (?P<relative>大后天|今天|今日|今晚|明天|明日|明早|明晚|后天)
  | (?P<week>下个?|这个?|本)?(?:周|星期|礼拜)(?P<weekday>{_WD})
"""
_CLOCK = rf"""
    (?P<period>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里)?\s?
    (?: (?P<hh>\d{{1,2}})\s?:\s?(?P<mm>\d{{2}})
      | (?P<hour>{_N})\s?[点时]\s?(?:(?P<half>半)|(?P<quarter>[一三])刻|(?P<minute>{_N})\s?分?)?
    )?
"""
_WHEN = re.compile(rf"(?:{_DAY})?\s?(?:T|\s)?{_CLOCK}\s?(?:前|之前|以前|为止)?", re.VERBOSE)
_CLOCK_ONLY = re.compile(rf"{_CLOCK}\s?(?:前|之前|以前|为止)?", re.VERBOSE)


class WhenError(XiaoqiError):
    """A time the command cannot read; the text says how to write it."""


@dataclass(frozen=True)
class Reading:
    """What a text said: a Shanghai day, and a clock time unless only the day was named."""

    day: date
    clock: time | None

    def at(self, default: time) -> datetime:
        """The moment (aware, Shanghai); a day without a clock time takes the caller's `default`."""
        return datetime.combine(self.day, self.clock or default, SHANGHAI)


def read_when(text: str, now: datetime, *, hint: str = HINT) -> Reading:
    """Read a day and/or a clock time; a clock time alone is today. Whether it is past is the caller's rule."""
    said = text.strip()
    found = _WHEN.fullmatch(_normalise(said))
    if found is None or not (found["period"] or found["hh"] or found["hour"] or _names_day(found)):
        raise WhenError(f"看不懂时间“{said}”，{hint}")
    today = local(now).date()
    day = _day(found, today, said)
    clock, later = _clock(found, said)
    return Reading(day + timedelta(days=later), clock)


def parse_clock(text: str, *, hint: str = HINT, said: str | None = None) -> time:
    """Only a clock time ('9:00', '下午3点半'), as in '每天8:00'; `said` is what to quote back on error."""
    shown = (said if said is not None else text).strip()
    found = _CLOCK_ONLY.fullmatch(_normalise(text.strip()))
    if found is None or not (found["period"] or found["hh"] or found["hour"]):
        raise WhenError(f"看不懂时间“{shown}”，{hint}")
    clock, later = _clock(found, shown)
    if clock is None or later:
        raise WhenError(f"没有这个时间：“{shown}”。")
    return clock


def _normalise(text: str) -> str:
    """Full-width digits, colons and brackets become plain ones (NFKC); runs of spaces become one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _names_day(found: re.Match[str]) -> bool:
    return bool(found["month"] or found["relative"] or found["weekday"])


def _number(text: str) -> int:
    """'18' -> 18, '三' -> 3, '十一' -> 11, '二十' -> 20, '二十三' -> 23, '零五' -> 5."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)
    return int("".join(str(_DIGITS[c]) for c in text))


def _day(found: re.Match[str], today: date, said: str) -> date:
    if found["relative"]:
        return today + timedelta(days=RELATIVE_DAYS[found["relative"]])
    if found["weekday"]:
        weekday = WEEKDAYS[found["weekday"]]
        if not found["week"]:  # 周五: the next Friday, today included
            return today + timedelta(days=(weekday - today.weekday()) % 7)
        monday = today - timedelta(days=today.weekday())
        if found["week"].startswith("下"):  # 下周一: Monday of next week
            monday += timedelta(days=7)
        return monday + timedelta(days=weekday)
    if not found["month"]:
        return today
    year = int(found["year"]) if found["year"] else today.year
    try:
        day = date(year, _number(found["month"]), _number(found["day"]))
        if not found["year"] and day < today - YEAR_BEHIND:
            day = date(year + 1, day.month, day.day)
    except ValueError:
        raise WhenError(f"没有这个时间：“{said}”。") from None
    if found["check"] and WEEKDAYS[found["check"]] != day.weekday():
        named = f"{day.month}月{day.day}日是星期{WEEKDAY_NAMES[day.weekday()]}"
        raise WhenError(f"{named}，不是星期{found['check']}，请核对一下。")
    return day


def _clock(found: re.Match[str], said: str) -> tuple[time | None, int]:
    """The clock time and how many days it moves the day (晚上12点, 24:00 -> 0:00 the next day)."""
    period = found["period"] or IMPLIED_PERIOD.get(found.groupdict().get("relative") or "", "")
    if found["hh"]:
        hour, minute = int(found["hh"]), int(found["mm"])
    elif found["hour"]:
        hour = _number(found["hour"])
        if found["half"]:
            minute = 30
        elif found["quarter"]:
            minute = 15 if found["quarter"] == "一" else 45
        else:
            minute = _number(found["minute"]) if found["minute"] else 0
    elif period == "中午":
        return time(12, 0), 0
    elif period:
        raise WhenError(f"“{said}”请写上几点，例如：明天下午3点、今晚8点。")
    else:
        return None, 0
    evening = period in EVENING
    if (evening and 1 <= hour < 12) or (period == "中午" and 1 <= hour <= 3):
        hour += 12
    elif evening and hour == 12 and period != "下午":
        hour = 24  # 晚上12点 is midnight
    elif period == "凌晨" and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        return time(0, 0), 1
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise WhenError(f"没有这个时间：“{said}”。")
    return time(hour, minute), 0
