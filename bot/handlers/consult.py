"""Consultation commands (协商议事) and the short replies residents vote with ("投票 1")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from bot.router import SILENT, Context, Router, UsageError, _Silent
from bot.values import Incoming, MessageKind, Outgoing
from consult import service, texts
from consult.jobs import ConsultationJob
from consult.models import Consultation, ConsultState
from consult.service import ConsultError
from groups.models import ChatGroup, Person, Role
from groups.scope import ScopeKind
from tickets.routing import person_label
from tickets.service import open_task

if TYPE_CHECKING:
    from bot.app import App

router = Router()
ORGANISERS = frozenset({Role.SOCIAL_WORKER, Role.ADMIN})
STAFF = frozenset(r for r in Role if r.is_staff)

OPEN_USAGE = (
    "#发起议事 议题\n选项：甲；乙；丙（不写就是 同意/反对/弃权）\n截止：11月20日18:00\n"
    "范围：本群|本社区|本街道（不写：在群里发是本群）\n讨论：11月15日18:00（可选，先收集意见）\n"
    "规则：一户一票 不记名 最低参与30%（可选）"
)
# "投票 1", "投票2", "投票 3号 1", "改票 ABCD-EFGH 2", "查票 ABCD-EFGH", "意见 …" (also after # or @小棲)
_SHORT = re.compile(r"^[#＃]?\s*(投票|改票|查票|意见)(?:\s*[:：]\s*|\s+|(?=\d))(.+)$", re.DOTALL)


def _job(app: App) -> ConsultationJob:
    for job in app.jobs:
        if isinstance(job, ConsultationJob):
            return job
    raise ConsultError("议事功能没有启用。")


@router.command(
    "发起议事", "consult", usage=OPEN_USAGE, summary="发起社区议事（讨论和投票）", roles=ORGANISERS
)
def open_consultation(
    session: Session, now: datetime, sender: Person, group: ChatGroup | None, args: str
) -> list[Outgoing]:
    if not args.strip():
        raise UsageError("")
    spec = service.parse_open(args, now)
    consultation, announce = service.open_consultation(session, now, sender, group, spec)
    stage = "先讨论" if consultation.state is ConsultState.DISCUSSING else "投票已开始"
    where = f"{len(announce)} 个群" if consultation.scope_kind is not ScopeKind.GROUP else "本群"
    note = f"{consultation.number}号议事已发起（{consultation.scope_name}，{where}），{stage}，{texts.when(consultation.deadline)}截止。"
    confirm = Outgoing(note, to_id=sender.id)
    return [*announce, confirm]


@router.command(
    "开始投票",
    "startvote",
    usage="#开始投票 议事号 [选项：甲；乙；丙]",
    summary="讨论结束后开始投票",
    roles=ORGANISERS,
)
def start_voting(session: Session, now: datetime, sender: Person, args: str) -> list[Outgoing]:
    number, _, rest = args.strip().partition(" ")
    if not number:
        raise UsageError("")
    consultation = service.get_consultation(session, number)
    rest = re.sub(r"^\s*选项\s*[:：]", "", rest.strip())
    options = service.split_options(rest) if rest else None
    if options is not None and len(options) < 2:
        raise ConsultError("至少要有两个选项。")
    announce = service.start_voting(session, now, consultation, options)
    confirm = Outgoing(
        f"{consultation.number}号议事开始投票了，已发到 {len(announce)} 个群。", to_id=sender.id
    )
    return [*announce, confirm]


@router.command(
    "议事小结",
    "consultsummary",
    usage="#议事小结 议事号",
    summary="把讨论意见整理后发到群里",
    roles=ORGANISERS,
)
def summarise(app: App, session: Session, now: datetime, args: str) -> list[Outgoing]:
    if not args.strip():
        raise UsageError("")
    consultation = service.get_consultation(session, args)
    if consultation.state is not ConsultState.DISCUSSING:
        raise ConsultError(f"{consultation.number}号议事不在讨论阶段。")
    return _job(app).post_summary(session, consultation, now)


@router.command("议事", "consultations", usage="#议事 [议事号]", summary="查看正在进行的议事和投票情况")
def show(session: Session, sender: Person, group: ChatGroup | None, args: str) -> str:
    if args.strip():
        return _status(session, service.get_consultation(session, args), sender)
    open_ones = service.open_votes_for(session, sender, group.id if group else None)
    if not open_ones:
        return texts.NO_OPEN_VOTE
    return "\n".join(_status(session, c, sender) for c in open_ones)


def _status(session: Session, c: Consultation, sender: Person) -> str:
    seen = service.turnout(session, c)
    unit = "户" if c.per_household else "人"
    head = f"{c.number}号议事“{c.topic}”"
    if c.state is ConsultState.DISCUSSING:
        return (
            f"{head}：讨论中，{len(service.opinions(session, c))} 条意见，{texts.when(c.deadline)}投票截止。"
        )
    if c.state is ConsultState.CLOSED:
        return f"{head}：已结束。{c.decision}"
    if c.state is ConsultState.CANCELLED:
        return f"{head}：已取消。"
    line = f"{head}：投票中，已有 {seen.voted}/{seen.eligible} {unit}投票，{texts.when(c.deadline)}截止。"
    if sender.role.is_staff:
        parts = [f"{g.split('@')[0]} {v}/{e}" for g, (v, e) in seen.by_group.items()]
        line += "\n各群：" + "，".join(parts)
        if not c.secret:
            counts = service.tally(session, c)
            line += "\n目前：" + "，".join(
                f"{i}. {o} {n}" for i, (o, n) in enumerate(zip(c.options, counts, strict=True), 1)
            )
    return line


@router.command(
    "议事落实",
    "followup",
    usage="#议事落实 议事号 要做的事 负责人：姓名 截止：12月10日",
    summary="为通过的决定开工单，进展自动发到群里",
    roles=STAFF,
)
def follow_up(
    app: App, session: Session, now: datetime, message: Incoming, sender: Person, args: str
) -> list[Outgoing]:
    number, _, rest = args.strip().partition(" ")
    if not number or not rest.strip():
        raise UsageError("")
    consultation = service.get_consultation(session, number)
    if consultation.state is not ConsultState.CLOSED or not consultation.passed:
        raise ConsultError(f"{consultation.number}号议事还没有通过的决定，不能开落实工单。")
    handler = None
    if found := re.search(r"负责人\s*[:：]\s*@?(\S+)", rest):
        name = found[1]
        handler = session.get(Person, name) or _person_named(session, name, sender)
        if handler is None or not handler.role.is_staff:
            raise ConsultError(f"没有找到工作人员“{name}”。")
    deadline = (
        service.parse_when(found[1], now, whole_day=True)
        if (found := re.search(r"截止\s*[:：]\s*(\S+)", rest))
        else None
    )
    task = re.sub(r"\s*(负责人|截止)\s*[:：]\s*\S+", "", rest).strip()
    if not task:
        raise UsageError("请写上要做的事。")
    community_id = (
        consultation.scope_id if consultation.scope_kind is ScopeKind.COMMUNITY else sender.community_id
    )
    filed = open_task(
        app.desk, session, now=now, organiser=sender, community_id=community_id, message_id=message.message_id,
        text=task, category="其他", handler=handler, deadline=deadline,
    )  # fmt: skip
    ticket = filed.ticket
    service.add_follow_up(session, consultation, ticket.number)
    who = person_label(handler) if handler else "社区工作人员"
    news = texts.FOLLOW_UP_OPENED.format(
        topic=consultation.topic,
        task=texts.excerpt(task, 30),
        handler=who,
        deadline=texts.when(ticket.deadline),
    )
    posts = [Outgoing(news, group_id=g) for g in service.groups_of(session, consultation)]
    return [*posts, *filed.notices]


def _person_named(session: Session, name: str, near: Person) -> Person | None:
    """A staff member by full name, or by the name people call them ("周敏" for 新家园一网格周敏)."""
    staff = [
        p for p in session.exec(select(Person).where(Person.role != Role.RESIDENT)) if p.name.endswith(name)
    ]
    exact = [p for p in staff if p.name == name]
    nearby = [p for p in staff if p.community_id == near.community_id]
    for candidates in (exact, nearby, staff):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise ConsultError(f"有几位工作人员叫“{name}”，请写全名。")
    return None


# --- residents: 投票 / 改票 / 查票 / 意见 ----------------------------------------------------------


@router.command("投票", "vote", usage="投票 选项号（例如：投票 1）", summary="在议事投票里投票", listed=False)
def vote_command(ctx: Context, args: str) -> list[Outgoing]:
    return _vote(ctx, args) or [ctx.reply(texts.NO_OPEN_VOTE)]


@router.command("改票", usage="改票 回执码 选项号（私聊小棲）", summary="改不记名投票的票", listed=False)
def change_command(ctx: Context, args: str) -> list[Outgoing]:
    code, _, word = args.strip().rpartition(" ")
    if not code or not word:
        raise UsageError("")
    return [service.change_secret_vote(ctx.session, ctx.now, ctx.sender, code, word)]


@router.command("查票", usage="查票 回执码", summary="用回执码核对自己的不记名投票", listed=False)
def check_command(ctx: Context, args: str) -> list[Outgoing]:
    if not args.strip():
        raise UsageError("")
    return [service.check_receipt(ctx.session, ctx.sender, args)]


@router.command("意见", usage="意见 您的想法", summary="在议事讨论时说说您的想法", listed=False)
def opinion_command(ctx: Context, args: str) -> list[Outgoing]:
    answer = _opinion(ctx, args)
    if answer is None:
        return [ctx.reply("现在没有在讨论的议事。")]
    return [] if isinstance(answer, _Silent) else answer


@router.on_message(kinds=(MessageKind.TEXT,), idle=lambda ctx: _SHORT.match(ctx.message.text.strip()) is None)
def short_forms(ctx: Context) -> list[Outgoing] | _Silent | None:
    """'投票 1' and friends typed as plain messages; anything else is left to the other handlers."""
    matched = _SHORT.match(ctx.message.text.strip())
    if matched is None:
        return None
    word, rest = matched[1], matched[2].strip()
    try:
        if word == "投票":
            return _vote(ctx, rest)
        if word == "意见":
            return _opinion(ctx, rest)
        if not ctx.message.is_private:
            return None  # receipts are private business: never discussed in a group
        if word == "改票":
            return change_command(ctx, rest)
        return check_command(ctx, rest)
    except UsageError:
        return [ctx.reply(texts.NO_SUCH_OPTION.format(count=9))] if word == "投票" else None


def _vote(ctx: Context, args: str) -> list[Outgoing] | None:
    """None when this is not a vote at all (no vote open where it was said)."""
    candidates = service.open_votes_for(ctx.session, ctx.sender, ctx.message.group_id)
    if not candidates:
        return None
    parts = args.replace("号", " ").split()
    if (
        len(parts) >= 2
        and parts[0].isascii()
        and parts[0].isdigit()
        and any(c.number == int(parts[0]) for c in candidates)
    ):
        chosen = next(c for c in candidates if c.number == int(parts[0]))
        word = " ".join(parts[1:])
    elif len(candidates) == 1:
        chosen, word = candidates[0], args
    else:
        numbers = "、".join(f"{c.number}号“{texts.excerpt(c.topic, 12)}”" for c in candidates)
        return [ctx.reply(texts.WHICH_VOTE.format(numbers=numbers, example=candidates[0].number))]
    choice = service.option_number(chosen, word)
    if choice is None:
        return [ctx.reply(texts.NO_SUCH_OPTION.format(count=len(chosen.options)))]
    result = service.cast_vote(ctx.session, ctx.now, chosen, ctx.sender, ctx.message.group_id, choice)
    out = [*result.public, *result.private]
    if chosen.secret and ctx.message.group_id is not None:
        out.append(ctx.reply(texts.SECRET_IN_GROUP))
    return out


def _opinion(ctx: Context, text: str) -> list[Outgoing] | _Silent | None:
    group_id = ctx.message.group_id
    discussing = [
        c
        for c in service.open_votes_for(ctx.session, ctx.sender, group_id, state=ConsultState.DISCUSSING)
        if c.summarised_at is None
    ]
    if not discussing or not text.strip():
        return None
    first = service.add_opinion(
        ctx.session, discussing[-1], ctx.sender, group_id, ctx.message.message_id, text.strip(), ctx.now
    )
    return [ctx.reply(texts.OPINION_THANKS)] if first else SILENT
