"""Who a command means by a person reference: a full name, the name people use (周敏), a surname and
role (周网格), an @-mention or a WeChat id; the actor's community is looked at first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from groups.models import Community, Person, Role

MENTION_MARKS = ("@", "＠")
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.RESIDENT: (),
    Role.SOCIAL_WORKER: ("社工",),
    Role.GRID_WORKER: ("网格员", "网格"),
    Role.LEADER: ("领导",),
    Role.ADMIN: ("管理员",),
}
# a title after a surname or full name: 孙书记, 陈建华主任, 张科长
TITLES = ("书记", "主任", "科长", "所长", "站长", "队长", "警官", "社工", "网格员", "网格长", "网格", "管理员")  # fmt: skip
# what ends the part of a registered name before the personal name: 新家园一网格|周敏, 马群城管科|张科长
MARKERS = (*TITLES, "社区", "物业", "城管", "警务", "中心", "科", "室", "所", "站", "办", "队", "部", "局")
COMPOUND_SURNAMES = frozenset(("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "长孙", "司徒", "夏侯", "宇文", "端木", "南宫"))  # fmt: skip
NICKNAME_PREFIXES = ("小", "老", "阿")  # 小吴, 老张: the surname is the second character
MAX_LISTED = 5
COUNTS = {2: "两", 3: "三", 4: "四", 5: "五"}
_SPACE = re.compile(r"[\s\u2005\u00a0]+")
_HAN = re.compile(r"^[\u4e00-\u9fff]{1,4}$")


class Want(StrEnum):
    """Whom a command may name."""

    STAFF = "staff"  # registered staff only: a member merely named like staff is never picked
    RESIDENT = "resident"  # residents, registered or only seen in a group
    ANYONE = "anyone"


class PersonNotFound(XiaoqiError):
    """Nobody in the registry answers to the reference."""


class AmbiguousPerson(XiaoqiError):
    """Several people answer to the reference; the text lists them."""

    def __init__(self, text: str, candidates: Sequence[Person]) -> None:
        super().__init__(text)
        self.candidates = tuple(candidates)


@dataclass(frozen=True)
class NameParts:
    """What a registered name says: the personal name people use and the short forms it allows."""

    personal: str | None  # 周敏 of 新家园一网格周敏; None when the name has only a surname (孙书记)
    surname: str | None
    titles: tuple[str, ...]  # the words that follow the surname: 网格, 网格员, 书记 …


def compact(text: str) -> str:
    """A reference or name without spaces, WeChat's @-mention space or a leading @."""
    text = _SPACE.sub("", text)
    while text.startswith(MENTION_MARKS):
        text = text[1:]
    return text


def _after_markers(text: str, prefixes: Iterable[str]) -> str:
    """The text after the last marker (or community name) that still leaves something."""
    end = 0
    for word in (*MARKERS, *prefixes):
        if not word:
            continue
        at = text.rfind(word)
        while at >= 0 and at + len(word) >= len(text):
            at = text.rfind(word, 0, at)
        if at >= 0:
            end = max(end, at + len(word))
    return text[end:]


def _surname(personal: str) -> str:
    if len(personal) == 2 and personal.startswith(NICKNAME_PREFIXES):
        return personal[1]
    return personal[:2] if personal[:2] in COMPOUND_SURNAMES else personal[0]


def name_parts(name: str, role: Role, prefixes: Iterable[str] = ()) -> NameParts:
    """Split a registered name: 新家园一网格周敏 -> 周敏 (周网格); 马群城管科张科长 -> 张 (张科长);
    陈建华主任 -> 陈建华 (陈主任). `prefixes` are community names a name may start with."""
    name = compact(name)
    prefixes = tuple(prefixes)
    titles = list(ROLE_WORDS[role])
    head = name
    for title in sorted(TITLES, key=len, reverse=True):
        if name.endswith(title) and len(name) > len(title):
            head = name[: -len(title)]
            titles.insert(0, title)
            break
    rest = _after_markers(head, prefixes)
    if not _HAN.match(rest):
        return NameParts(None, None, ())
    if len(rest) == 1 or (rest in COMPOUND_SURNAMES and head != name):
        return NameParts(None, rest, tuple(dict.fromkeys(titles)))
    return NameParts(rest, _surname(rest), tuple(dict.fromkeys(titles)))


def _community_stem(name: str) -> str:
    return name.removesuffix("社区") or name


def aliases(person: Person, prefixes: Iterable[str] = ()) -> frozenset[str]:
    """The short forms a staff member answers to besides the full name: 周敏, 网格员周敏, 周网格,
    周网格员 and the bare surname 周."""
    if not person.role.is_staff:
        return frozenset()
    parts = name_parts(person.name, person.role, prefixes)
    forms: set[str] = set()
    if parts.personal:
        forms.add(parts.personal)
        forms.update(word + parts.personal for word in ROLE_WORDS[person.role])
    if parts.surname:
        forms.add(parts.surname)
        forms.update(parts.surname + title for title in parts.titles)
    forms.discard(compact(person.name))
    return frozenset(forms)


def answers_to(person: Person, wanted: str, prefixes: Iterable[str] = ()) -> bool:
    """Whether a staff member answers to a short form, or to the end of the registered name
    (网格员周敏 for 梧桐里网格员周敏)."""
    if not person.role.is_staff:
        return False
    name = compact(person.name)
    return wanted in aliases(person, prefixes) or (len(wanted) >= 2 and name.endswith(wanted))


def resolve_person(
    session: Session,
    ref: str,
    *,
    near: str | None,
    want: Want = Want.STAFF,
    mentions: Sequence[str] = (),
    partial: bool = False,
    hint: str = "请写全名、微信号，或@他。",
) -> Person:
    """The one person `ref` means, preferring community `near`; raises PersonNotFound or
    AmbiguousPerson (whose text lists the candidates). `mentions` are the ids @-mentioned in the
    message; `partial` also accepts part of a name (白名单: 紫藤苑物业 for 紫藤苑物业-客服部); `hint`
    ends the not-found text, saying what may be written instead."""
    raw = ref.strip()
    wanted = compact(raw)
    if not wanted:
        raise PersonNotFound(f"请写上是谁：{hint.removeprefix('请写')}")
    by_id = session.get(Person, raw) or session.get(Person, wanted)
    if by_id is not None:
        return _checked(by_id, want, raw)
    communities = {c.id: c.name for c in session.exec(select(Community))}
    prefixes = _prefixes(communities)
    if raw.startswith(MENTION_MARKS) and mentions:
        mentioned = _mentioned(session, wanted, mentions, want, prefixes)
        if mentioned is not None:
            return mentioned
    everyone = _pool(session, wanted, want)
    # the registry first: someone who only renamed themselves in a group never shadows a person in it
    for pool in ([p for p in everyone if p.registered], [p for p in everyone if not p.registered]):
        exact = [p for p in pool if compact(p.name) == wanted]
        short = [p for p in pool if p not in exact and answers_to(p, wanted, prefixes)]
        loose = [p for p in pool if p not in exact and p not in short and wanted in compact(p.name)]
        tiers = (exact, short, loose) if partial else (exact, short)
        nearby = [[p for p in tier if near is not None and p.community_id == near] for tier in tiers]
        for tier in (*nearby[:2], *tiers[:2], *nearby[2:], *tiers[2:]):  # the actor's community first
            if len(tier) == 1:
                return tier[0]
            if tier:
                raise AmbiguousPerson(_ambiguous_text(wanted, tier, near, communities), tier)
    raise _not_found(wanted, want, hint)


def _checked(person: Person, want: Want, ref: str) -> Person:
    if want is Want.STAFF and not (person.role.is_staff and person.registered):
        raise PersonNotFound(f"{person.name or ref}不是登记的工作人员。")
    if want is Want.RESIDENT and person.role.is_staff:
        raise PersonNotFound(f"{person.name}是工作人员，不是居民。")
    return person


def _mentioned(
    session: Session, wanted: str, mentions: Sequence[str], want: Want, prefixes: Sequence[str]
) -> Person | None:
    """The @-mentioned member the reference names: the only one mentioned, or the one whose name fits
    (WeChat writes the group nickname after @, which may differ from the registered name)."""
    people = [p for m in dict.fromkeys(mentions) if (p := session.get(Person, m)) is not None]
    named = [p for p in people if compact(p.name) == wanted or answers_to(p, wanted, prefixes)]
    if len(named) == 1:
        return _checked(named[0], want, wanted)
    if len(people) == 1 and not named:
        return _checked(people[0], want, wanted)
    return None


def _prefixes(communities: dict[str, str]) -> list[str]:
    return sorted({*communities.values(), *map(_community_stem, communities.values())}, key=len)


def _pool(session: Session, wanted: str, want: Want) -> list[Person]:
    """Everyone who might answer to the reference. Every short form starts with a character of the
    name (its surname, or the 小 of 小吴), so the first character narrows the search."""
    query = select(Person).where(col(Person.name).contains(wanted[0], autoescape=True))
    if want is Want.STAFF:
        query = query.where(Person.role != Role.RESIDENT, col(Person.registered).is_(True))
    elif want is Want.RESIDENT:
        query = query.where(Person.role == Role.RESIDENT)
    return list(session.exec(query.order_by(col(Person.id))))


def _not_found(wanted: str, want: Want, hint: str) -> PersonNotFound:
    who = {Want.STAFF: "工作人员", Want.RESIDENT: "居民", Want.ANYONE: ""}[want]
    return PersonNotFound(f"名册里找不到{who}“{wanted}”，{hint}")


def person_choice(person: Person, communities: dict[str, str], *, with_id: bool = False) -> str:
    """How a candidate is listed: 网格员周敏（梧桐里）; a name that says its role or place keeps it."""
    name = person.name
    words = (*ROLE_WORDS[person.role], *TITLES)
    label = name if not person.role.is_staff or any(w in name for w in words) else person.role.label + name
    place = _community_stem(communities.get(person.community_id or "", ""))
    notes = [*([place] if place and place not in name else []), *([f"微信号{person.id}"] if with_id else [])]
    return label + (f"（{'，'.join(notes)}）" if notes else "")


def _ambiguous_text(
    wanted: str, people: Sequence[Person], near: str | None, communities: dict[str, str]
) -> str:
    ordered = sorted(people, key=lambda p: (p.community_id != near, p.community_id or "", p.name, p.id))
    labels = [person_choice(p, communities) for p in ordered]
    twins = len(set(labels)) < len(labels)  # the same name twice in one place: only the id tells them apart
    if twins:
        labels = [person_choice(p, communities, with_id=True) for p in ordered]
    listed = "、".join(labels[:MAX_LISTED]) + ("等" if len(labels) > MAX_LISTED else "")
    count = COUNTS.get(len(people), str(len(people)))
    ask = "请写微信号。" if twins else "请写全名。"
    return f"有{count}位“{wanted}”：{listed}，{ask}"
