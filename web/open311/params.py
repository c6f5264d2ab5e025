"""The query parameters of GeoReport's reads, checked: lists, bounded numbers, dates, codes, statuses."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import parse_time
from core.numbers import record_id
from tickets.models import OPEN_STATES, TicketState
from web.open311.protocol import Open311Error
from web.open311.services import CATEGORY_OF


def items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def number(text: str | None, name: str, low: int, high: int, default: int) -> int:
    if text is None or not text.strip():
        return default
    value = record_id(text.strip())
    if value is None or not low <= value <= high:
        raise Open311Error(400, f"{name} 须为 {low} 到 {high} 之间的整数")
    return value


def date(text: str | None, name: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_time(text.strip()).astimezone(UTC)  # years 1 and 9999 may not fit in UTC
    except (ValueError, OverflowError):
        raise Open311Error(400, f"{name} 须为 ISO 8601 时间，如 2026-11-01T00:00:00+08:00") from None


def codes(text: str | None) -> list[str]:
    given = items(text)
    unknown = [code for code in given if code not in CATEGORY_OF]
    if unknown:
        raise Open311Error(400, "未知的 service_code")
    return [CATEGORY_OF[code] for code in given]


def states(text: str | None) -> list[TicketState]:
    wanted = {item.lower() for item in items(text)}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, "status 只能是 open 或 closed")
    closed = [state for state in TicketState if state not in OPEN_STATES]
    return [*(OPEN_STATES if "open" in wanted else ()), *(closed if "closed" in wanted else ())]


def status(state: str | None) -> str | None:
    return None if state is None else "open" if state in OPEN_STATES else "closed"
