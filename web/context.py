"""What every web route needs: the bot's application (in console mode), the clock and the mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session

from bot.app import App
from core.clock import wall_now
from core.db import session_scope

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class WebContext:
    """`app` is the same application the bot runs, switched to console mode: commands go through its
    router (same roles, rules, audit log and notifications); what it queues, the bot process sends."""

    app: App
    clock: Callable[[], datetime] = wall_now
    demo: bool = False  # sign-in codes are also printed (no WeChat in the demo)
    secure_cookies: bool = True  # False: plain http on one's own machine (xiaoqi serve --insecure-http)
    _acting: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[object, tuple[datetime, object]] = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)
    _first: dict[object, threading.Lock] = field(default_factory=dict)
    _refreshing: set[object] = field(default_factory=set)
    refreshes: dict[object, threading.Thread] = field(default_factory=dict)  # the latest, per key

    def __post_init__(self) -> None:
        self.app = self.app.front_end()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.app.engine) as session:
            yield session

    def cached(self, key: object, fresh: timedelta, compute: Callable[[datetime], T]) -> tuple[datetime, T]:
        """A value and when it was computed, recomputed at most once per `fresh` (the big screen's
        numbers: twenty screens refreshing each minute cost one computation). A stale value is served
        at once while one background thread computes the next; only the very first request waits."""
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and self.clock() - hit[0] >= fresh and key not in self._refreshing:
                self._refreshing.add(key)
                refresh = threading.Thread(target=self._refresh, args=(key, compute), daemon=True)
                self.refreshes[key] = refresh
                refresh.start()
            first = self._first.setdefault(key, threading.Lock()) if hit is None else None
        if first is not None:
            with first:  # one request computes it; the others wait for that one
                if (hit := self._cache.get(key)) is None:
                    self._refresh(key, compute)
                    hit = self._cache[key]
        return hit  # type: ignore[return-value]

    def _refresh(self, key: object, compute: Callable[[datetime], T]) -> None:
        at = self.clock()
        try:
            value = compute(at)
            with self._cache_lock:
                self._cache[key] = (at, value)
        except Exception:
            log.exception("computing %r for the console failed", key)
            if key not in self._cache:
                raise
        finally:
            with self._cache_lock:
                self._refreshing.discard(key)

    @contextmanager
    def acting(self) -> Iterator[App]:
        """The application, one request at a time (its clock and send queue are not thread-safe)."""
        with self._acting:
            yield self.app
