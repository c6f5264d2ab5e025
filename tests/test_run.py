"""`xiaoqi run` against the real Wechaty stack: connects, answers, survives a service restart, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import App, Mode
from core.events import Outgoing
from nlp import MessageClassifier
from xiaoqi.cli import app as cli
from xiaoqi.run import ENDPOINT_ENV, TOKEN_ENV, Runner, Timings, backoff_delays

from . import test_wechaty_e2e
from .conftest import REGISTRY
from .test_wechaty_e2e import BOT, ROOM, WAIT, PuppetService, serving

node_e2e = test_wechaty_e2e.node_e2e  # the session fixture that installs the Node side

FAST = Timings(tick=0.2, probe=0.2, silence=30.0, backoff_first=0.1, backoff_max=0.8, login_timeout=WAIT)


async def _kill(service: PuppetService) -> None:
    service.process.kill()  # the service goes away without a goodbye
    await asyncio.wait_for(service.process.wait(), WAIT)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "xiaoqi.run"]


class Wake(logging.Handler):
    """Wakes `until` whenever what it waits on may have changed: on every log record (installed on the
    root logger after caplog's handler, so caplog already holds the record) and on every call, from any
    thread. No polling: `until` checks its condition only when woken."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.get_running_loop()
        self.changed = asyncio.Event()

    def __call__(self) -> None:
        self.loop.call_soon_threadsafe(self.changed.set)

    def emit(self, record: logging.LogRecord) -> None:
        self()

    async def until(self, what: str, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        async def wait() -> None:
            while True:
                self.changed.clear()  # a wake-up after this line is kept for the wait below
                if condition():
                    return
                await self.changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"not {what} within {timeout}s") from None


@pytest.fixture
def app(app: App) -> App:
    """As `xiaoqi run` builds it: sends are claimed until the transport settles them."""
    return app.with_mode(Mode.LIVE)


@pytest.fixture
async def wake() -> AsyncIterator[Wake]:
    handler = Wake()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


def test_run_without_the_puppet_service_settings_exits_2_with_one_clear_line() -> None:
    result = CliRunner().invoke(
        cli, ["run", "--registry", str(REGISTRY)], env={ENDPOINT_ENV: None, TOKEN_ENV: "secret"}
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"xiaoqi run: set {ENDPOINT_ENV} (the puppet service's host:port and token)"
    ]
    both = CliRunner().invoke(
        cli, ["run", "--registry", str(REGISTRY)], env={ENDPOINT_ENV: None, TOKEN_ENV: None}
    )
    assert both.exit_code == 2 and f"{ENDPOINT_ENV} and {TOKEN_ENV}" in both.output


def test_backoff_doubles_from_the_first_delay_to_the_cap_with_jitter() -> None:
    delay = backoff_delays(1.0, 60.0)
    for attempt, base in enumerate([1, 2, 4, 8, 16, 32, 60, 60, 60]):
        assert base * 0.5 <= delay(attempt) <= base


@pytest.mark.e2e
async def test_the_runner_reconnects_after_the_service_dies_and_stops_cleanly(
    app: App,
    node_e2e: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    wake: Wake,
) -> None:
    caplog.set_level(logging.INFO, logger="xiaoqi.run")
    token = f"puppet_xiaoqi_run_{secrets.token_hex(8)}"
    log_path = tmp_path / "puppet_server.log"
    advance = app.advance

    def advanced(now: datetime) -> list[Outgoing]:
        try:
            return advance(now)
        finally:
            wake()  # app.clock is set

    app.advance = advanced  # type: ignore[method-assign]
    async with serving(node_e2e, log_path, token) as first:
        port = first.port
        runner = Runner(app, f"127.0.0.1:{port}", token, timings=FAST)
        running = asyncio.create_task(runner.run())
        try:
            await wake.until("connected", lambda: runner.transport is not None)  # then it logs
            await first.command(op="say", **{"from": "wxid_r1"}, text="帮助")
            reply = await first.expect("private reply", lambda e: e.get("conversation") == "wxid_r1")
            assert "帮助" in reply["text"]
            await wake.until("ticked", lambda: app.clock is not None)  # the clock loop runs app.advance(now)
            await _kill(first)
            await wake.until(
                "disconnected", lambda: any(m.startswith("disconnected:") for m in _lines(caplog))
            )
        except BaseException:
            runner.stop()
            await asyncio.wait_for(running, WAIT)
            raise

    try:
        await wake.until(
            "retrying", lambda: sum(m.startswith("reconnecting in") for m in _lines(caplog)) >= 2
        )
        async with serving(node_e2e, log_path, token, port=port) as second:
            await wake.until(
                "reconnected", lambda: sum(m.startswith("connected as") for m in _lines(caplog)) == 2
            )
            await second.command(op="say", id="after-restart", **{"from": "wxid_r1"}, room=ROOM, text="#帮助")
            again = await second.expect("reply after the restart", lambda e: e.get("conversation") == ROOM)
            assert again["mentions"] == ["wxid_r1"]

            runner.stop()
            await asyncio.wait_for(running, WAIT)
    finally:
        runner.stop()
        await asyncio.wait_for(running, WAIT)
    assert runner.transport is None
    lines = _lines(caplog)
    assert lines[:2] == [f"connecting to the puppet service at 127.0.0.1:{port}", f"connected as {BOT}"]
    assert any(m.startswith("disconnected: puppet service unreachable") for m in lines)
    assert lines[-3:] == ["stopping: finishing what is in flight", "disconnected: shutting down", "stopped"]


@pytest.mark.e2e
async def test_a_silent_stream_is_restarted_by_the_watchdog(
    app: App,
    node_e2e: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    wake: Wake,
) -> None:
    caplog.set_level(logging.INFO, logger="xiaoqi.run")
    token = f"puppet_xiaoqi_run_{secrets.token_hex(8)}"
    async with serving(node_e2e, tmp_path / "puppet_server.log", token) as service:
        # no event at all for 0.5 s: a stream that silently stalled (the probe's dong is late too)
        runner = Runner(app, f"127.0.0.1:{service.port}", token, timings=Timings(
            tick=5, probe=0.3, silence=0.5, backoff_first=0.05, backoff_max=0.2, login_timeout=WAIT
        ))  # fmt: skip
        runner._touch = lambda *_: None  # type: ignore[method-assign]  # as if the stream went quiet
        running = asyncio.create_task(runner.run())
        try:
            await wake.until(
                "restarted", lambda: sum(m.startswith("connected as") for m in _lines(caplog)) >= 2
            )
        finally:
            runner.stop()
            await asyncio.wait_for(running, WAIT)
    assert any(
        m.startswith("disconnected: no event for") and m.endswith("(watchdog)") for m in _lines(caplog)
    )


@pytest.mark.e2e
async def test_sigterm_makes_xiaoqi_run_exit_0(
    node_e2e: Path, tmp_path: Path, classifier: MessageClassifier, cache_dir: Path, wake: Wake
) -> None:
    token = f"puppet_xiaoqi_run_{secrets.token_hex(8)}"
    log_path = tmp_path / "xiaoqi_run.log"
    async with serving(node_e2e, tmp_path / "puppet_server.log", token) as service:
        # subprocess.Popen, not asyncio's: its child watcher once lost this child's status (returncode 255)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "xiaoqi", "run", "--registry", str(REGISTRY),
                 "--db", f"sqlite:///{tmp_path / 'run.db'}"],
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={
                    **os.environ, "PYTHONIOENCODING": "utf-8", "XIAOQI_CACHE_DIR": str(cache_dir),
                    ENDPOINT_ENV: f"127.0.0.1:{service.port}", TOKEN_ENV: token,
                },
            )  # fmt: skip

            def copy() -> None:
                """The child's log into log_path, waking the test at each line and once it has exited."""
                assert process.stderr is not None
                for line in process.stderr:
                    log.write(line)
                    log.flush()
                    wake()
                process.wait()
                wake()

            copying = threading.Thread(target=copy, daemon=True)
            copying.start()

            def logged(text: str) -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"xiaoqi run exited early: {log_path.read_text()[-3000:]}")
                return text in log_path.read_text(errors="replace")

            try:
                await wake.until("connected", lambda: logged("xiaoqi.run: connected as"), WAIT * 3)  # model
                await service.command(op="say", **{"from": "wxid_r1"}, text="帮助")
                await service.expect("private reply", lambda e: e.get("conversation") == "wxid_r1")
                process.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(process.wait, WAIT)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(WAIT)
                copying.join(WAIT)
        tail = log_path.read_text(errors="replace")
        assert code == 0, tail[-3000:]
        assert "xiaoqi.run: disconnected: shutting down" in tail and "xiaoqi.run: stopped" in tail
