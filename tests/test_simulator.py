"""The simulator contract: JSON lines in, the bot's messages out, time taken from the events."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.app import App
from bot.simulator import run_simulation
from core.clock import SHANGHAI
from core.events import Outgoing
from core.scheduling import CronJob


def _run(app: App, events: Sequence[dict[str, object] | str]) -> tuple[list[dict[str, object]], str, int]:
    lines = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in events]
    out, err = io.StringIO(), io.StringIO()
    result = run_simulation(app, [line + "\n" for line in lines], out, err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue(), result.skipped


def _morning_notice(session: Session, at: datetime) -> list[Outgoing]:
    return [Outgoing(f"{at.astimezone(SHANGHAI):%H:%M} 例行提醒", group_id="g1@chatroom")]


def test_malformed_lines_are_reported_with_their_number_and_skipped(app: App) -> None:
    good = {"at": "2026-11-02T09:15:00+08:00", "group": "g1@chatroom", "from": "wxid_sg", "text": "#统计"}
    outputs, errors, skipped = _run(
        app,
        [
            "{not json",
            {"at": "2026-11-02T09:00:00+08:00", "group": "g1@chatroom", "text": "缺发送人"},
            {"at": "昨天", "group": "g1@chatroom", "from": "wxid_r1", "text": "x"},
            {
                "at": "2026-11-02T09:00:00+08:00",
                "group": "g1@chatroom",
                "to": "xiaoqi",
                "from": "wxid_r1",
                "text": "x",
            },
            {"at": "2026-11-02T09:00:00+08:00", "group": "g1@chatroom", "from": "wxid_r1", "kind": "sticker"},
            {"at": "2026-11-02T09:00:00+08:00", "to": "wxid_sg", "from": "wxid_r1", "text": "x"},
            {"at": "2026-11-02T09:00:00+08:00", "group": "g1@chatroom", "from": "wxid_r1", "txt": "x"},
            "[1, 2]",
            good,
        ],
    )
    lines = errors.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"line {n}" for n in range(1, 9)]
    assert 'missing "from"' in lines[1] and '"kind" must be one of' in lines[4]
    assert skipped == 8
    assert len(outputs) == 1 and outputs[0]["text"].startswith("幸福1-5栋群今天共 1 条消息")


def test_private_chat_replies_go_to_the_person(app: App) -> None:
    outputs, errors, _ = _run(
        app, [{"at": "2026-11-02T20:00:00+08:00", "to": "xiaoqi", "from": "wxid_sg", "text": "帮助"}]
    )
    assert errors == ""
    (reply,) = outputs
    assert (reply["group"], reply["to"], reply["mentions"]) == (None, "wxid_sg", [])
    assert reply["at"] == "2026-11-02T20:00:00+08:00" and "#统计" in reply["text"]


def test_ticks_run_due_work_first_and_in_time_order(app: App) -> None:
    app = app.with_mode(
        app.mode,
        jobs=[CronJob("morning", CronTrigger(hour=10, minute=0, timezone=SHANGHAI), _morning_notice)],
    )
    outputs, _, _ = _run(
        app,
        [
            {"at": "2026-11-02T09:00:00+08:00", "group": "g1@chatroom", "from": "wxid_sg", "text": "#统计"},
            {"at": "2026-11-02T10:30:00+08:00", "tick": True},
            {"at": "2026-11-03T11:00:00+08:00", "group": "g1@chatroom", "from": "wxid_sg", "text": "#统计"},
        ],
    )
    assert [(o["at"], o["text"][:8]) for o in outputs] == [
        ("2026-11-02T09:00:00+08:00", "幸福1-5栋群今"),
        ("2026-11-02T10:00:00+08:00", "10:00 例行"),
        ("2026-11-03T10:00:00+08:00", "10:00 例行"),
        ("2026-11-03T11:00:00+08:00", "幸福1-5栋群今"),
    ]


def test_a_long_silence_coalesces_a_recurring_job_into_one_run(app: App) -> None:
    app = app.with_mode(
        app.mode,
        jobs=[CronJob("morning", CronTrigger(hour=10, minute=0, timezone=SHANGHAI), _morning_notice)],
    )
    outputs, _, _ = _run(
        app,
        [
            {"at": "2026-11-02T09:00:00+08:00", "tick": True},
            {"at": "2026-11-09T09:00:00+08:00", "tick": True},
        ],
    )
    assert [o["at"] for o in outputs] == ["2026-11-08T10:00:00+08:00"]


def test_ids_deduplicate_and_generated_ids_do_not_collide(app: App) -> None:
    same = {"at": "2026-11-02T09:00:00+08:00", "to": "xiaoqi", "from": "wxid_sg", "text": "帮助", "id": "dup"}
    anonymous = {"at": "2026-11-02T09:01:00+08:00", "to": "xiaoqi", "from": "wxid_sg", "text": "帮助"}
    outputs, _, _ = _run(app, [same, same, anonymous, anonymous])
    assert len(outputs) == 3


def test_group_replies_mention_the_sender(app: App) -> None:
    outputs, _, _ = _run(
        app,
        [
            {
                "at": "2026-11-02T09:00:00+08:00",
                "group": "g3@chatroom",
                "from": "wxid_r3",
                "text": "@小棲 帮助",
                "mentions": ["xiaoqi"],
            }
        ],
    )
    (reply,) = outputs
    assert (reply["group"], reply["to"], reply["mentions"]) == ("g3@chatroom", None, ["wxid_r3"])
