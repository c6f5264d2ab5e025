"""Everyday questions in a real group (issue 19), through the simulator with the real classifier: who
hears what. A question the knowledge base matches closely is answered to the asker, wherever it was
asked; chatter that shares its words gets nothing; a question never opens a ticket; staff and leaders
are not bothered.

The group is the demo district's 新家园1-5栋邻里群 (data/demo/registry.yaml).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import App
from core.db import session_scope
from core.settings import Settings
from faq import answer_text, details_text, load_knowledge
from faq.models import FaqQuestion, QuestionState
from tickets.models import Ticket

from .simulate import say, simulate, to

GROUP = "xjy-1@chatroom"
RESIDENTS = [f"wxid_r{n:04d}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14)]
STAFF = ("wxid_wg_zhou", "wxid_sg_li", "wxid_ld_chen", "wxid_ld_sun")
MATTERS = {m.id: m for m in load_knowledge(Settings().data_dir / "faq" / "knowledge.yaml")}

# The ten everyday questions, as residents type them in the group.
EVERYDAY = [
    ("老年卡怎么办", "senior-bus-card"),
    ("装修要备案吗", "renovation-filing"),
    ("居住证在哪办", "residence-permit"),
    ("高龄补贴怎么申请", "longevity-allowance"),
    ("电瓶车上牌去哪", "ebike-registration"),
    ("公租房怎么申请", "public-rental-housing"),
    ("低保去哪申请", "minimum-living-allowance"),
    ("医保码在哪开通", "medical-insurance-ecode"),
    ("狗证在哪办", "dog-registration"),
    ("垃圾分类怎么分", "waste-sorting"),
]
# Said in the same group, sharing words with those matters: nobody asked Xiaoqi anything.
CHATTER = [
    "今天去办了老年卡 人好多",
    "谢谢 我知道老年卡怎么办了",
    "好的 明天就去办居住证",
    "我家电瓶车上好牌了 跑了两趟",
    "高龄补贴这个月到账了",
    "王阿姨你老年卡办好了没",
    "你们居住证都办了吗",
    "装修备案我们上周就弄好了",
]


def in_group(lines: list[tuple[str, str]], start_hour: int = 9, **extra: Any) -> list[dict[str, Any]]:
    """Each line from the next resident, five minutes apart."""
    return [
        say(f"11-09T{start_hour + i // 12:02d}:{i % 12 * 5:02d}", who, text, group=GROUP, **extra)
        for i, (who, text) in enumerate(lines)
    ]


def tickets(app: App) -> list[Ticket]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(Ticket)))


def test_everyday_questions_asked_plainly_are_answered_to_the_asker_and_open_nothing(district: App) -> None:
    askers = RESIDENTS[: len(EVERYDAY)]
    out = simulate(district, in_group([(who, q) for who, (q, _) in zip(askers, EVERYDAY, strict=True)]))
    for who, (question, matter) in zip(askers, EVERYDAY, strict=True):
        assert to(out, who) == [answer_text(MATTERS[matter])], question
    # nothing else was said: each answer concerns its asker only
    assert all(o["to"] in askers or set(o["mentions"]) <= set(askers) for o in out)
    assert len(out) == len(EVERYDAY)
    for person in (*STAFF, *RESIDENTS[len(EVERYDAY) :]):
        assert to(out, person) == [], person
    assert tickets(district) == []
    with session_scope(district.engine) as session:
        asked = list(session.exec(select(FaqQuestion)))
    assert {q.guess for q in asked} == {m for _, m in EVERYDAY}
    assert all(q.state is QuestionState.ANSWERED and q.answered_by == "xiaoqi" for q in asked)


def test_chatter_that_shares_a_questions_words_gets_nothing(district: App) -> None:
    out = simulate(district, in_group(list(zip(RESIDENTS, CHATTER, strict=False))))
    assert out == []
    assert tickets(district) == []


def test_a_bare_topic_put_to_xiaoqi_is_answered_not_greeted(district: App) -> None:
    lines = [
        (RESIDENTS[0], "@小棲 电瓶车上牌"),
        (RESIDENTS[1], "@小棲 公租房"),
        (RESIDENTS[2], "@小棲 老年卡要带啥"),
    ]
    out = simulate(district, in_group(lines, mentions=["xiaoqi"]))
    assert to(out, RESIDENTS[0]) == [answer_text(MATTERS["ebike-registration"])]
    assert to(out, RESIDENTS[1]) == [answer_text(MATTERS["public-rental-housing"])]
    assert to(out, RESIDENTS[2]) == [answer_text(MATTERS["senior-bus-card"])]
    assert tickets(district) == []


def test_a_question_to_a_neighbour_is_left_to_the_neighbour(district: App) -> None:
    out = simulate(
        district,
        [
            say("11-09T09:00", RESIDENTS[0], "@陈姐 老年卡在哪办", group=GROUP, mentions=["wxid_r0011"]),
            say("11-09T09:01", RESIDENTS[1], "陈姐你知道居住证在哪办吗", group=GROUP),
        ],
    )
    assert out == []
    assert tickets(district) == []


def test_what_the_knowledge_base_does_not_cover_is_left_to_neighbours_or_forwarded_when_asked(
    district: App,
) -> None:
    out = simulate(
        district,
        [
            say("11-09T09:00", RESIDENTS[0], "老年卡坐火车能打折吗", group=GROUP),  # sure, but not close
            say(
                "11-09T09:05", RESIDENTS[1], "@小棲 社区的乒乓球室几点开门", group=GROUP, mentions=["xiaoqi"]
            ),
        ],
    )
    assert to(out, RESIDENTS[0]) == []
    (forwarded,) = to(out, RESIDENTS[1])
    assert forwarded.startswith("这个问题小棲怕答不准，已经转给")
    assert [o["text"][:9] for o in out if o["to"] == "wxid_sg_li"] == ["【居民提问·1号】"]
    assert tickets(district) == []


def test_danger_and_adverts_are_not_taken_for_questions(district: App) -> None:
    out = simulate(
        district,
        in_group(
            [(RESIDENTS[0], "楼下好大煤气味 怎么办啊"), (RESIDENTS[1], "办居住证找我 加微信xyz123 包过")]
        ),
    )
    (emergency,) = tickets(district)
    assert emergency.urgent
    assert not any(answer_text(MATTERS["gas-repair"]) == o["text"] for o in out)
    assert not any(answer_text(MATTERS["residence-permit"]) == o["text"] for o in out)
    assert any("请不要发广告" in text for text in to(out, RESIDENTS[1]))


def test_what_to_bring_follows_the_askers_own_answer_only(district: App) -> None:
    lines = [(RESIDENTS[0], "老年卡怎么办"), (RESIDENTS[1], "要带什么材料"), (RESIDENTS[0], "要带什么材料")]
    out = simulate(district, in_group(lines))
    card = MATTERS["senior-bus-card"]
    assert to(out, RESIDENTS[0]) == [answer_text(card), details_text(card)]
    assert to(out, RESIDENTS[1]) == []
