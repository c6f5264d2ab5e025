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
from groups.messages import Message
from groups.models import ChatGroup, ModerationExempt, Person, person_label
from moderation.flooding import (
    MIN_REPEAT_CHARS,
    REPEAT_POSTS,
    REPEAT_WINDOW,
    note_post,
    read_all_recent_posts,
    reason_for,
)
from moderation.models import CaseState, ModerationCase
from tickets.routing import social_worker

__all__ = [
    "DECISIONS",
    "MIN_REPEAT_CHARS",
    "REPEAT_POSTS",
    "REPEAT_WINDOW",
    "ModerationError",
    "appeal",
    "count_cases",
    "decide",
    "exempt",
    "exempt_ids",
    "get_case",
    "is_exempt",
    "note_post",
    "read_all_recent_posts",
    "reason_for",
    "recent_cases",
    "warn",
]

OFFENCE_WINDOW = timedelta(days=7)
REPORT_AT = 2  # the second case within the window goes to the social worker
WARN_EVERY = timedelta(hours=24)  # at most one public warning a day per person and group
BOT = "xiaoqi"
_EXEMPT = "moderation.exempt"
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
    case = _open_case(session, now, person, group, message, reason)
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
        out.append(_warning(case, person, group, reason, in_group=in_group))
    count = len(earlier) + 1
    already_reported = any(c.state is CaseState.REPORTED and c.at >= now - WARN_EVERY for c in earlier)
    if count >= REPORT_AT and not already_reported:
        out += _report_repeat(session, now, case, person, group, count)
    return out


def _open_case(
    session: Session, now: datetime, person: Person, group: ChatGroup, message: Message, reason: str
) -> ModerationCase:
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
    return case


def _warning(
    case: ModerationCase, person: Person, group: ChatGroup, reason: str, *, in_group: bool
) -> Outgoing:
    """The polite warning, with how to appeal: @ the poster in the group, or privately."""
    where = "本群" if in_group else f"“{group.name or '邻里群'}”"
    name = person.name or "这位邻居"
    if reason == "重复刷屏":
        asked = f"{name}您好，同样的内容在{where}发一次大家就能看到，请不要反复发，谢谢配合！"
    else:
        asked = f"{name}您好，{where}是邻里交流群，请不要发广告、推销和外部链接（这条消息里有{reason}），谢谢配合！"
    text = asked + f"如果是误会，可以私聊小棲发“申诉 {case.id}”加上原因，例如“申诉 {case.id} 这是社区活动”。"
    if in_group:
        return Outgoing(text, group_id=group.id, mentions=(person.id,), priority=Priority.ALERT)
    return Outgoing(text.replace("私聊小棲发", "回复"), to_id=person.id, priority=Priority.ALERT)


def _report_repeat(
    session: Session, now: datetime, case: ModerationCase, person: Person, group: ChatGroup, count: int
) -> list[Outgoing]:
    """A repeat offence goes to the social worker, who decides; Xiaoqi removes no one."""
    kind = "刷屏" if case.reason == "重复刷屏" else "广告"
    out: list[Outgoing] = []
    case.state = CaseState.REPORTED
    worker = social_worker(session, group.community_id)
    if worker is not None:
        report = (
            f"【{kind}提醒·{case.id}号】{group.name or group.id}的{person.name or person.id}"
            f"7天内第{count}次被提醒（{case.reason}）：“{case.excerpt[:60]}”\n"
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
