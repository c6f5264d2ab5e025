"""Advertising and spam in groups: warnings, appeals, the social worker's decisions, the allow-list."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from access.policy import Access, Verb
from bot.args import NO_TEXT, RecordNo, Text, Word, Words
from bot.router import SILENT, Context, Guard, Router, _Silent
from core.clock import local
from core.events import Incoming, Outgoing
from groups.messages import MAX_STORED_CHARS, MessageKind
from groups.models import Person
from groups.noise import NoiseBudget
from groups.people import Want, resolve_person
from moderation import service
from moderation.models import CaseState
from nlp.labels import ADVERT

router = Router()
STATE_WORDS = {
    CaseState.WARNED: "已提醒",
    CaseState.REPORTED: "已报社工",
    CaseState.APPEALED: "申诉中",
    CaseState.WITHDRAWN: "已撤销",
    CaseState.UPHELD: "已维持",
}
REMOVE_WORDS = ("移除", "删除", "取消")


def _warning_reason(ctx: Context, raw_text: str) -> str | None:
    """Why this group message needs a warning (None: it needs none, or the sender is exempt)."""
    group, labels = ctx.group, ctx.labels
    if group is None or not raw_text.strip() or service.is_exempt(ctx.session, ctx.sender):
        return None
    kind = ctx.message.kind
    if labels is None and kind is not MessageKind.TEXT:
        labels = ctx.services.classify([raw_text])[0]  # a link card's or mini-program's title
    ad = labels.scores.get("intent", {}).get(ADVERT, 0.0) if labels is not None else 0.0
    # noted: the pipeline counts a text among the sender's posts before any handler sees it
    return service.reason_for(ctx.session, ctx.sender.id, kind, raw_text, ad, ctx.now, noted=True)


@router.on_message(kinds=(MessageKind.TEXT, MessageKind.LINK, MessageKind.MINIPROGRAM))
def screen(
    ctx: Context, session: Session, now: datetime, sender: Person, noise: NoiseBudget
) -> list[Outgoing] | _Silent | None:
    """Warn about advertising before anything else sees the message (it is never a petition)."""
    reason = _warning_reason(ctx, ctx.message.text[:MAX_STORED_CHARS])  # the stored raw_text
    if reason is None or ctx.group is None or ctx.record is None:
        return None
    in_group = noise.said_in_group("ad_warning")
    return service.warn(session, now, sender, ctx.group, ctx.record, reason, in_group=in_group) or SILENT


@router.command(
    "申诉",
    "appeal",
    usage="申诉 提醒编号 理由（例如：申诉 3 我发的是社区活动）",
    summary="觉得被误当成广告时申诉",
)
def appeal(
    session: Session, now: datetime, sender: Person, number: RecordNo, why: Text = NO_TEXT
) -> list[Outgoing]:
    return service.appeal(session, now, sender, number, why)


@router.command(
    "处理",
    "decide",
    usage="#处理 提醒编号 维持|移出|误判 [说明]",
    summary="决定怎么处理被提醒的广告或申诉",
    guard=Guard(Verb.MODERATE, service.get_case),
)
def decide(
    session: Session, now: datetime, sender: Person, number: RecordNo, decision: Word, note: Text = NO_TEXT
) -> list[Outgoing]:
    return service.decide(session, now, sender, number, decision, note)


@router.command(
    "白名单",
    "allow",
    usage="#白名单 名字或微信号 [移除]",
    summary="允许某个账号发链接和通知",
    guard=Guard(Verb.MODERATE),
)
def allow(
    access: Access, session: Session, now: datetime, message: Incoming, sender: Person, words: Words
) -> str:
    """The words name someone (a nickname may hold a space), and may end in 移除."""
    remove = words[-1] in REMOVE_WORDS
    name = " ".join(words[:-1] if remove else words)
    person = resolve_person(
        session, name, near=sender.community_id, want=Want.ANYONE, mentions=message.mentions, partial=True
    )
    access.check(session, sender, Verb.MODERATE, person, "加白名单")
    return service.exempt(session, now, sender, person, remove)


@router.command(
    "违规记录", "cases", usage="#违规记录", summary="最近的广告提醒和处理情况", guard=Guard(Verb.MODERATE)
)
def cases(access: Access, session: Session, sender: Person) -> str:
    rows = service.recent_cases(session, access.communities(session, sender))
    if not rows:
        return "最近没有广告提醒。"
    lines = [
        f"{case.id}号 {local(case.at):%m-%d %H:%M} {name}：{case.reason}，{STATE_WORDS[case.state]}"
        for case, name in rows
    ]
    return "最近的广告提醒：\n" + "\n".join(lines)
