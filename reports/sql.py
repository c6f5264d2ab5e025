"""Portable SQL pieces for the report: hour buckets and scope filters (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import col, select

from groups.messages import Message, speech
from groups.models import ChatGroup
from reports.period import Month, Scope


class utc_hour(FunctionElement[str]):
    """The UTC hour a timestamp falls in, as 'YYYY-MM-DD HH' (SQLite) or a timestamp (PostgreSQL)."""

    type = String()
    inherit_cache = True


@compiles(utc_hour, "sqlite")
def _utc_hour_sqlite(element: utc_hour, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"substr({value}, 1, 13)"  # stored as naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'


@compiles(utc_hour)
def _utc_hour_default(element: utc_hour, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date_trunc('hour', {value} AT TIME ZONE 'UTC')"


def hour_value(bucket: object) -> datetime:
    """A bucket from `utc_hour` as an aware UTC datetime."""
    if isinstance(bucket, datetime):
        return bucket.replace(tzinfo=UTC) if bucket.tzinfo is None else bucket.astimezone(UTC)
    return datetime.strptime(str(bucket)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)


def message_filter(month: Month, scope: Scope) -> list[ColumnElement[bool]]:
    """Group messages of the month (speech only) within the scope."""
    where: list[ColumnElement[bool]] = [
        col(Message.sent_at) >= month.start,
        col(Message.sent_at) < month.end,
        col(Message.group_id).is_not(None),
        speech(),
    ]
    if scope.group_ids is not None:
        where.append(col(Message.group_id).in_(scope.group_ids))
    return where


def community_of_group() -> Any:
    """A subquery mapping group ids to community ids, to join messages to communities."""
    return select(col(ChatGroup.id).label("gid"), col(ChatGroup.community_id).label("cid")).subquery()
