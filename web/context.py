"""What every web route needs: the bot's application (in console mode), the clock and the mode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session

from bot.app import App
from xiaoqi.clock import wall_now
from xiaoqi.db import session_scope

T = TypeVar("T")


@dataclass
class WebContext:
    """`app` is the same application the bot runs, switched to console mode: commands go through its
    router (same roles, rules, audit log and notifications); what it queues, the bot process sends."""

    app: App
    clock: Callable[[], datetime] = wall_now
    demo: bool = False  # sign-in codes are also printed (no WeChat in the demo)
    secure_cookies: bool = False  # True behind HTTPS
    _acting: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[object, tuple[datetime, object]] = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app.console = True

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.app.engine) as session:
            yield session

    def cached(self, key: object, fresh: timedelta, compute: Callable[[], T]) -> tuple[datetime, T]:
        """A value computed at most once per `fresh` (the big screen's numbers: twenty screens
        refreshing each minute cost one computation), with the time it was computed."""
        now = self.clock()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < fresh:
                return hit[0], hit[1]  # type: ignore[return-value]
            value = compute()
            self._cache[key] = (now, value)
            return now, value

    @contextmanager
    def acting(self) -> Iterator[App]:
        """The application, one request at a time (its clock and send queue are not thread-safe)."""
        with self._acting:
            yield self.app
