"""Votes in everyday wording, through the simulator with several neighbours in the groups: a comment before
or after the vote, "我投第一个", "选2", an option by its words, a change of mind, "投票" alone, a late vote,
a household member's vote replaced, and what the group hears (a count line now and then, never one reply
per voter). Ordinary chat that mentions 投票 gets nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App
from consult.models import Consultation, CountLine, Opinion
from consult.service import tally
from core.db import session_scope
from core.settings import Settings
from groups.registry import load_registry
from xiaoqi.wiring import create_app

from .conftest import REGISTRY
from .simulate import say, simulate, tick, to

G1, G2 = "g1@chatroom", "g2@chatroom"
# the test registry's g1 has 王阿姨 (wxid_r1, 5-302); her husband 王大伯 shares the household
NEIGHBOURS = """\
  - {id: wxid_v1, name: 5栋-101 张大爷, role: 居民, community: c1, household: 5-101, groups: [g1@chatroom]}
  - {id: wxid_v2, name: 5栋-302 王大伯, role: 居民, community: c1, household: 5-302, groups: [g1@chatroom]}
  - {id: wxid_v3, name: 6栋-201 孙阿姨, role: 居民, community: c1, household: 6-201, groups: [g1@chatroom]}
  - {id: wxid_v4, name: 6栋-202 李奶奶, role: 居民, community: c1, household: 6-202, groups: [g1@chatroom]}
  - {id: wxid_v5, name: 7栋-102 刘姐, role: 居民, community: c1, household: 7-102, groups: [g2@chatroom]}
"""
CROWD = "".join(
    f"  - {{id: wxid_n{i:02}, name: 9栋-{i:02}01 邻居{i}, role: 居民, community: c1, household: 9-{i:02}01,"
    f" groups: [g1@chatroom]}}\n"
    for i in range(1, 21)
)
NICKNAMES = dict(re.findall(r"id: (wxid_\w+), name: ([^,]+),", NEIGHBOURS + CROWD)) | {
    "wxid_r1": "5栋-302 王阿姨",
    "wxid_r2": "7栋-101 小雨妈妈",
}
OPTIONS = "选项：装充电棚；改成微花园；修路灯"
OPEN = f"#发起议事 东门空地先办哪件事？\n{OPTIONS}\n截止：11月6日18:00\n范围：本社区"
OPEN_HOUSEHOLD = (
    f"#发起议事 东门空地先办哪件事？\n{OPTIONS}\n截止：11月6日18:00\n范围：本社区\n规则：一户一票"
)
RECEIPT = "已记下您的一票：{}。截止前可以改票。"


@pytest.fixture
def town(settings: Settings, tmp_path: Path) -> Iterator[App]:
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY.read_text(encoding="utf-8") + NEIGHBOURS + CROWD, encoding="utf-8")
    app = create_app(settings)
    with session_scope(app.engine) as session:
        load_registry(session, registry)
    yield app
    app.engine.dispose()


def _say(at: str, who: str, text: str, group: str | None = G1, **extra: Any) -> dict[str, Any]:
    """A neighbour speaks under a group nickname that says where they live, as asked."""
    return say(at, who, text, group=group, name=NICKNAMES.get(who, ""), **extra)


def _said_in_groups(out: list[dict[str, Any]], *, but: str = "【社区议事·投票】") -> list[dict[str, Any]]:
    """What the groups heard, the vote's announcement aside."""
    return [o for o in out if o["group"] and not o["text"].startswith(but)]


def _privately(out: list[dict[str, Any]], person: str) -> list[str]:
    return [o["text"] for o in out if o["to"] == person]


def _count_line(voted: int, eligible: int, unit: str = "人") -> str:
    return (
        f"【投票进度】“东门空地先办哪件事？”已收到 {voted} 票（共 {eligible} {unit}可投），11月6日18:00截止。"
    )


def _tally(app: App) -> list[int]:
    with session_scope(app.engine) as session:
        consultation = session.get(Consultation, 1)
        assert consultation is not None
        return tally(session, consultation)


def test_a_comment_before_or_after_the_vote_keeps_the_vote_and_the_comment(town: App) -> None:
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            _say("11-02T09:01", "wxid_r1", "投票 1 我觉得充电棚最需要，电动车老在楼道里充电"),
            _say("11-02T09:02", "wxid_v1", "路灯太暗了晚上出门看不见，投票3"),
            _say("11-02T09:02", "wxid_v3", "投票：2号 孩子们有地方玩"),
            _say("11-02T09:03", "wxid_r2", "投票 修路灯", group=G2),
        ],
    )
    assert to(out, "wxid_r1") == [RECEIPT.format("1. 装充电棚")]
    assert to(out, "wxid_v1") == [RECEIPT.format("3. 修路灯")]
    assert to(out, "wxid_v3") == [RECEIPT.format("2. 改成微花园")]
    assert to(out, "wxid_r2") == [RECEIPT.format("3. 修路灯")]
    # each receipt went privately; the groups heard nothing but the announcement (no @-reply per voter)
    assert all(o["to"] and not o["group"] for o in out if o["text"].startswith("已记下"))
    assert _said_in_groups(out) == []
    assert _tally(town) == [1, 1, 2]
    with session_scope(town.engine) as session:  # the comments are kept as opinions on the topic
        kept = {o.person_id: o.text for o in session.exec(select(Opinion))}
    assert kept == {
        "wxid_r1": "我觉得充电棚最需要，电动车老在楼道里充电",
        "wxid_v1": "路灯太暗了晚上出门看不见",
        "wxid_v3": "孩子们有地方玩",
    }


def test_everyday_words_count_while_a_vote_is_open(town: App) -> None:
    before = simulate(town, [_say("11-02T08:00", "wxid_v1", "我投第一个")])  # nothing open yet: chat
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            _say("11-02T09:01", "wxid_v1", "我投第一个"),
            _say("11-02T09:02", "wxid_v3", "选2"),
            _say("11-02T09:03", "wxid_v4", "支持改成微花园"),
            _say("11-02T09:04", "wxid_r2", "那我选修路灯吧", group=G2),
            _say("11-02T09:05", "wxid_v5", "我也支持微花园，绿化一下", group=G2),
            _say("11-02T09:06", "wxid_r1", "选项三", group=None),  # privately, too
        ],
    )
    assert before == []
    assert to(out, "wxid_v1") == [RECEIPT.format("1. 装充电棚")]
    assert to(out, "wxid_v3") == [RECEIPT.format("2. 改成微花园")]
    assert to(out, "wxid_v4") == [RECEIPT.format("2. 改成微花园")]
    assert to(out, "wxid_r2") == [RECEIPT.format("3. 修路灯")]
    assert to(out, "wxid_v5") == [RECEIPT.format("2. 改成微花园")]
    assert to(out, "wxid_r1") == [RECEIPT.format("3. 修路灯")]
    # g1's first vote (09:01) began a five-minute stretch: one count line at its end, @-mentioning nobody
    assert [(o["at"][11:16], o["group"], o["mentions"], o["text"]) for o in _said_in_groups(out)] == [
        ("09:06", G1, [], _count_line(5, 27))
    ]
    assert _tally(town) == [1, 3, 2]


def test_a_change_of_mind_in_words_changes_the_vote(town: App) -> None:
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            _say("11-02T09:01", "wxid_r1", "投票 1"),
            _say("11-02T09:02", "wxid_v1", "选1"),
            _say("11-02T10:30", "wxid_r1", "想了想还是改一下 投票 2"),
            _say("11-02T11:00", "wxid_v1", "还是投第三个吧"),
            _say("11-02T11:01", "wxid_v1", "还是投第三个吧"),  # said again: nothing changes
        ],
    )
    assert to(out, "wxid_r1") == [RECEIPT.format("1. 装充电棚"), "已把您的票改为：2. 改成微花园。"]
    assert to(out, "wxid_v1") == [
        RECEIPT.format("1. 装充电棚"),
        "已把您的票改为：3. 修路灯。",
        "您已经投了：3. 修路灯，不用再投了。",
    ]
    assert _tally(town) == [0, 1, 1]


def test_vote_alone_gets_the_choices_and_a_malformed_vote_a_short_answer(town: App) -> None:
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            _say("11-02T09:01", "wxid_r1", "投票"),
            _say("11-02T09:02", "wxid_v1", "投票 我觉得都行"),
            _say("11-02T09:03", "wxid_v3", "投票 5"),
            _say("11-02T09:04", "wxid_v4", "选5"),  # everyday words naming no option: chat
        ],
    )
    choices = (
        "“东门空地先办哪件事？”的选项：\n1. 装充电棚\n2. 改成微花园\n3. 修路灯\n"
        "在群里回复“投票 选项号”就行（一人一票，截止前可以改票）。\n11月6日18:00截止。"
    )
    assert to(out, "wxid_r1") == [choices]
    assert to(out, "wxid_v1") == [choices]
    assert to(out, "wxid_v3") == ["没有这个选项，请回复“投票 选项号”，选项号是 1 到 3。"]
    assert to(out, "wxid_v4") == []
    assert all(o["to"] for o in out if not o["text"].startswith("【社区议事·投票】"))  # all privately
    assert _tally(town) == [0, 0, 0]


def test_a_late_vote_gets_a_polite_word_that_it_is_over(town: App) -> None:
    simulate(town, [_say("11-02T09:00", "wxid_sg", OPEN), _say("11-02T09:01", "wxid_r1", "投票 1")])
    out = simulate(
        town,
        [
            tick("11-06T18:00"),
            _say("11-06T18:05", "wxid_v1", "投票 2 微花园好"),
            _say("11-06T18:06", "wxid_v3", "我投第一个"),  # everyday words after the deadline: chat
            _say("11-06T19:00", "wxid_r2", "#投票 3", group=G2),
            _say("11-10T09:00", "wxid_v4", "投票 1"),  # days later: just chat
        ],
    )
    late = "“东门空地先办哪件事？”的投票已经在11月6日18:00截止了，这一票没能记上。谢谢您关心社区的事，结果已经发在群里。"
    assert _privately(out, "wxid_v1") == [late]
    assert _privately(out, "wxid_r2") == [late]
    assert _privately(out, "wxid_v3") == [] and _privately(out, "wxid_v4") == []
    after = [o["text"][:6] for o in _said_in_groups(out) if o["at"] >= "2026-11-06T18:00"]
    assert after == ["【议事结果】"] * 2  # after the deadline the groups hear the result, nothing else
    assert _tally(town) == [1, 0, 0]


def test_a_household_member_whose_vote_is_replaced_is_told_privately(town: App) -> None:
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN_HOUSEHOLD),
            _say("11-02T09:01", "wxid_r1", "投票 1"),  # 王阿姨, 5-302
            _say("11-02T19:30", "wxid_v2", "我投第二个 给孙子玩"),  # 王大伯, the same household
            _say("11-02T19:40", "wxid_v2", "选2"),
        ],
    )
    assert to(out, "wxid_r1") == [
        "已记下您家的一票：1. 装充电棚。截止前可以改票。",
        "您家在“东门空地先办哪件事？”的票已由家里的王大伯改为：2. 改成微花园。"
        "一户只算一票，有不同想法请和家里人商量，截止前还可以改。",
    ]
    assert to(out, "wxid_v2") == [
        "已把您家的票改为：2. 改成微花园（原来是王阿姨投的 1. 装充电棚）。一户只算一票。",
        "您家已经投了：2. 改成微花园，不用再投了。",
    ]
    assert all(o["to"] for o in out if "您家" in o["text"])  # privately, both
    # the group heard one count line (a change adds no vote): households, not people
    assert [o["text"] for o in _said_in_groups(out)] == [_count_line(1, 26, "户")]
    assert _tally(town) == [0, 1, 0]


def test_the_group_hears_a_count_now_and_then_not_a_reply_per_voter(town: App, settings: Settings) -> None:
    assert town.desk.noise.vote_receipt_minutes == 5
    votes = [_say(f"11-02T09:{i:02}", f"wxid_n{i + 1:02}", f"投票 {i % 3 + 1}") for i in range(20)]
    out = simulate(town, [_say("11-02T08:59", "wxid_sg", OPEN), *votes, tick("11-02T09:30")])
    lines = _said_in_groups(out)
    # 20 votes: a line at the end of each five-minute stretch a vote began, with the count so far
    assert [(o["at"][11:16], o["group"], o["mentions"]) for o in lines] == [
        ("09:05", G1, []), ("09:10", G1, []), ("09:15", G1, []), ("09:20", G1, []),
    ]  # fmt: skip
    assert [o["text"] for o in lines] == [_count_line(n, 27) for n in (5, 10, 15, 20)]
    assert all(o["to"] == f"wxid_n{i + 1:02}" for i, o in enumerate(o for o in out if "已记下" in o["text"]))

    # a change of mind adds no vote: no line; a new vote in g2 is counted in g2 only; the pending line is
    # a database row, so a restart in between neither loses nor repeats it
    simulate(
        town, [_say("11-02T10:00", "wxid_n01", "投票 2"), _say("11-02T10:01", "wxid_r2", "投票 1", group=G2)]
    )
    town.engine.dispose()
    again = create_app(settings)
    later = simulate(
        again, [tick("11-02T10:30"), _say("11-06T17:58", "wxid_v1", "投票 1"), tick("11-06T18:00")]
    )
    again.engine.dispose()
    lines = _said_in_groups(later, but="【议事结果】")
    assert [(o["at"][11:16], o["group"]) for o in lines] == [("10:06", G2)]
    assert lines[0]["text"] == _count_line(21, 27)  # the vote two minutes before the deadline: the result


def test_ordinary_chat_about_votes_gets_no_reply(town: App) -> None:
    chat = [
        ("wxid_v1", "昨天业委会投票的事大家怎么看"),
        ("wxid_v3", "投票了吗？"),
        ("wxid_v4", "我去居委会投票了"),
        ("wxid_r1", "我投诉了物业好几次都没人管"),
        ("wxid_v1", "选2楼的房子采光好"),
        ("wxid_v3", "我也支持楼上"),
        ("wxid_wg", "选2"),  # staff in everyday words: chat
        ("wxid_new", "我投第一个"),  # not in the registry: chat
    ]
    quiet_before = simulate(town, [_say("11-02T08:00", "wxid_v1", "投票 1")])  # nothing open: chat
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            *(_say(f"11-02T10:{i:02}", who, text) for i, (who, text) in enumerate(chat)),
            tick("11-02T11:00"),
        ],
    )
    assert quiet_before == []
    assert [o for o in out if not o["text"].startswith("【社区议事·投票】") and o["to"] != "wxid_sg"] == []
    assert _tally(town) == [0, 0, 0]
    with session_scope(town.engine) as session:
        assert session.exec(select(CountLine)).all() == []


def test_several_votes_open_and_a_secret_ballot_in_everyday_words(town: App) -> None:
    out = simulate(
        town,
        [
            _say("11-02T09:00", "wxid_sg", OPEN),
            _say("11-02T09:01", "wxid_sg", "#发起议事 要不要装门禁？\n截止：11月4日20:00\n规则：不记名"),
            _say("11-02T09:02", "wxid_v1", "投票 2"),
            _say("11-02T09:03", "wxid_v1", "投票 改成微花园"),  # only one vote has this option
            _say("11-02T09:04", "wxid_v3", "我投反对票", group=None),
            _say("11-02T09:05", "wxid_v4", "投票 2 同意 就是要有门禁"),
            _say("11-02T09:06", "wxid_v4", "选2"),  # everyday words fitting both: chat
        ],
    )
    assert to(out, "wxid_v1") == [
        "现在有几个投票在进行：1号“东门空地先办哪件事？”、2号“要不要装门禁？”。请回复“投票 议事号 选项号”，例如“投票 1 1”。",
        RECEIPT.format("2. 改成微花园"),
    ]
    (receipt,) = to(out, "wxid_v3")
    assert receipt.startswith("您在“要不要装门禁？”的不记名投票已记下：2. 反对。\n回执码：")
    v4 = to(out, "wxid_v4")
    assert v4[0].startswith("您在“要不要装门禁？”的不记名投票已记下：1. 同意。")
    assert v4[1] == "提醒：不记名投票下次请私聊小棲发“投票 选项号”，在群里投别人会看到您的选择。"
    assert len(v4) == 2 and _said_in_groups(out) == []
    with session_scope(town.engine) as session:  # a secret ballot's comment is not kept with the voter
        assert session.exec(select(Opinion)).all() == []


def test_the_vote_parser_reads_everyday_words() -> None:
    from consult.wording import option_number, read_vote

    ballot = {1: ["装充电棚", "改成微花园", "修路灯"]}
    said = {
        "投票 1 我觉得充电棚最需要": (1, "我觉得充电棚最需要"),
        "我觉得充电棚最需要 投票 1": (1, "我觉得充电棚最需要"),
        "投票１号": (1, ""),
        "＃投票：第二个": (2, ""),
        "我投第一个，孩子们有地方玩": (1, "孩子们有地方玩"),
        "支持改成微花园": (2, ""),
        "我选微花园": (2, ""),
        "那我选项三": (3, ""),
        "投票 1 第二个也行": (1, "第二个也行"),  # one vote open: 1 is the option, not the vote's number
        "投票": (None, ""),
    }
    for text, (option, comment) in said.items():
        found = read_vote(text, ballot)
        assert found is not None and (found.option, found.comment) == (option, comment), text
    for chat in (
        "投票了吗",
        "我去投票了",
        "我投诉了物业",
        "选2楼的房子",
        "我也投一个",
        "支持一下",
        "我不投第一个",
    ):
        assert read_vote(chat, ballot) is None, chat
    assert read_vote("改票 K7P3-QX9M 2", ballot) is None  # a secret ballot's receipt code: not a vote
    assert [option_number(ballot[1], w) for w in ("1", "１号", "第1个", "修路灯", "4", "1吧")] == [
        1, 1, 1, 3, None, None,
    ]  # fmt: skip
