"""The message path: one event through an ordered chain of small middlewares (as in nonebot2 and
aiogram), the same live, in replays, in `xiaoqi chat` and in tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from bot.batch import HeldMessage
from bot.context import Context
from bot.router import ParsedCommand
from core.events import Incoming, Outgoing
from groups.messages import Message
from groups.models import ChatGroup, Person
from nlp import Labels
from nlp.labels import EMERGENCY


@dataclass
class Turn:
    """One event on its way through the middlewares; each fills in what it found."""

    incoming: Incoming
    session: Session
    now: datetime  # the app's clock when the event arrived
    labels: Labels | None = None  # given by a replay that classified ahead, or by `Labelling`
    known_new: bool = False  # a replay looked its id up with others: no look-up of its own
    sender: Person | None = None
    group: ChatGroup | None = None
    record: Message | HeldMessage | None = None  # a replay may hold a new message back as a row
    parsed: ParsedCommand | None = None
    ctx: Context | None = None
    answer: list[Outgoing] = field(default_factory=list)  # what the handlers produced

    @property
    def urgent(self) -> bool:
        return self.labels is not None and self.labels.intent == EMERGENCY


Next = Callable[[Turn], list[Outgoing]]


class Middleware(Protocol):
    """Does its part of an event and calls `call_next` to go on (or returns without it to stop);
    returns what was released for sending."""

    def __call__(self, turn: Turn, call_next: Next) -> list[Outgoing]: ...


class Pipeline:
    """Middlewares in order; the last one's `call_next` ends the chain."""

    def __init__(self, middlewares: Sequence[Middleware]) -> None:
        self.middlewares = tuple(middlewares)

    def __call__(self, turn: Turn) -> list[Outgoing]:
        return self._step(0, turn)

    def _step(self, index: int, turn: Turn) -> list[Outgoing]:
        if index == len(self.middlewares):
            return []
        return self.middlewares[index](turn, lambda t: self._step(index + 1, t))
