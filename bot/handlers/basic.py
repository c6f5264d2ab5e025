"""Everyday commands (help, group statistics, group information) and everyday questions that the
knowledge base answers, answered before anything else reads them: a question is never a petition."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from access.policy import Access, Refused, Verb
from bot import replies
from bot.args import NO_WORDS, Words
from bot.router import Context, Guard, Router, UsageError
from core.clock import local
from core.events import Outgoing
from core.outbox import Backlog, backlog
from core.settings import Settings
from faq import Matter, answer_text
from faq import questions as faq
from faq.asking import asks_details, asks_everyone, is_question, is_statement
from groups.messages import KIND_LABELS, MAX_STORED_CHARS, MessageKind
from groups.models import STAFF_ROLES, ChatGroup, Community, Grid, Membership, Person
from groups.scope import ScopeKind
from moderation.service import reason_for
from nlp.labels import ADVERT as AD
from nlp.labels import EMERGENCY as URGENT
from nlp.normalize import normalize
from nlp.rules import emergency_rule
from reports.activity import activity
from tickets.conversation import quote_of
from tickets.figures import rate_text

router = Router()

PERIODS = {"今天": 1, "今日": 1, "本周": 7, "7天": 7, "本月": 30, "30天": 30}


def known_question(ctx: Context) -> tuple[str, Matter] | None:
    """The question (without a leading @小棲) and the matter that answers it, when a resident's text is
    an everyday question the knowledge base answers: put to Xiaoqi and a sure match, or asked of the
    whole group and a close one. Anything intake or moderation must see first is left to them: danger,
    adverts, a progress question or a petition put as a question ("路灯坏了 什么时候修"), a reply, an
    echo, a question to a neighbour."""
    message, services = ctx.message, ctx.services
    if ctx.sender.role.is_staff or message.kind is not MessageKind.TEXT:
        return None
    labels = ctx.labels
    if labels is not None and labels.intent == URGENT:
        return None
    settings = services.settings
    text = services.router.without_bot_mention(message.text, settings.bot_id, settings.bot_name).strip()
    addressed = message.is_private or settings.bot_id in message.mentions or text != message.text.strip()
    if not text or text.startswith(("@", "＠")) or any(m != settings.bot_id for m in message.mentions):
        return None
    if quote_of(text)[1] or asks_details(text):  # a reply, or "要带什么" about the last answer
        return None
    if addressed:
        if is_statement(text):
            return None
    elif not asks_everyone(text):
        return None
    intake = services.desk.intake
    if intake.asks_progress(text) or intake.calls_for_action(text) or intake.echoes(text):
        return None
    if emergency_rule(normalize(text)) is not None or _warned(ctx):
        return None
    match = services.faq_for(ctx.session).match(text)
    if match.matter is None:
        return None
    if match.close or (addressed and match.sure and is_question(text)):
        return text, match.matter
    return None


def _warned(ctx: Context) -> bool:
    """Whether moderation will warn about this group message (an advert, the same text again and again)."""
    if ctx.group is None:
        return False
    labels = ctx.labels
    ad = labels.scores.get("intent", {}).get(AD, 0.0) if labels is not None else 0.0
    text = ctx.message.text[:MAX_STORED_CHARS]
    # noted: the pipeline counts a text among the sender's posts before any handler sees it
    return reason_for(ctx.session, ctx.sender.id, ctx.message.kind, text, ad, ctx.now, noted=True) is not None


@router.on_message(kinds=(MessageKind.TEXT,))
def answer_known_question(ctx: Context, session: Session, now: datetime, sender: Person) -> Outgoing | None:
    """An everyday question from the knowledge base, before intake could take it for a petition."""
    known = known_question(ctx)
    if known is None:
        return None
    text, matter = known
    faq.record_answer(session, now, sender, ctx.group, ctx.message.message_id, text, matter)
    return ctx.tell("answer", answer_text(matter))


@router.command("帮助", "help", usage="#帮助", summary="看看小棲能做什么")
def show_help(router: Router, sender: Person) -> str:
    return "\n".join([replies.HELP_HEADER, *router.help_lines(sender.role)])


def _period_start(now: datetime, word: str) -> datetime:
    start_of_today = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start_of_today - timedelta(days=PERIODS[word] - 1)


@router.command(
    "统计",
    "stats",
    usage="#统计 [本群|本社区|社区名|全区] [今天|本周|本月]",
    summary="群或社区的活跃情况：消息、发言人数、新成员、热门话题、未办结工单",
    guard=Guard(Verb.SEE),
)
def stats(
    access: Access,
    session: Session,
    now: datetime,
    sender: Person,
    group: ChatGroup | None,
    words: Words = NO_WORDS,
) -> str:
    periods = [w for w in words if w in PERIODS]
    places = [w for w in words if w not in PERIODS]
    if len(periods) > 1 or len(places) > 1:
        raise UsageError("")
    if (
        places
        and not periods
        and places[0] not in SCOPE_WORDS
        and _community_named(session, places[0]) is None
    ):
        raise UsageError(f"不认识“{places[0]}”，时间可以用：今天、本周、本月。")
    word = periods[0] if periods else "今天"
    scope, group_id, community_id = _stats_scope(session, places[0] if places else "", sender, group)
    place = (
        (ScopeKind.GROUP, group_id) if group_id else (ScopeKind.COMMUNITY, community_id or "")
        if community_id else (ScopeKind.DISTRICT, "")
    )  # fmt: skip
    if not access.may(session, sender, Verb.SEE, place):
        raise Refused(f"{scope}的统计不在您负责的范围内，您可以看本群或本社区的。")
    since = _period_start(now, word)
    if word == "本月":  # the calendar month, as the console and the monthly report count it
        since = local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    figures = activity(session, since, now, group_id=group_id, community_id=community_id)
    if figures.messages == 0 and figures.new_members == 0:
        text = f"{scope}{word}还没有消息。"
    else:
        kinds = "，".join(f"{KIND_LABELS[kind]} {count}" for kind, count in figures.by_kind)
        text = f"{scope}{word}共 {figures.messages} 条消息（{kinds}），{figures.active_members} 人发言"
        text += f"，新入群 {figures.new_members} 人。" if figures.new_members else "。"
        if figures.topics:
            text += "热门话题：" + "、".join(f"{topic} {count}" for topic, count in figures.topics) + "。"
    if (filed := figures.filed).filed:
        text += (
            f"{word}新工单 {filed.filed} 件，办结率 {rate_text(filed.resolution_rate)}，"
            f"满意率 {rate_text(filed.satisfaction_rate)}。"
        )
    if figures.open_tickets:
        overdue = f"，其中超期 {figures.overdue_tickets} 件" if figures.overdue_tickets else ""
        text += f"未办结工单 {figures.open_tickets} 件{overdue}。"
    return text


SCOPE_WORDS = ("本群", "本社区", "社区", "全区")


def _community_named(session: Session, name: str) -> Community | None:
    return session.exec(select(Community).where(Community.name == name)).first()


def _stats_scope(
    session: Session, word: str, sender: Person, group: ChatGroup | None
) -> tuple[str, str | None, str | None]:
    """(how to name it, group id, community id); both ids None means the whole district."""
    if word in ("", "本群") and group is not None:
        return group.name or "本群", group.id, None
    if word == "全区" or (word == "" and sender.community_id is None):
        return "全区", None, None
    if word in ("", "本群", "本社区", "社区"):
        community_id = (group.community_id if group else None) or sender.community_id
        community = session.get(Community, community_id) if community_id else None
        if community is None:
            raise UsageError("不知道是哪个社区，请写上社区名称。")
        return community.name, None, community.id
    community = _community_named(session, word)
    if community is None:
        raise UsageError(f"没有找到“{word}”，可以写：本群、本社区、全区或社区名称。")
    return community.name, None, community.id


@router.command(
    "群信息",
    "groupinfo",
    usage="#群信息（在群里发送）",
    summary="本群所属社区、网格和成员数",
    roles=STAFF_ROLES,
)
def group_info(session: Session, group: ChatGroup | None) -> str:
    if group is None:
        raise UsageError("请在群里发送这个命令。")
    members = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.group_id == group.id,
            Membership.active == True,  # noqa: E712
        )
    ).one()
    if group.community_id is None:
        return f"本群（{group.id}）还没有登记到社区，现有 {members} 名成员。请管理员在名册里登记。"
    community = session.get(Community, group.community_id)
    grid = session.get(Grid, group.grid_id) if group.grid_id else None
    where = community.name if community else group.community_id
    if grid is not None:
        where += f" {grid.name}"
    return f"{group.name}：属于{where}，现有 {members} 名成员。"


@router.command(
    "发送队列",
    "queue",
    usage="#发送队列",
    summary="还有多少消息在排队等着发出",
    roles=STAFF_ROLES,
)
def send_queue(settings: Settings, session: Session, now: datetime) -> str:
    return describe_backlog(backlog(session, now), now, settings.send_limits.per_minute)


def describe_backlog(accounts: list[Backlog], now: datetime, per_minute: int) -> str:
    """The queue in a few lines for staff: one line per bot account."""
    if not any(a.queued or a.sending or a.failed for a in accounts):
        sent = sum(a.sent_last_hour for a in accounts)
        return f"发送队列是空的，消息都已发出（最近一小时发出 {sent} 条）。"
    lines = []
    for a in accounts:
        parts = [f"待发 {a.queued} 条"]
        if a.queued and a.oldest is not None:
            waited = max(0, int((now - a.oldest).total_seconds() // 60))
            parts[0] += f"（最早一条已等 {waited} 分钟）" if waited else "（刚排上）"
        if a.sending:
            parts.append(f"发送中 {a.sending} 条")
        if a.failed:
            parts.append(f"发送失败 {a.failed} 条")
        parts.append(f"最近一小时发出 {a.sent_last_hour} 条")
        line = f"账号 {a.account}：" + "，".join(parts) + "。"
        if a.queued:
            line += f"按每分钟 {per_minute} 条，约 {-(-a.queued // per_minute)} 分钟发完。"
        lines.append(line)
    return "\n".join(lines)
