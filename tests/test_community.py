"""One social worker, many groups: notices, welcomes, answers, moderation, statistics and quiet hours,
driven through the simulator as people would use them (`xiaoqi simulate`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlmodel import select

from bot.app import App, Mode
from core.audit import AuditEntry
from core.clock import SHANGHAI
from core.db import session_scope
from core.quiet import QuietHours
from core.settings import Settings
from faq import answer_text, details_text, load_knowledge
from moderation.models import CaseState, ModerationCase

from .events import said
from .simulate import say, simulate, tick, to

KNOWLEDGE = load_knowledge(Settings().data_dir / "faq" / "knowledge.yaml")


def matter(matter_id: str):  # type: ignore[no-untyped-def]
    return next(m for m in KNOWLEDGE if m.id == matter_id)


def posted(out: list[dict], group: str, prefix: str) -> list[dict]:  # type: ignore[type-arg]
    return [o for o in out if o["group"] == group and o["text"].startswith(prefix)]


def at(value: str) -> str:
    return f"2026-{value}:00+08:00"


# --- notices ----------------------------------------------------------------------------------------


def test_a_notice_to_a_community_reaches_every_group_and_the_sender_hears_how_it_went(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_sg", "#通知 本社区\n明天上午9点到11点停水，请提前储水。", group=None),
            tick("11-02T09:10"),
        ],
    )
    assert to(out, "wxid_sg") == [
        "好的，1号通知正在发到幸福社区的 2 个群，发完告诉您结果。",
        "1号通知已发到幸福社区 2/2 个群。",
    ]
    for group in ("g1@chatroom", "g2@chatroom"):
        (post,) = posted(out, group, "【社区通知】")
        assert post["text"] == "【社区通知】明天上午9点到11点停水，请提前储水。"
    assert posted(out, "g3@chatroom", "【社区通知】") == []  # 和平社区 is another community


def test_a_weekly_notice_goes_every_monday_until_cancelled(app: App) -> None:
    out = simulate(
        app,
        [
            say(
                "11-02T10:00", "wxid_sg", "#通知 本群 每周一9:00\n每周一上午社区服务大厅有法律咨询，欢迎来。"
            ),
            tick("11-09T08:59"),
            tick("11-09T09:10"),
            tick("11-16T09:10"),
            say("11-16T10:00", "wxid_sg", "#通知列表", group=None),
            say("11-16T10:01", "wxid_sg", "#取消通知 1", group=None),
            tick("11-23T10:00"),
        ],
    )
    assert to(out, "wxid_sg")[0] == "好的，1号通知每周一 09:00发到幸福1-5栋群。不需要时发“#取消通知 1”。"
    sent = posted(out, "g1@chatroom", "【社区通知】每周一上午")
    assert [o["at"] for o in sent] == [at("11-09T09:00"), at("11-16T09:00")]  # on time, and no third
    reports = [t for t in to(out, "wxid_sg") if t.startswith("1号通知已发到")]
    assert reports == ["1号通知已发到幸福1-5栋群 1/1 个群。下次发送：每周一 09:00。"] * 2
    assert "1号 每周一 09:00 → 幸福1-5栋群：每周一上午社区服务大厅有法律咨询" in to(out, "wxid_sg")[-2]
    assert to(out, "wxid_sg")[-1] == "已取消1号通知。"


def test_notice_commands_refuse_bad_input_with_a_reason(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T09:00", "wxid_sg", "#通知"),
            say("11-02T09:01", "wxid_sg", "#通知 火星社区\n开会"),
            say("11-02T09:02", "wxid_sg", "#通知 本群 昨天9:00\n开会"),
            say("11-02T09:03", "wxid_sg", "#通知 本群 每周八\n开会"),
            say("11-02T09:04", "wxid_r1", "#通知 本群 大家好"),
            say("11-02T09:05", "wxid_sg", "#取消通知 7"),
        ],
    )
    replies = to(out, "wxid_sg")
    assert replies[0].startswith("用法：#通知 范围 [时间]")
    assert replies[1] == "没有找到“火星社区”，范围可以写：本群、本社区、本街道、全区，或社区、街道的名称。"
    assert replies[2].startswith("看不懂时间“昨天9:00”")
    assert replies[3].startswith("看不懂时间“每周八”")
    assert replies[4] == "没有找到7号通知。"
    assert to(out, "wxid_r1") == ["抱歉，这个命令只有社工、领导、管理员可以使用。"]
    assert not [o for o in out if o["text"].startswith("【社区通知】")]


def test_the_sender_hears_which_groups_a_notice_could_not_reach(app: App) -> None:
    """Live delivery: the transport reports a group it cannot post to; retries end in a failure report."""
    app = app.with_mode(Mode.LIVE)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    seen = app.handle(said("#通知 本社区\n今晚消防演练。", "wxid_sg", in_group=None, at=start))
    texts: list[str] = [o.text for o in seen]
    clock = start
    for _ in range(60):
        sent = [o.outbox_id for o in seen if o.outbox_id is not None and o.group_id != "g2@chatroom"]
        failed = [(o.outbox_id, "not in group") for o in seen if o.outbox_id and o.group_id == "g2@chatroom"]
        app.settle(sent, failed)
        clock += timedelta(minutes=1)
        seen = app.advance(clock)
        texts += [o.text for o in seen if o.to_id == "wxid_sg"]
        if any(t.startswith("1号通知已发到") for t in texts):
            break
    assert texts[0] == "好的，1号通知正在发到幸福社区的 2 个群，发完告诉您结果。"
    assert texts[-1] == (
        "1号通知已发到幸福社区 1/2 个群。有 1 个群没发出去：幸福6-10栋群，请检查小棲账号是否还在群里。"
    )


# --- quiet hours --------------------------------------------------------------------------------------


def test_quiet_hours_hold_notices_and_welcomes_but_not_emergencies_or_answers(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T20:00", "wxid_sg", "#通知 本群 今晚23:00\n明早8点电梯检修，请走楼梯。"),
            say("11-02T23:10", "wxid_r1", "@小棲 请问居住证怎么办理？"),
            say("11-02T23:20", "wxid_r1", "救命，我家老人在卫生间摔倒了起不来，快来人"),
            say("11-02T23:40", "wxid_n1", "", kind="join", name="小王"),
            tick("11-03T09:00"),
        ],
    )
    notice = posted(out, "g1@chatroom", "【社区通知】")
    assert [o["at"] for o in notice] == [at("11-03T07:00")]  # due at 23:00, held until morning
    answer = [o for o in out if o["text"] == answer_text(matter("residence-permit"))]
    assert [o["at"] for o in answer] == [at("11-02T23:10")]  # a direct answer goes at once
    alarm = [o for o in out if o["to"] == "wxid_wg" and "紧急" in o["text"]]
    assert alarm and alarm[0]["at"] == at("11-02T23:20")  # an emergency never waits
    welcome = posted(out, "g1@chatroom", "欢迎小王")
    assert [o["at"] for o in welcome] == [at("11-03T07:00")]
    night = [o for o in out if at("11-02T22:00") <= o["at"] < at("11-03T07:00")]
    # at night: the answer and the emergency (the resident, the staff it alerts, its escalation) only
    assert night and all(o is answer[0] or "摔倒" in o["text"] or "1号" in o["text"] for o in night)


def test_quiet_hours_are_configurable_and_can_be_switched_off(app: App) -> None:
    assert QuietHours.parse("off") is None
    assert QuietHours.parse("23:30-06:00") == QuietHours(time(23, 30), time(6, 0))
    with pytest.raises(ValueError, match="22:00-07:00"):
        QuietHours.parse("晚上十点")
    app.outbox.quiet = None  # XIAOQI_QUIET_HOURS=off
    out = simulate(
        app, [say("11-02T20:00", "wxid_sg", "#通知 本群 今晚23:00\n明早电梯检修。"), tick("11-02T23:30")]
    )
    assert [o["at"] for o in posted(out, "g1@chatroom", "【社区通知】")] == [at("11-02T23:00")]


# --- welcome and nicknames ---------------------------------------------------------------------------


def test_newcomers_get_one_welcome_and_a_nickname_request_only_when_needed(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T10:00", "wxid_n1", "", kind="join", name="小王"),
            say("11-02T10:05", "wxid_n2", "", kind="join", name="3栋-201 李阿姨"),
            say("11-03T10:00", "wxid_n1", "", kind="leave", name="小王"),
            say("11-04T10:00", "wxid_n1", "", kind="join", name="小王"),  # back again: no second welcome
        ],
    )
    assert to(out, "wxid_n1") == [
        "欢迎小王加入幸福1-5栋群！本群用于邻里交流和社区通知，请文明发言，不发广告、链接和二维码。"
        "麻烦把群昵称改成带楼栋号的，例如 5栋-302，方便邻居和网格员联系您。有事可以直接在群里说，或@小棲。"
    ]
    assert to(out, "wxid_n2") == [
        "欢迎3栋-201 李阿姨加入幸福1-5栋群！本群用于邻里交流和社区通知，请文明发言，不发广告、链接和二维码。"
        "有事可以直接在群里说，或@小棲。"
    ]


def test_nickname_reminders_ask_each_member_once_in_a_weekly_batch_per_group(app: App) -> None:
    out = simulate(
        app,
        [
            say("11-02T10:00", "wxid_n1", "", kind="join", name="小王"),  # the welcome asks him
            say("11-03T10:00", "wxid_n1", "大家好", name="小王"),
            say("11-03T10:01", "wxid_r2", "今天天气不错", group="g2@chatroom", name="小雨妈妈"),
            say("11-03T10:02", "wxid_x1", "早上好", group="g2@chatroom", name="阿强"),
            say("11-03T10:03", "wxid_r1", "早", name="5栋-302 王阿姨"),  # building and room
            say(
                "11-03T10:04", "wxid_x2", "早", group="g2@chatroom", name="9栋老马"
            ),  # the building is enough
            tick("11-07T10:05"),
            say("11-10T10:00", "wxid_r2", "早上好", group="g2@chatroom", name="小雨妈妈"),
            say("11-10T10:01", "wxid_x1", "早", group="g2@chatroom", name="12幢-301 阿强"),  # changed it
            say("11-10T10:02", "wxid_n1", "早", name="小王"),
            tick("11-14T10:05"),
            say("11-17T10:00", "wxid_x3", "谁家的快递放错了", group="g2@chatroom", name="开心就好"),
            say("11-17T10:01", "wxid_r2", "早上好", group="g2@chatroom", name="小雨妈妈"),
            tick("11-21T10:05"),
        ],
    )
    reminders = [o for o in out if "麻烦把在本群的昵称" in o["text"]]
    assert [(o["at"], o["group"], sorted(o["mentions"])) for o in reminders] == [
        (at("11-07T10:00"), "g2@chatroom", ["wxid_r2", "wxid_x1"]),
        (at("11-21T10:00"), "g2@chatroom", ["wxid_x3"]),  # only someone never asked before
    ]  # 小王 was asked by his welcome, 小雨妈妈 once: neither is asked again
    assert reminders[0]["text"].startswith("@小雨妈妈 @阿强 麻烦把在本群的昵称改成带楼栋号的")
    assert to(out, "wxid_x2") == [] and to(out, "wxid_r1") == []


# --- answers to everyday questions ----------------------------------------------------------------------


def test_common_questions_are_answered_and_unsure_ones_go_to_the_social_worker(smart_app: App) -> None:
    permit = matter("residence-permit")
    out = simulate(
        smart_app,
        [
            say("11-02T09:00", "wxid_r1", "@小棲 请问居住证怎么办理，要带什么材料？"),
            say("11-02T09:01", "wxid_r1", "要带什么"),
            say("11-02T09:05", "wxid_r1", "@小棲 请问这周六社区有什么活动吗"),
        ],
    )
    assert to(out, "wxid_r1")[:2] == [answer_text(permit), details_text(permit)]
    assert to(out, "wxid_r1")[2] == "这个问题小棲怕答不准，已经转给李社工，会尽快回复您。"
    (ask,) = to(out, "wxid_sg")
    assert ask.startswith("【居民提问·2号】幸福1-5栋群 5栋-302 王阿姨问：“请问这周六社区有什么活动吗”")
    assert ask.endswith("请回复：#答复 2 您的回答")

    out = simulate(
        smart_app,
        [
            say("11-02T10:00", "wxid_sg", "#答复 2 周六上午九点在社区广场有义诊，欢迎参加。", group=None),
            say("11-02T10:01", "wxid_sg", "#入库 2 物业管理", group=None),
            say("11-03T09:00", "wxid_r2", "@小棲 这周六社区有啥活动？", group="g2@chatroom"),
        ],
    )
    assert to(out, "wxid_r1") == [
        "您问的“这周六社区有什么活动吗”，李社工回复：周六上午九点在社区广场有义诊，欢迎参加。"
    ]
    assert to(out, "wxid_sg")[0].startswith("已转告居民。如果这个答复以后也适用，回复“#入库 2”")
    assert to(out, "wxid_sg")[1] == "已把2号问答加入知识库，以后有人问类似问题，小棲会直接回答。"
    assert to(out, "wxid_r2") == ["周六上午九点在社区广场有义诊，欢迎参加。"]  # learned


def test_questions_between_neighbours_are_left_to_them_and_bad_answers_get_a_reason(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say(
                "11-02T09:00", "wxid_r1", "有人知道附近哪里修自行车吗"
            ),  # not asked of Xiaoqi, not in the knowledge base
            say("11-02T09:01", "wxid_sg", "#答复 9 好的", group=None),
            say("11-02T09:02", "wxid_sg", "#答复", group=None),
            say("11-02T09:03", "wxid_r1", "#答复 1 好的"),
            say("11-02T09:04", "wxid_sg", "#待答复", group=None),
        ],
    )
    assert to(out, "wxid_r1") == ["抱歉，这个命令只有社工、网格员、管理员可以使用。"]
    assert to(out, "wxid_sg") == [
        "没有找到9号居民提问。",
        "用法：#答复 问题编号 回答内容",
        "没有等待答复的居民提问。",
    ]


# --- moderation ------------------------------------------------------------------------------------------


def test_adverts_get_a_polite_warning_and_repeat_offenders_go_to_the_social_worker(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T09:00", "wxid_r1", "帮我砍一刀！就差一点了 http://pdd-kj.vip/a3f"),
            say("11-02T10:00", "wxid_r1", "低息贷款，无抵押，当天放款，征信花了也能办，联系13912345678"),
            say("11-02T10:05", "wxid_sg", "【群接龙】社区志愿者招募", kind="miniprogram"),
            say("11-02T11:00", "wxid_sg", "#处理 2 移出", group=None),
            say("11-02T11:01", "wxid_r1", "#处理 2 维持"),
        ],
    )
    warning = (
        "5栋-302 王阿姨您好，“幸福1-5栋群”是邻里交流群，请不要发广告、推销和外部链接（这条消息里有链接、推销），"
        "谢谢配合！如果是误会，可以回复“申诉 1”加上原因，例如“申诉 1 这是社区活动”。"
    )
    assert to(out, "wxid_r1")[0] == warning  # once a day, privately: the second advert is only logged
    assert not [
        o for o in out if o["group"] is not None and "广告" in o["text"]
    ]  # the group hears none of it
    assert to(out, "wxid_r1")[1] == "抱歉，这个命令只有社工、管理员可以使用。"
    report, decided = to(out, "wxid_sg")
    assert report.startswith("【广告提醒·2号】幸福1-5栋群的5栋-302 王阿姨7天内第2次被提醒")
    assert "139****5678" in report and "小棲不会自己把人移出群" in report
    assert decided == "已记下：5栋-302 王阿姨由您移出群聊。小棲不会自动移出成员，请您在群里手动操作。"
    assert not [o for o in out if "工单" in o["text"]]  # an advert is never filed as a petition
    with session_scope(smart_app.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
        states = [c.state for c in session.exec(select(ModerationCase).order_by(ModerationCase.id))]
    # the resident's attempt at a staff command is written down as refused
    assert actions == [
        "moderation:warn",
        "moderation:warn",
        "moderation:report",
        "command:处理",
        "refused:处理",
    ]
    assert states == [CaseState.WARNED, CaseState.UPHELD]


def test_an_appeal_reaches_the_social_worker_who_can_withdraw_the_warning(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say(
                "11-02T09:00",
                "wxid_r3",
                "【群接龙】高淳螃蟹，产地直发",
                kind="miniprogram",
                group="g3@chatroom",
            ),
            say("11-02T09:10", "wxid_r3", "申诉 1 我是帮邻居一起团购，不是广告", group=None),
            say("11-02T09:30", "wxid_sg2", "#处理 1 误判", group=None),
            say("11-02T09:31", "wxid_r3", "申诉 1 再申诉", group=None),
        ],
    )
    assert to(out, "wxid_r3") == [
        "老张您好，“和平邻里群”是邻里交流群，请不要发广告、推销和外部链接（这条消息里有小程序推广），谢谢配合！"
        "如果是误会，可以回复“申诉 1”加上原因，例如“申诉 1 这是社区活动”。",
        "收到，您的申诉已经转给何社工，会尽快给您回复。",
        "您好，小棲之前给您的提醒，社工核实后确认是误会，已经撤销了。给您添麻烦了，抱歉！",
        "1号提醒已经处理过了：误判。",
    ]
    assert to(out, "wxid_sg2") == [
        "【申诉·1号】老张认为这条不是广告：“【群接龙】高淳螃蟹，产地直发”\n理由：我是帮邻居一起团购，不是广告\n"
        "请回复“#处理 1 误判”撤销提醒，或“#处理 1 维持”。",
        "已撤销1号提醒，并告诉了老张。",
    ]


def test_staff_allow_listed_accounts_and_ordinary_links_are_left_alone(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T09:00", "wxid_sg", "#白名单 小雨妈妈", group=None),
            say(
                "11-02T09:01",
                "wxid_r2",
                "【群接龙】新米团购，东北五常大米",
                kind="miniprogram",
                group="g2@chatroom",
            ),
            say("11-02T09:02", "wxid_wg", "【群接龙】周六义诊预约登记", kind="miniprogram"),
            say("11-02T09:03", "wxid_r1", "南京本周天气：冷空气来了，最低温跌破10℃", kind="link"),
            say("11-02T09:04", "wxid_r1", "这个链接是诈骗的，大家千万别点！"),
            say("11-02T09:10", "wxid_x2", "大家好请关注我的视频号谢谢支持", name="阿飞"),
            say("11-02T09:20", "wxid_x2", "大家好，请关注我的视频号，谢谢支持！", name="阿飞"),
            say("11-02T09:30", "wxid_x2", "大家好 请关注我的视频号 谢谢支持", name="阿飞"),
            say("11-02T09:40", "wxid_sg", "#违规记录", group=None),
        ],
    )
    assert to(out, "wxid_sg")[0] == "已把小雨妈妈加入白名单：发链接、通知不会被当作广告提醒。"
    assert to(out, "wxid_r2") == [] and to(out, "wxid_wg") == [] and to(out, "wxid_r1") == []
    (spam,) = to(out, "wxid_x2")  # the third identical post is 刷屏
    assert spam.startswith("阿飞您好，同样的内容在“幸福1-5栋群”发一次大家就能看到，请不要反复发")
    assert to(out, "wxid_sg")[1].startswith("最近的广告提醒：\n1号 11-02 09:30 阿飞：重复刷屏，已提醒")


# --- statistics ------------------------------------------------------------------------------------------


def test_a_social_worker_sees_a_communitys_week_at_a_glance(smart_app: App) -> None:
    out = simulate(
        smart_app,
        [
            say("11-02T09:00", "wxid_n1", "", kind="join", name="小王"),
            say("11-02T09:10", "wxid_r1", "5栋楼道里堆满了纸箱，物业一直不清理，着火了怎么办"),
            say("11-03T09:00", "wxid_r2", "小区门口的路灯坏了好几天了，晚上黑乎乎的", group="g2@chatroom"),
            say("11-03T10:00", "wxid_r3", "早上好", group="g3@chatroom"),  # another community
            say("11-04T09:00", "wxid_sg", "#统计 本社区 本周", group=None),
            say("11-04T09:01", "wxid_sg", "#统计 全区", group=None),
            say("11-04T09:02", "wxid_ld", "#统计 幸福社区 本月", group=None),
            say("11-04T09:03", "wxid_sg", "#统计 本周 本月", group=None),
        ],
    )
    replies = [o["text"] for o in out if o["to"] == "wxid_sg" and o["at"] >= at("11-04T09:00")]
    week, district, wrong = [t for t in replies if not t.startswith("提醒")]
    assert week.startswith("幸福社区本周共 2 条消息（文字 2），2 人发言，新入群 1 人。热门话题：")
    assert week.endswith("未办结工单 2 件。")
    assert district == "全区的统计不在您负责的范围内，您可以看本群或本社区的。"
    assert wrong == "用法：#统计 [本群|本社区|社区名|全区] [今天|本周|本月]"
    assert to(out, "wxid_ld")[-1].startswith("幸福社区本月共 2 条消息")


def test_settings_read_quiet_hours_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOQI_QUIET_HOURS", "off")
    assert Settings.from_env().quiet_hours is None
    monkeypatch.setenv("XIAOQI_QUIET_HOURS", "21:30-06:30")
    quiet = Settings.from_env().quiet_hours
    assert quiet is not None and quiet.label() == "21:30–06:30"
    assert replace(Settings(), quiet_hours=None).quiet_hours is None
