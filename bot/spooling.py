"""While the database is unreachable, events wait in a local spool and are handled in order later."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.events import Incoming, Outgoing
from core.spool import Spool

log = logging.getLogger(__name__)


class Spooling:
    """Live transports hand events here; spooled events go first, in order, once the database answers."""

    def __init__(self, path: Path, handle: Callable[[Incoming], list[Outgoing]]) -> None:
        self.spool, self.handle = Spool(path), handle

    def receive(self, incoming: Incoming) -> list[Outgoing]:
        sent = self.retry()
        if len(self.spool):
            self.spool.add(incoming)  # still unreachable: keep the order
            return sent
        try:
            return sent + self.handle(incoming)
        except DBAPIError as error:
            if not unreachable(error):
                raise
            self.spool.add(incoming)
            return sent

    def retry(self) -> list[Outgoing]:
        """Handle what the spool holds, if the database answers again (the clock calls this too)."""
        if not len(self.spool):
            return []
        sent: list[Outgoing] = []
        try:
            handled = self.spool.drain(lambda incoming: sent.extend(self.handle(incoming)))
        except DBAPIError as error:
            if not unreachable(error):
                raise
            log.info("database still unreachable: %d messages wait in the spool", len(self.spool))
            return sent
        log.warning("database reachable again: %d spooled messages handled", handled)
        return sent


def unreachable(error: DBAPIError) -> bool:
    """Whether a database error means "not reachable now" (worth retrying) rather than a bug."""
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
