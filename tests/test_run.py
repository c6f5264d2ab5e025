"""`xiaoqi run` against the real Wechaty stack: connects, answers, survives a service restart, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.app import App
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


async def _until(what: str, condition: Any, timeout: float = WAIT) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"not {what} within {timeout}s") from None


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


async def test_the_runner_reconnects_after_the_service_dies_and_stops_cleanly(
    app: App,
    node_e2e: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="xiaoqi.run")
    token = f"puppet_xiaoqi_run_{secrets.token_hex(8)}"
    log_path = tmp_path / "puppet_server.log"
    async with serving(node_e2e, log_path, token) as first:
        port = first.port
        runner = Runner(app, f"127.0.0.1:{port}", token, timings=FAST)
        running = asyncio.create_task(runner.run())
        try:
            await _until("connected", lambda: runner.transport is not None)
            await first.command(op="say", **{"from": "wxid_r1"}, text="帮助")
            reply = await first.expect("private reply", lambda e: e.get("conversation") == "wxid_r1")
            assert "帮助" in reply["text"]
            await _until("ticked", lambda: app.clock is not None)  # the clock loop runs app.advance(now)
            await _kill(first)
            await _until("disconnected", lambda: any(m.startswith("disconnected:") for m in _lines(caplog)))
        except BaseException:
            runner.stop()
            await asyncio.wait_for(running, WAIT)
            raise

    try:
        await _until("retrying", lambda: sum(m.startswith("reconnecting in") for m in _lines(caplog)) >= 2)
        async with serving(node_e2e, log_path, token, port=port) as second:
            await _until(
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


async def test_a_silent_stream_is_restarted_by_the_watchdog(
    app: App,
    node_e2e: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
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
            await _until("restarted", lambda: sum(m.startswith("connected as") for m in _lines(caplog)) >= 2)
        finally:
            runner.stop()
            await asyncio.wait_for(running, WAIT)
    assert any(
        m.startswith("disconnected: no event for") and m.endswith("(watchdog)") for m in _lines(caplog)
    )


async def test_sigterm_makes_xiaoqi_run_exit_0(
    node_e2e: Path, tmp_path: Path, classifier: MessageClassifier, cache_dir: Path
) -> None:
    token = f"puppet_xiaoqi_run_{secrets.token_hex(8)}"
    log_path = tmp_path / "xiaoqi_run.log"
    async with serving(node_e2e, tmp_path / "puppet_server.log", token) as service:
        # subprocess.Popen, not asyncio's: its child watcher once lost this child's status (returncode 255)
        with log_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "xiaoqi", "run", "--registry", str(REGISTRY),
                 "--db", f"sqlite:///{tmp_path / 'run.db'}"],
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={
                    **os.environ, "PYTHONIOENCODING": "utf-8", "XIAOQI_CACHE_DIR": str(cache_dir),
                    ENDPOINT_ENV: f"127.0.0.1:{service.port}", TOKEN_ENV: token,
                },
            )  # fmt: skip
        try:

            def logged(text: str) -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"xiaoqi run exited early: {log_path.read_text()[-3000:]}")
                return text in log_path.read_text(errors="replace")

            await _until("connected", lambda: logged("xiaoqi.run: connected as"), WAIT * 3)  # loads the model
            await service.command(op="say", **{"from": "wxid_r1"}, text="帮助")
            await service.expect("private reply", lambda e: e.get("conversation") == "wxid_r1")
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, WAIT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(WAIT)
        tail = log_path.read_text(errors="replace")
        assert code == 0, tail[-3000:]
        assert "xiaoqi.run: disconnected: shutting down" in tail and "xiaoqi.run: stopped" in tail
