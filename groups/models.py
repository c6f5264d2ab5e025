"""Registry tables: district -> streets -> communities -> grids and groups, people, routing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, Relationship, SQLModel

from core.db import StrEnumType, UTCDateTime


class Role(StrEnum):
    RESIDENT = "resident"
    SOCIAL_WORKER = "social_worker"
    GRID_WORKER = "grid_worker"
    LEADER = "leader"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_staff(self) -> bool:
        return self is not Role.RESIDENT


ROLE_LABELS: dict[Role, str] = {
    Role.RESIDENT: "居民",
    Role.SOCIAL_WORKER: "社工",
    Role.GRID_WORKER: "网格员",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
}
STAFF_ROLES = frozenset(r for r in Role if r.is_staff)
# words in a staff member's registered name that already say who they are (新家园一网格周敏, 孙书记)
_TITLES = ("社工", "网格", "书记", "主任", "科长", "警官", "站长", "所长", "管理员")


def person_label(person: Person) -> str:
    """How residents and staff read a staff member: 网格员周敏; a name that already says the role or a
    title (新家园社工李婷, 新家园一网格周敏, 孙书记) as it is; leaders and admins by name alone."""
    if person.role in (Role.LEADER, Role.ADMIN, Role.RESIDENT) or any(t in person.name for t in _TITLES):
        return person.name
    return f"{person.role.label}{person.name}"


class District(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str


class Street(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    district_id: str = Field(foreign_key="district.id", index=True)


class Community(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    street_id: str = Field(foreign_key="street.id", index=True)


class Grid(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    community_id: str = Field(foreign_key="community.id", index=True)


class ChatGroup(SQLModel, table=True):
    """A WeChat group; groups the registry doesn't know are recorded with no community."""

    __tablename__ = "chat_group"
    id: str = Field(primary_key=True)
    name: str = ""
    community_id: str | None = Field(default=None, foreign_key="community.id", index=True)
    grid_id: str | None = Field(default=None, foreign_key="grid.id")
    registered: bool = True
    account: str | None = None  # the bot account that serves it; None: whichever account is in it
    rules: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # None: the default rules


class Department(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    street_id: str | None = Field(default=None, foreign_key="street.id")
    contact_id: str | None = None


# people known only to another system (a call to the 12345 hotline filed through the Open311 API):
# they hear of their ticket there, not from Xiaoqi on WeChat
EXTERNAL_PERSON_PREFIX = "open311:"


def on_wechat(person_id: str) -> bool:
    return not person_id.startswith(EXTERNAL_PERSON_PREFIX)


class Person(SQLModel, table=True):
    """A member known by platform contact id; `registered` is False when first seen in a group."""

    id: str = Field(primary_key=True)
    name: str = ""
    role: Role = Field(default=Role.RESIDENT, index=True, sa_type=StrEnumType(Role))
    community_id: str | None = Field(default=None, foreign_key="community.id", index=True)
    grid_id: str | None = Field(default=None, foreign_key="grid.id")
    # a street's staff (a 街道 leader): set when the person works for a whole street, not one community
    street_id: str | None = Field(default=None, foreign_key="street.id")
    household: str | None = None
    registered: bool = True
    first_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    group_id: str = Field(foreign_key="chat_group.id", primary_key=True, index=True)
    active: bool = True
    welcomed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nickname_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nickname_reminders: int = 0


class RoutingRule(SQLModel, table=True):
    """Category -> handler; community_id None is the district default, category 'default' the fallback."""

    __tablename__ = "routing_rule"
    id: int | None = Field(default=None, primary_key=True)
    community_id: str | None = Field(default=None, foreign_key="community.id", index=True)
    category: str
    handler_role: Role | None = Field(default=None, sa_type=StrEnumType(Role))
    department_id: str | None = Field(default=None, foreign_key="department.id")


class ModerationExempt(SQLModel, table=True):
    """Accounts allowed to post links and notices (a property company's official account, say)."""

    __tablename__ = "moderation_exempt"
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    added_by: str  # a staff member's id, or "registry"
    added_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # declared so that the unit of work stores a new person before their exemption (without it,
    # unrelated tables are written in name order: moderation_exempt before person)
    person: Person = Relationship()
