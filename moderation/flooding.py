"""Why a message earns a warning: advertising, or the same text posted again and again (刷屏)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from groups.messages import Message, MessageKind
from moderation.rules import ad_reason, repeat_key

REPEAT_WINDOW = timedelta(hours=24)
REPEAT_POSTS = 3  # the same text this often within the window is 刷屏
MIN_REPEAT_CHARS = 6  # "好的" "收到" "谢谢" are repeated innocently
_RECENT = "moderation.recent_posts"
_RECENT_ALL = "moderation.recent_posts_complete"  # every sender's posts are in _RECENT, none read lazily


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
