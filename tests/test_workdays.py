"""Working-day deadlines with the official calendar, and years it does not know yet."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from core.clock import SHANGHAI
from tickets.workdays import WorkCalendar


def test_weekends_holidays_and_make_up_days() -> None:
    calendar = WorkCalendar()
    friday = datetime(2026, 9, 25, 10, tzinfo=SHANGHAI)
    assert calendar.add_working_days(friday, 4) == datetime(2026, 10, 9, tzinfo=SHANGHAI)  # Sep 28-30, Oct 8
    assert calendar.add_working_days(friday, 6) == datetime(2026, 10, 11, tzinfo=SHANGHAI)  # Oct 10 is worked


def test_a_deadline_crossing_into_an_unknown_year_counts_weekends_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkCalendar()
    opened = datetime(2026, 12, 21, 15, tzinfo=SHANGHAI)
    with caplog.at_level(logging.WARNING):
        deadline = calendar.add_working_days(opened, 13)
        calendar.add_working_days(opened, 20)
    # Dec 22-25, 28-31 (8; Jan 1 2026 rules do not apply to 2027), then Jan 1, 4-7 2027 by weekends only
    assert deadline == datetime(2027, 1, 8, tzinfo=SHANGHAI)
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_a_deployment_adds_next_years_schedule_as_data(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nholidays:\n  - 2027-01-01\nworkdays:\n  - 2027-01-09\n", encoding="utf-8"
    )
    calendar = WorkCalendar.load(tmp_path)
    opened = datetime(2026, 12, 31, 10, tzinfo=SHANGHAI)
    # Jan 1 is a holiday now, Jan 4-8 are working, Saturday Jan 9 is a make-up working day
    assert calendar.add_working_days(opened, 6) == datetime(2027, 1, 10, tzinfo=SHANGHAI)
    assert not calendar.is_workday(datetime(2027, 1, 1).date())
