"""`xiaoqi consult`: a consultation's stored result checked against a recount of its ballots."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.cli_common import DbOption
from xiaoqi.cli_common import fail as _fail

consult_app = typer.Typer(help="Community consultations (协商议事).")


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
