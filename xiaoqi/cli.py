"""The `xiaoqi` command line."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.cli_common import DbOption
from xiaoqi.cli_common import app_with_registry as _app_with_registry
from xiaoqi.cli_common import fail as _fail
from xiaoqi.cli_common import setup_logging as _setup_logging
from xiaoqi.cli_consult import consult_app
from xiaoqi.cli_data import db_app, labels_app, registry_app
from xiaoqi.cli_report import report_app
from xiaoqi.cli_web import api_key_app

app = typer.Typer(
    help="小棲 Xiaoqi: a robot social worker for community WeChat groups.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(registry_app, name="registry")
app.add_typer(db_app, name="db")
app.add_typer(labels_app, name="labels")
app.add_typer(consult_app, name="consult")
app.add_typer(report_app, name="report")
app.add_typer(api_key_app, name="api-key")


@app.command()
def setup() -> None:
    """Build and cache the default message model (run once after installing; later starts just load it)."""
    import time

    from xiaoqi.nlp_wiring import load_classifier

    _setup_logging()
    settings = Settings.from_env()
    started = time.perf_counter()
    load_classifier(settings)
    typer.echo(f"message model ready in {settings.cache_dir} ({time.perf_counter() - started:.1f} s)")


@app.command()
def simulate(
    events: Annotated[Path, typer.Argument(help="Events, one JSON object per line.")],
    registry: Annotated[Path, typer.Option("--registry", help="Registry YAML loaded before the replay.")],
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: a fresh temporary SQLite file).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output JSON lines (default: stdout).")] = None,
) -> None:
    """Replay scripted group traffic through the real pipeline; print every message the bot sends."""
    from bot.simulator import run_simulation

    _setup_logging()
    if not events.is_file():
        raise _fail(f"no such events file: {events}")
    with tempfile.TemporaryDirectory(prefix="xiaoqi-sim-") as scratch:
        url = db or f"sqlite:///{Path(scratch) / 'simulation.db'}"
        bot = _app_with_registry(Settings.from_env(database_url=url), registry)  # a replay owns its database
        sink = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            with events.open(encoding="utf-8") as lines:
                result = run_simulation(bot, lines, sink, sys.stderr)
        finally:
            if out:
                sink.close()
            bot.engine.dispose()
    if result.skipped:
        typer.echo(f"{result.skipped} malformed line(s) skipped", err=True)
        raise typer.Exit(code=2)


@app.command()
def run(
    registry: Annotated[Path, typer.Option("--registry", help="Registry YAML loaded at start.")],
    db: DbOption = None,
    silence: Annotated[
        float, typer.Option("--silence", help="Seconds without any event before the connection is restarted.")
    ] = 300.0,
) -> None:
    """Serve WeChat groups through the puppet service in $WECHATY_PUPPET_SERVICE_ENDPOINT until SIGTERM."""
    import os

    from xiaoqi.run import ENDPOINT_ENV, TOKEN_ENV, Runner, Timings, run_until_signalled

    missing = [name for name in (ENDPOINT_ENV, TOKEN_ENV) if not os.environ.get(name)]
    if missing:
        typer.echo(
            f"xiaoqi run: set {' and '.join(missing)} (the puppet service's host:port and token)", err=True
        )
        raise typer.Exit(code=2)
    _setup_logging(logging.INFO)
    bot = _app_with_registry(Settings.from_env(database_url=db), registry, "live")
    try:
        runner = Runner(
            bot, os.environ[ENDPOINT_ENV], os.environ[TOKEN_ENV], timings=Timings(silence=silence)
        )
        run_until_signalled(runner)
    finally:
        bot.engine.dispose()


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Print sign-in codes here (no WeChat in a demo).")
    ] = False,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http",
            help="Plain http on your own machine: session cookies without the Secure flag. Never on a network.",
        ),
    ] = False,
) -> None:
    """Serve the staff console and the Open311 API (beside `xiaoqi run`, on the same database)."""
    from xiaoqi.serve import serve as serve_web

    _setup_logging(logging.WARNING)
    serve_web(Settings.from_env(database_url=db), host, port, demo=demo, insecure_http=insecure_http)


@app.command()
def queue(db: DbOption = None) -> None:
    """Show the send queue: per bot account, what waits, what is in flight, what failed."""
    from datetime import datetime

    from bot.handlers.basic import describe_backlog
    from core.clock import SHANGHAI
    from core.db import make_engine, session_scope
    from core.outbox import backlog
    from xiaoqi.schema import migrate

    settings = Settings.from_env(database_url=db)
    engine = make_engine(settings.database_url)
    migrate(engine)
    now = datetime.now(SHANGHAI)
    with session_scope(engine) as session:
        typer.echo(describe_backlog(backlog(session, now), now, settings.send_limits.per_minute))


@app.command()
def chat(
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Registry YAML (default: the demo district).")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: ./xiaoqi-chat/chat.db).")
    ] = None,
) -> None:
    """Talk to Xiaoqi in the terminal as any member of any group, and move the clock."""
    from xiaoqi.chat import run_chat

    _setup_logging(logging.ERROR, Path("xiaoqi-chat") / "chat.log")
    settings = Settings.from_env(database_url=db or "sqlite:///xiaoqi-chat/chat.db")
    bot = _app_with_registry(settings, registry or settings.data_dir / "demo" / "registry.yaml")
    run_chat(bot, sys.stdin, sys.stdout)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the database, logs and report go.")] = Path(
        "xiaoqi-demo"
    ),
) -> None:
    """Build the demo district and replay a month of its group traffic through the real pipeline."""
    from xiaoqi.demo import run_demo

    out.mkdir(parents=True, exist_ok=True)
    _setup_logging(logging.ERROR, out / "xiaoqi.log")
    run_demo(Settings.from_env(), out)


def _mount_nlp() -> None:
    from xiaoqi.cli_nlp import nlp_app

    app.add_typer(nlp_app, name="nlp", help="Message understanding: classify, train, evaluate.")


_mount_nlp()


def _mount_eval() -> None:
    from xiaoqi.cli_eval import eval_app

    app.add_typer(eval_app, name="eval", help="Measure the bot's judgement on labelled conversations.")


_mount_eval()


def main() -> None:
    app()
