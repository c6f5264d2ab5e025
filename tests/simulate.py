"""Drive the app exactly as `xiaoqi simulate` does, from compact event tuples."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from bot.app import App
from bot.simulator import run_simulation

from .events import G1, line, said, tick

__all__ = ["say", "simulate", "tick", "to"]


def say(
    at: str,
    who: str,
    text: str,
    group: str | None = G1,
    *,
    id: str | None = None,
    name: str = "",
    kind: str = "text",
    mentions: Iterable[str] = (),
) -> dict[str, Any]:
    """`said(...)` at "MM-DDTHH:MM", as a simulator line (the simulator makes up the id unless one is given)."""
    event = said(text, who, in_group=group, at=at, id=id, name=name, kind=kind, mentions=mentions)
    return line(event, with_id=id is not None)


def simulate(app: App, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    result = run_simulation(app, [json.dumps(e, ensure_ascii=False) + "\n" for e in events], out, err)
    assert result.skipped == 0, err.getvalue()
    return [json.loads(row) for row in out.getvalue().splitlines()]


def to(outputs: list[dict[str, Any]], person: str) -> list[str]:
    """What one person saw: private messages and group messages that @-mention them."""
    return [o["text"] for o in outputs if o["to"] == person or person in o["mentions"]]
