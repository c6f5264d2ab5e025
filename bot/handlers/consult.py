"""Consultation commands (协商议事) and the short replies residents vote with ("投票 1")."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from access.policy import Access, Verb
from bot.args import NO_TEXT, RecordNo, Text, UsageError, words
from bot.router import SILENT, Context, Guard, Router, _Silent
from consult import receipts, service, texts, wording
from consult.jobs import ConsultationJob
from consult.models import Consultation, ConsultState
from consult.service import ConsultError
from core.events import Incoming, MessageKind, Outgoing
from groups.models import ChatGroup, Person, person_label
from groups.people import resolve_person
from groups.scope import ScopeKind, resolve_scope
from tickets.desk import Desk
from tickets.service import open_task

router = Router()

OPEN_USAGE = (
    "#发起议事 议题\n选项：甲；乙；丙（不写就是 同意/反对/弃权）\n截止：11月20日18:00\n"
    "范围：本群|本社区|本街道（不写：在群里发是本群）\n讨论：11月15日18:00（可选，先收集意见）\n"
    "规则：一户一票 不记名 最低参与30%（可选）"
)
# "改票 ABCD-EFGH 2", "查票 ABCD-EFGH", "意见 …" (also after # or @小棲); votes: consult/wording.py
_SHORT = re.compile(r"^[#＃]?\s*(改票|查票|意见)(?:\s*[:：]\s*|\s+|(?=\d))(.+)$", re.DOTALL)


@router.command(
    "发起议事", "consult", usage=OPEN_USAGE, summary="发起社区议事（讨论和投票）", guard=Guard(Verb.ORGANISE)
)
def open_consultation(
    access: Access, session: Session, now: datetime, sender: Person, group: ChatGroup | None, form: Text
) -> list[Outgoing]:
    spec = service.parse_open(form, now)
    scope = resolve_scope(session, spec.scope, sender, group)
    access.check(session, sender, Verb.ORGANISE, scope, "发起议事")
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
    guard=Guard(Verb.ORGANISE, service.get_consultation),
)
def start_voting(
    session: Session, now: datetime, sender: Person, number: RecordNo, choices: Text = NO_TEXT
) -> list[Outgoing]:
    consultation = service.get_consultation(session, number)
    rest = re.sub(r"^\s*选项\s*[:：]", "", choices)
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
    guard=Guard(Verb.ORGANISE, service.get_consultation),
)
def summarise(
    consultations: ConsultationJob | None, session: Session, now: datetime, sender: Person, number: RecordNo
) -> list[Outgoing]:
    consultation = service.get_consultation(session, number)
    if consultation.state is not ConsultState.DISCUSSING:
        raise ConsultError(f"{consultation.number}号议事不在讨论阶段。")
    if consultations is None:
        raise ConsultError("议事功能没有启用。")
    out = consultations.post_summary(session, consultation, now)
    if consultation.opened_by != sender.id:  # the organiser hears of it; so does whoever sent it
        out.append(Outgoing(f"{consultation.number}号议事的讨论小结已发到群里。", to_id=sender.id))
    return out


@router.command("议事", "consultations", usage="#议事 [议事号]", summary="查看正在进行的议事和投票情况")
def show(
    access: Access, session: Session, sender: Person, group: ChatGroup | None, number: RecordNo | None = None
) -> str:
    if number is not None:
        consultation = service.get_consultation(session, number)
        return _status(session, consultation, sender, access.may(session, sender, Verb.SEE, consultation))
    open_ones = service.open_votes_for(session, sender, group.id if group else None)
    if not open_ones:
        return texts.NO_OPEN_VOTE
    return "\n".join(_status(session, c, sender, access.may(session, sender, Verb.SEE, c)) for c in open_ones)


def _status(session: Session, c: Consultation, sender: Person, staff_view: bool) -> str:
    """A consultation's state; its staff (in its reach) also see each group's turnout and the tally."""
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
    if staff_view:
        parts = [f"{g.split('@')[0]} {v}/{e}" for g, (v, e) in seen.by_group.items()]
        line += "\n各群：" + "，".join(parts)
        if not c.secret:
            counts = service.tally(session, c)
            line += "\n目前：" + "，".join(
                f"{i}. {o} {n}" for i, (o, n) in enumerate(zip(c.options, counts, strict=True), 1)
            )
    return line


# "负责人：周敏", "截止：12月10日 18:00": each runs to the end of its line or to the next field
_FIELD = re.compile(r"(负责人|截止)\s*[:：]\s*(.*?)\s*(?=负责人\s*[:：]|截止\s*[:：]|$)", re.MULTILINE)


@router.command(
    "议事落实",
    "followup",
    usage="#议事落实 议事号 要做的事 负责人：姓名 截止：12月10日",
    summary="为通过的决定开工单，进展自动发到群里",
    guard=Guard(Verb.ORGANISE, service.get_consultation),
)
def follow_up(
    desk: Desk,
    session: Session,
    now: datetime,
    message: Incoming,
    sender: Person,
    number: RecordNo,
    rest: Text,
) -> list[Outgoing]:
    """`rest` is a free form: the task, 负责人：某人, 截止：12月10日."""
    consultation = service.get_consultation(session, number)
    if consultation.state is not ConsultState.CLOSED or not consultation.passed:
        raise ConsultError(f"{consultation.number}号议事还没有通过的决定，不能开落实工单。")
    fields = dict(_FIELD.findall(rest))
    handler = None
    if who := fields.get("负责人", "").strip():
        handler = resolve_person(session, who, near=sender.community_id, mentions=message.mentions)
    due = fields.get("截止", "").strip()
    deadline = service.parse_when(due, now, whole_day=True) if due else None
    task = _FIELD.sub("", rest).strip()
    if not task:
        raise UsageError("请写上要做的事。")
    community_id = (
        consultation.scope_id if consultation.scope_kind is ScopeKind.COMMUNITY else sender.community_id
    )
    filed = open_task(
        desk, session, now=now, organiser=sender, community_id=community_id, message_id=message.message_id,
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
    # the organiser is staff: a plain word that it is done, not the resident's "收到！您反映的…"
    others = [o for o in filed.notices if sender.id not in (o.to_id, *o.mentions)]
    done = texts.FOLLOW_UP_FILED.format(
        number=consultation.number, ticket=ticket.number, handler=who, deadline=texts.when(ticket.deadline)
    )
    return [*posts, *others, Outgoing(done, to_id=sender.id)]


# --- residents: 投票 / 改票 / 查票 / 意见 ----------------------------------------------------------


@router.command("投票", "vote", usage="投票 选项号（例如：投票 1）", summary="在议事投票里投票", listed=False)
def vote_command(ctx: Context, said: Text = NO_TEXT) -> list[Outgoing]:
    """What follows 投票 is read as any wording of a vote is (consult/wording.py)."""
    return _vote(ctx, f"投票 {said}") or [_private(ctx, texts.NO_OPEN_VOTE)]


@router.command("改票", usage="改票 回执码 选项号（私聊小棲）", summary="改不记名投票的票", listed=False)
def change_command(ctx: Context, said: Text = NO_TEXT) -> list[Outgoing]:
    if (vote := _vote(ctx, f"改票 {said}")) is not None:
        return vote  # "改票 2" on an open ballot is a vote
    return _change_secret(ctx, said)


def _change_secret(ctx: Context, said: str) -> list[Outgoing]:
    """'ABCD-EFGH 2': a receipt code (which may be written with spaces) and the new choice last."""
    *code, choice = words(said) or [""]
    if not code:
        raise UsageError("")
    return [service.change_secret_vote(ctx.session, ctx.now, ctx.sender, " ".join(code), choice)]


@router.command("查票", usage="查票 回执码", summary="用回执码核对自己的不记名投票", listed=False)
def check_command(ctx: Context, code: Text) -> list[Outgoing]:
    return [service.check_receipt(ctx.session, ctx.now, ctx.sender, code)]


@router.command("意见", usage="意见 您的想法", summary="在议事讨论时说说您的想法", listed=False)
def opinion_command(ctx: Context, opinion: Text = NO_TEXT) -> list[Outgoing]:
    answer = _opinion(ctx, opinion)
    if answer is None:
        return [ctx.reply("现在没有在讨论的议事。")]
    return [] if isinstance(answer, _Silent) else answer


@router.on_message(kinds=(MessageKind.TEXT,))
def short_forms(ctx: Context) -> list[Outgoing] | _Silent | None:
    """Votes in any wording (consult/wording.py) and '意见 …', '改票 …', '查票 …' typed as plain messages;
    anything else is left to the other handlers."""
    text = ctx.message.text.strip()
    matched = _SHORT.match(text)
    if matched is None and not wording.may_be_vote(ctx.message.text):
        return None
    if matched is not None and matched[1] == "意见" and (opinion := _opinion(ctx, matched[2].strip())):
        return opinion
    if (vote := _vote(ctx, text)) is not None:
        return vote
    if matched is None or matched[1] == "意见" or not ctx.message.is_private:
        return None  # receipts are private business: never discussed in a group
    try:
        if matched[1] == "改票":
            return _change_secret(ctx, matched[2].strip())
        return [service.check_receipt(ctx.session, ctx.now, ctx.sender, matched[2].strip())]
    except UsageError:
        return None


def _vote(ctx: Context, text: str) -> list[Outgoing] | None:
    """None when this is not a vote: nothing open where it was said, or everyday words that name no
    option or come from someone who may not vote. Everything about one person's vote goes to them
    privately; the group hears a count now and then (consult/receipts.py)."""
    session, sender, group_id = ctx.session, ctx.sender, ctx.message.group_id
    candidates = service.open_votes_for(session, sender, group_id)
    if not candidates:
        return _late(ctx, text)
    said = wording.read_vote(text, {c.number: c.options for c in candidates})
    if said is None:
        return None
    if said.consultation is None:  # several votes open, and the words fit more than one
        if not said.keyword:
            return None
        numbers = "、".join(f"{c.number}号“{texts.excerpt(c.topic, 12)}”" for c in candidates)
        return [_private(ctx, texts.WHICH_VOTE.format(numbers=numbers, example=candidates[0].number))]
    chosen = next(c for c in candidates if c.number == said.consultation)
    if not said.keyword and service.why_not_eligible(session, chosen, sender) is not None:
        return None  # "我投第一个" from someone who may not vote is chat
    if said.option is None:
        return [_private(ctx, texts.vote_choices(chosen))]
    if not 1 <= said.option <= len(chosen.options):
        if not said.keyword:
            return None
        return [_private(ctx, texts.NO_SUCH_OPTION.format(count=len(chosen.options)))]
    try:
        result = service.cast_vote(session, ctx.now, chosen, sender, group_id, said.option)
    except ConsultError as refusal:
        return [_private(ctx, str(refusal))]
    if result.new:
        receipts.note_vote(
            session, ctx.now, chosen, sender, group_id, ctx.services.noise.vote_receipt_minutes
        )
    if not chosen.secret and wording.worth_keeping(said.comment):
        service.add_opinion(session, chosen, sender, group_id, ctx.message.message_id, said.comment, ctx.now)
    out = list(result.messages)
    if chosen.secret and group_id is not None:
        out.append(_private(ctx, texts.SECRET_IN_GROUP))
    return out


def _late(ctx: Context, text: str) -> list[Outgoing] | None:
    """'投票 1' a little after the deadline: a polite word that it is over (free words stay chat)."""
    closed = service.recently_closed(ctx.session, ctx.sender, ctx.message.group_id, ctx.now)
    said = wording.read_vote(text, {c.number: c.options for c in closed}) if closed else None
    if said is None or not said.keyword:
        return None
    late = next((c for c in closed if c.number == said.consultation), closed[-1])
    return [_private(ctx, texts.VOTE_LATE.format(topic=late.topic, deadline=texts.when(late.deadline)))]


def _private(ctx: Context, text: str) -> Outgoing:
    return Outgoing(text, to_id=ctx.sender.id)


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
    return [_private(ctx, texts.OPINION_THANKS)] if first else SILENT  # one person's business: privately
