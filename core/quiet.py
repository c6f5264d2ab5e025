"""Quiet hours: apart from emergencies and direct answers, nothing is sent at night."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.clock import local, to_utc

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})\s*$")
OFF_WORDS = frozenset({"", "off", "none", "no", "0", "关闭"})


@dataclass(frozen=True)
class QuietHours:
    """A nightly span in Shanghai wall-clock time, e.g. 22:00–07:00 (it may cross midnight)."""

    start: time = time(22, 0)
    end: time = time(7, 0)

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same time")

    @classmethod
    def parse(cls, value: str) -> QuietHours | None:
        """'22:00-07:00' -> QuietHours; 'off' (or empty) -> None."""
        if value.strip().lower() in OFF_WORDS:
            return None
        found = _SPAN.match(value)
        if found is None:
            raise ValueError(f"quiet hours look like 22:00-07:00 (or off), not {value!r}")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        try:
            return cls(time(h1, m1), time(h2, m2))
        except ValueError as error:
            raise ValueError(f"quiet hours {value!r}: {error}") from None

    def contains(self, at: datetime) -> bool:
        clock = local(at).time()
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def defer(self, at: datetime) -> datetime:
        """`at` itself outside quiet hours, else the moment they end (in UTC)."""
        if not self.contains(at):
            return at
        wall = local(at)
        end = wall.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= wall:
            end += timedelta(days=1)
        return to_utc(end)

    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"
