"""`xiaoqi eval conversations`: replay a labelled conversation and measure what the bot did with it."""

from __future__ import annotations

import io
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.conversations import Figures, LabelError, figures, read_labelled, summary_rows

INTAKE_LOGGER = "bot.handlers.petitions"
INTAKE_LOG = "intake %s: %s (%s)"
eval_app = typer.Typer(help="Measure the bot's judgement on labelled conversations.", no_args_is_help=True)


class _Decisions(logging.Handler):
    """Collects intake's decisions (logged at DEBUG by the ticket handler) by message id."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_message: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == INTAKE_LOG and isinstance(record.args, tuple):
            message_id, action, reason = record.args
            self.by_message[str(message_id)] = f"{action} ({reason})"


def evaluate(
    settings: Settings,
    events: Path,
    registry: Path,
    out: Path | None = None,
    decisions: dict[str, str] | None = None,
) -> Figures:
    """Replay `events` through the simulator on `settings.database_url` and compare with its labels;
    `decisions` receives intake's decision for each message."""
    from bot.simulator import run_simulation
    from core.db import session_scope
    from xiaoqi.cli import _app_with_registry

    with events.open(encoding="utf-8") as lines:
        talk = read_labelled(lines, settings.bot_id)
    bot = _app_with_registry(settings, registry)  # alone on its database
    sink = io.StringIO()
    collector = _Decisions()
    logger = logging.getLogger(INTAKE_LOGGER)
    level = logger.level
    if decisions is not None:
        logger.addHandler(collector)
        logger.setLevel(logging.DEBUG)
    try:
        with events.open(encoding="utf-8") as lines:
            run_simulation(bot, lines, sink, sys.stderr)
        if decisions is not None:
            decisions.update(collector.by_message)
        sent = [json.loads(line) for line in sink.getvalue().splitlines() if line.strip()]
        if out is not None:
            out.write_text(sink.getvalue(), encoding="utf-8")
        with session_scope(bot.engine) as session:
            return figures(session, talk, sum(1 for o in sent if o["group"] is not None))
    finally:
        logger.removeHandler(collector)
        logger.setLevel(level)
        bot.engine.dispose()


@eval_app.command("conversations")
def conversations(
    events: Annotated[Path, typer.Argument(help="A labelled conversation (docs/conversations.md).")],
    registry: Annotated[Path, typer.Option("--registry", help="Registry YAML loaded before the replay.")],
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: a fresh temporary SQLite file).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the bot's messages here.")] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also list each line with its label and intake's decision.")
    ] = False,
) -> None:
    """Replay a labelled conversation; print ticket precision, problem recall, duplicates, emergency
    precision and recall, confirmations and the bot's group messages per 100 (last line: JSON)."""
    from xiaoqi.cli import _fail, _setup_logging

    _setup_logging()
    if not events.is_file():
        raise _fail(f"no such events file: {events}")
    with tempfile.TemporaryDirectory(prefix="xiaoqi-eval-") as scratch:
        url = db or f"sqlite:///{Path(scratch) / 'evaluation.db'}"
        try:
            decided: dict[str, str] | None = {} if explain else None
            found = evaluate(Settings.from_env(database_url=url), events, registry, out, decided)
        except LabelError as error:
            raise _fail(f"{events}: {error}") from error
    width = max(len(name) for name, _ in summary_rows(found))
    for name, value in summary_rows(found):
        typer.echo(f"{name:<{width}}  {value}")
    if found.exempt_tickets:
        typer.echo(f"tickets opened from staff or exempt accounts: {found.exempt_tickets}")
    if decided is not None:
        _explain(events, found, decided)
    typer.echo(json.dumps(found.as_dict(), ensure_ascii=False))


def _explain(events: Path, found: Figures, decided: dict[str, str]) -> None:
    """Each line: its label, the ticket it opened (#3, #3! for an emergency) or joined (+3), and what intake
    decided; a ticket that should not exist is marked with !."""
    from bot.simulator import Tick, parse_event

    wrong = set(found.wrong)
    with events.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            event = parse_event(line, line_no, Settings.from_env().bot_id)
            if isinstance(event, Tick):
                continue
            label = json.loads(line).get("label", "?")
            mark = "!" if event.message_id in wrong else " "
            decision = decided.get(event.message_id, "-")
            ticket = found.placed.get(event.message_id, "")
            text = event.text.replace("\n", " / ")[:60]
            typer.echo(f"{mark} {line_no:4} {label:14} {ticket:5} {decision:40} {event.sender_id:14} {text}")
