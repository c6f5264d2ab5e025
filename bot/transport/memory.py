"""An in-process transport: tests and `xiaoqi chat` speak to the app and get its replies directly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from bot.app import App
from core.events import Incoming, MessageKind, Outgoing


class MemoryTransport:
    """Feeds events to one App with a controllable clock and keeps everything the bot sent."""

    def __init__(self, app: App, start: datetime) -> None:
        self.app = app
        self.now = start
        self.sent: list[Outgoing] = []
        self._ids = itertools.count(1)

    async def say(
        self,
        text: str,
        *,
        sender: str,
        group: str | None = None,
        name: str = "",
        kind: MessageKind = MessageKind.TEXT,
        mentions: tuple[str, ...] = (),
        message_id: str | None = None,
        at: datetime | None = None,
    ) -> list[Outgoing]:
        """One member says something in a group (or privately to the bot when group is None)."""
        if at is not None:
            self.now = max(self.now, at)
        incoming = Incoming(
            message_id=message_id or f"mem-{next(self._ids)}",
            sender_id=sender,
            sender_name=name,
            text=text,
            at=at or self.now,
            group_id=group,
            kind=kind,
            mentions=mentions,
        )
        return self._keep(self.app.handle(incoming))

    async def advance(self, delta: timedelta) -> list[Outgoing]:
        """Let time pass; whatever falls due meanwhile runs and its messages come back."""
        self.now += delta
        return self._keep(self.app.advance(self.now))

    def _keep(self, produced: list[Outgoing]) -> list[Outgoing]:
        self.sent.extend(produced)
        return produced
