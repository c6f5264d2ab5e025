"""A local spool for events that arrive while the database is unreachable (PostgreSQL restarting, a
network blip): appended durably to a file and handled, in order, once the database answers again.

Handling is idempotent (capture is keyed by the platform's message id), so an event handled just
before a crash and still in the spool is only skipped when replayed."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from core.events import Incoming, MessageKind

log = logging.getLogger(__name__)


class Spool:
    """Events in arrival order, one JSON line each, fsynced before the transport moves on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = len(self._read())
        return self._count

    def add(self, incoming: Incoming) -> None:
        self._write(self.path, [incoming], "a")
        if self._count is not None:
            self._count += 1
        log.warning("database unreachable: message %s kept in %s", incoming.message_id, self.path)

    @staticmethod
    def _write(path: Path, events: list[Incoming], mode: str) -> None:
        """Write events as JSON lines and fsync once."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open(mode, encoding="utf-8") as sink:
            for incoming in events:
                record = asdict(incoming)
                record["at"] = incoming.at.isoformat()
                record["kind"] = incoming.kind.value
                record["mentions"] = list(incoming.mentions)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
            os.fsync(sink.fileno())

    def drain(self, handle: Callable[[Incoming], object]) -> int:
        """Handle spooled events in order until one fails (it raises; what is left stays spooled)."""
        events = self._read()
        done = 0
        try:
            for incoming in events:
                handle(incoming)
                done += 1
        finally:
            if done:
                self._rewrite(events[done:])
        return done

    def _read(self) -> list[Incoming]:
        if not self.path.exists():
            return []
        events = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.error("unreadable spool line skipped: %r", line[:200])  # a torn last write
                continue
            record["at"] = datetime.fromisoformat(record["at"])
            record["kind"] = MessageKind(record["kind"])
            record["mentions"] = tuple(record["mentions"])
            events.append(Incoming(**record))
        return events

    def _rewrite(self, remaining: list[Incoming]) -> None:
        if remaining:
            temporary = self.path.with_suffix(".tmp")
            self._write(temporary, remaining, "w")
            temporary.replace(self.path)
        else:
            self.path.unlink(missing_ok=True)
        self._count = len(remaining)
