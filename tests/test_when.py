"""The one reader of Chinese dates and times (core.when), and the commands that take a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.app import App
from consult.service import parse_when
from core.clock import SHANGHAI
from core.when import Reading, WhenError, parse_clock, read_when
from notices.models import Repeat
from notices.schedule import ScheduleError, parse_schedule

from .simulate import say, simulate, tick

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 2 November 2026, 09:00 in Shanghai
TODAY, TOMORROW = date(2026, 11, 2), date(2026, 11, 3)


@pytest.mark.parametrize(
    ("text", "day", "clock"),
    [
        ("18点半", TODAY, time(18, 30)),
        ("明天18点半", TOMORROW, time(18, 30)),
        ("下午3点", TODAY, time(15, 0)),
        ("晚上8点", TODAY, time(20, 0)),
        ("上午9点", TODAY, time(9, 0)),
        ("中午12点", TODAY, time(12, 0)),
        ("中午1点", TODAY, time(13, 0)),
        ("中午", TODAY, time(12, 0)),
        ("今天", TODAY, None),
        ("明天", TOMORROW, None),
        ("后天", date(2026, 11, 4), None),
        ("今晚8点", TODAY, time(20, 0)),
        ("今晚23:00", TODAY, time(23, 0)),
        ("明早7点", TOMORROW, time(7, 0)),
        ("明天下午3点", TOMORROW, time(15, 0)),
        ("周五", date(2026, 11, 6), None),
        ("星期五", date(2026, 11, 6), None),
        ("周一", TODAY, None),  # said on a Monday: today
        ("周日", date(2026, 11, 8), None),
        ("下周一", date(2026, 11, 9), None),
        ("下周五 下午3点", date(2026, 11, 13), time(15, 0)),
        ("11月20日18:00", date(2026, 11, 20), time(18, 0)),
        ("11月20日 18点", date(2026, 11, 20), time(18, 0)),
        ("11月20号", date(2026, 11, 20), None),
        ("11月20日（周五）18:00", date(2026, 11, 20), time(18, 0)),
        ("11-20", date(2026, 11, 20), None),
        ("2026-11-20 18:00", date(2026, 11, 20), time(18, 0)),
        ("2026年11月20日", date(2026, 11, 20), None),
        ("18:00", TODAY, time(18, 0)),
        ("18：00", TODAY, time(18, 0)),
        ("１１月２０日", date(2026, 11, 20), None),
        ("１１月２０日１８：３０", date(2026, 11, 20), time(18, 30)),
        ("3点15", TODAY, time(3, 15)),
        ("3点15分", TODAY, time(3, 15)),
        ("下午三点一刻", TODAY, time(15, 15)),
        ("十一月二十日下午两点", date(2026, 11, 20), time(14, 0)),
        ("晚上12点", TOMORROW, time(0, 0)),
        ("11月6日18:00前", date(2026, 11, 6), time(18, 0)),
        ("1月5日", date(2027, 1, 5), None),  # a date long past this year is next year's
        ("10月1日", date(2026, 10, 1), None),  # a month ago stays this year: the caller says it is past
    ],
)
def test_every_form_reads_as_shanghai_wall_clock(text: str, day: date, clock: time | None) -> None:
    assert read_when(text, NOW) == Reading(day, clock)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("过几天", "看不懂时间“过几天”，请写成 11月20日18:00、明天下午3点 这样。"),
        ("昨天9:00", "看不懂时间“昨天9:00”，请写成 11月20日18:00、明天下午3点 这样。"),
        ("", "看不懂时间“”，请写成 11月20日18:00、明天下午3点 这样。"),
        ("25:00", "没有这个时间：“25:00”。"),
        ("18点70", "没有这个时间：“18点70”。"),
        ("2月30日", "没有这个时间：“2月30日”。"),
        ("明天下午", "“明天下午”请写上几点，例如：明天下午3点、今晚8点。"),
        ("今晚", "“今晚”请写上几点，例如：明天下午3点、今晚8点。"),
        ("11月20日周四", "11月20日是星期五，不是星期四，请核对一下。"),
    ],
)
def test_wrong_input_says_how_to_write_the_time(text: str, error: str) -> None:
    with pytest.raises(WhenError) as raised:
        read_when(text, NOW)
    assert str(raised.value) == error


def test_a_clock_alone_is_read_for_recurring_times() -> None:
    assert parse_clock("9:00") == time(9, 0)
    assert parse_clock("下午3点半") == time(15, 30)
    with pytest.raises(WhenError, match="看不懂时间“每天九九”"):
        parse_clock("九九", said="每天九九")


def test_each_caller_keeps_its_own_default_hour_and_past_rule() -> None:
    # consult: a day alone ends at 20:00; follow-up work "by a day" ends at midnight; aware Shanghai time
    assert parse_when("明天", NOW) == datetime(2026, 11, 3, 20, 0, tzinfo=SHANGHAI)
    assert parse_when("12月10日", NOW, whole_day=True) == datetime(2026, 12, 11, 0, 0, tzinfo=SHANGHAI)
    assert parse_when("12月10日18:00", NOW, whole_day=True) == datetime(2026, 12, 10, 18, tzinfo=SHANGHAI)
    with pytest.raises(WhenError, match=r"^看不懂时间“下月吧”，请写成 11月20日18:00 这样。$"):
        parse_when("下月吧", NOW)
    # notices: a day alone goes at 09:00, in UTC; a past time is refused
    assert parse_schedule("明天", NOW).first == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    assert parse_schedule("下午3点", NOW).first == datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    assert parse_schedule("每周五 下午3点", NOW).repeat is Repeat.WEEKLY
    assert parse_schedule("每周五 下午3点", NOW).describe() == "每周五 15:00"
    assert parse_schedule("每天7点半", NOW).describe() == "每天 07:30"
    with pytest.raises(WhenError, match=r"^看不懂时间“后年”，可以写：明天9:00"):
        parse_schedule("后年", NOW)
    with pytest.raises(WhenError, match="没有这个时间：“每天25:00”"):
        parse_schedule("每天25:00", NOW)
    with pytest.raises(ScheduleError, match="这个时间已经过了"):
        parse_schedule("8点", NOW)


def test_a_social_worker_writes_times_as_people_say_them(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", "#发起议事 要不要装门禁？\n截止：明天18点半"),
            say("11-02T09:01", "wxid_sg", "#通知 本群 下午3点\n下午3点社区服务站有免费理发。"),
            tick("11-02T15:10"),
        ],
    )
    residents = [o for o in out if o["group"] == "g1@chatroom" and not o["mentions"]]
    assert [(o["at"], o["text"]) for o in residents] == [
        (
            "2026-11-02T09:00:00+08:00",
            "【社区议事·投票】要不要装门禁？\n1. 同意\n2. 反对\n3. 弃权\n"
            "在群里回复“投票 选项号”就行（一人一票，截止前可以改票）。\n11月3日18:30截止。议事号：1。",
        ),
        ("2026-11-02T15:00:00+08:00", "【社区通知】下午3点社区服务站有免费理发。"),
    ]
    to_worker = [o["text"] for o in out if o not in residents]
    assert to_worker == [
        "1号议事已发起（幸福1-5栋群，本群），投票已开始，11月3日18:30截止。",
        "好的，1号通知将在11月2日 15:00发到幸福1-5栋群，发完告诉您结果。",
        "1号通知已发到幸福1-5栋群 1/1 个群。",
    ]
    assert all(o["to"] == "wxid_sg" or o["mentions"] == ["wxid_sg"] for o in out if o not in residents)
