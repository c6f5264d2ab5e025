"""Community consultations through the simulator: discussion, summary, votes (open and secret),
reminders, closing at the deadline with a chart, recount from the database, follow-up tickets."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.app import App, Mode
from consult.models import Ballot, Consultation, ConsultState, Participation, Vote
from consult.service import tally
from core.db import session_scope

from .simulate import say, simulate, tick, to

OPEN = (
    "#发起议事 东门空地怎么用？\n"
    "截止：11月6日18:00\n"
    "范围：本社区\n"
    "讨论：11月3日18:00\n"
    "规则：一户一票 最低参与30%"
)


def _consultation(app: App, number: int = 1) -> Consultation:
    with session_scope(app.engine) as session:
        found = session.get(Consultation, number)
        assert found is not None
        return found


def test_a_community_decides_after_discussing_one_household_one_vote(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", OPEN),
            say("11-02T09:10", "wxid_r1", "意见 改成小花园吧，种点花草，老人可以坐坐"),
            say("11-02T09:12", "wxid_r1", "意见 花园边上放几张长椅"),
            say("11-02T10:00", "wxid_v1", "意见：做成小花园挺好，绿化一下[强]"),
            say("11-02T10:30", "wxid_r2", "意见 车实在没地方停，改停车位吧", group="g2@chatroom"),
            say("11-02T11:00", "wxid_v3", "意见 停车位！晚上车都停到消防通道了", group="g2@chatroom"),
            say("11-02T11:30", "wxid_v5", "意见 种花种草，弄个小花园给孩子玩"),
            tick("11-03T18:00"),
        ],
    )
    # everyone in the community's groups hears about it, with how to take part
    opened = [o for o in out if o["text"].startswith("【社区议事】东门空地怎么用？")]
    assert {o["group"] for o in opened} == {"g1@chatroom", "g2@chatroom"}
    assert "意见 您的想法" in opened[0]["text"]
    assert to(out, "wxid_sg")[0].startswith("1号议事已发起（幸福社区，2 个群），先讨论")
    # one thank-you per person, not per opinion
    assert to(out, "wxid_r1") == ["收到您的意见，谢谢！"]
    assert all(o["to"] and not o["group"] for o in out if o["text"] == "收到您的意见，谢谢！")  # privately
    summaries = [o for o in out if o["text"].startswith("关于“东门空地怎么用？”")]
    assert {o["group"] for o in summaries} == {"g1@chatroom", "g2@chatroom"}
    assert summaries[0]["at"] == "2026-11-03T18:00:00+08:00" and "（" in summaries[0]["text"]
    assert any("#开始投票 1" in text for text in to(out, "wxid_sg"))

    out = simulate(
        town,
        [
            say("11-03T19:00", "wxid_sg", "#开始投票 1 选项：改成小花园；做停车位；维持现状", group=None),
            say("11-03T19:05", "wxid_r1", "投票 2"),
            say("11-03T19:06", "wxid_r1", "投票 1"),  # changes her mind
            say("11-03T19:07", "wxid_v2", "投票1"),  # same household: still one vote
            say("11-03T19:08", "wxid_v1", "投票 1"),
            say("11-03T19:09", "wxid_v1", "投票 1", id="dup-1"),
            say("11-03T19:09", "wxid_v1", "投票 1", id="dup-1"),  # delivered twice
            say("11-03T19:10", "wxid_v4", "投票 2", group="g2@chatroom"),  # no household registered
            say("11-03T19:11", "wxid_wg", "投票 1"),  # staff do not vote
            say("11-03T19:12", "wxid_new", "投票 1", name="路过的"),  # not registered
            say("11-03T19:13", "wxid_r2", "投票 5", group="g2@chatroom"),
            say("11-03T19:14", "wxid_r2", "投票 做停车位", group="g2@chatroom"),
            say("11-03T19:20", "wxid_r3", "投票 1", group="g3@chatroom"),  # another community: just chat
        ],
    )
    announce = [o for o in out if o["text"].startswith("【社区议事·投票】东门空地怎么用？")]
    assert {o["group"] for o in announce} == {"g1@chatroom", "g2@chatroom"}
    assert "1. 改成小花园\n2. 做停车位\n3. 维持现状" in announce[0]["text"]
    assert "一户一票" in announce[0]["text"] and "11月6日18:00截止" in announce[0]["text"]
    assert to(out, "wxid_r1") == [
        "已记下您家的一票：2. 做停车位。截止前可以改票。",
        "已把您家的票改为：1. 改成小花园。",
    ]
    assert to(out, "wxid_v2") == ["您家已经投了：1. 改成小花园，不用再投了。"]
    assert to(out, "wxid_v1") == [
        "已记下您家的一票：1. 改成小花园。截止前可以改票。",
        "您家已经投了：1. 改成小花园，不用再投了。",
    ]
    assert "门牌号" in to(out, "wxid_v4")[0]
    assert to(out, "wxid_wg") == ["工作人员不参加居民投票，谢谢您组织。"]
    assert "还没有在社区登记" in to(out, "wxid_new")[0]
    assert to(out, "wxid_r2")[0].startswith("没有这个选项") and "做停车位" in to(out, "wxid_r2")[1]
    assert to(out, "wxid_r3") == []

    out = simulate(
        town,
        [
            tick("11-05T18:00"),  # 24 hours before: reminders where turnout is low
            say("11-05T20:00", "wxid_v3", "投票 2", group="g2@chatroom"),
            tick("11-06T18:00"),
        ],
    )
    reminders = [o for o in out if o["text"].startswith("【投票提醒】")]
    # g1: 2 of 3 households voted (6-201 not yet): no reminder; g2: 1 of 3 (7-101): a reminder
    assert [o["group"] for o in reminders] == ["g2@chatroom"]
    assert "本群已有 1 户投票（共 3 户）" in reminders[0]["text"]
    results = [o for o in out if o["text"].startswith("【议事结果】东门空地怎么用？")]
    assert {o["group"] for o in results} == {"g1@chatroom", "g2@chatroom"}
    result = results[0]
    assert result["at"] == "2026-11-06T18:00:00+08:00"  # exactly at the deadline
    assert "共 4 户投票，参与率 67%（4/6）" in result["text"]
    assert "1. 改成小花园：2 票（50%）" in result["text"] and "2. 做停车位：2 票（50%）" in result["text"]
    assert "票数相同" in result["text"]
    assert Path(result["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    consultation = _consultation(town)
    assert consultation.state is ConsultState.CLOSED and consultation.passed is False
    assert consultation.result is not None and consultation.result["counts"] == [2, 2, 0]
    with session_scope(town.engine) as session:
        assert tally(session, consultation) == [2, 2, 0]  # the recount from the stored votes
        votes = session.exec(select(Vote)).all()
        assert {v.voter_key for v in votes} == {
            "household:c1:5-302", "household:c1:5-101", "household:c1:7-101", "household:c1:7-102",
        }  # fmt: skip
    # after the deadline a vote is refused, politely
    late = simulate(town, [say("11-06T18:30", "wxid_v5", "#投票 1")])
    assert to(late, "wxid_v5") == [
        "“东门空地怎么用？”的投票已经在11月6日18:00截止了，这一票没能记上。谢谢您关心社区的事，结果已经发在群里。"
    ]
    assert [o for o in late if o["group"]] == []  # privately: the group hears nothing of it


def test_a_secret_ballot_keeps_choices_apart_from_voters_and_gives_receipts(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", "#发起议事 要不要装门禁？\n截止：11月4日20:00\n规则：不记名"),
            say("11-02T09:05", "wxid_r1", "投票 1", group=None),
            say("11-02T09:06", "wxid_v1", "投票 反对"),  # in the group: counted, receipt privately
            say("11-02T09:07", "wxid_r1", "投票 2", group=None),  # a second vote is refused
        ],
    )
    announce = [o for o in out if o["text"].startswith("【社区议事·投票】要不要装门禁？")]
    assert [o["group"] for o in announce] == ["g1@chatroom"]  # sent in g1: this group only
    assert "请私聊小棲" in announce[0]["text"] and "1. 同意\n2. 反对\n3. 弃权" in announce[0]["text"]
    receipt = to(out, "wxid_r1")[0]
    assert receipt.startswith("您在“要不要装门禁？”的不记名投票已记下：1. 同意。")
    code = receipt.split("回执码：")[1][:9]
    assert "已经投过票" in to(out, "wxid_r1")[1]
    v1 = [o for o in out if o["to"] == "wxid_v1" or "wxid_v1" in o["mentions"]]
    assert v1[0]["to"] == "wxid_v1" and "2. 反对" in v1[0]["text"]  # the choice only privately
    assert all("反对" not in o["text"] for o in v1 if o["group"])

    out = simulate(
        town,
        [
            say("11-02T10:00", "wxid_r1", f"改票 {code} 2", group=None),
            say("11-02T10:01", "wxid_r1", f"查票 {code.replace('-', '').lower()}", group=None),
            say("11-02T10:02", "wxid_r1", "查票 ABCD-EFGH", group=None),
            say("11-02T10:03", "wxid_sg", "#议事 1", group=None),
            tick("11-04T20:00"),
        ],
    )
    assert to(out, "wxid_r1")[:3] == [
        "已改为：2. 反对。",
        "回执码核对无误：您在“要不要装门禁？”投的是 2. 反对，已记下，截止后计入结果。",
        "没有找到这个回执码，请核对后再发。",
    ]
    status = to(out, "wxid_sg")[0]
    assert "已有 2/4 人投票" in status and "目前" not in status  # secret: no running tally even for staff
    (result,) = [o for o in out if o["text"].startswith("【议事结果】")]
    assert "2. 反对：2 票（100%）" in result["text"] and "没有通过" in result["text"]
    with session_scope(town.engine) as session:
        assert session.exec(select(Vote)).all() == []  # nothing links a voter to a choice
        assert {p.voter_key for p in session.exec(select(Participation))} == {"wxid_r1", "wxid_v1"}
        ballots = session.exec(select(Ballot)).all()
        assert sorted(b.choice for b in ballots) == [2, 2] and all(len(b.receipt_hash) == 64 for b in ballots)
        assert not hasattr(Ballot, "cast_at") and not hasattr(Participation, "choice")


def test_a_passed_decision_opens_a_follow_up_ticket_whose_progress_the_groups_see(town: App) -> None:
    town = town.with_mode(Mode.ALONE)  # the clock looks at the jobs only when something says it should
    simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", "#发起议事 东门空地改成微花园\n截止：11月3日20:00\n范围：本社区"),
            say("11-02T09:05", "wxid_r1", "投票 1"),
            say("11-02T09:06", "wxid_v1", "投票 1"),
            say("11-02T09:07", "wxid_r2", "投票 同意", group="g2@chatroom"),
            tick("11-03T20:00"),
        ],
    )
    assert _consultation(town).passed is True
    out = simulate(
        town,
        [
            say(
                "11-04T09:00",
                "wxid_sg",
                "#议事落实 1 清理东门空地，种上花草 负责人：周网格 截止：12月10日",
                group=None,
            ),
            say("11-04T10:00", "wxid_wg", "#签收 1", group=None),
            tick("11-04T10:01"),
        ],
    )
    # each step is news at once (by the next clock tick), not whenever the scheduler next looks
    assert any("——已签收" in o["text"] for o in out if o["group"] == "g2@chatroom")
    out += simulate(
        town,
        [
            say("11-20T16:00", "wxid_wg", "#办结 1 空地已清理，种了月季和绣球", group=None),
            tick("11-20T16:01"),
        ],
    )
    opened = [o for o in out if o["text"].startswith("【议事落实】“东门空地改成微花园”：清理东门空地")]
    assert {o["group"] for o in opened} == {"g1@chatroom", "g2@chatroom"}
    assert "由周网格负责，12月10日前完成" in opened[0]["text"]
    assert any(text.startswith("1号新工单") for text in to(out, "wxid_wg"))
    news = [o["text"] for o in out if o["group"] == "g2@chatroom" and "——" in o["text"]]
    assert news == [
        "【议事落实】“东门空地改成微花园”：清理东门空地，种上花草——已签收，开始办理",
        "【议事落实】“东门空地改成微花园”：清理东门空地，种上花草——已办结：空地已清理，种了月季和绣球。感谢大家参与议事！",
    ]


def test_a_follow_up_reads_a_deadline_with_a_time_whatever_the_order_of_its_fields(town: App) -> None:
    town = town.with_mode(Mode.ALONE)
    simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", "#发起议事 东门空地改成微花园\n截止：11月3日20:00\n范围：本社区"),
            say("11-02T09:05", "wxid_r1", "投票 1"),
            say("11-02T09:06", "wxid_v1", "投票 1"),
            tick("11-03T20:00"),
        ],
    )
    out = simulate(
        town,
        [
            say(
                "11-04T09:00",
                "wxid_sg",
                "#议事落实 1 清理东门空地 截止：12月10日 18点半 负责人：周网格",
                group=None,
            )
        ],
    )
    (opened,) = [o for o in out if o["group"] == "g1@chatroom" and o["text"].startswith("【议事落实】")]
    assert "：清理东门空地，由周网格负责，12月10日18:30前完成" in opened["text"], opened["text"]
    assert "18点半" not in opened["text"] and "负责人" not in opened["text"]
    # the social worker who asked hears that it is done, in a staff word, not a resident's confirmation
    assert to(out, "wxid_sg") == [
        "好的，1号议事的落实工单已登记（1号工单），由周网格负责，12月10日18:30前完成。"
    ]


def test_bad_consultation_commands_get_a_plain_answer(town: App) -> None:
    out = simulate(
        town,
        [
            say("11-02T09:00", "wxid_r1", "#发起议事 我想投票\n截止：11月4日"),
            say("11-02T09:01", "wxid_sg", "#发起议事"),
            say("11-02T09:02", "wxid_sg", "#发起议事 装门禁\n截止：过几天"),  # 明天 is read (20:00)
            say("11-02T09:03", "wxid_sg", "#发起议事 装门禁\n截止：10月1日"),
            say("11-02T09:04", "wxid_sg", "#发起议事 装门禁\n截止：11月4日\n选项：装"),
            say("11-02T09:05", "wxid_sg", "#开始投票 7"),
            say("11-02T09:06", "wxid_sg", "#议事落实 1"),
        ],
    )
    assert to(out, "wxid_r1") == ["抱歉，这个命令只有社工、领导、管理员可以使用。"]
    answers = to(out, "wxid_sg")
    assert answers[0].startswith("用法：#发起议事 议题")
    assert answers[1].startswith("看不懂时间“过几天”")
    assert answers[2] == "截止时间已经过了，请写一个以后的时间。"
    assert answers[3] == "至少要有两个选项。"
    assert answers[4] == "没有7号议事。"
    assert answers[5] == "没有1号议事。"  # the record a command names is looked up first
    with session_scope(town.engine) as session:
        assert session.exec(select(Consultation)).all() == []


def test_the_operator_recounts_a_closed_vote_from_the_database(town: App) -> None:
    from typer.testing import CliRunner

    from xiaoqi.cli import app as cli

    simulate(
        town,
        [
            say("11-02T09:00", "wxid_sg", "#发起议事 要不要装门禁？\n截止：11月4日20:00\n规则：不记名"),
            say("11-02T09:05", "wxid_r1", "投票 1", group=None),
            say("11-02T09:06", "wxid_v1", "投票 2", group=None),
            say("11-02T09:07", "wxid_v5", "投票 1", group=None),
            tick("11-04T20:00"),
        ],
    )
    result = CliRunner().invoke(cli, ["consult", "show", "1", "--db", town.settings.database_url])
    assert result.exit_code == 0, result.output
    assert "1. 同意: recount 2, stored 2" in result.output
    assert (
        result.output.strip().splitlines()[-1]
        == '{"number": 1, "recount": [2, 1, 0], "stored": [2, 1, 0], "agrees": true}'
    )
