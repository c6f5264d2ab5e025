"""Due process for advertising: a polite warning, the social worker told about repeat offenders,
an appeal to the social worker, and the social worker's decision. Xiaoqi never removes anyone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.errors import XiaoqiError
from core.events import Outgoing, Priority
from core.numbers import record_id
from groups.messages import Message, MessageKind
from groups.models import ChatGroup, ModerationExempt, Person, person_label
from moderation.models import CaseState, ModerationCase
from moderation.rules import ad_reason, repeat_key
from tickets.routing import social_worker

REPEAT_WINDOW = timedelta(hours=24)
REPEAT_POSTS = 3  # the same text this often within the window is 刷屏
MIN_REPEAT_CHARS = 6  # "好的" "收到" "谢谢" are repeated innocently
OFFENCE_WINDOW = timedelta(days=7)
REPORT_AT = 2  # the second case within the window goes to the social worker
WARN_EVERY = timedelta(hours=24)  # at most one public warning a day per person and group
BOT = "xiaoqi"
_EXEMPT = "moderation.exempt"
_RECENT = "moderation.recent_posts"
_RECENT_ALL = "moderation.recent_posts_complete"  # every sender's posts are in _RECENT, none read lazily
DECISIONS = {
    "误判": CaseState.WITHDRAWN,
    "撤销": CaseState.WITHDRAWN,
    "维持": CaseState.UPHELD,
    "移出": CaseState.UPHELD,
}


class ModerationError(XiaoqiError):
    """A case that does not exist or a decision that cannot be taken."""


def is_exempt(session: Session, person: Person) -> bool:
    return person.role.is_staff or person.id in exempt_ids(session)


def exempt_ids(session: Session) -> set[str]:
    """Residents' accounts exempt from warnings (the property desk), read once per unit of work (a
    replay's batch reads them once)."""
    exempt = session.info.get(_EXEMPT)
    if exempt is None:
        exempt = session.info[_EXEMPT] = set(session.exec(select(ModerationExempt.person_id)).all())
    return exempt


def reason_for(
    session: Session,
    sender_id: str,
    kind: MessageKind,
    raw_text: str,
    ad_probability: float,
    now: datetime,
    *,
    noted: bool,
) -> str | None:
    """Why this message needs a warning, if it does: advertising, or the same text posted again and
    again. `noted`: whether `note_post` has already counted this message among the sender's posts."""
    reason = ad_reason(kind, raw_text, ad_probability)
    if reason is not None:
        return reason
    key = repeat_key(raw_text)
    if kind is not MessageKind.TEXT or len(key) < MIN_REPEAT_CHARS:
        return None
    posts = _recent_posts(session, sender_id, now)
    same = sum(1 for at, text in posts if text == key and at >= now - REPEAT_WINDOW)
    return "重复刷屏" if same + (0 if noted else 1) >= REPEAT_POSTS else None


def note_post(session: Session, sender_id: str, at: datetime, raw_text: str) -> None:
    """Count a newly stored text among its sender's recent posts, where they are already read (the
    first look reads them from the database, where this message then is)."""
    cache = session.info.get(_RECENT)
    if cache is None:
        return
    posts = cache.setdefault(sender_id, []) if session.info.get(_RECENT_ALL) else cache.get(sender_id)
    if posts is not None:
        posts.append((at, repeat_key(raw_text)))


def read_all_recent_posts(session: Session, now: datetime) -> None:
    """For a session that sees every message stored from now on (a replay's batch): read every
    sender's posts of the last day in one query, instead of one sender's at a time."""
    cache: dict[str, list[tuple[datetime, str]]] = {}
    rows = session.exec(
        select(Message.sender_id, Message.sent_at, Message.raw_text)
        .where(Message.kind == MessageKind.TEXT, col(Message.sent_at) >= now - REPEAT_WINDOW)
        .order_by(col(Message.sent_at))
    )
    for sender_id, at, text in rows:
        cache.setdefault(sender_id, []).append((at, repeat_key(text)))
    session.info[_RECENT], session.info[_RECENT_ALL] = cache, True


def _recent_posts(session: Session, sender_id: str, now: datetime) -> list[tuple[datetime, str]]:
    """This sender's texts of the last day up to `now`, read from the database once per unit of work
    (a replay's batch reads each sender's once) and then kept up to date by `note_post`."""
    cache: dict[str, list[tuple[datetime, str]]] = session.info.setdefault(_RECENT, {})
    posts = cache.get(sender_id)
    if posts is None and session.info.get(_RECENT_ALL):
        posts = cache[sender_id] = []
    if posts is None:
        rows = session.exec(
            select(Message.sent_at, Message.raw_text).where(
                Message.sender_id == sender_id,
                Message.kind == MessageKind.TEXT,
                col(Message.sent_at) >= now - REPEAT_WINDOW,
                col(Message.sent_at) <= now,
            )
        ).all()
        posts = cache[sender_id] = [(at, repeat_key(text)) for at, text in rows]
    elif posts and posts[0][0] < now - REPEAT_WINDOW:
        posts[:] = [(at, text) for at, text in posts if at >= now - REPEAT_WINDOW]
    return posts


def warn(
    session: Session,
    now: datetime,
    person: Person,
    group: ChatGroup,
    message: Message,
    reason: str,
    *,
    in_group: bool = True,
) -> list[Outgoing]:
    """Open a case; warn the poster (at most once a day; in the group, or privately when not
    `in_group`) and ask the social worker about repeats."""
    case = ModerationCase(
        person_id=person.id,
        group_id=group.id,
        message_id=message.platform_id,
        reason=reason,
        excerpt=message.text[:200],
        at=now,
    )
    session.add(case)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_id=BOT,
        action="moderation:warn",
        target=person.id,
        detail=f"{case.id} {reason}",
    )
    earlier = session.exec(
        select(ModerationCase).where(
            ModerationCase.person_id == person.id,
            col(ModerationCase.at) >= now - OFFENCE_WINDOW,
            ModerationCase.id != case.id,
            col(ModerationCase.state) != CaseState.WITHDRAWN,
        )
    ).all()
    out: list[Outgoing] = []
    warned_lately = any(c.group_id == group.id and c.at >= now - WARN_EVERY for c in earlier)
    if not warned_lately:
        where = "本群" if in_group else f"“{group.name or '邻里群'}”"
        name = person.name or "这位邻居"
        if reason == "重复刷屏":
            asked = f"{name}您好，同样的内容在{where}发一次大家就能看到，请不要反复发，谢谢配合！"
        else:
            asked = f"{name}您好，{where}是邻里交流群，请不要发广告、推销和外部链接（这条消息里有{reason}），谢谢配合！"
        text = (
            asked + f"如果是误会，可以私聊小棲发“申诉 {case.id}”加上原因，例如“申诉 {case.id} 这是社区活动”。"
        )
        if in_group:
            out.append(Outgoing(text, group_id=group.id, mentions=(person.id,), priority=Priority.ALERT))
        else:
            out.append(Outgoing(text.replace("私聊小棲发", "回复"), to_id=person.id, priority=Priority.ALERT))
    kind = "刷屏" if reason == "重复刷屏" else "广告"
    count = len(earlier) + 1
    already_reported = any(c.state is CaseState.REPORTED and c.at >= now - WARN_EVERY for c in earlier)
    if count >= REPORT_AT and not already_reported:
        case.state = CaseState.REPORTED
        worker = social_worker(session, group.community_id)
        if worker is not None:
            report = (
                f"【{kind}提醒·{case.id}号】{group.name or group.id}的{person.name or person.id}"
                f"7天内第{count}次被提醒（{reason}）：“{case.excerpt[:60]}”\n"
                f"请您决定：回复“#处理 {case.id} 维持”“#处理 {case.id} 移出”或“#处理 {case.id} 误判”。"
                "小棲不会自己把人移出群。"
            )
            out.append(Outgoing(report, to_id=worker.id, priority=Priority.ALERT))
        audit.record(
            session, at=now, actor_id=BOT, action="moderation:report", target=person.id, detail=str(case.id)
        )
    return out


def appeal(session: Session, now: datetime, person: Person, number: str, why: str) -> list[Outgoing]:
    """A member disagrees with a warning: the social worker decides."""
    case = get_case(session, number)
    if case.person_id != person.id:
        raise ModerationError(f"{case.id}号提醒不是发给您的，不能申诉。")
    if case.state in (CaseState.WITHDRAWN, CaseState.UPHELD):
        raise ModerationError(f"{case.id}号提醒已经处理过了：{case.decision or '已处理'}。")
    case.state, case.appeal = CaseState.APPEALED, (why.strip() or "（没写理由）")[:500]
    audit.record(
        session,
        at=now,
        actor_id=person.id,
        action="moderation:appeal",
        target=str(case.id),
        detail=case.appeal,
    )
    group = session.get(ChatGroup, case.group_id) if case.group_id else None
    worker = social_worker(session, group.community_id if group else person.community_id)
    who = person_label(worker) if worker else "社区工作人员"
    out = [Outgoing(f"收到，您的申诉已经转给{who}，会尽快给您回复。", to_id=person.id)]
    if worker is not None:
        out.append(
            Outgoing(
                f"【申诉·{case.id}号】{person.name or person.id}认为这条不是广告：“{case.excerpt[:60]}”\n"
                f"理由：{case.appeal}\n请回复“#处理 {case.id} 误判”撤销提醒，或“#处理 {case.id} 维持”。",
                to_id=worker.id,
            )
        )
    return out


def decide(
    session: Session, now: datetime, staff: Person, number: str, word: str, note: str
) -> list[Outgoing]:
    """The social worker's decision on a case; removal is theirs to do by hand."""
    case = get_case(session, number)
    state = DECISIONS.get(word)
    if state is None:
        raise ModerationError("处理结果请写：维持、移出或误判。")
    case.state, case.decided_by, case.decided_at = state, staff.id, now
    case.decision = f"{word} {note}".strip()
    member = session.get(Person, case.person_id)
    name = member.name if member is not None else case.person_id
    out: list[Outgoing] = []
    if state is CaseState.WITHDRAWN:
        out.append(
            Outgoing(
                "您好，小棲之前给您的提醒，社工核实后确认是误会，已经撤销了。给您添麻烦了，抱歉！",
                to_id=case.person_id,
            )
        )
        confirm = f"已撤销{case.id}号提醒，并告诉了{name}。"
    elif word == "移出":
        confirm = f"已记下：{name}由您移出群聊。小棲不会自动移出成员，请您在群里手动操作。"
    else:
        confirm = f"已记下：维持{case.id}号提醒。"
        if case.appeal:
            out.append(
                Outgoing("您好，您的申诉社工已经看过了，这次的提醒不撤销，谢谢理解。", to_id=case.person_id)
            )
    return [Outgoing(confirm, to_id=staff.id), *out]


def exempt(session: Session, now: datetime, staff: Person, person: Person, remove: bool) -> str:
    session.info.pop(_EXEMPT, None)
    row = session.get(ModerationExempt, person.id)
    if remove:
        if row is None:
            return f"{person.name}本来就不在白名单里。"
        session.delete(row)
        return f"已把{person.name}移出白名单，以后发广告会被提醒。"
    if row is not None:
        return f"{person.name}已经在白名单里了。"
    session.add(ModerationExempt(person_id=person.id, added_by=staff.id, added_at=now))
    return f"已把{person.name}加入白名单：发链接、通知不会被当作广告提醒。"


def recent_cases(
    session: Session, communities: Sequence[str] | None, limit: int = 10
) -> list[tuple[ModerationCase, str]]:
    """The latest cases in the groups of `communities` (None: every group)."""
    query = select(ModerationCase, Person.name).join(Person, col(Person.id) == ModerationCase.person_id)
    if communities is not None:
        groups = select(ChatGroup.id).where(col(ChatGroup.community_id).in_(communities))
        query = query.where(col(ModerationCase.group_id).in_(groups))
    return list(session.exec(query.order_by(col(ModerationCase.at).desc()).limit(limit)).all())


def count_cases(session: Session, since: datetime) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(ModerationCase).where(col(ModerationCase.at) >= since)
        ).one()
    )


def get_case(session: Session, number: str) -> ModerationCase:
    case_id = record_id(number)
    case = session.get(ModerationCase, case_id) if case_id is not None else None
    if case is None:
        raise ModerationError(f"没有找到{number.strip()}号提醒。")
    return case
