"""Staff sign-in: a one-time code the bot sends privately on WeChat, then a session with a CSRF token.

Residents get no code (and are not told so: the answer is the same for every name). Codes and
session tokens are stored only as hashes; every sign-in, failure and sign-out is in the audit log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from groups.models import Person
from web.models import ConsoleSession, SignInCode
from xiaoqi.audit import record
from xiaoqi.outgoing import Outgoing, Priority

CODE_TTL = timedelta(minutes=5)
CODE_TRIES = 5  # wrong guesses before a code is void
SESSION_IDLE = timedelta(hours=2)  # a console left alone this long signs out
SESSION_MAX = timedelta(hours=12)  # a working day at most, however busy
CODES_PER_HOUR = 5  # per person: no flooding a worker's WeChat with codes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_staff(session: Session, who: str) -> Person | None:
    """A staff member by registry id or by name (a name two staff share matches neither)."""
    who = who.strip()[:100]
    if not who:
        return None
    person = session.get(Person, who)
    if person is None:
        named = session.exec(select(Person).where(Person.name == who).limit(2)).all()
        person = named[0] if len(named) == 1 else None
    return person if person is not None and person.role.is_staff else None


@dataclass(frozen=True)
class CodeSent:
    person: Person
    code: str  # shown only in demo mode; otherwise it leaves by WeChat
    message: Outgoing


def request_code(session: Session, who: str, now: datetime) -> CodeSent | None:
    """A fresh code for a staff member, with the private message that carries it; None for anyone
    else, or when they asked too often in the last hour."""
    person = find_staff(session, who)
    if person is None:
        return None
    recent = session.exec(
        select(SignInCode.id).where(
            SignInCode.person_id == person.id, col(SignInCode.created_at) > now - timedelta(hours=1)
        )
    ).all()
    if len(recent) >= CODES_PER_HOUR:
        record(session, at=now, actor_id=person.id, action="控制台验证码过多", target="console")
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        SignInCode(person_id=person.id, code_hash=_hash(code), created_at=now, expires_at=now + CODE_TTL)
    )
    record(session, at=now, actor_id=person.id, action="申请控制台验证码", target="console")
    text = f"小棲控制台登录验证码：{code}，{CODE_TTL.seconds // 60}分钟内有效。不是您本人在登录的话，请不要告诉别人。"
    return CodeSent(person, code, Outgoing(text, to_id=person.id, priority=Priority.URGENT))


@dataclass(frozen=True)
class SignedIn:
    token: str  # the cookie's value; only its hash is stored
    console: ConsoleSession


def sign_in(session: Session, who: str, code: str, now: datetime) -> SignedIn | None:
    """A session for the right code (its newest unexpired one); None, and a try counted, otherwise."""
    person = find_staff(session, who)
    if person is None:
        return None
    pending = session.exec(
        select(SignInCode)
        .where(
            SignInCode.person_id == person.id,
            col(SignInCode.used_at).is_(None),
            col(SignInCode.expires_at) > now,
            col(SignInCode.attempts) < CODE_TRIES,
        )
        .order_by(col(SignInCode.id).desc())
        .limit(1)
    ).first()
    if pending is None:
        _failed(session, person, now, "无有效验证码")
        return None
    if not hmac.compare_digest(pending.code_hash, _hash(code.strip()[:12])):
        pending.attempts += 1
        _failed(session, person, now, "验证码错误")
        return None
    pending.used_at = now
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
    record(session, at=now, actor_id=person.id, action="登录控制台", target="console")
    return SignedIn(token, console)


def _failed(session: Session, person: Person, now: datetime, why: str) -> None:
    record(session, at=now, actor_id=person.id, action="控制台登录失败", target="console", detail=why)


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
