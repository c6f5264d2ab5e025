"""Consultations (协商议事): open, discuss, vote, remind, close, follow up. Plain functions of a
session and `now`; the chat commands (bot/handlers/consult.py) and the scheduler job call them."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from consult import texts, wording
from consult.models import (
    Ballot,
    Consultation,
    ConsultGroup,
    ConsultState,
    FollowUp,
    Opinion,
    Participation,
    Vote,
)
from core.clock import SHANGHAI
from core.errors import XiaoqiError
from core.events import Outgoing, Priority
from core.limits import take, used
from core.numbers import bare_number, record_id
from core.privacy import mask_private_numbers
from core.scheduling import mark_schedule_changed
from core.when import read_when
from groups.models import ChatGroup, Membership, Person, Role
from groups.scope import resolve_scope, scope_groups

log = logging.getLogger(__name__)
YES_NO = ["同意", "反对", "弃权"]
ABSTAIN = "弃权"
REMINDERS = (timedelta(hours=24), timedelta(hours=2))  # before the deadline, to groups with low turnout
LOW_TURNOUT = 0.5
LATE_ANSWERED = timedelta(days=3)  # after closing, "投票 1" still gets "已截止" (later it is just chat)
DEFAULT_HOUR = 20  # a deadline given as a day ends at 20:00 (after work, before quiet hours)
WHEN_HINT = "请写成 11月20日18:00 这样。"
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by elderly
RECEIPT_TRIES = 5  # wrong receipt codes one person may send per RECEIPT_WINDOW (查票 and 改票 together)
RECEIPT_WINDOW = timedelta(days=1)
RECEIPT_TRIES_USED = "回执码输错次数太多，请明天再试。"


class ConsultError(XiaoqiError):
    """Something a person asked cannot be done; the message says why, in plain Chinese."""


# --- opening ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSpec:
    topic: str
    options: list[str]
    deadline: datetime
    discussion_until: datetime | None = None
    scope: str = ""  # 本群 / 本社区 / 本街道 / a community or street name; "" = where it was sent
    per_household: bool = False
    secret: bool = False
    quorum: float | None = None


_KEYS = {
    "选项": "options",
    "截止": "deadline",
    "投票截止": "deadline",
    "讨论": "discussion",
    "讨论截止": "discussion",
    "范围": "scope",
    "规则": "rules",
}
_LINE = re.compile(r"^\s*([\u4e00-\u9fff]{2,4})\s*[:：]\s*(.*)$")
_QUORUM = re.compile(r"(?:最低参与|参与率至少|参与率不低于|最低参与率)\s*(\d{1,3})\s*[%％]")


def parse_when(text: str, now: datetime, *, whole_day: bool = False) -> datetime:
    """A deadline as people write it (see core.when: '11月20日18:00', '明天18点半', '周五') -> Shanghai time.
    A day without a time ends at 20:00, or at midnight with `whole_day` (work due "by 12月10日")."""
    reading = read_when(text, now, hint=WHEN_HINT)
    if whole_day and reading.clock is None:
        return datetime.combine(reading.day + timedelta(days=1), time(0, 0), SHANGHAI)
    return reading.at(time(DEFAULT_HOUR, 0))


def split_options(text: str) -> list[str]:
    parts = re.split(r"\s*(?:[；;/、|]|\s{2,}|\d+[.、)）])\s*", text.strip())
    return [p.strip() for p in parts if p.strip()]


def parse_open(args: str, now: datetime) -> OpenSpec:
    """The #发起议事 text: the topic on the first line, then '选项：…', '截止：…' and so on."""
    lines = [line for line in args.strip().splitlines() if line.strip()]
    if not lines:
        raise ConsultError("请写上议题。")
    topic = lines[0].strip()
    if _LINE.match(topic) and _KEYS.get(_LINE.match(topic)[1]):  # type: ignore[index]
        raise ConsultError("第一行请写议题，例如：东门空地怎么用？")
    fields: dict[str, str] = {}
    flags = " ".join(lines[1:])
    for line in lines[1:]:
        matched = _LINE.match(line)
        if matched and matched[1] in _KEYS:
            fields[_KEYS[matched[1]]] = matched[2].strip()
    if "deadline" not in fields:
        raise ConsultError("请写上投票截止时间，例如：截止：11月20日18:00")
    deadline = parse_when(fields["deadline"], now)
    if deadline <= now:
        raise ConsultError("截止时间已经过了，请写一个以后的时间。")
    discussion = parse_when(fields["discussion"], now) if fields.get("discussion") else None
    if discussion is not None and not now < discussion < deadline:
        raise ConsultError("讨论截止要在现在和投票截止之间。")
    options = split_options(fields.get("options", "")) or list(YES_NO)
    if len(options) < 2:
        raise ConsultError("至少要有两个选项。")
    if len(options) > 9:
        raise ConsultError("选项最多 9 个。")
    if len(set(options)) != len(options):
        raise ConsultError("选项有重复。")
    quorum_match = _QUORUM.search(flags)
    quorum = int(quorum_match[1]) / 100 if quorum_match else None
    if quorum is not None and not 0 < quorum <= 1:
        raise ConsultError("最低参与率要在 1% 到 100% 之间。")
    return OpenSpec(
        topic=topic[:200],
        options=options,
        deadline=deadline,
        discussion_until=discussion,
        scope=fields.get("scope", ""),
        per_household="一户一票" in flags,
        secret="不记名" in flags or "无记名" in flags,
        quorum=quorum,
    )


def open_consultation(
    session: Session, now: datetime, organiser: Person, group: ChatGroup | None, spec: OpenSpec
) -> tuple[Consultation, list[Outgoing]]:
    kind, scope_id, scope_name = resolve_scope(session, spec.scope, organiser, group)
    groups = scope_groups(session, kind, scope_id)
    if not groups:
        raise ConsultError(f"{scope_name}还没有登记的群。")
    consultation = Consultation(
        topic=mask_private_numbers(spec.topic),
        scope_kind=kind,
        scope_id=scope_id,
        scope_name=scope_name,
        options=spec.options,
        state=ConsultState.DISCUSSING if spec.discussion_until else ConsultState.VOTING,
        secret=spec.secret,
        per_household=spec.per_household,
        quorum=spec.quorum,
        opened_by=organiser.id,
        opened_at=now,
        discussion_until=spec.discussion_until,
        deadline=spec.deadline,
    )
    session.add(consultation)
    session.flush()
    session.add_all(ConsultGroup(consultation_id=consultation.number, group_id=g.id) for g in groups)
    mark_schedule_changed(session)
    if consultation.state is ConsultState.VOTING:
        announce = _start_voting(session, now, consultation)
    else:
        assert spec.discussion_until is not None
        text = texts.DISCUSS.format(topic=consultation.topic, until=texts.when(spec.discussion_until))
        announce = [Outgoing(text, group_id=g.id, priority=Priority.BULK) for g in groups]
    return consultation, announce


def groups_of(session: Session, consultation: Consultation) -> list[str]:
    return list(
        session.exec(
            select(ConsultGroup.group_id)
            .where(ConsultGroup.consultation_id == consultation.id)
            .order_by(col(ConsultGroup.group_id))
        )
    )


# --- who may vote -------------------------------------------------------------------------------


def voter_key(consultation: Consultation, person: Person) -> str | None:
    if not consultation.per_household:
        return person.id
    if not person.household:
        return None
    return f"household:{person.community_id}:{person.household}"


def roll(session: Session, consultation: Consultation) -> dict[str, set[str]]:
    """Everyone who may vote (voter key -> the consultation's groups they are in)."""
    group_ids = select(ConsultGroup.group_id).where(ConsultGroup.consultation_id == consultation.id)
    rows = session.exec(
        select(Person, Membership.group_id)
        .join(Membership, col(Membership.person_id) == col(Person.id))
        .where(
            col(Membership.group_id).in_(group_ids),
            col(Membership.active).is_(True),
            Person.role == Role.RESIDENT,
            col(Person.registered).is_(True),
        )
    ).all()
    voters: dict[str, set[str]] = defaultdict(set)
    for person, group_id in rows:
        key = voter_key(consultation, person)
        if key is not None:
            voters[key].add(group_id)
    return dict(voters)


def why_not_eligible(session: Session, consultation: Consultation, person: Person) -> str | None:
    """None when the person may vote; otherwise the reason, as they should hear it."""
    if person.role is not Role.RESIDENT:
        return texts.NOT_ELIGIBLE_STAFF
    if not person.registered:
        return texts.NOT_ELIGIBLE_UNREGISTERED
    if consultation.per_household and not person.household:
        return texts.NOT_ELIGIBLE_NO_HOUSEHOLD
    member = session.exec(
        select(Membership.group_id)
        .join(ConsultGroup, col(ConsultGroup.group_id) == col(Membership.group_id))
        .where(
            ConsultGroup.consultation_id == consultation.id,
            Membership.person_id == person.id,
            col(Membership.active).is_(True),
        )
    ).first()
    if member is None:
        return texts.NOT_ELIGIBLE_SCOPE.format(scope=consultation.scope_name)
    return None


# --- discussion ---------------------------------------------------------------------------------


def add_opinion(
    session: Session, consultation: Consultation, person: Person, group_id: str | None, message_id: str,
    text: str, now: datetime,
) -> bool:  # fmt: skip
    """Keep an opinion; True if it is the person's first on this topic."""
    earlier = session.exec(
        select(Opinion.id).where(Opinion.consultation_id == consultation.id, Opinion.person_id == person.id)
    ).first()
    if session.exec(select(Opinion.id).where(Opinion.message_id == message_id)).first() is None:
        session.add(
            Opinion(
                consultation_id=consultation.number,
                person_id=person.id,
                group_id=group_id,
                message_id=message_id,
                text=mask_private_numbers(text)[:2000],
                at=now,
            )
        )
    return earlier is None


def opinions(session: Session, consultation: Consultation) -> list[tuple[str, str]]:
    return [
        (o.person_id, o.text)
        for o in session.exec(
            select(Opinion).where(Opinion.consultation_id == consultation.id).order_by(col(Opinion.id))
        )
    ]


# --- voting -------------------------------------------------------------------------------------


def _start_voting(session: Session, now: datetime, consultation: Consultation) -> list[Outgoing]:
    consultation.state = ConsultState.VOTING
    consultation.voting_opened_at = now
    consultation.eligible = len(roll(session, consultation))
    mark_schedule_changed(session)
    text = texts.vote_announcement(consultation)
    return [Outgoing(text, group_id=g, priority=Priority.BULK) for g in groups_of(session, consultation)]


def start_voting(
    session: Session, now: datetime, consultation: Consultation, options: Sequence[str] | None
) -> list[Outgoing]:
    if consultation.state is not ConsultState.DISCUSSING:
        raise ConsultError(f"{consultation.number}号议事现在不在讨论阶段，不能再开始投票。")
    if consultation.deadline <= now:
        raise ConsultError("投票截止时间已经过了。")
    if options:
        consultation.options = list(options)
    return _start_voting(session, now, consultation)


def open_votes_for(
    session: Session, person: Person, group_id: str | None, state: ConsultState = ConsultState.VOTING
) -> list[Consultation]:
    """Consultations in `state` that a message here concerns (the group's, or the person's groups')."""
    query = select(Consultation).where(Consultation.state == state)
    if group_id is not None:
        query = query.join(ConsultGroup).where(ConsultGroup.group_id == group_id)
    else:
        mine = select(Membership.group_id).where(Membership.person_id == person.id)
        query = query.join(ConsultGroup).where(col(ConsultGroup.group_id).in_(mine))
    return list(session.exec(query.order_by(col(Consultation.id))).unique())


def option_number(consultation: Consultation, word: str) -> int | None:
    """'1', '１', '1号', '第1个', '选项1' or the option's own words; None if it names no option."""
    return wording.option_number(consultation.options, word)


def receipt_hash(consultation_id: int, code: str) -> str:
    clean = re.sub(r"[\s-]", "", code).upper()
    return hashlib.sha256(f"xiaoqi-ballot:{consultation_id}:{clean}".encode()).hexdigest()


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


@dataclass
class VoteResult:
    # privately, to the voter (and to a household member whose vote this replaced)
    messages: list[Outgoing] = field(default_factory=list)
    new: bool = False  # a voter (or household) who had not voted: the count went up


def cast_vote(
    session: Session,
    now: datetime,
    consultation: Consultation,
    voter: Person,
    group_id: str | None,
    choice: int,
) -> VoteResult:
    """One person (or household) one vote; an open ballot can be changed until the deadline. What it
    says goes to the voter privately: the group hears only a count now and then (consult/receipts.py)."""
    if consultation.state is not ConsultState.VOTING or now >= consultation.deadline:
        raise ConsultError(texts.VOTING_OVER.format(number=consultation.number))
    reason = why_not_eligible(session, consultation, voter)
    if reason is not None:
        raise ConsultError(reason)
    key = voter_key(consultation, voter)
    assert key is not None and consultation.id is not None
    option = _option(consultation, choice)
    whose = "您家" if consultation.per_household else "您"
    if consultation.secret:
        if session.get(Participation, (consultation.id, key)) is not None:
            raise ConsultError(texts.SECRET_ALREADY.format(whose=whose))
        code = new_receipt()
        session.add(Participation(consultation_id=consultation.id, voter_key=key, group_id=group_id))
        session.add(
            Ballot(
                receipt_hash=receipt_hash(consultation.id, code),
                consultation_id=consultation.id,
                choice=choice,
            )
        )
        text = texts.SECRET_RECEIPT.format(option=option, code=code, topic=consultation.topic)
        return VoteResult([Outgoing(text, to_id=voter.id)], new=True)
    vote = session.get(Vote, (consultation.id, key))
    if vote is None:
        session.add(
            Vote(
                consultation_id=consultation.id,
                voter_key=key,
                person_id=voter.id,
                group_id=group_id,
                choice=choice,
                cast_at=now,
            )
        )
        return VoteResult(
            [Outgoing(texts.VOTED.format(whose=whose, option=option), to_id=voter.id)], new=True
        )
    if vote.choice == choice:
        return VoteResult([Outgoing(texts.VOTED_SAME.format(whose=whose, option=option), to_id=voter.id)])
    before, earlier = _option(consultation, vote.choice), session.get(Person, vote.person_id)
    vote.choice, vote.person_id, vote.cast_at, vote.changes = choice, voter.id, now, vote.changes + 1
    if earlier is None or earlier.id == voter.id:
        return VoteResult([Outgoing(texts.VOTE_CHANGED.format(whose=whose, option=option), to_id=voter.id)])
    # another member of the household had voted: both hear it, each privately
    mine = texts.HOUSEHOLD_CHANGED.format(option=option, name=_called(earlier), before=before)
    theirs = texts.HOUSEHOLD_REPLACED.format(topic=consultation.topic, name=_called(voter), option=option)
    return VoteResult([Outgoing(mine, to_id=voter.id), Outgoing(theirs, to_id=earlier.id)])


def _called(person: Person) -> str:
    """What a family member is called: the name without the flat ("5栋-302 王大伯" -> "王大伯")."""
    return person.name.split()[-1] if person.name.strip() else person.id


def _option(consultation: Consultation, choice: int) -> str:
    return f"{choice}. {consultation.options[choice - 1]}"


def recently_closed(
    session: Session, person: Person, group_id: str | None, now: datetime
) -> list[Consultation]:
    """Votes closed within LATE_ANSWERED where a message here concerns: a late vote is answered."""
    closed = open_votes_for(session, person, group_id, state=ConsultState.CLOSED)
    return [c for c in closed if c.closed_at is not None and now - c.closed_at <= LATE_ANSWERED]


def change_secret_vote(session: Session, now: datetime, voter: Person, code: str, word: str) -> Outgoing:
    found = _ballot_by_code(session, now, voter, code)
    if isinstance(found, str):
        return Outgoing(found, to_id=voter.id)
    ballot, consultation = found
    if consultation.state is not ConsultState.VOTING or now >= consultation.deadline:
        raise ConsultError(texts.VOTING_OVER.format(number=consultation.number))
    choice = option_number(consultation, word)
    if choice is None:
        raise ConsultError(texts.NO_SUCH_OPTION.format(count=len(consultation.options)))
    ballot.choice = choice
    return Outgoing(texts.SECRET_CHANGED.format(option=_option(consultation, choice)), to_id=voter.id)


def check_receipt(session: Session, now: datetime, voter: Person, code: str) -> Outgoing:
    found = _ballot_by_code(session, now, voter, code)
    if isinstance(found, str):
        return Outgoing(found, to_id=voter.id)
    ballot, consultation = found
    counted = "已计入结果" if consultation.state is ConsultState.CLOSED else "已记下，截止后计入结果"
    option = _option(consultation, ballot.choice)
    return Outgoing(
        texts.RECEIPT_OK.format(topic=consultation.topic, option=option, counted=counted), to_id=voter.id
    )


def _ballot_by_code(
    session: Session, now: datetime, voter: Person, code: str
) -> tuple[Ballot, Consultation] | str:
    """The ballot a receipt code is for, or what to tell the voter. Wrong codes are counted per person
    (RECEIPT_TRIES a day), so that nobody finds other people's codes, and so their votes, by trying;
    past the limit even a right code waits. The count is answered, not raised: raising undoes it."""
    key = f"receipt:{voter.id}"
    if used(session, key, RECEIPT_WINDOW, now) >= RECEIPT_TRIES:
        return RECEIPT_TRIES_USED
    secret_ones = session.exec(select(Consultation).where(col(Consultation.secret).is_(True))).all()
    for consultation in secret_ones:
        assert consultation.id is not None
        ballot = session.get(Ballot, receipt_hash(consultation.id, code))
        if ballot is not None:
            return ballot, consultation
    take(session, key, RECEIPT_TRIES, RECEIPT_WINDOW, now)
    return texts.NO_SUCH_RECEIPT


# --- turnout, results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Turnout:
    voted: int
    eligible: int
    by_group: dict[str, tuple[int, int]]  # group -> (voted, eligible)

    @property
    def share(self) -> float:
        return self.voted / self.eligible if self.eligible else 0.0


def turnout(session: Session, consultation: Consultation) -> Turnout:
    voters = roll(session, consultation)
    model = Participation if consultation.secret else Vote
    voted = set(session.exec(select(model.voter_key).where(model.consultation_id == consultation.id)))
    by_group: dict[str, list[int]] = {g: [0, 0] for g in groups_of(session, consultation)}
    for key, groups in voters.items():
        for g in groups:
            by_group[g][1] += 1
            by_group[g][0] += key in voted
    eligible = (
        consultation.eligible
        if consultation.state is ConsultState.CLOSED and consultation.eligible
        else len(voters)
    )
    return Turnout(len(voted), max(eligible, len(voted)), {g: (v, e) for g, (v, e) in by_group.items()})


def tally(session: Session, consultation: Consultation) -> list[int]:
    """Votes per option, counted from the stored ballots (this is the recount)."""
    model = Ballot if consultation.secret else Vote
    counts = Counter(session.exec(select(model.choice).where(model.consultation_id == consultation.id)))
    return [counts.get(i, 0) for i in range(1, len(consultation.options) + 1)]


def decide(consultation: Consultation, counts: Sequence[int], share: float) -> tuple[bool, str]:
    """(passed, decision in words)."""
    if consultation.quorum is not None and share < consultation.quorum:
        return False, texts.NO_QUORUM.format(quorum=round(consultation.quorum * 100))
    if consultation.options == YES_NO:
        yes, no = counts[0], counts[1]
        if yes > no:
            return True, "同意的多，通过。"
        return False, "同意的没有超过反对的，没有通过。" if yes or no else "没有人表态，没有通过。"
    ranked = sorted(
        ((c, i) for i, c in enumerate(counts) if consultation.options[i] != ABSTAIN), reverse=True
    )
    if not ranked or ranked[0][0] == 0:
        return False, "没有人投票，没有结果。"
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return False, "票数最多的选项票数相同，社区会再议。"
    return True, f"“{consultation.options[ranked[0][1]]}”得票最多。"


def close(session: Session, now: datetime, consultation: Consultation, files_dir: Path) -> list[Outgoing]:
    """Close the vote at its deadline: result, turnout and quorum to every group, with a chart."""
    counts = tally(session, consultation)
    seen = turnout(session, consultation)
    consultation.eligible = seen.eligible
    passed, decision = decide(consultation, counts, seen.share)
    consultation.state, consultation.closed_at = ConsultState.CLOSED, now
    consultation.passed, consultation.decision = passed, decision
    consultation.result = {
        "counts": counts,
        "voted": seen.voted,
        "eligible": seen.eligible,
        "turnout": round(seen.share, 4),
        "quorum_met": consultation.quorum is None or seen.share >= consultation.quorum,
        "by_group": {g: list(v) for g, v in seen.by_group.items()},
    }
    mark_schedule_changed(session)
    chart = _chart(consultation, counts, files_dir)
    text = texts.result_text(consultation, counts, seen.voted, seen.eligible)
    return [
        Outgoing(text, group_id=g, priority=Priority.ALERT, file_path=chart)
        for g in groups_of(session, consultation)
    ]


def _chart(consultation: Consultation, counts: Sequence[int], files_dir: Path) -> str | None:
    from consult.chart import vote_chart

    try:
        path = files_dir / f"consultation-{consultation.number}.png"
        vote_chart(consultation.topic, consultation.options, counts, path)
        return str(path)
    except Exception:  # a chart is a courtesy: the result goes out in words regardless
        log.exception("vote chart for consultation %s failed", consultation.id)
        return None


def reminders(session: Session, consultation: Consultation, index: int) -> list[Outgoing]:
    """Reminder `index` of REMINDERS, to the groups whose turnout is still low."""
    consultation.reminders_sent = index + 1
    seen = turnout(session, consultation)
    out = []
    unit = "户" if consultation.per_household else "人"
    for group_id, (voted, eligible) in seen.by_group.items():
        if eligible and voted / eligible < LOW_TURNOUT:
            text = texts.REMINDER.format(
                topic=consultation.topic,
                deadline=texts.when(consultation.deadline),
                voted=voted,
                eligible=eligible,
                unit=unit,
                how=texts.how_to_vote(consultation),
            )
            out.append(Outgoing(text, group_id=group_id, priority=Priority.BULK))
    return out


def next_reminder(consultation: Consultation) -> tuple[int, datetime] | None:
    """The next reminder still to send: (its index in REMINDERS, when); none once voting opened too late."""
    opened = consultation.voting_opened_at or consultation.opened_at
    for index in range(consultation.reminders_sent, len(REMINDERS)):
        at = consultation.deadline - REMINDERS[index]
        if at > opened:
            return index, at
    return None


def get_consultation(session: Session, number: str | int) -> Consultation:
    digits = bare_number(str(number))
    consultation_id = record_id(digits)
    consultation = session.get(Consultation, consultation_id) if consultation_id is not None else None
    if consultation is None:
        raise ConsultError(f"没有{digits}号议事。")
    return consultation


def add_follow_up(session: Session, consultation: Consultation, ticket_id: int) -> None:
    session.add(FollowUp(ticket_id=ticket_id, consultation_id=consultation.number))
    mark_schedule_changed(session)
