"""What the command line's modules share: the --db option, logging set-up, failing with a message."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $XIAOQI_DATABASE_URL or sqlite:///xiaoqi.db)."),
]


def setup_logging(level: int = logging.WARNING, logfile: Path | None = None) -> None:
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


def fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


def app_with_registry(settings: Settings, registry: Path, mode: str = "alone"):  # type: ignore[no-untyped-def]
    from core.db import session_scope
    from groups.registry import RegistryError, load_registry
    from xiaoqi.nlp_wiring import load_classifier
    from xiaoqi.wiring import Mode, create_app

    bot = create_app(settings, Mode(mode), classifier=load_classifier(settings))
    try:
        with session_scope(bot.engine) as session:
            load_registry(session, registry)
    except RegistryError as error:
        raise fail(f"registry not loaded: {error}") from error
    return bot
