"""What a report covers: a Shanghai calendar month and a scope (the whole district, a street, a community)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from core.clock import SHANGHAI, local
from core.errors import XiaoqiError
from groups.models import ChatGroup, Community, District, Street

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SCOPE_KINDS = ("district", "street", "community")


@dataclass(frozen=True)
class Month:
    """A calendar month in Asia/Shanghai; `start` and `end` are the UTC instants bounding it."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise XiaoqiError(f"月份格式应为 YYYY-MM（例如 2026-10），而不是 {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def before(cls, at: datetime) -> Month:
        """The last full month before the Shanghai day of `at`."""
        day = local(at)
        return cls(day.year, day.month).shift(-1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=SHANGHAI).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.shift(1).start

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return (self.shift(1).first_day - self.first_day).days

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


@dataclass(frozen=True)
class Scope:
    """Where a report looks: `community_ids` and `group_ids` None mean everything in the database."""

    kind: str  # district | street | community
    id: str | None
    name: str
    community_ids: tuple[str, ...] | None
    group_ids: tuple[str, ...] | None

    @property
    def suffix(self) -> str:
        """For archive folder names: '' for the whole district, '-street-s1' otherwise."""
        return "" if self.id is None else f"-{self.kind}-{re.sub(r'[^0-9A-Za-z_.-]', '_', self.id)}"


def parse_scope(text: str | None) -> tuple[str, str | None]:
    """'street:s1' -> ('street', 's1'); None or '' -> the whole district."""
    if not text:
        return "district", None
    kind, sep, ident = text.partition(":")
    if not sep or kind not in SCOPE_KINDS or not ident:
        raise XiaoqiError(f"范围应为 district:ID、street:ID 或 community:ID，而不是 {text!r}")
    return kind, ident


def resolve_scope(session: Session, text: str | None) -> Scope:
    """The communities and groups a scope covers, checked against the registry."""
    kind, ident = parse_scope(text)
    if ident is None:
        names = list(session.exec(select(District.name).order_by(col(District.id))))
        return Scope("district", None, "、".join(names) or "全区", None, None)
    if kind == "district":
        district = session.get(District, ident)
        if district is None:
            raise XiaoqiError(f"没有编号为 {ident} 的区")
        streets = select(Street.id).where(Street.district_id == ident)
        communities = tuple(
            session.exec(
                select(Community.id).where(col(Community.street_id).in_(streets)).order_by(Community.id)
            )
        )
        name = district.name
    elif kind == "street":
        street = session.get(Street, ident)
        if street is None:
            raise XiaoqiError(f"没有编号为 {ident} 的街道")
        communities = tuple(
            session.exec(select(Community.id).where(Community.street_id == ident).order_by(Community.id))
        )
        name = street.name
    else:
        community = session.get(Community, ident)
        if community is None:
            raise XiaoqiError(f"没有编号为 {ident} 的社区")
        communities = (community.id,)
        name = community.name
    groups = tuple(
        session.exec(
            select(ChatGroup.id).where(col(ChatGroup.community_id).in_(communities)).order_by(ChatGroup.id)
        )
    )
    return Scope(kind, ident, name, communities, groups)
