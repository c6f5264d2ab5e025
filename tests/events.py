"""The one way tests build what arrives from a chat: `said(...)` gives an `Incoming`, `line(...)` its
`xiaoqi simulate` JSON form, `when(...)` the times both use.

    said("#帮助")                                  # wxid_r1 in g1@chatroom at START, a fresh message id
    said("#进度", "wxid_sg", in_group=None)        # privately to the bot
    said("投票 1", "wxid_v1", at="11-03T19:09")    # 2026-11-03 19:09 Shanghai
    said("#反映 …", at=when(minutes=5), id="m-7")  # five minutes after START, a chosen id
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from core.clock import SHANGHAI, parse_time
from core.events import Incoming, MessageKind

START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
G1 = "g1@chatroom"

_ids = itertools.count(1)

Moment = datetime | str | None


def when(moment: Moment = None, **later: float) -> datetime:
    """A time in Shanghai: START, a datetime, or "MM-DDTHH:MM" in 2026; then moved on by timedelta(**later)."""
    if moment is None:
        moment = START
    elif isinstance(moment, str):
        moment = parse_time(f"2026-{moment}")  # "11-02T09:00" or "11-02T10:30:05"
    return moment + timedelta(**later)


def said(
    text: str,
    by: str = "wxid_r1",
    *,
    in_group: str | None = G1,
    at: Moment = None,
    id: str | None = None,
    name: str = "",
    kind: MessageKind | str = MessageKind.TEXT,
    mentions: Iterable[str] = (),
) -> Incoming:
    """What `by` says in a group (in_group=None: privately to the bot); each call gets a new message id."""
    return Incoming(
        id if id is not None else f"m-{next(_ids)}",
        by,
        text,
        when(at),
        group_id=in_group,
        sender_name=name,
        kind=MessageKind(kind),
        mentions=tuple(mentions),
    )


def line(event: Incoming, *, with_id: bool = True, **extra: Any) -> dict[str, Any]:
    """The event as one `xiaoqi simulate` input line; without its id the simulator makes one up."""
    out: dict[str, Any] = {"at": event.at.isoformat(), "from": event.sender_id, "text": event.text}
    if event.group_id is None:
        out["to"] = "xiaoqi"
    else:
        out["group"] = event.group_id
    if with_id:
        out["id"] = event.message_id
    if event.sender_name:
        out["name"] = event.sender_name
    if event.kind is not MessageKind.TEXT:
        out["kind"] = event.kind.value
    if event.mentions:
        out["mentions"] = list(event.mentions)
    out.update(extra)
    return out


def tick(at: Moment) -> dict[str, Any]:
    """A `xiaoqi simulate` line that only moves the clock (scheduled work runs)."""
    return {"at": when(at).isoformat(), "tick": True}
