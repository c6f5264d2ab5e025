"""`xiaoqi run`: keeps one bot account connected to its puppet service, its clock ticking, until told to stop.

The Runner owns the connection's life: connect, supervise (liveness probe and a silence watchdog),
reconnect with capped exponential backoff, and shut down cleanly on SIGTERM/SIGINT. One log line per
state change: "connecting", "connected as …", "disconnected: …", "reconnecting in N s".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, Mode
from core.clock import SHANGHAI
from core.events import Incoming, Outgoing

log = logging.getLogger(__name__)

ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
TOKEN_ENV = "WECHATY_PUPPET_SERVICE_TOKEN"
# whatever arrives on the service's event stream proves it alive ("dong" answers our probe's "ding")
_STREAM_EVENTS = (
    "message", "heartbeat", "dong", "ready", "login", "scan", "error", "friendship",
    "room-join", "room-leave", "room-topic", "room-invite",
)  # fmt: skip
_INTAKE_EVENTS = ("message", "room-join", "room-leave")


@dataclass(frozen=True)
class Timings:
    """Seconds; production defaults, short ones in tests."""

    tick: float = 30.0  # the clock loop: app.advance(now)
    probe: float = 15.0  # liveness check: a ding RPC, whose dong also feeds the watchdog
    silence: float = 300.0  # no event at all for this long: restart the connection
    backoff_first: float = 1.0
    backoff_max: float = 60.0
    login_timeout: float = 60.0


class Transport(Protocol):
    self_id: str

    @property
    def streaming(self) -> bool: ...

    async def start(self, timeout: float | None = ...) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, messages: Any) -> None: ...
    async def ping(self) -> None: ...
    def listen(self, events: Any, callback: Callable[..., None]) -> None: ...
    def stop_intake(self, events: Any) -> None: ...
    def exclusive(self) -> asyncio.Lock: ...


TransportFactory = Callable[..., Transport]


def _wechaty_transport(app: App, endpoint: str, token: str, **kwargs: Any) -> Transport:
    from bot.transport.wechaty import WechatyTransport

    return WechatyTransport(app, endpoint, token, **kwargs)


def backoff_delays(first: float, cap: float, rng: random.Random | None = None) -> Callable[[int], float]:
    """Attempt n (0-based) waits first·2ⁿ capped at `cap`, jittered to 50-100% so accounts do not stampede."""
    rng = rng or random.Random()

    def delay(attempt: int) -> float:
        base = min(cap, first * (2 ** min(attempt, 32)))
        return base * rng.uniform(0.5, 1.0)

    return delay


class Runner:
    """One bot account: a supervised connection to its puppet service plus the clock loop."""

    def __init__(
        self,
        app: App,
        endpoint: str,
        token: str,
        *,
        timings: Timings = Timings(),
        transport_factory: TransportFactory = _wechaty_transport,
        on_handled: Callable[[Incoming, list[Outgoing]], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(SHANGHAI),
    ) -> None:
        self.app = app
        if app.mode is not Mode.LIVE:  # what is released is claimed until the transport says it went out
            raise ValueError("xiaoqi run needs an app built with Mode.LIVE")
        self.endpoint = endpoint
        self.token = token
        self.timings = timings
        self.on_handled = on_handled
        self.transport: Transport | None = None  # set while connected
        self._factory = transport_factory
        self._now = now
        self._delay = backoff_delays(timings.backoff_first, timings.backoff_max)
        self._stopping = asyncio.Event()
        self._last_event = time.monotonic()
        self._tick_task: asyncio.Task[None] | None = None

    def stop(self) -> None:
        """Ask run() to finish what is in flight and return (safe to call from a signal handler)."""
        if not self._stopping.is_set():
            log.info("stopping: finishing what is in flight")
        self._stopping.set()

    async def run(self) -> None:
        """Connect, supervise and reconnect until stop(); returns after a clean shutdown."""
        scheduler = AsyncIOScheduler(timezone=SHANGHAI)
        # only a fixed interval here: dated work (the monthly report) is the jobs' business, built on the 1st
        scheduler.add_job(
            self._tick, IntervalTrigger(seconds=self.timings.tick, timezone=SHANGHAI),
            id="clock", max_instances=1, coalesce=True, misfire_grace_time=None,
        )  # fmt: skip
        scheduler.start()
        attempt = 0
        try:
            while not self._stopping.is_set():
                connected_at = await self._connect()
                if connected_at is not None:
                    reason = await self._supervise()
                    await self._disconnect(reason)
                    if time.monotonic() - connected_at >= self.timings.backoff_max:
                        attempt = 0  # a connection that held resets the backoff; a flapping one does not
                if self._stopping.is_set():
                    break
                wait = self._delay(attempt)
                attempt += 1
                log.info("reconnecting in %.1f s", wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
        finally:
            scheduler.pause()
            if self._tick_task is not None and not self._tick_task.done():
                await asyncio.wait({self._tick_task}, timeout=self.timings.login_timeout)
            scheduler.shutdown(wait=False)
            if self.transport is not None:
                await self._disconnect(None)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.app.delivery.close)  # hand the scheduler to another account now
            log.info("stopped")

    async def _connect(self) -> float | None:
        """Start one transport; the monotonic time it logged in, or None when it could not."""
        log.info("connecting to the puppet service at %s", self.endpoint)
        transport = self._factory(self.app, self.endpoint, self.token, on_handled=self._handled)
        start = asyncio.create_task(transport.start(timeout=self.timings.login_timeout))
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({start, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not start.done():
            start.cancel()
            with contextlib.suppress(BaseException):
                await start
            with contextlib.suppress(Exception):
                await transport.stop()
            return None
        if (error := start.exception()) is not None:
            log.warning("connection failed: %s", error or error.__class__.__name__)
            with contextlib.suppress(Exception):
                await transport.stop()
            return None
        self.transport = transport
        self._last_event = time.monotonic()
        transport.listen(_STREAM_EVENTS, self._touch)
        log.info("connected as %s", transport.self_id)
        return time.monotonic()

    async def _supervise(self) -> str | None:
        """Wait until the connection is lost (its reason) or stop() is called (None)."""
        transport = self.transport
        assert transport is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.timings.probe)
            if self._stopping.is_set():
                return None
            if not transport.streaming:
                return "the event stream ended"
            try:
                await asyncio.wait_for(transport.ping(), self.timings.probe)
            except Exception as error:
                return f"puppet service unreachable ({error.__class__.__name__}: {error})"
            silent = time.monotonic() - self._last_event
            if silent >= self.timings.silence:
                return f"no event for {silent:.0f} s (watchdog)"

    async def _disconnect(self, reason: str | None) -> None:
        transport, self.transport = self.transport, None
        if transport is None:
            return
        if reason is not None:
            log.warning("disconnected: %s", reason)
        else:  # shutting down: take no new events, let those in hand finish, then close
            with contextlib.suppress(Exception):
                transport.stop_intake(_INTAKE_EVENTS)
        try:
            await asyncio.wait_for(transport.stop(), self.timings.login_timeout)
        except Exception:
            log.exception("closing the connection to %s failed", self.endpoint)
        if reason is None:
            log.info("disconnected: shutting down")

    def _touch(self, *_: object) -> None:
        self._last_event = time.monotonic()

    def _handled(self, incoming: Incoming, replies: list[Outgoing]) -> None:
        self._touch()
        if self.on_handled is not None:
            self.on_handled(incoming, replies)

    async def _tick(self) -> None:
        """Run the jobs due by wall-clock now and send what they produce; skipped while disconnected."""
        transport = self.transport
        if transport is None or self._stopping.is_set():
            return  # advance() catches up on the next tick after reconnecting
        self._tick_task = asyncio.current_task()
        try:
            async with transport.exclusive():  # never alongside a message being handled
                due = await asyncio.to_thread(self.app.spooling.retry)
                due += await asyncio.to_thread(self.app.advance, self._now())
                if due:
                    await transport.send(due)
        except Exception:
            log.exception("clock tick failed")


def run_until_signalled(runner: Runner) -> None:
    """Run in a fresh event loop; SIGTERM and SIGINT stop it cleanly."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner.stop)
        await runner.run()

    asyncio.run(main())
