"""The `xiaoqi` command line."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings

app = typer.Typer(
    help="小棲 Xiaoqi: a robot social worker for community WeChat groups.",
    no_args_is_help=True,
    add_completion=False,
)
registry_app = typer.Typer(help="The district registry (streets, communities, groups, people, routing).")
db_app = typer.Typer(help="Database schema.")
labels_app = typer.Typer(help="Labels corrected by staff, as training data for the district's own model.")
app.add_typer(registry_app, name="registry")
app.add_typer(db_app, name="db")
app.add_typer(labels_app, name="labels")
consult_app = typer.Typer(help="Community consultations (协商议事).")
app.add_typer(consult_app, name="consult")
report_app = typer.Typer(help="The monthly public-opinion report (民情月报).")
app.add_typer(report_app, name="report")
api_key_app = typer.Typer(help="API keys of the external systems that call the Open311 API.")
app.add_typer(api_key_app, name="api-key")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $XIAOQI_DATABASE_URL or sqlite:///core.db)."),
]


def _setup_logging(level: int = logging.WARNING, logfile: Path | None = None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setLevel(level)
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(logfile, encoding="utf-8")
        file_handler.setLevel(logging.INFO)
        handlers.append(file_handler)
    logging.basicConfig(
        level=logging.INFO if logfile else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


@registry_app.command("load")
def registry_load(
    file: Annotated[Path, typer.Argument(help="Registry YAML file (see docs/registry-format.md).")],
    db: DbOption = None,
) -> None:
    """Validate a registry file and load it into the database (all or nothing)."""
    from core.db import make_engine, session_scope
    from groups.registry import RegistryError, load_registry
    from xiaoqi.schema import migrate

    _setup_logging()
    settings = Settings.from_env(database_url=db)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with session_scope(engine) as session:
            summary = load_registry(session, file)
    except RegistryError as error:
        raise _fail(f"registry not loaded: {error}") from error
    typer.echo(
        f"registry loaded: {summary.streets} streets, {summary.communities} communities, "
        f"{summary.groups} groups, {summary.people} people, {summary.routing_rules} routing rules"
    )


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply schema migrations up to the newest revision."""
    from core.db import make_engine
    from xiaoqi.schema import migrate

    _setup_logging(logging.INFO)
    migrate(make_engine(Settings.from_env(database_url=db).database_url))
    typer.echo("database schema is up to date")


@labels_app.command("export")
def labels_export(
    out: Annotated[
        Path, typer.Option("--out", help="CSV to write (text plus one column per corrected label).")
    ],
    db: DbOption = None,
) -> None:
    """Write staff corrections as a CSV that `xiaoqi nlp train --data` takes."""
    import csv

    from sqlmodel import col, select

    from core.db import make_engine, session_scope
    from tickets.models import LabelledExample
    from xiaoqi.schema import migrate

    engine = make_engine(Settings.from_env(database_url=db).database_url)
    migrate(engine)
    with session_scope(engine) as session:
        rows = session.exec(select(LabelledExample).order_by(col(LabelledExample.id))).all()
    kinds = sorted({row.label_kind for row in rows})
    latest: dict[str, dict[str, str]] = {}
    for row in rows:  # the newest correction of a text wins
        latest.setdefault(row.text, {})[row.label_kind] = row.label
    with out.open("w", encoding="utf-8", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(["text", *kinds])
        for text, labels in latest.items():
            writer.writerow([text, *(labels.get(kind, "") for kind in kinds)])
    typer.echo(f"{len(latest)} corrected texts written to {out}")


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
        bot = _app_with_registry(Settings.from_env(database_url=url), registry)
        bot.single_process = True  # a replay owns its database
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


def _app_with_registry(settings: Settings, registry: Path):  # type: ignore[no-untyped-def]
    from bot.app import create_app
    from core.db import session_scope
    from groups.registry import RegistryError, load_registry
    from xiaoqi.nlp_wiring import load_classifier

    bot = create_app(settings, classifier=load_classifier(settings))
    try:
        with session_scope(bot.engine) as session:
            load_registry(session, registry)
    except RegistryError as error:
        raise _fail(f"registry not loaded: {error}") from error
    return bot


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
    bot = _app_with_registry(Settings.from_env(database_url=db), registry)
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
    from web.serve import serve as serve_web

    _setup_logging(logging.WARNING)
    serve_web(Settings.from_env(database_url=db), host, port, demo=demo, insecure_http=insecure_http)


def _web_session(db: str | None):  # type: ignore[no-untyped-def]
    from core.db import make_engine, session_scope
    from xiaoqi.schema import migrate

    engine = make_engine(Settings.from_env(database_url=db).database_url)
    migrate(engine)
    return session_scope(engine)


@api_key_app.command("add")
def api_key_add(
    name: Annotated[str, typer.Argument(help="The external system, e.g. 12345.")],
    db: DbOption = None,
    read_all: Annotated[
        bool, typer.Option("--read-all", help="Reads every ticket (the 12345 hub), not only those it filed.")
    ] = False,
) -> None:
    """Create a key for a system; it is shown once here and only its hash is stored."""
    from core.clock import wall_now
    from core.errors import XiaoqiError
    from web.keys import create_api_client

    try:
        with _web_session(db) as session:
            key = create_api_client(session, name, wall_now(), read_all=read_all)
    except XiaoqiError as error:
        raise _fail(str(error)) from error
    typer.echo(key)


@api_key_app.command("revoke")
def api_key_revoke(
    name: Annotated[str, typer.Argument(help="The external system.")], db: DbOption = None
) -> None:
    """Revoke a system's key at once."""
    from core.clock import wall_now
    from web.keys import revoke_api_client

    with _web_session(db) as session:
        if not revoke_api_client(session, name, wall_now()):
            raise _fail(f"no active key for {name!r}")
    typer.echo(f"revoked the key of {name}")


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


@consult_app.command("show")
def consult_show(
    number: Annotated[int, typer.Argument(help="The consultation's number.")],
    db: DbOption = None,
) -> None:
    """A consultation's stored result beside a recount from its stored ballots."""
    import json

    from consult.models import Consultation
    from consult.service import tally, turnout
    from core.db import make_engine, session_scope
    from xiaoqi.schema import migrate

    settings = Settings.from_env(database_url=db)
    engine = make_engine(settings.database_url)
    migrate(engine)
    with session_scope(engine) as session:
        consultation = session.get(Consultation, number)
        if consultation is None:
            raise _fail(f"no consultation {number}")
        counts = tally(session, consultation)
        seen = turnout(session, consultation)
        stored = consultation.result or {}
        typer.echo(f"{consultation.number}: {consultation.topic} [{consultation.state.value}]")
        typer.echo(
            f"scope: {consultation.scope_name}; secret: {consultation.secret}; per household: {consultation.per_household}"
        )
        for i, (option, count) in enumerate(zip(consultation.options, counts, strict=True), start=1):
            kept = stored.get("counts", [None] * len(counts))[i - 1]
            typer.echo(f"  {i}. {option}: recount {count}, stored {kept}")
        typer.echo(f"voted {seen.voted} of {seen.eligible}; decision: {consultation.decision or '-'}")
        agrees = not stored or stored.get("counts") == counts
        typer.echo(
            json.dumps(
                {"number": number, "recount": counts, "stored": stored.get("counts"), "agrees": agrees}
            )
        )
        if not agrees:
            raise typer.Exit(code=3)


@report_app.command("build")
def report_build(
    month: Annotated[str, typer.Option("--month", help="Shanghai calendar month, e.g. 2026-10.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html and report.pdf.")],
    db: DbOption = None,
    street: Annotated[str | None, typer.Option("--street", help="Only this street (its id).")] = None,
    community: Annotated[
        str | None, typer.Option("--community", help="Only this community (its id).")
    ] = None,
) -> None:
    """Build the monthly report (HTML and PDF) for the district, one street or one community."""
    from core.db import make_engine
    from core.errors import XiaoqiError
    from reports.build import build_report
    from xiaoqi.schema import migrate

    if street and community:
        raise _fail("give --street or --community, not both")
    scope = f"street:{street}" if street else f"community:{community}" if community else None
    settings = Settings.from_env(database_url=db)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        files = build_report(engine, month, out, scope=scope, settings=settings)
    except XiaoqiError as error:
        raise _fail(str(error)) from error
    finally:
        engine.dispose()
    typer.echo(files.summary_text)
    typer.echo(f"{files.html}\n{files.pdf}")


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
    bot.single_process = True
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
