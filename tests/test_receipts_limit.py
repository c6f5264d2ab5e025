"""Secret-ballot receipt codes cannot be found by trying: a person gets RECEIPT_TRIES wrong codes a day
(查票 and 改票 together); past that even a right code is refused until the next day, and nothing changes."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from consult.models import Ballot
from consult.service import RECEIPT_TRIES
from core.db import session_scope

from .simulate import say, simulate, to

OPEN = "#发起议事 要不要装门禁？\n截止：11月6日20:00\n规则：不记名"
NOT_FOUND = "没有找到这个回执码，请核对后再发。"
TOO_MANY = "回执码输错次数太多，请明天再试。"
WRONG = ["ABCD-EFGH", "WXYZ-2345", "KKKK-MMMM", "2345-6789", "QRST-UVWX", "HJKM-NPQR"]


def _vote(town: App) -> str:
    """wxid_r1 votes 1. 同意 privately; its receipt code."""
    out = simulate(
        town, [say("11-02T09:00", "wxid_sg", OPEN), say("11-02T09:05", "wxid_r1", "投票 1", group=None)]
    )
    receipt = to(out, "wxid_r1")[0]
    assert "回执码：" in receipt
    return receipt.split("回执码：")[1][:9]


def _choices(town: App) -> list[int]:
    with session_scope(town.engine) as session:
        return sorted(b.choice for b in session.exec(select(Ballot)))


def test_wrong_receipts_are_limited_per_person_and_then_nothing_changes(town: App) -> None:
    code = _vote(town)
    guesses = [say(f"11-02T10:{n:02d}", "wxid_v1", f"查票 {w}", group=None) for n, w in enumerate(WRONG)]
    out = simulate(
        town,
        [
            *guesses[:RECEIPT_TRIES],
            say("11-02T10:30", "wxid_v1", f"改票 {code} 2", group=None),  # the right code, one try too many
            say("11-02T10:31", "wxid_v1", f"查票 {code}", group=None),
            say("11-02T10:32", "wxid_r1", f"查票 {code}", group=None),  # its owner is not locked out
        ],
    )
    assert to(out, "wxid_v1") == [NOT_FOUND] * RECEIPT_TRIES + [TOO_MANY, TOO_MANY]
    assert to(out, "wxid_r1") == [
        "回执码核对无误：您在“要不要装门禁？”投的是 1. 同意，已记下，截止后计入结果。"
    ]
    assert _choices(town) == [1]  # the vote was not changed

    out = simulate(town, [say("11-03T10:31", "wxid_v1", f"查票 {code}", group=None)])  # a day later
    assert to(out, "wxid_v1") == [
        "回执码核对无误：您在“要不要装门禁？”投的是 1. 同意，已记下，截止后计入结果。"
    ]


def test_a_right_receipt_works_under_the_limit_and_right_tries_are_not_counted(town: App) -> None:
    code = _vote(town)
    checks = [
        say(f"11-02T10:{n:02d}", "wxid_r1", f"查票 {code}", group=None) for n in range(RECEIPT_TRIES + 2)
    ]
    typos = [say(f"11-02T11:{n:02d}", "wxid_r1", f"查票 {w}", group=None) for n, w in enumerate(WRONG)]
    out = simulate(
        town,
        [
            *checks,
            *typos[: RECEIPT_TRIES - 1],
            say("11-02T11:30", "wxid_r1", f"改票 {code.replace('-', '').lower()} 2", group=None),
        ],
    )
    seen = to(out, "wxid_r1")
    assert all(s.startswith("回执码核对无误") for s in seen[: len(checks)])
    assert seen[len(checks) :] == [NOT_FOUND] * (RECEIPT_TRIES - 1) + ["已改为：2. 反对。"]
    assert _choices(town) == [2]

    out = simulate(
        town,
        [
            say("11-02T12:00", "wxid_r1", f"改票 {WRONG[-1]} 1", group=None),  # the last wrong try allowed
            say("11-02T12:01", "wxid_r1", f"改票 {code} 1", group=None),
        ],
    )
    assert to(out, "wxid_r1") == [NOT_FOUND, TOO_MANY]
    assert _choices(town) == [2]
