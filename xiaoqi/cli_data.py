"""`xiaoqi registry`, `db` and `labels`: the district's data in and out (registry, schema, corrections)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.cli_common import DbOption
from xiaoqi.cli_common import fail as _fail
from xiaoqi.cli_common import setup_logging as _setup_logging

registry_app = typer.Typer(help="The district registry (streets, communities, groups, people, routing).")
db_app = typer.Typer(help="Database schema.")
labels_app = typer.Typer(help="Labels corrected by staff, as training data for the district's own model.")


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
