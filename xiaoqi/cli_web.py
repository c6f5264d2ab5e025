"""`xiaoqi api-key`: keys of the external systems that call the Open311 API."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import Settings
from xiaoqi.cli_common import DbOption
from xiaoqi.cli_common import fail as _fail

api_key_app = typer.Typer(help="API keys of the external systems that call the Open311 API.")


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
