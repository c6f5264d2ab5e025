"""The noise budget: what the bot says in a group rather than privately, and how often it may speak
there; read from data/groups/noise.yaml."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

# What the bot says to one person (or a ticket's reporters) in answer or as news. Each goes to the
# group (an @-reply, or one line per ticket @-mentioning its reporters) when the budget names it in
# `in_group`, otherwise privately.
SAYINGS: dict[str, str] = {
    "filed": "a new ticket's confirmation to its reporter",
    "confirmation": "the question whether a message is meant as a petition",
    "joined": "a report joined to a ticket someone else opened",
    "follow_up": "a reporter's later details, noted in their ticket",
    "standing": "where a ticket stands, to someone who asks",
    "accepted": "a ticket's reporters told that staff took it",
    "progress": "a ticket's progress",
    "passed_on": "a ticket passed to someone better placed",
    "returned": "a ticket returned for someone better placed",
    "extended": "a ticket's deadline extended",
    "resolved": "a ticket resolved, and the question whether its reporters are satisfied",
    "auto_closed": "a ticket closed without the reporter's rating",
    "answer": "an answer from the knowledge base",
    "question_forwarded": "a question passed to the social worker",
    "ad_warning": "a warning to someone who posted an advertisement",
    "opinion_thanks": "thanks for an opinion in a consultation",
}


@dataclass(frozen=True)
class NoiseBudget:
    in_group: frozenset[str] = frozenset({"filed", "confirmation", "standing"})
    vote_receipt_minutes: int = 5
    nickname_reminder_days: int = 7
    nickname_reminder_mentions: int = 10
    nickname_asks_per_person: int = 1

    def said_in_group(self, saying: str) -> bool:
        """Whether this kind of message goes to the group (see SAYINGS) rather than privately."""
        assert saying in SAYINGS, saying
        return saying in self.in_group

    @classmethod
    def load(cls, path: Path) -> NoiseBudget:
        spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(spec) - known):
            raise ValueError(f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        in_group = frozenset(str(n) for n in spec.pop("in_group", None) or ())
        if strange := sorted(in_group - set(SAYINGS)):
            raise ValueError(f"{path}: in_group names {', '.join(strange)}; known: {', '.join(SAYINGS)}")
        counts = {name: int(value) for name, value in spec.items()}
        if any(value < 1 for value in counts.values()):
            raise ValueError(f"{path}: every count and interval must be at least 1")
        return cls(in_group=in_group, **counts)
