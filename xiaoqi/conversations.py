"""Labelled conversations (docs/conversations.md): what the bot did with a conversation, against what
each line really is. Read by `xiaoqi eval conversations`, the demo's summary and bench/."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot.router import COMMAND_PREFIXES
from bot.simulator import EventError, Tick, parse_event
from groups.messages import residents_group_speech
from groups.models import Person
from moderation.service import exempt_ids
from tickets.models import PendingConfirmation, Ticket, TicketReporter

_LABEL = re.compile(r"^(?P<kind>ticket|echo|emergency):(?P<ref>[A-Za-z0-9_.\-]+)$|^(?P<plain>question|none)$")


class LabelError(ValueError):
    """A labelled conversation that cannot be read; the text says where and why."""


@dataclass(frozen=True)
class Label:
    kind: str  # ticket | echo | emergency | question | none
    ref: str = ""  # the problem or emergency it is about

    @classmethod
    def parse(cls, text: object) -> Label:
        match = _LABEL.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"label {text!r} is not one of ticket:P, echo:P, emergency:E, question, none")
        if match["plain"]:
            return cls(match["plain"])
        return cls(match["kind"], match["ref"])

    @property
    def real(self) -> bool:
        """A line that rightly opens a ticket."""
        return self.kind in ("ticket", "emergency")


@dataclass
class Conversation:
    """The lines of a labelled conversation: message id -> label and sender, and which are commands."""

    labels: dict[str, Label] = field(default_factory=dict)
    senders: dict[str, str] = field(default_factory=dict)
    commands: set[str] = field(default_factory=set)  # explicit commands (#反映, #议事落实 …): not judgement


def read_labelled(lines: Iterable[str], bot_id: str, *, require: bool = True) -> Conversation:
    """Labels by message id (ids as the simulator gives them). `require`: every line must carry one."""
    found = Conversation()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_event(line, line_no, bot_id)
        except EventError as error:
            raise LabelError(f"line {line_no}: {error}") from error
        if isinstance(event, Tick):
            continue
        raw = json.loads(line).get("label")
        if raw is None:
            if require:
                raise LabelError(f'line {line_no}: no "label"')
            continue
        try:
            found.labels[event.message_id] = Label.parse(raw)
        except ValueError as error:
            raise LabelError(f"line {line_no}: {error}") from error
        found.senders[event.message_id] = event.sender_id
        if event.text.lstrip().startswith(COMMAND_PREFIXES):
            found.commands.add(event.message_id)
    return found


@dataclass(frozen=True)
class Figures:
    """What the bot did with a labelled conversation, at problem level (tickets filed by an explicit
    command are not the bot's judgement and are left out)."""

    tickets: int  # tickets opened from the conversation's messages
    real_tickets: int  # of them, opened by a line that reports a problem or an emergency
    problems: int
    problems_ticketed: int
    duplicates: int  # tickets beyond the first for one problem
    emergencies: int
    emergencies_caught: int  # emergencies that ended in an urgent ticket
    urgent_tickets: int
    real_urgent_tickets: int
    confirmations: int
    exempt_tickets: int  # tickets or emergencies opened from staff's or exempt accounts' lines
    mixed_tickets: int  # tickets that hold reports of more than one problem (merged wrongly)
    bot_group_messages: int
    group_speech: int  # residents' group messages (groups.messages.residents_group_speech)
    wrong: tuple[str, ...] = ()  # the message ids of tickets that should not exist
    placed: Mapping[str, str] = field(default_factory=dict)  # message id -> "#3" (opened it), "+3" (joined)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ticket_precision": _ratio(self.real_tickets, self.tickets),
            "problem_recall": _ratio(self.problems_ticketed, self.problems),
            "duplicates": self.duplicates,
            "emergency_precision": _ratio(self.real_urgent_tickets, self.urgent_tickets),
            "emergency_recall": _ratio(self.emergencies_caught, self.emergencies),
            "confirmations": self.confirmations,
            "group_messages_per_100": _ratio(100 * self.bot_group_messages, self.group_speech, 1),
            "tickets": self.tickets,
            "problems": self.problems,
            "emergencies": self.emergencies,
            "urgent_tickets": self.urgent_tickets,
            "exempt_tickets": self.exempt_tickets,
            "mixed_tickets": self.mixed_tickets,
        }


def _ratio(part: int, whole: int, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def figures(session: Session, talk: Conversation, bot_group_messages: int) -> Figures:
    """Compare the tickets in the database with the conversation's labels."""
    labels = talk.labels
    tickets = [
        t
        for t in session.exec(select(Ticket)).all()
        if t.source_message_id in labels and t.source_message_id not in talk.commands
    ]
    held: dict[int, set[str]] = defaultdict(set)  # ticket -> the conversation's messages it holds
    for ticket_id, message_id in session.exec(select(TicketReporter.ticket_id, TicketReporter.message_id)):
        if message_id in labels:
            held[ticket_id].add(message_id)
    for t in tickets:
        held[t.number].add(t.source_message_id)
    exempt = exempt_ids(session)
    staff = {p.id for p in session.exec(select(Person)).all() if p.role.is_staff} | exempt

    def refs(kind: str) -> set[str]:
        return {label.ref for label in labels.values() if label.kind == kind}

    problems, emergencies = refs("ticket"), refs("emergency")
    ticketed = {labels[m].ref for t in tickets for m in held[t.number] if labels[m].kind == "ticket"}
    caught = {
        labels[m].ref for t in tickets if t.urgent for m in held[t.number] if labels[m].kind == "emergency"
    }
    firsts = Counter(labels[t.source_message_id].ref for t in tickets if labels[t.source_message_id].real)
    urgent = [t for t in tickets if t.urgent]
    confirmations = sum(1 for c in session.exec(select(PendingConfirmation.message_id)).all() if c in labels)
    return Figures(
        tickets=len(tickets),
        real_tickets=sum(1 for t in tickets if labels[t.source_message_id].real),
        problems=len(problems),
        problems_ticketed=len(ticketed & problems),
        duplicates=sum(n - 1 for n in firsts.values()),
        emergencies=len(emergencies),
        emergencies_caught=len(caught & emergencies),
        urgent_tickets=len(urgent),
        real_urgent_tickets=sum(1 for t in urgent if labels[t.source_message_id].kind == "emergency"),
        confirmations=confirmations,
        exempt_tickets=sum(1 for t in tickets if talk.senders.get(t.source_message_id) in staff),
        mixed_tickets=sum(
            1 for t in tickets if len({labels[m].ref for m in held[t.number] if labels[m].real}) > 1
        ),
        bot_group_messages=bot_group_messages,
        group_speech=residents_group_speech(session),
        wrong=tuple(t.source_message_id for t in tickets if not labels[t.source_message_id].real),
        placed={
            m: ("#" if m == t.source_message_id else "+") + str(t.number) + ("!" if t.urgent else "")
            for t in tickets
            for m in held[t.number]
        },
    )


FIGURE_NAMES: Mapping[str, str] = {
    "ticket_precision": "ticket precision (new tickets from real problems)",
    "problem_recall": "problem recall (problems that ended in a ticket)",
    "duplicates": "duplicate tickets for one problem",
    "emergency_precision": "emergency precision",
    "emergency_recall": "emergency recall",
    "confirmations": "confirmation questions asked",
    "group_messages_per_100": "bot's group messages per 100 residents'",
}


def summary_rows(found: Figures) -> Sequence[tuple[str, str]]:
    values = found.as_dict()
    counts = {
        "ticket_precision": f"{found.real_tickets}/{found.tickets}",
        "problem_recall": f"{found.problems_ticketed}/{found.problems}",
        "duplicates": f"of {found.problems} problems",
        "emergency_precision": f"{found.real_urgent_tickets}/{found.urgent_tickets}",
        "emergency_recall": f"{found.emergencies_caught}/{found.emergencies}",
        "confirmations": "",
        "group_messages_per_100": f"{found.bot_group_messages} for {found.group_speech}",
    }
    return [(FIGURE_NAMES[k], f"{_shown(values[k])}  {counts[k]}".rstrip()) for k in FIGURE_NAMES]


def _shown(value: object) -> str:
    return "-" if value is None else str(value)
