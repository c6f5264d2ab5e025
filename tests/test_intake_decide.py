"""Intake's rules one by one: `decide` is a pure function of a message and what surrounds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import Settings
from tickets.conversation import Conversation, Earlier, OpenTicket, quote_of
from tickets.intake import Action, IntakePolicy, Reading, bare_place, decide

NOW = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
POLICY = IntakePolicy.load(Settings().data_dir / "tickets" / "intake.yaml")


def reading(text: str, intent: str = "诉求", p: float = 0.9, **extra: object) -> Reading:
    intents = (
        {intent: p, "闲聊": round(1 - p, 3)} if intent != "闲聊" else {"闲聊": p, "诉求": round(1 - p, 3)}
    )
    fields: dict[str, object] = {
        "text": text,
        "intent": intent,
        "category": "物业管理",
        "confidence": p,
        "category_confidence": 0.9,
        "intents": intents,
        "sender_id": "wxid_r1",
    }
    fields.update(extra)
    return Reading(**fields)  # type: ignore[arg-type]


def ticket(
    number: int, summary: str, minutes_ago: float, *, urgent: bool = False, **extra: object
) -> OpenTicket:
    fields: dict[str, object] = {
        "id": number,
        "urgent": urgent,
        "category": "物业管理",
        "summary": summary,
        "last_at": NOW - timedelta(minutes=minutes_ago),
        "reporters": frozenset({"wxid_r9"}),
        "group_id": "g1",
    }
    fields.update(extra)
    return OpenTicket(**fields)  # type: ignore[arg-type]


def said_before(text: str, minutes_ago: float, *, sender: str = "wxid_r9", **extra: object) -> Earlier:
    fields: dict[str, object] = {
        "sender_id": sender,
        "at": NOW - timedelta(minutes=minutes_ago),
        "text": text,
        "intent": "闲聊",
        "ticket_id": None,
        "staff": False,
    }
    fields.update(extra)
    return Earlier(**fields)  # type: ignore[arg-type]


LIFT = ticket(3, "5栋电梯又停了 老人下不了楼", 5)
FIRE = ticket(7, "2栋11楼楼道里好大的烟", 10, urgent=True)
IN_THREAD = Conversation(
    open=(LIFT,), earlier=(said_before("5栋电梯又停了 老人下不了楼", 5, ticket_id=3),), group_id="g1"
)


CASES = [
    # who speaks: the property desk and staff never open anything by the model
    (
        "property desk",
        reading("10栋2单元电梯经检测为平层感应器故障，已更换"),
        Conversation(exempt=True),
        Action.NOTHING,
    ),
    ("a petition", reading("3栋楼道里的垃圾三天没人清了"), Conversation(), Action.NEW_TICKET),
    ("said again", reading("3栋楼道里的垃圾三天没人清了"), Conversation(repeated=True), Action.NOTHING),
    # emergencies: danger rules or a sure model that names a person or a hazard
    (
        "danger rule",
        reading("我妈在厕所摔倒了起不来", "紧急", 0.3, danger_rule="fallen"),
        Conversation(),
        Action.EMERGENCY,
    ),
    ("sure and dangerous", reading("老人躺在楼道里一动不动", "紧急", 0.95), Conversation(), Action.EMERGENCY),
    (
        "faint 紧急, next guess a question",
        reading("家里的绿萝怎么突然黄叶了", "紧急", 0.35, intents={"紧急": 0.35, "咨询": 0.5, "闲聊": 0.15}),
        Conversation(),
        Action.ANSWER,
    ),
    (
        "faint 紧急, next guess a petition",
        reading(
            "地下车库积水好深 车开过去溅一身", "紧急", 0.6, intents={"紧急": 0.6, "诉求": 0.3, "闲聊": 0.1}
        ),
        Conversation(),
        Action.NEW_TICKET,
    ),
    (
        "faint 紧急, next guess chatter",
        reading(
            "着火了！！！哈哈 我家火锅",
            "紧急",
            0.6,
            intents={"紧急": 0.6, "闲聊": 0.3, "诉求": 0.1},
            not_now=True,
        ),
        Conversation(),
        Action.NOTHING,
    ),
    (
        "a sure model is not enough for a drill",
        reading("楼下冒烟了 是演习放的烟吧", "紧急", 0.95, not_now=True),
        Conversation(),
        Action.NOTHING,
    ),
    (
        "a weak danger rule needs the model to agree a little",
        reading("可能空调漏电 找个电工看看", "紧急", 0.1, danger_rule="flood_electric"),
        Conversation(),
        Action.NOTHING,
    ),
    (
        "a second report of the emergency under way",
        reading("11楼好大的烟 快打119", "紧急", 0.9, danger_rule="fire"),
        Conversation(emergencies=(FIRE,), group_id="g1"),
        Action.JOIN_TICKET,
    ),
    (
        "the same emergency from the community's other group, at the same place",
        reading("2栋楼道里好大的烟 有人着火了", "紧急", 0.9, danger_rule="fire"),
        Conversation(emergencies=(replace(FIRE, group_id="g2"),), group_id="g1"),
        Action.JOIN_TICKET,
    ),
    (
        "an emergency elsewhere in the community is another one",
        reading("9栋有人晕倒了", "紧急", 0.9, danger_rule="fallen"),
        Conversation(emergencies=(replace(FIRE, group_id="g2"),), group_id="g1"),
        Action.EMERGENCY,
    ),
    (
        "120 arriving joins the emergency",
        reading("120进小区了 东门", "诉求", 0.6),
        Conversation(emergencies=(FIRE,), group_id="g1"),
        Action.JOIN_TICKET,
    ),
    # a bare address: a detail for the thread, never a ticket of its own
    ("room number after a petition", reading("5栋1203", "闲聊", 0.9), IN_THREAD, Action.JOIN_TICKET),
    ("room number alone", reading("2栋203", "紧急", 0.86), Conversation(), Action.NOTHING),
    # reactions
    ("+1 to a petition", reading("+1 我家也是", "闲聊", 0.8), IN_THREAD, Action.JOIN_TICKET),
    (
        "+1 to a group buy",
        reading("+1", "闲聊", 0.8),
        Conversation(earlier=(said_before("接龙 土鸡蛋", 2),)),
        Action.NOTHING,
    ),
    ("an echo of chatter", reading("我家老人也这样说", "诉求", 0.71), Conversation(), Action.NOTHING),
    (
        "+1 to a petition the bot asked about seconds it",
        reading("+1 我家也是", "闲聊", 0.8),
        Conversation(unsure=(5,)),
        Action.SECOND,
    ),
    # answers and questions
    ("a question", reading("请问社区医院打流感疫苗要预约吗", "咨询", 0.9), Conversation(), Action.ANSWER),
    (
        "an answer to a neighbour's question",
        reading("社区服务大厅也能打，免费的", "诉求", 0.7),
        Conversation(earlier=(said_before("哪里能打流感疫苗", 8, intent="咨询"),)),
        Action.NOTHING,
    ),
    (
        "a petition put as a question",
        reading("15栋门口的路灯坏了 阿有人报啊", "诉求", 0.6, intents={"诉求": 0.6, "咨询": 0.35}),
        Conversation(),
        Action.NEW_TICKET,
    ),
    (
        "a how-to question about one's own flat",
        reading("家里空调遥控器坏了，哪里能配？", "诉求", 0.6, intents={"诉求": 0.6, "咨询": 0.35}),
        Conversation(),
        Action.ANSWER,
    ),
    # unsure petitions: ask, unless it answers someone; addressed to the bot: file
    ("unsure petition", reading("楼下垃圾好像又没人收", "诉求", 0.5), Conversation(), Action.CONFIRM),
    ("unsure, and asking", reading("阿有人捡到一个蓝色保温杯", "诉求", 0.5), Conversation(), Action.NOTHING),
    (
        "a warning to neighbours",
        reading("这个链接是诈骗的，大家千万别点！", "诉求", 0.7),
        Conversation(),
        Action.NOTHING,
    ),
    (
        "unsure, put to the bot",
        reading("1幢楼下扔了旧床垫", "诉求", 0.5, addressed=True),
        Conversation(),
        Action.NEW_TICKET,
    ),
    ("vague", reading("早就该管管了", "诉求", 0.9, category_confidence=0.2), Conversation(), Action.NOTHING),
    (
        "vague, in a thread",
        reading("早就该管管了", "诉求", 0.9, category_confidence=0.2),
        IN_THREAD,
        Action.JOIN_TICKET,
    ),
    # a problem already reported
    (
        "asks progress of their own ticket",
        reading("我前天反映的那个电梯的事咋样了", "咨询", 0.8),
        Conversation(mine=(LIFT,)),
        Action.PROGRESS,
    ),
    (
        "asks progress of a neighbour's ticket",
        reading("5栋电梯到底什么时候能修好", "诉求", 0.8),
        Conversation(known=(LIFT,)),
        Action.PROGRESS,
    ),
    (
        "new danger is never a progress question",
        reading("那个老人又摔倒了 起不来", "紧急", 0.9, danger_rule="fallen"),
        Conversation(mine=(ticket(8, "那个老人摔倒了", 600, urgent=True),)),
        Action.EMERGENCY,
    ),
]


@pytest.mark.parametrize(("said", "talk", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_intake_decides(said: Reading, talk: Conversation, expected: Action) -> None:
    assert decide(said, talk, POLICY, NOW).action is expected


def test_the_ticket_joined_is_the_one_in_the_thread() -> None:
    decision = decide(reading("5栋1203", "闲聊", 0.9), IN_THREAD, POLICY, NOW)
    assert decision.ticket_id == 3
    stale = replace(IN_THREAD, open=(replace(LIFT, last_at=NOW - timedelta(hours=3)),))
    assert decide(reading("5栋1203", "闲聊", 0.9), stale, POLICY, NOW).action is Action.NOTHING


@pytest.mark.parametrize("text", ["2栋203", "9幢704", "我8幢的", "在东门", "12-702", "1101"])
def test_bare_places(text: str) -> None:
    assert bare_place(text)


@pytest.mark.parametrize("text", ["+1", "5栋电梯又坏了", "接龙 2栋504 两箱", "我在14楼 下不去啊"])
def test_not_bare_places(text: str) -> None:
    assert not bare_place(text)


def test_a_wechat_quote_is_split_from_the_reply() -> None:
    text = "「3栋-502 刘阿姨：3栋电梯又停了」\n- - - - - - - - - - - - - - -\n我家也是"
    assert quote_of(text) == ("我家也是", "3栋电梯又停了")
    assert quote_of("我家也是") == ("我家也是", "")


def test_a_mistyped_setting_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    (tmp_path / "intake.yaml").write_text("confidence:\n  tickt: 0.7\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown setting.*tickt"):
        IntakePolicy.load(tmp_path / "intake.yaml")
    (tmp_path / "intake.yaml").write_text("confidence:\n  ticket: 0.7\n", encoding="utf-8")
    assert IntakePolicy.load(tmp_path / "intake.yaml").ticket_confidence == 0.7
