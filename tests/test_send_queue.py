"""The send queue: limits per account and per group, broadcasts spread over time, nothing lost on
restart, retries after failed sends, backlog visible to staff; several accounts on one database."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, select

from bot.app import App, Mode
from core.clock import SHANGHAI
from core.db import session_scope
from core.events import Outgoing, Priority
from core.outbox import OutboxMessage, OutboxState
from core.scheduling import CronJob
from core.settings import SendLimits, Settings
from groups.messages import Message
from groups.models import ChatGroup
from groups.registry import load_registry
from xiaoqi.wiring import create_app

from .conftest import REGISTRY, START
from .events import said
from .simulate import say, simulate

GROUPS = 1160


def _max_in_window(times: Sequence[datetime], span: timedelta) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - span:
            first += 1
        best = max(best, last - first + 1)
    return best


def _broadcast_job(group_ids: list[str]) -> CronJob:
    """A notice to every group at 10:00 (what the notices command will schedule)."""

    def action(session: Session, at: datetime) -> list[Outgoing]:
        return [Outgoing(f"停水通知（{at:%m月%d日}）", group_id=g, priority=Priority.BULK) for g in group_ids]

    return CronJob("notice", CronTrigger(hour=10, minute=0, timezone=SHANGHAI), action)


def _district(app: App, count: int) -> list[str]:
    ids = [f"bulk-{i:04d}@chatroom" for i in range(count)]
    with session_scope(app.engine) as session:
        session.add_all(ChatGroup(id=g, name=f"第{i}群") for i, g in enumerate(ids))
    return ids


def _step(app: App, start: datetime, end: datetime, step: timedelta) -> list[Outgoing]:
    sent: list[Outgoing] = []
    at = start
    while at <= end:
        sent.extend(app.advance(at))
        at += step
    return sent


@pytest.mark.slow
def test_a_broadcast_to_1160_groups_never_bursts_and_survives_a_restart(settings: Settings) -> None:
    first = create_app(settings, jobs=[])
    groups = _district(first, GROUPS)
    first.engine.dispose()
    job = _broadcast_job(groups)
    app = create_app(settings, jobs=[job])
    t0 = datetime(2026, 11, 2, 9, 59, tzinfo=SHANGHAI)
    sent = _step(app, t0, t0 + timedelta(minutes=30), timedelta(seconds=7))
    # a broadcast uses at most 3/4 of the account's 20 a minute, leaving room for answers
    assert 400 < len(sent) <= 15 * 31
    app.engine.dispose()

    # restart: a new process on the same database sends the rest, and nothing twice
    again = create_app(settings, jobs=[job])
    rest = _step(
        again, t0 + timedelta(minutes=30, seconds=3), t0 + timedelta(minutes=90), timedelta(seconds=7)
    )
    everything = sent + rest
    assert Counter(o.group_id for o in everything) == Counter(groups)
    times = [o.at for o in everything if o.at is not None]
    assert _max_in_window(times, timedelta(minutes=1)) <= 15
    assert _max_in_window(times, timedelta(seconds=10)) <= 3
    assert max(times) - min(times) > timedelta(minutes=75)  # 1,160 at 15 a minute
    with session_scope(again.engine) as session:
        states = Counter(r.state for r in session.exec(select(OutboxMessage)))
    assert states == {OutboxState.SENT: GROUPS}


def test_answers_overtake_a_broadcast_and_keep_the_group_limit(app: App) -> None:
    groups = _district(app, 200)
    app = app.with_mode(app.mode, jobs=[_broadcast_job([*groups, "g1@chatroom"])])
    t0 = datetime(2026, 11, 2, 9, 59, 55, tzinfo=SHANGHAI)
    busy = _step(app, t0, t0 + timedelta(minutes=2), timedelta(seconds=5))
    # a resident asks for help in the middle of the broadcast: the answer comes within seconds
    # (simulate() then lets time pass until the queue is empty: the rest of the broadcast)
    out = simulate(app, [say("11-02T10:02:30", "wxid_r1", "#帮助")])
    answer = [o for o in out if o["mentions"] == ["wxid_r1"]]
    assert answer and answer[0]["at"] <= "2026-11-02T10:02:40+08:00"
    notices = [o for o in busy if o.text.startswith("停水通知")] + [
        o for o in out if o["text"].startswith("停水通知")
    ]
    assert len(notices) == 201 and len(busy) <= 2 * 20 + 5
    # ten quick questions in one group: all answered, at most 5 a minute into that group
    questions = [say(f"11-02T10:30:{i:02d}", "wxid_r1", "#帮助") for i in range(10)]
    out = simulate(app, questions)
    times = [datetime.fromisoformat(o["at"]) for o in out if o["group"] == "g1@chatroom"]
    assert len(times) == 10
    assert _max_in_window(times, timedelta(minutes=1)) <= 5


def test_a_failed_send_is_retried_and_a_lost_claim_is_sent_again(app: App) -> None:
    app = app.with_mode(Mode.LIVE)
    first = app.handle(said("#帮助"))
    assert len(first) == 1 and first[0].outbox_id is not None
    # the transport could not send it: it comes back after a backoff, not at once
    app.settle([], [(first[0].outbox_id, "RuntimeError: network")])
    assert app.delivery.deliver(START + timedelta(seconds=1)) == []
    retried = app.delivery.deliver(START + timedelta(seconds=11))
    assert [o.text for o in retried] == [first[0].text]
    # this time the process dies before it can say how the send went: after the claim expires, a
    # new process sends it again (at least once; nothing is lost)
    restarted = create_app(app.settings, Mode.LIVE, jobs=[])
    assert restarted.delivery.deliver(START + timedelta(seconds=30)) == []
    again = restarted.delivery.deliver(START + timedelta(minutes=3))
    assert [o.outbox_id for o in again] == [first[0].outbox_id]
    restarted.settle([first[0].outbox_id], [])
    with session_scope(app.engine) as session:
        row = session.get(OutboxMessage, first[0].outbox_id)
        assert row is not None and row.state is OutboxState.SENT and row.attempts == 1


def test_a_message_that_keeps_failing_is_given_up_and_staff_see_it(app: App) -> None:
    live = app.with_mode(Mode.LIVE)
    (out,) = live.handle(said("#帮助"))
    assert out.outbox_id is not None
    at = START
    for _ in range(app.settings.send_limits.max_attempts):
        live.settle([], [(out.outbox_id, "RuntimeError: blocked")])
        at += timedelta(minutes=10)
        again = live.delivery.deliver(at)
        assert again == [] or again[0].outbox_id == out.outbox_id
    answer = app.handle(said("#发送队列", "wxid_sg", in_group=None, at=at + timedelta(minutes=1)))
    assert len(answer) == 1
    text = answer[0].text
    assert "发送失败 1 条" in text and "待发 0 条" in text
    refused = app.handle(said("#发送队列", in_group=None, at=at + timedelta(minutes=2)))
    assert "发送队列" not in refused[0].text and "待发" not in refused[0].text


def test_staff_see_the_backlog_of_a_broadcast(app: App) -> None:
    groups = _district(app, 100)
    app = app.with_mode(app.mode, jobs=[_broadcast_job(groups)])
    t0 = datetime(2026, 11, 2, 9, 59, 55, tzinfo=SHANGHAI)
    _step(app, t0, t0 + timedelta(minutes=1), timedelta(seconds=10))
    out = simulate(app, [say("11-02T10:01:30", "wxid_sg", "#发送队列", group=None)])
    (answer,) = [o["text"] for o in out if o["to"] == "wxid_sg"]
    assert answer.startswith("账号 xiaoqi：待发 7")  # 100 less what left in 90 seconds (about 25)
    assert "最早一条已等 1 分钟" in answer and "约 4 分钟发完" in answer


# --- several bot accounts on one database --------------------------------------------------------

TWO_ACCOUNTS = """\
accounts:
  - {id: bot-a, name: 小棲A}
  - {id: bot-b, name: 小棲B}
"""


def _two_account_registry(tmp_path: Path) -> Path:
    text = REGISTRY.read_text(encoding="utf-8")
    text = text.replace(
        "district: {id: testdistrict, name: 测试区}\n",
        "district: {id: testdistrict, name: 测试区}\n" + TWO_ACCOUNTS,
    )
    text = text.replace("grid: c1-g1}", "grid: c1-g1, account: bot-a}").replace(
        "grid: c1-g2}", "grid: c1-g2, account: bot-b}"
    )
    text = text.replace("grid: c2-g1}", "grid: c2-g1, account: bot-b}")
    path = tmp_path / "two-accounts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _reminder_job() -> CronJob:
    """A daily reminder into g1 and g2 (served by different accounts) and privately to the social worker."""

    def action(session: Session, at: datetime) -> list[Outgoing]:
        return [
            Outgoing(f"{at:%d}日提醒", group_id="g1@chatroom"),
            Outgoing(f"{at:%d}日提醒", group_id="g2@chatroom"),
            Outgoing(f"{at:%d}日待办", to_id="wxid_sg2"),
        ]

    return CronJob("reminder", CronTrigger(hour=8, minute=0, timezone=SHANGHAI), action)


def test_two_accounts_share_a_database_without_doing_anything_twice(
    settings: Settings, tmp_path: Path
) -> None:
    registry = _two_account_registry(tmp_path)
    apps = {
        name: create_app(replace(settings, account=name), jobs=[_reminder_job()])
        for name in ("bot-a", "bot-b")
    }
    with session_scope(apps["bot-a"].engine) as session:
        load_registry(session, registry)
    sent: dict[str, list[Outgoing]] = {name: [] for name in apps}
    errors: list[BaseException] = []

    def both(work: dict[str, Callable[[], list[Outgoing]]]) -> None:
        """Each account's process does its part at the same moment (threads: real concurrency)."""
        barrier = threading.Barrier(len(apps))

        def run(name: str) -> None:
            try:
                barrier.wait()
                sent[name].extend(work[name]())
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(name,)) for name in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors

    # both bot accounts are members of g1 and receive the same petition
    petition = said("#反映 5栋电梯坏了", id="wx-1")
    both({name: (lambda a=a: a.handle(petition)) for name, a in apps.items()})
    # a week of clocks ticking side by side, every 10 minutes
    at = START
    while at < START + timedelta(days=3):
        at += timedelta(minutes=10)
        both({name: (lambda a=a, t=at: a.advance(t)) for name, a in apps.items()})

    a_groups = Counter(o.group_id or o.to_id for o in sent["bot-a"])
    b_groups = Counter(o.group_id or o.to_id for o in sent["bot-b"])
    assert set(a_groups) <= {"g1@chatroom", "wxid_sg", "wxid_wg"}  # bot-a serves g1 and its people
    assert "g1@chatroom" not in b_groups and "g2@chatroom" in b_groups
    reminders = [o for o in sent["bot-a"] + sent["bot-b"] if o.text.endswith("日提醒")]
    assert Counter(o.text for o in reminders) == {"03日提醒": 2, "04日提醒": 2, "05日提醒": 2}
    assert Counter(o.text for o in sent["bot-b"] if o.to_id == "wxid_sg2") == {
        "03日待办": 1, "04日待办": 1, "05日待办": 1,
    }  # fmt: skip
    with session_scope(apps["bot-a"].engine) as session:
        assert len(session.exec(select(Message).where(Message.platform_id == "wx-1")).all()) == 1
        assert session.exec(select(OutboxMessage).where(OutboxMessage.state != OutboxState.SENT)).all() == []
    confirmations = [
        o for o in sent["bot-a"] if o.group_id == "g1@chatroom" and "已登记（1号工单）" in o.text
    ]
    assert len(confirmations) == 1 and not any("工单" in o.text for o in sent["bot-b"])
    for bot in apps.values():
        bot.engine.dispose()


@pytest.mark.parametrize("limit", [0, -1])
def test_send_limits_below_one_are_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SendLimits(per_minute=limit)
