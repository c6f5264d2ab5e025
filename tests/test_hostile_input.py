"""Random and adversarial messages never crash the bot, are stored once, and never run a staff command for a resident."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from bot.app import App
from core.db import session_scope
from core.events import MessageKind
from faq.models import FaqQuestion
from groups.messages import Message
from groups.models import ModerationExempt
from moderation.models import ModerationCase
from notices.models import Notice
from tickets.models import TicketEvent

from .events import said, when

COMMAND_WORDS = [
    "签收",
    "办结",
    "退回",
    "转派",
    "延期",
    "批准延期",
    "改类",
    "代登记",
    "工单",
    "我的工单",
    "统计",
    "群信息",
    "反映",
    "进度",
    "补充",
    "帮助",
    "满意",
    "不满意",
    "是",
    "通知",
    "取消通知",
    "通知列表",
    "答复",
    "入库",
    "待答复",
    "处理",
    "白名单",
    "违规记录",
    "申诉",
]
PREFIXES = ["#", "＃", "/", "@小棲 ", "@xiaoqi ", ""]
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.builds(
        lambda p, w, a: f"{p}{w} {a}",
        st.sampled_from(PREFIXES),
        st.sampled_from(COMMAND_WORDS),
        st.text(max_size=30),
    ),
    st.builds(lambda w, n: f"#{w} {n}", st.sampled_from(COMMAND_WORDS), st.integers(-5, 10**12).map(str)),
    st.sampled_from(
        [
            "'; DROP TABLE message; --",
            "<script>alert(1)</script>",
            "\x00\x1b[31m",
            "😀" * 300,
            "[捂脸]" * 50,
            "一" * 12000,
            "http://t.cn/x",
            "\u202e\u200b",
            "#",
            "@小棲",
            "#取消通知 ①",
            "#处理 2147483648 误判",
            "#签收 ９",
        ]
    ),
)
senders = st.sampled_from(["wxid_r1", "wxid_r2", "wxid_new", "wxid_sg", "wxid_wg", "wxid_admin"])
places = st.sampled_from(["g1@chatroom", "g2@chatroom", "g3@chatroom", "nowhere@chatroom", None])
kinds = st.sampled_from(list(MessageKind))
# display names that claim a role: the registry decides who is staff, never the name
names = st.one_of(
    st.sampled_from(["社工李婷", "管理员", "网格员周敏", "小棲", "@小棲", "领导", "<b>社工</b>", "'; --"]),
    st.text(max_size=12),
)
events = st.lists(st.tuples(texts, senders, places, kinds, st.booleans(), names), min_size=1, max_size=20)
ids = itertools.count()


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=events)
def test_random_messages_never_crash_and_are_stored_once(smart_app: App, batch) -> None:  # type: ignore[no-untyped-def]
    app = smart_app
    with session_scope(app.engine) as session:
        before = session.exec(select(func.count()).select_from(Message)).one()
    resident_actions_before = _resident_staff_actions(app)
    sent_ids = []
    for offset, (text, sender, group, kind, mention, name) in enumerate(batch):
        incoming = said(
            text,
            sender,
            id=f"fuzz-{next(ids)}",
            at=when(minutes=next(ids)),
            in_group=group,
            kind=kind,
            name=name,
            mentions=["xiaoqi"] if mention else [],
        )
        replies = app.handle(incoming)
        assert all("出了点小问题" not in reply.text for reply in replies), (text, sender)
        sent_ids.append(incoming.message_id)
        if offset == 0:
            assert app.handle(incoming) == []  # the same delivery again does nothing
    with session_scope(app.engine) as session:
        after = session.exec(select(func.count()).select_from(Message)).one()
    assert after - before == len(sent_ids)
    assert _resident_staff_actions(app) == resident_actions_before


def _resident_staff_actions(app: App) -> int:
    """Ticket transitions, notices, answers, moderation decisions and exemptions only staff may make,
    done by a resident (must stay zero)."""
    with session_scope(app.engine) as session:
        staff_only = ["签收", "进展", "办结", "退回", "转派", "延期", "改类"]
        query = (
            select(func.count())
            .select_from(TicketEvent)
            .where(
                TicketEvent.actor_id.in_(["wxid_r1", "wxid_r2", "wxid_new"]),  # type: ignore[attr-defined]
                TicketEvent.action.in_(staff_only),  # type: ignore[attr-defined]
            )
        )
        ticket_moves = int(session.exec(query).one())
        residents = ["wxid_r1", "wxid_r2", "wxid_new"]
        others = [
            select(func.count()).select_from(Notice).where(col(Notice.author_id).in_(residents)),
            select(func.count()).select_from(FaqQuestion).where(col(FaqQuestion.answered_by).in_(residents)),
            select(func.count())
            .select_from(ModerationCase)
            .where(col(ModerationCase.decided_by).in_(residents)),
            select(func.count())
            .select_from(ModerationExempt)
            .where(col(ModerationExempt.added_by).in_(residents)),
        ]
        return ticket_moves + sum(int(session.exec(q).one()) for q in others)
