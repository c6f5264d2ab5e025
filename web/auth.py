"""Staff sign-in: a one-time code the bot sends privately on WeChat, then a session with a CSRF token.

Residents get no code (and are not told so: the answer is the same for every name, after the same
work). Codes and session tokens are stored only as hashes; every sign-in, failure and sign-out is in
the audit log."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select, update

from core.audit import record
from core.errors import XiaoqiError
from core.events import Outgoing, Priority
from core.limits import take
from groups.models import STAFF_ROLES, Person
from web.models import ConsoleSession, SignInCode

log = logging.getLogger(__name__)

# Sign-in limits. Each is one counter in the database taken with one conditional UPDATE (the code's own
# try counter, or core.limits), so concurrent requests cannot pass it: an anonymous caller can neither
# flood staff's WeChat with codes, nor guess a code, nor spend the send budget the bot shares.
LIMIT_WINDOW = timedelta(hours=1)  # every "per hour" below
CODE_TTL = timedelta(minutes=5)
CODE_TRIES = 5  # checks of one code, the right one included: five wrong guesses void it
CODES_PER_PERSON = 5  # codes per staff member per hour
CODES_PER_ADDRESS = 20  # code requests per client address per hour, whatever name they type
TRIES_PER_ADDRESS = 50  # code checks per client address per hour, right or wrong
CODES_PER_CONSOLE = 200  # codes per hour for the whole console, whoever asks
SESSION_IDLE = timedelta(hours=2)  # a console left alone this long signs out
SESSION_MAX = timedelta(hours=12)  # a working day at most, however busy
ANONYMOUS = "anonymous"  # the audit log's actor for a name that is not staff


class TooOften(XiaoqiError):
    """An address asked for codes or tried codes too often; the same for every name typed."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_address(client: tuple[str, int] | None) -> str:
    """What the per-address limits count against: the client's IP, an IPv6 client's whole /64 (what
    one subscriber gets), "unknown" when the server was not told."""
    host = client[0] if client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def find_staff(session: Session, who: str) -> Person | None:
    """A staff member by registry id or by name (a name two staff share matches neither). One query
    whatever is typed, so that a staff id answers no faster than anything else."""
    who = who.strip()[:100]
    if not who:
        return None
    found = session.exec(
        select(Person).where(
            or_(col(Person.id) == who, and_(col(Person.name) == who, col(Person.role).in_(STAFF_ROLES)))
        )
    ).all()
    by_id = [p for p in found if p.id == who]
    named = [p for p in found if p.name == who and p.role.is_staff]
    person = by_id[0] if by_id else named[0] if len(named) == 1 else None
    return person if person is not None and person.role.is_staff else None


def _subject(person: Person | None, who: str) -> str:
    """Whose counters a request takes: the staff member's, or a stand-in for the name typed (the same
    work for a name that is not staff, whose counters limit nothing)."""
    return person.id if person is not None else "?" + _hash(who.strip()[:100])[:40]


@dataclass(frozen=True)
class CodeSent:
    person: Person
    code: str  # shown only in demo mode; otherwise it leaves by WeChat
    message: Outgoing


def request_code(session: Session, who: str, now: datetime, *, address: str) -> CodeSent | None:
    """A fresh code for a staff member, with the private message that carries it; None for anyone
    else, or when a limit on the person or the console is reached (the caller cannot tell which).
    TooOften when the address asked too often: that answer is the same for any name."""
    if not take(session, f"signin:code:address:{address}", CODES_PER_ADDRESS, LIMIT_WINDOW, now):
        log.warning("sign-in codes: %s asked too often", address)
        raise TooOften("获取验证码太频繁了，请过一会儿再试。")
    person = find_staff(session, who)
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = _hash(code)
    subject = _subject(person, who)
    # only staff's codes count against the console's budget: made-up names cannot spend it
    console_key = "signin:code:console" + ("" if person is not None else ":stand-in")
    within_person = take(session, f"signin:code:person:{subject}", CODES_PER_PERSON, LIMIT_WINDOW, now)
    within_console = within_person and take(session, console_key, CODES_PER_CONSOLE, LIMIT_WINDOW, now)
    source = f"来自 {address}"
    if person is None:
        record(
            session, at=now, actor_id=ANONYMOUS, action="申请控制台验证码", target="console", detail=source
        )
        return None
    if not within_console:
        if within_person:
            log.warning("sign-in codes: the console's %d an hour are spent", CODES_PER_CONSOLE)
        record(
            session, at=now, actor_id=person.id, action="控制台验证码过多", target="console", detail=source
        )
        return None
    session.add(
        SignInCode(person_id=person.id, code_hash=code_hash, created_at=now, expires_at=now + CODE_TTL)
    )
    record(session, at=now, actor_id=person.id, action="申请控制台验证码", target="console", detail=source)
    text = f"小棲控制台登录验证码：{code}，{CODE_TTL.seconds // 60}分钟内有效。不是您本人在登录的话，请不要告诉别人。"
    # an answer to the person's own request, like any other: never an emergency's priority
    return CodeSent(person, code, Outgoing(text, to_id=person.id, priority=Priority.REPLY))


@dataclass(frozen=True)
class SignedIn:
    token: str  # the cookie's value; only its hash is stored
    console: ConsoleSession


def _count_try(session: Session, code_id: int, now: datetime) -> bool:
    """Counts one check of a code, atomically: False when it is used, expired or out of tries."""
    counted = session.execute(
        update(SignInCode)
        .where(
            col(SignInCode.id) == code_id,
            col(SignInCode.attempts) < CODE_TRIES,
            col(SignInCode.used_at).is_(None),
            col(SignInCode.expires_at) > now,
        )
        .values(attempts=col(SignInCode.attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(counted.rowcount)  # type: ignore[attr-defined]


def _use(session: Session, code_id: int, now: datetime) -> bool:
    """Marks a code used, atomically: False when a concurrent request used it first."""
    used = session.execute(
        update(SignInCode)
        .where(col(SignInCode.id) == code_id, col(SignInCode.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]


def sign_in(session: Session, who: str, code: str, now: datetime, *, address: str) -> SignedIn | None:
    """A session for the right code (its newest live one); None, and a try counted, otherwise.
    TooOften when the address tried too many codes in the last hour."""
    if not take(session, f"signin:try:address:{address}", TRIES_PER_ADDRESS, LIMIT_WINDOW, now):
        log.warning("sign-in codes: %s tried too many", address)
        raise TooOften("尝试次数太多了，请过一会儿再试。")
    person = find_staff(session, who)
    guess = _hash(code.strip()[:12])
    pending = session.exec(
        select(SignInCode)
        .where(
            SignInCode.person_id == _subject(person, who),
            col(SignInCode.used_at).is_(None),
            col(SignInCode.expires_at) > now,
            col(SignInCode.attempts) < CODE_TRIES,
        )
        .order_by(col(SignInCode.id).desc())
        .limit(1)
    ).first()
    # the try is counted before the code is compared: concurrent guesses get CODE_TRIES checks in all
    code_id = pending.id if pending is not None and pending.id is not None else 0
    counted = _count_try(session, code_id, now)
    right = hmac.compare_digest(pending.code_hash if pending is not None else _hash(""), guess)
    if person is None or pending is None or not counted:
        _failed(session, person, now, "无有效验证码", address)
        return None
    if not right:
        _failed(session, person, now, "验证码错误", address)
        return None
    if not _use(session, code_id, now):
        _failed(session, person, now, "验证码已用过", address)
        return None
    token = secrets.token_urlsafe(32)
    console = ConsoleSession(
        token_hash=_hash(token),
        person_id=person.id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        seen_at=now,
        expires_at=now + SESSION_MAX,
    )
    session.add(console)
    record(
        session, at=now, actor_id=person.id, action="登录控制台", target="console", detail=f"来自 {address}"
    )
    return SignedIn(token, console)


def _failed(session: Session, person: Person | None, now: datetime, why: str, address: str) -> None:
    actor = person.id if person is not None else ANONYMOUS
    record(
        session,
        at=now,
        actor_id=actor,
        action="控制台登录失败",
        target="console",
        detail=f"{why}，来自 {address}",
    )


def current(session: Session, token: str | None, now: datetime) -> tuple[ConsoleSession, Person] | None:
    """The live session a cookie names, and its staff member (whose role may have changed since)."""
    if not token or len(token) > 100:
        return None
    found = session.exec(
        select(ConsoleSession, Person)
        .join(Person, col(Person.id) == col(ConsoleSession.person_id))
        .where(ConsoleSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    console, person = found
    if console.ended_at is not None or now >= console.expires_at or now - console.seen_at >= SESSION_IDLE:
        return None
    if not person.role.is_staff:
        return None
    if now - console.seen_at >= timedelta(minutes=1):  # not a write per page view
        console.seen_at = now
    return console, person


def sign_out(session: Session, console: ConsoleSession, now: datetime) -> None:
    session.exec(  # type: ignore[call-overload]
        update(ConsoleSession).where(col(ConsoleSession.id) == console.id).values(ended_at=now)
    )
    record(session, at=now, actor_id=console.person_id, action="退出控制台", target="console")


def csrf_ok(console: ConsoleSession, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(console.csrf, sent)
