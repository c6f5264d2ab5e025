"""The ticket policy (deadlines, thresholds, windows), read from data/tickets/policy.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tickets.similarity import Lexicon, read_lexicon


@dataclass(frozen=True)
class TicketPolicy:
    deadline_working_days: dict[str, int] = field(default_factory=dict)
    default_working_days: int = 5
    priority_deadline_working_days: int = 2
    priority_reporters: int = 3
    emergency_accept_minutes: int = 5
    emergency_deadline_minutes: int = 60
    office_hour: int = 9
    supervise_after_working_days: int = 1
    auto_close_days: int = 3
    duplicate_window_hours: int = 72
    same_place_days: int = 30
    live_thread_minutes: int = 30
    subjects: Lexicon = field(
        default_factory=dict
    )  # what problems are about (subjects.txt beside the policy)
    duplicate_similarity: float = 0.45
    thread_hours: int = 6
    confirm_minutes: int = 30

    @classmethod
    def load(cls, path: Path) -> TicketPolicy:
        spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        emergency = spec.get("emergency", {})
        return cls(
            deadline_working_days={str(k): int(v) for k, v in spec.get("deadline_working_days", {}).items()},
            priority_deadline_working_days=int(spec.get("priority_deadline_working_days", 2)),
            priority_reporters=int(spec.get("priority_reporters", 3)),
            emergency_accept_minutes=int(emergency.get("accept_within_minutes", 5)),
            emergency_deadline_minutes=int(emergency.get("deadline_minutes", 60)),
            office_hour=int(spec.get("office_hour", 9)),
            supervise_after_working_days=int(spec.get("supervise_after_working_days", 1)),
            auto_close_days=int(spec.get("auto_close_days", 3)),
            duplicate_window_hours=int(spec.get("duplicate_window_hours", 72)),
            same_place_days=int(spec.get("same_place_days", 30)),
            live_thread_minutes=int(spec.get("live_thread_minutes", 30)),
            subjects=read_lexicon(path.parent / "subjects.txt"),
            duplicate_similarity=float(spec.get("duplicate_similarity", 0.45)),
            thread_hours=int(spec.get("thread_hours", 6)),
            confirm_minutes=int(spec.get("confirm_minutes", 30)),
        )

    def working_days(self, category: str) -> int:
        return self.deadline_working_days.get(category, self.default_working_days)
