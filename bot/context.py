"""What a handler may ask for: the services the app is built with, and one event's context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from access.policy import Access
from consult.jobs import ConsultationJob
from core.events import Incoming, Outgoing
from core.outbox import Outbox
from core.settings import Settings
from faq import FaqMatcher
from groups.messages import Message
from groups.models import ChatGroup, Person
from groups.noise import NoiseBudget
from nlp import Labels
from tickets.desk import Desk

if TYPE_CHECKING:
    from bot.router import Router


@dataclass(frozen=True)
class Services:
    """The app's parts a handler may declare by name (aiogram's workflow data)."""

    settings: Settings
    desk: Desk
    access: Access
    outbox: Outbox
    router: Router
    faq_for: Callable[[Session], FaqMatcher]  # the knowledge base as of this session's approved answers
    classify: Callable[[Sequence[str]], list[Labels | None]]
    consultations: ConsultationJob | None = None  # None: consultations are not scheduled in this app

    @property
    def noise(self) -> NoiseBudget:
        """How often the bot may speak in a group, and what goes privately instead."""
        return self.desk.noise


@dataclass
class Context:
    """One event on its way through the handlers: who said what, where, and the open transaction."""

    services: Services
    session: Session
    now: datetime
    message: Incoming
    sender: Person
    group: ChatGroup | None
    labels: Labels | None = None
    args: str = ""
    audited: tuple[str, str] | None = None  # (command, arguments): a staff action the caller audits
    _record: Message | Callable[[], Message] | None = field(default=None, repr=False)
    _provided: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def record(self) -> Message | None:
        """The stored message. A replay may hold it back as a row to write in bulk: asking for it
        stores it the ordinary way (a handler that needs it gets it; one that does not costs nothing)."""
        if callable(self._record):
            self._record = self._record()
        return self._record

    @property
    def record_wanted(self) -> bool:
        """Whether a handler asked for the stored message (a held-back row then became an object)."""
        return not callable(self._record)

    def reply(self, text: str) -> Outgoing:
        """An answer to the sender: @-mentioning them in a group, privately otherwise."""
        if self.message.group_id is not None:
            return Outgoing(text=text, group_id=self.message.group_id, mentions=(self.sender.id,))
        return Outgoing(text=text, to_id=self.sender.id)

    def tell(self, saying: str, text: str) -> Outgoing:
        """An answer that concerns only the sender: an @-reply in the group when the noise budget says
        this kind (groups.noise.SAYINGS) is said in the group, privately otherwise."""
        if self.services.noise.said_in_group(saying):
            return self.reply(text)
        return Outgoing(text=text, to_id=self.sender.id)

    def provided(self) -> dict[str, Any]:
        """Every value a handler may name as a parameter, apart from a command's typed arguments (built
        once per event: every handler on the way asks)."""
        if self._provided is None:
            self._provided = self._provide()
        return self._provided

    def _provide(self) -> dict[str, Any]:
        services = self.services
        return {
            "ctx": self,
            "session": self.session,
            "now": self.now,
            "message": self.message,
            "sender": self.sender,
            "group": self.group,
            "labels": self.labels,
            "settings": services.settings,
            "desk": services.desk,
            "access": services.access,
            "outbox": services.outbox,
            "router": services.router,
            "noise": services.noise,
            "classify": services.classify,
            "consultations": services.consultations,
        }
