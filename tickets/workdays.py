"""Working days in mainland China: weekends, public holidays and make-up working days."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import chinese_calendar
import yaml

from core.clock import SHANGHAI

log = logging.getLogger(__name__)


@dataclass
class WorkCalendar:
    """chinese-calendar's official schedule, plus years a deployment adds as data.

    chinese-calendar only knows the years it was released for; for a later year the calendar uses the
    deployment's `data/calendar/*.yaml` (holidays and make-up working days published by the State
    Council each winter) and otherwise falls back to plain weekends, warning once per year.
    """

    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)
    extra_years: set[int] = field(default_factory=set)
    _warned: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, directory: Path | None) -> WorkCalendar:
        calendar = cls()
        if directory is None or not directory.is_dir():
            return calendar
        for path in sorted(directory.glob("*.yaml")):
            spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            calendar.extra_years.add(int(spec["year"]))
            calendar.holidays.update(_dates(spec.get("holidays", [])))
            calendar.workdays.update(_dates(spec.get("workdays", [])))
        return calendar

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year in self.extra_years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "no official holiday schedule for %d: counting weekends only; add data/calendar/%d.yaml",
                    day.year,
                    day.year,
                )
            return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end (midnight, Shanghai) of the `days`-th working day after the day `start` falls on."""
        day = start.astimezone(SHANGHAI).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)

    def working_morning(self, after: datetime, days: int, hour: int) -> datetime:
        """`hour` o'clock on the `days`-th working day after `after`'s date (0: that date, or the next working one)."""
        day = after.astimezone(SHANGHAI).date()
        if days == 0:
            while not self.is_workday(day):
                day += timedelta(days=1)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def _dates(values: list[object]) -> set[date]:
    out: set[date] = set()
    for value in values:
        if isinstance(value, date):
            out.add(value)
        else:
            text = str(value)
            if ".." in text:
                low, high = (date.fromisoformat(part.strip()) for part in text.split(".."))
                out.update(low + timedelta(days=n) for n in range((high - low).days + 1))
            else:
                out.add(date.fromisoformat(text))
    return out
