"""The console's other pages: consultations with live turnout, the reports archive, groups and accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from access.policy import Verb
from consult.models import Consultation, ConsultState
from consult.service import tally, turnout
from core.audit import record
from core.leases import Lease
from core.outbox import backlog
from groups.messages import Message, speech
from groups.models import ChatGroup, Community, Membership
from web.context import WebContext
from web.deps import DbSession, Now, Policy, Staff, Web
from web.html import staff_page

ARCHIVE_KEY = re.compile(r"^\d{4}-\d{2}(-[a-z0-9_-]{1,60})?$")
REPORT_FILES = {"report.html": "text/html; charset=utf-8", "report.pdf": "application/pdf"}
CONSULT_STATES = {
    ConsultState.DISCUSSING: "讨论中",
    ConsultState.VOTING: "投票中",
    ConsultState.CLOSED: "已结束",
    ConsultState.CANCELLED: "已取消",
}


LIVE_FRESH = timedelta(seconds=15)  # turnout and group figures: counted at most this often


@dataclass(frozen=True)
class GroupFigures:
    rows: list[ChatGroup]
    members: dict[str, int]
    recent: dict[str | None, int]  # messages in the last 24 hours, by group
    communities: dict[str, str]
    by_community: list[tuple[str | None, str, int, int, int]]  # id, name, groups, members, messages in 24 h


@dataclass(frozen=True)
class Counted:
    voted: int
    eligible: int

    @property
    def share(self) -> float:
        return self.voted / self.eligible if self.eligible else 0.0


def _turnout_and_votes(session: Session, c: Consultation) -> tuple[Counted | None, list[int] | None]:
    """A closed vote's figures as stored when it closed (its recount is `consult.service.tally`); an open
    one's counted now (a secret ballot's choices stay hidden until it closes)."""
    if c.state is ConsultState.DISCUSSING:
        return None, None
    if c.state is ConsultState.CLOSED and c.result:
        return Counted(int(c.result["voted"]), int(c.result["eligible"])), list(c.result["counts"])
    seen = turnout(session, c)
    votes = tally(session, c) if not c.secret and c.state is ConsultState.VOTING else None
    return Counted(seen.voted, seen.eligible), votes


router = APIRouter(include_in_schema=False)


def _count_consultations(web: WebContext) -> list[tuple[Any, ...]]:
    """The latest fifty consultations with their turnout: counted once per LIVE_FRESH for all who
    watch them (turnout reads every voter on the roll)."""

    def count(_now: datetime) -> list[tuple[Any, ...]]:
        with web.session() as session:
            latest = session.exec(select(Consultation).order_by(col(Consultation.id).desc()).limit(50)).all()
            return [(c, CONSULT_STATES[c.state], *_turnout_and_votes(session, c)) for c in latest]

    return web.cached(("consultations",), LIVE_FRESH, count)[1]


@router.get("/consultations")
def consultations(
    request: Request, web: Web, session: DbSession, viewer: Staff, access: Policy
) -> HTMLResponse:
    every = _count_consultations(web)
    rows = [row for row in every if access.may(session, viewer.person, Verb.SEE, row[0])]
    live = any(c.state in (ConsultState.DISCUSSING, ConsultState.VOTING) for c, *_ in rows)
    return staff_page(request, viewer, "consultations.j2", rows=rows, live=live)


def archive(web: Web) -> Path:
    """Where the monthly reports are kept, a folder per month."""
    return web.app.settings.files_path / "reports"


Archive = Annotated[Path, Depends(archive)]


@router.get("/reports")
def reports(request: Request, viewer: Staff, folder: Archive) -> HTMLResponse:
    found = []
    if folder.is_dir():
        for month in sorted(folder.iterdir(), reverse=True):
            if month.is_dir() and ARCHIVE_KEY.match(month.name):
                files = [name for name in REPORT_FILES if (month / name).is_file()]
                if files:
                    found.append((month.name, files))
    return staff_page(request, viewer, "reports.j2", found=found)


@router.get("/reports/{key}/{name}")
def report_file(
    request: Request, key: str, name: str, session: DbSession, viewer: Staff, folder: Archive, now: Now
) -> Response:
    path = folder / key / name
    if not ARCHIVE_KEY.match(key) or name not in REPORT_FILES or not path.is_file():
        return staff_page(request, viewer, "missing.j2", 404, what="这份月报")
    record(session, at=now, actor_id=viewer.person.id, action="下载月报", target=f"report:{key}/{name}")
    return FileResponse(
        path, media_type=REPORT_FILES[name], filename=f"民情月报-{key}.{name.rsplit('.', maxsplit=1)[-1]}"
    )


def _count_groups(session: Session, now: datetime) -> GroupFigures:
    members = dict(
        session.exec(
            select(Membership.group_id, func.count())
            .where(col(Membership.active).is_(True))
            .group_by(Membership.group_id)
        ).all()
    )
    recent = dict(
        session.exec(
            select(Message.group_id, func.count())
            .where(col(Message.sent_at) >= now - timedelta(days=1), speech())
            .group_by(Message.group_id)
        ).all()
    )
    communities = {c.id: c.name for c in session.exec(select(Community)).all()}
    rows = session.exec(select(ChatGroup).order_by(ChatGroup.community_id, ChatGroup.id)).all()
    summary: dict[str | None, list[int]] = {}
    for g in rows:
        counts = summary.setdefault(g.community_id, [0, 0, 0])
        counts[0] += 1
        counts[1] += members.get(g.id, 0)
        counts[2] += recent.get(g.id, 0)
    by_community = [
        (c, communities.get(c or "", "未登记"), groups, people, said)
        for c, (groups, people, said) in summary.items()
    ]
    return GroupFigures(list(rows), members, recent, communities, by_community)


def group_figures(web: Web) -> GroupFigures:
    """Every group's members and messages, counted once per LIVE_FRESH for all who watch them."""

    def count(now: datetime) -> GroupFigures:
        with web.session() as session:
            return _count_groups(session, now)

    return web.cached(("groups",), LIVE_FRESH, count)[1]


@router.get("/groups")
def groups(
    request: Request,
    web: Web,
    session: DbSession,
    viewer: Staff,
    figures: Annotated[GroupFigures, Depends(group_figures)],
    access: Policy,
    now: Now,
    community: str = "",
) -> HTMLResponse:
    # the district's 1,160 groups, a community at a time: leaders pick one from the summary
    mine = access.communities(session, viewer.person)
    chosen = community[:100] if mine is None or community[:100] in mine else (mine or [""])[0]
    leases = {
        lease.name.removeprefix("send:"): lease.expires_at
        for lease in session.exec(select(Lease).where(col(Lease.name).startswith("send:"))).all()
    }
    queues = {b.account: b for b in backlog(session, now)}
    accounts = sorted({g.account or web.app.settings.account for g in figures.rows} | set(queues))
    return staff_page(
        request,
        viewer,
        "groups.j2",
        rows=[g for g in figures.rows if g.community_id == chosen] if chosen else [],
        chosen=chosen,
        by_community=figures.by_community,
        members=figures.members,
        recent=figures.recent,
        communities=figures.communities,
        accounts=[(a, a in leases and leases[a] > now, queues.get(a)) for a in accounts],
        default_account=web.app.settings.account,
    )
