"""Drive the app exactly as `xiaoqi simulate` does, from compact event tuples."""

from __future__ import annotations

import io
import json
from typing import Any

from bot.app import App
from bot.simulator import run_simulation


def say(at: str, who: str, text: str, group: str | None = "g1@chatroom", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"at": f"2026-{at}:00+08:00", "from": who, "text": text}
    if group is None:
        event["to"] = "xiaoqi"
    else:
        event["group"] = group
    event.update(extra)
    return event


def tick(at: str) -> dict[str, Any]:
    return {"at": f"2026-{at}:00+08:00", "tick": True}


def simulate(app: App, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    result = run_simulation(app, [json.dumps(e, ensure_ascii=False) + "\n" for e in events], out, err)
    assert result.skipped == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def to(outputs: list[dict[str, Any]], person: str) -> list[str]:
    """What one person saw: private messages and group messages that @-mention them."""
    return [o["text"] for o in outputs if o["to"] == person or person in o["mentions"]]
