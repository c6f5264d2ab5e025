"""`xiaoqi report`: building the monthly public-opinion report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.cli_common import DbOption
from xiaoqi.cli_common import fail as _fail

report_app = typer.Typer(help="The monthly public-opinion report (民情月报).")


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
