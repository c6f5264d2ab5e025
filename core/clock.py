"""Time helpers: UTC in storage, Asia/Shanghai for people; never the wall clock in domain code."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 time; a time without offset is taken as Shanghai local time."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in Xiaoqi carries its zone")
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """The same instant as Shanghai wall-clock time, for display and day boundaries."""
    return to_utc(value).astimezone(SHANGHAI)


def iso_local(value: datetime) -> str:
    return local(value).isoformat(timespec="seconds")


def wall_now() -> datetime:
    """The real current time; only the CLI and transports call this."""
    return datetime.now(UTC)
