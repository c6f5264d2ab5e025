"""Where something goes: one group, a community's groups, a street's, or the whole district."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, col, select

from core.errors import XiaoqiError
from groups.models import ChatGroup, Community, Person, Street

DISTRICT_WORDS = ("全区", "全部", "所有群", "全区所有群")


class ScopeKind(StrEnum):
    GROUP = "group"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


class ScopeError(XiaoqiError):
    """A scope nobody can find; the text says what may be written instead."""


def resolve_scope(
    session: Session, word: str, person: Person, group: ChatGroup | None, *, district: bool = False
) -> tuple[ScopeKind, str, str]:
    """(kind, id, name) of a scope word: 本群, 本社区, 本街道, 全区 (when allowed), or a community's
    or street's name; an empty word means this group (or the person's community in a private chat)."""
    word = word.strip()
    community_id = (group.community_id if group else None) or person.community_id
    if word in ("", "本群") and group is not None:
        return ScopeKind.GROUP, group.id, group.name or "本群"
    if word == "本群":
        raise ScopeError("私聊里没有“本群”，请在群里发，或写本社区、本街道、社区或街道的名称。")
    if word in ("", "本群", "本社区", "全社区", "社区"):
        community = session.get(Community, community_id) if community_id else None
        if community is None:
            raise ScopeError("不知道是哪个社区，请写上社区名称。")
        return ScopeKind.COMMUNITY, community.id, community.name
    if word in ("本街道", "全街道", "街道"):
        community = session.get(Community, community_id) if community_id else None
        street = session.get(Street, community.street_id) if community else None
        if street is None:
            raise ScopeError("不知道是哪个街道，请写上街道名称。")
        return ScopeKind.STREET, street.id, street.name
    if district and word in DISTRICT_WORDS:
        return ScopeKind.DISTRICT, "", "全区"
    named_community = session.exec(select(Community).where(Community.name == word)).first()
    if named_community is not None:
        return ScopeKind.COMMUNITY, named_community.id, named_community.name
    named_street = session.exec(select(Street).where(Street.name == word)).first()
    if named_street is not None:
        return ScopeKind.STREET, named_street.id, named_street.name
    choices = "本群、本社区、本街道" + ("、全区" if district else "")
    raise ScopeError(f"没有找到“{word}”，范围可以写：{choices}，或社区、街道的名称。")


def scope_groups(session: Session, kind: ScopeKind, scope_id: str) -> list[ChatGroup]:
    """The registered groups in a scope, in a stable order."""
    query = select(ChatGroup).where(ChatGroup.registered == True).order_by(col(ChatGroup.id))  # noqa: E712
    if kind is ScopeKind.GROUP:
        query = select(ChatGroup).where(ChatGroup.id == scope_id)
    elif kind is ScopeKind.COMMUNITY:
        query = query.where(ChatGroup.community_id == scope_id)
    elif kind is ScopeKind.STREET:
        communities = select(Community.id).where(Community.street_id == scope_id)
        query = query.where(col(ChatGroup.community_id).in_(communities))
    return list(session.exec(query))
