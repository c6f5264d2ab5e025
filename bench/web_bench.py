"""Benchmark of the web side (`xiaoqi serve`): the staff console's pages and the Open311 API under load.

Run from the repo root:
  python bench/web_bench.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
  python bench/web_bench.py --db ... --reuse            # the load again, on the data seeded before

The target (the issue): with 100,000 tickets and 3.5 million messages in PostgreSQL, every page and API list
call answers in at most 300 ms at the 95th percentile under 20 concurrent users on a 2-core machine.

1. Seeding (skipped with --reuse): the URL's database names the bench database `<name>_web_bench` (or
   --bench-db), dropped and re-created. It gets a generated district's registry (`plan_district`, as in
   `bench/month_bench.py`), the messages (COPY; texts, intents and categories from bench/report_bench.py) from
   the start of the previous month up to now, 100,000 tickets over the last twelve months (denser recently;
   most of them rated, some open, some overdue; routed as the registry says) with their events and reporters
   (the recent ones' source messages are in the message table), a few consultations with votes, a send queue
   with a year of sent messages and a backlog on a few accounts; then VACUUM ANALYZE.
2. The server is `python -m xiaoqi serve --db URL --port P`, one process pinned to core 0 (the system under
   test); this load generator runs on core 1 (PostgreSQL is not pinned). A reports archive is written to a
   temporary XIAOQI_FILES_DIR for it.
3. Console sessions are written straight into the database (the sign-in flow is not what is measured) for
   `--users` staff: leaders and the admin, who see the whole district, and social workers and grid workers of
   communities of every size; and one API key.
4. Each virtual user (asyncio + httpx, one connection each; no think time unless --think) loops for
   `--seconds` over a weighted mix of the console pages and API calls; every endpoint comes once in a user's first round. One
   unmeasured request per endpoint warms the server up first. Latency is from sending the request to having
   the whole body.

Prints the machine, the data sizes and, per endpoint, requests, median, p95 and max (ms, nearest rank over
all samples) and whether p95 <= 300 ms; then the overall p95 and requests/s. With --cost N, then each
endpoint's server CPU per request (N requests one after another, median of three; from /proc, so it does
not depend on the load or the other processes; counted in the kernel's clock ticks, so N = 100 reads to
about 0.1 ms) and the mix's weighted mean. Exit status 1 when a request
failed (a status other than 2xx, or 404 where a missing record is possible) or an endpoint got no samples.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import itertools
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import httpx2 as httpx  # noqa: E402  (the client starlette 1.x uses; pyproject test extra)
import report_bench as rb  # noqa: E402
from sqlalchemy import func, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from core.clock import SHANGHAI, wall_now  # noqa: E402
from core.db import make_engine, session_scope  # noqa: E402
from core.events import Priority  # noqa: E402
from core.leases import Lease  # noqa: E402
from core.outbox import OutboxState  # noqa: E402
from core.settings import normalize_database_url  # noqa: E402
from groups.models import Community, Person, Role  # noqa: E402
from groups.registry import load_registry  # noqa: E402
from sim.district import DistrictPlan, GroupPlan, Member, plan_district, write_registry  # noqa: E402
from sim.month_run import machine  # noqa: E402
from tickets.models import Ticket, TicketEvent  # noqa: E402
from web.console import COOKIE  # noqa: E402
from web.keys import create_api_client, revoke_api_client  # noqa: E402
from web.models import ConsoleSession  # noqa: E402
from web.open311 import CODE_OF  # noqa: E402
from xiaoqi.schema import migrate  # noqa: E402

TARGET_MS = 300.0
API_CLIENT = "web-bench"

# ---------------------------------------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------------------------------------
GRID_CATEGORIES = frozenset({"物业管理", "环境卫生", "交通停车", "噪音扰民"})  # the registry's routing
STREET_DEPARTMENT = frozenset({"市政设施", "违建占道"})  # chengguan-<street>; 治安消防: jingwu
PETITIONS = frozenset({"诉求", "紧急"})
URGENT_SHARE = 0.05
EXTRA_REPORTERS = 0.12  # tickets more than one resident reported
HISTORY_DAYS = 365
# state shares by age: (younger than N days, [(state, share), ...])
STATE_MIX: list[tuple[float, list[tuple[str, float]]]] = [
    (3, [("已评价", 0.15), ("已办结", 0.25), ("处理中", 0.3), ("已签收", 0.2), ("待签收", 0.1)]),
    (
        30,
        [
            ("已评价", 0.76),
            ("已办结", 0.05),
            ("处理中", 0.11),
            ("已签收", 0.05),
            ("待签收", 0.02),
            ("已退回", 0.01),
        ],
    ),
    (math.inf, [("已评价", 0.985), ("处理中", 0.01), ("已签收", 0.003), ("已退回", 0.002)]),
]
RATINGS = [("满意", 0.6), ("基本满意", 0.15), ("不满意", 0.05), ("默认满意", 0.2)]
PROGRESS = ["已联系物业，明天上门查看", "已上报街道，等待回复", "已约居民现场查看", "材料已提交，等待审批"]
RESOLUTIONS = ["已修好", "已清理完毕", "已协调处理，居民认可", "已上门解决", "已转交物业并督促完成"]
# backlog per account: queued, sending, failed (the default account is busy, one drains a broadcast,
# one is offline)
BACKLOG = {"xiaoqi": (35, 3, 7), "xiaoqi-2": (2400, 5, 0), "xiaoqi-3": (180, 0, 2)}
Row = dict[str, Any]


@dataclass(frozen=True)
class Options:
    tickets: int
    messages: int
    groups: int
    seed: int


@dataclass(slots=True)
class PlannedTicket:
    created_at: datetime
    group: GroupPlan
    reporter: Member
    category: str
    urgent: bool
    body: str
    id: int = 0

    @property
    def intent(self) -> str:
        return "紧急" if self.urgent else "诉求"


@dataclass(frozen=True)
class Step:
    action: str
    actor: str
    before: str | None
    after: str
    at: datetime
    note: str = ""


def weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def month_start(at: datetime, back: int = 0) -> datetime:
    shown = at.astimezone(SHANGHAI)
    year, month = shown.year, shown.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=SHANGHAI).astimezone(UTC)


class Seeder:
    """Writes the bench data with COPY (report_bench's Writer); every time is aware UTC, before `now`."""

    def __init__(self, engine: Engine, options: Options, now: datetime, workdir: Path) -> None:
        self.engine, self.options, self.now, self.workdir = engine, options, now, workdir
        self.rng = random.Random(options.seed)
        self.writer = rb.Writer(engine)
        self.plan: DistrictPlan = plan_district(options.groups, options.seed)
        self.talking = [g for g in self.plan.groups if g.residents]
        self.talk_weights = list(itertools.accumulate(g.activity for g in self.talking))
        self.window_start = month_start(now, back=1)  # messages: the previous month and this one so far
        self.injected: dict[int, list[Row]] = {}  # hour slot -> tickets' messages, to go among the others
        self.events: list[tuple[int, Step]] = []
        self.reporters: list[Row] = []
        self.contacts = {d[0]: d[3].id for d in self.plan.departments}

    def copy(self, table: str, rows: Iterable[Row]) -> None:
        """COPY rows given as dicts with the same keys in the same order."""
        rows = iter(rows)
        first = next(rows, None)
        if first is not None:
            every = itertools.chain([first], rows)
            self.writer.write(table, list(first), (tuple(row.values()) for row in every))

    def set_sequence(self, table: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"SELECT setval('{table}_id_seq', greatest((SELECT max(id) FROM {table}), 1))"))

    def before_now(self, at: datetime) -> datetime:
        return min(at, self.now - timedelta(seconds=30))

    # -- registry -------------------------------------------------------------------------------------
    def registry(self) -> None:
        path = self.workdir / "registry.yaml"
        write_registry(self.plan, path)
        with session_scope(self.engine) as session:
            load_registry(session, path)

    # -- who says what ----------------------------------------------------------------------------------
    def speaker(self, group: GroupPlan) -> Member:
        """A resident of the group, the talkative ones more often (the plan's Pareto talkativeness)."""
        return group.residents[bisect.bisect_left(group.talk, self.rng.random() * group.talk[-1])]

    def category(self) -> str:
        return self.rng.choices(list(rb.CATEGORY_WEIGHTS), list(rb.CATEGORY_WEIGHTS.values()))[0]

    def petition_text(self, category: str) -> str:
        return self.rng.choice(rb.CATEGORY_TEXTS[category]).format(b=self.rng.randrange(1, 40))

    @staticmethod
    def message(
        platform_id: str,
        group: GroupPlan,
        member: Member,
        at: datetime,
        *,
        kind: str = "text",
        body: str = "",
        intent: str | None = None,
        category: str | None = None,
        sentiment: str | None = None,
    ) -> Row:
        return {
            "platform_id": platform_id,
            "kind": kind,
            "group_id": group.id,
            "sender_id": member.id,
            "sender_name": member.name,
            "private": False,
            "raw_text": body,
            "text": body.replace("13912345678", "139****5678"),
            "mentions": [],
            "sent_at": at,
            "received_at": at,
            "handled_at": at,
            "failed": False,
            "intent": intent,
            "category": category,
            "sentiment": sentiment,
            "confidence": 0.9 if intent else None,
        }

    def inject(self, platform_id: str, t: PlannedTicket, member: Member, at: datetime) -> bool:
        """A ticket's report into the message table, when its time is in the messages' window."""
        seconds = (at - self.window_start).total_seconds()
        if seconds < 0 or at >= self.now:
            return False
        sentiment = self.rng.choices(["中性", "负面"], [0.4, 0.6])[0]
        row = self.message(
            platform_id,
            t.group,
            member,
            at,
            body=t.body,
            intent=t.intent,
            category=t.category,
            sentiment=sentiment,
        )
        self.injected.setdefault(int(seconds // 3600), []).append(row)
        return True

    # -- tickets --------------------------------------------------------------------------------------
    def plan_tickets(self) -> list[PlannedTicket]:
        """Over the last year, 40% evenly and 60% denser towards now (a year ago a quarter as dense)."""
        rng, span = self.rng, HISTORY_DAYS * 86400.0
        planned = []
        for _ in range(self.options.tickets):
            u = rng.random()
            age = span * u if rng.random() < 0.4 else span * (1 - math.sqrt(1 - u))
            group = rng.choices(self.talking, cum_weights=self.talk_weights)[0]
            category = self.category()
            planned.append(
                PlannedTicket(
                    self.now - timedelta(seconds=max(age, 60.0)),
                    group,
                    self.speaker(group),
                    category,
                    rng.random() < URGENT_SHARE,
                    self.petition_text(category),
                )
            )
        planned.sort(key=lambda t: t.created_at)
        for number, ticket in enumerate(planned, start=1):
            ticket.id = number
        return planned

    def handler(self, t: PlannedTicket) -> tuple[str, str | None]:
        """(handler, department) as the generated registry routes the category."""
        community = t.group.community
        if t.category in GRID_CATEGORIES and t.group.grid_worker is not None:
            return t.group.grid_worker.id, None
        if t.category in STREET_DEPARTMENT:
            department = f"chengguan-{community.street}"
            return self.contacts[department], department
        if t.category == "治安消防":
            return self.contacts["jingwu"], "jingwu"
        return community.social_worker.id, None

    def history(self, t: PlannedTicket, state: str, handler: str) -> list[Step]:
        """The ticket's events up to its state."""
        rng = self.rng
        steps = [Step("登记", "xiaoqi", None, "待签收", t.created_at)]
        if state == "待签收":
            return steps
        at = self.before_now(t.created_at + timedelta(hours=rng.lognormvariate(0.0, 1.0)))
        if state == "已退回":
            return [*steps, Step("退回", handler, "待签收", "已退回", at, "不属于本社区，请重新分派")]
        steps.append(Step("签收", handler, "待签收", "已签收", at))
        if state == "处理中" or (state in ("已办结", "已评价") and rng.random() < 0.1):
            at = self.before_now(at + timedelta(hours=rng.lognormvariate(1.5, 1.0)))
            steps.append(Step("进展", handler, "已签收", "处理中", at, rng.choice(PROGRESS)))
        if state in ("已办结", "已评价"):
            hours = rng.lognormvariate(0.5, 0.6) if t.urgent else rng.lognormvariate(3.0, 0.9)
            at = self.before_now(max(at, t.created_at + timedelta(hours=hours)))
            steps.append(Step("办结", handler, steps[-1].after, "已办结", at, rng.choice(RESOLUTIONS)))
        if state == "已评价":
            rating = weighted(rng, RATINGS)
            later = timedelta(days=3) if rating == "默认满意" else timedelta(hours=rng.uniform(0.5, 48))
            rater = "xiaoqi" if rating == "默认满意" else t.reporter.id
            steps.append(Step("评价", rater, "已办结", "已评价", self.before_now(at + later), rating))
        return steps

    def add_reporters(self, t: PlannedTicket, source: str) -> int:
        """The reporter, and for some tickets one to three neighbours who reported it too."""
        self.reporters.append(
            {
                "ticket_id": t.id,
                "person_id": t.reporter.id,
                "group_id": t.group.id,
                "message_id": source,
                "at": t.created_at,
            }
        )
        if self.rng.random() >= EXTRA_REPORTERS:
            return 1
        others = sorted(
            {m.id: m for m in t.group.residents if m.id != t.reporter.id}.values(), key=lambda m: m.id
        )
        more = self.rng.sample(others, min(len(others), self.rng.randint(1, 3)))
        for k, member in enumerate(more, start=1):
            at = self.before_now(t.created_at + timedelta(hours=self.rng.uniform(0.1, 48)))
            message_id = f"wb-t{t.id}-r{k}"
            if not self.inject(message_id, t, member, at):
                message_id = f"wb-old-t{t.id}-r{k}"
            self.reporters.append(
                {
                    "ticket_id": t.id,
                    "person_id": member.id,
                    "group_id": t.group.id,
                    "message_id": message_id,
                    "at": at,
                }
            )
        return 1 + len(more)

    def ticket_rows(self, planned: list[PlannedTicket]) -> Iterator[Row]:
        rng, now = self.rng, self.now
        for t in planned:
            age_days = (now - t.created_at).total_seconds() / 86400
            state = weighted(rng, next(mix for limit, mix in STATE_MIX if age_days < limit))
            handler, department = self.handler(t)
            deadline = t.created_at + (timedelta(hours=1) if t.urgent else timedelta(days=5))
            source = f"wb-t{t.id}"
            if not self.inject(source, t, t.reporter, t.created_at - timedelta(seconds=20)):
                source = f"wb-old-t{t.id}"  # older than the message window: not in the message table
            reporters = self.add_reporters(t, source)
            steps = self.history(t, state, handler)
            self.events += [(t.id, step) for step in steps]
            done = {step.action: step for step in steps}
            open_now = state not in ("已办结", "已评价")
            overdue = open_now and deadline < now
            yield {
                "id": t.id,
                "source_message_id": source,
                "community_id": t.group.community.id,
                "group_id": t.group.id,
                "reporter_id": t.reporter.id,
                "intent": t.intent,
                "category": t.category,
                "urgent": t.urgent,
                "summary": t.body,
                "details": t.body + ("（电话13912345678）" if rng.random() < 0.2 else ""),
                "state": state,
                "handler_id": handler,
                "department_id": department,
                "reporters": reporters,
                "priority": 1 if reporters >= 3 else 0,
                "created_at": t.created_at,
                "deadline": deadline,
                "assigned_at": t.created_at,
                "accepted_at": done["签收"].at if "签收" in done else None,
                "resolved_at": done["办结"].at if "办结" in done else None,
                "closed_at": done["评价"].at if "评价" in done else None,
                "resolution": done["办结"].note if "办结" in done else "",
                "rating": done["评价"].note if "评价" in done else None,
                "reopened": 0,
                "escalations": 1 if overdue and rng.random() < 0.5 else 0,
                "next_alert_at": (now + timedelta(hours=12) if overdue else deadline) if open_now else None,
                "version": len(steps),
            }

    def event_rows(self) -> Iterator[Row]:
        """Events in time order: their ids are the change feed's cursor."""
        self.events.sort(key=lambda e: (e[1].at, e[0]))
        for number, (ticket_id, step) in enumerate(self.events, start=1):
            yield {
                "id": number,
                "ticket_id": ticket_id,
                "at": step.at,
                "actor_id": step.actor,
                "action": step.action,
                "from_state": step.before,
                "to_state": step.after,
                "note": step.note,
            }

    def tickets(self) -> None:
        self.copy("ticket", self.ticket_rows(self.plan_tickets()))
        self.copy("ticket_event", self.event_rows())
        self.copy("ticket_reporter", self.reporters)
        self.set_sequence("ticket")
        self.set_sequence("ticket_event")

    # -- messages -------------------------------------------------------------------------------------
    def message_rows(self) -> Iterator[Row]:
        """The month before and this month up to now, hour by hour (busier by day), in time order, the
        tickets' reports among them; texts and labels as in report_bench."""
        rng = self.rng
        slots: list[tuple[datetime, float, float]] = []  # start, seconds, weight
        at = self.window_start
        while at < self.now:
            seconds = min(3600.0, (self.now - at).total_seconds())
            slots.append((at, seconds, rb.HOUR_WEIGHTS[at.astimezone(SHANGHAI).hour] * seconds / 3600))
            at += timedelta(hours=1)
        total_weight = sum(s[2] for s in slots)
        wanted = max(0, self.options.messages - sum(len(v) for v in self.injected.values()))
        intents, intent_weights = zip(*[*rb.INTENTS, (None, rb.UNLABELLED)], strict=True)
        counter, given, cumulative = 0, 0, 0.0
        for k, (start, seconds, weight) in enumerate(slots):
            cumulative += weight
            upto = round(wanted * cumulative / total_weight)
            count, given = upto - given, upto
            rows: list[Row] = []
            talking = rng.choices(self.talking, cum_weights=self.talk_weights, k=count)
            for group, intent in zip(talking, rng.choices(intents, intent_weights, k=count), strict=True):
                counter += 1
                member, sent = self.speaker(group), start + timedelta(seconds=rng.random() * seconds)
                if intent is None:  # images, voice, links ...: stored without labels
                    kind = rng.choice(["image", "image", "voice", "link", "video"])
                    rows.append(self.message(f"wb-m{counter}", group, member, sent, kind=kind))
                    continue
                category, sentiment = "无", rng.choices(["正面", "中性", "负面"], [0.2, 0.65, 0.15])[0]
                if intent == "闲聊":
                    body = rng.choice(rb.CHATTER)
                elif intent == "表扬":
                    body, sentiment = rng.choice(rb.PRAISE), "正面"
                elif intent == "广告":
                    body = rng.choice(rb.ADS)
                else:
                    category = self.category()
                    body = self.petition_text(category)
                    if intent in PETITIONS:
                        sentiment = rng.choices(["中性", "负面"], [0.4, 0.6])[0]
                rows.append(
                    self.message(
                        f"wb-m{counter}",
                        group,
                        member,
                        sent,
                        body=body,
                        intent=intent,
                        category=category,
                        sentiment=sentiment,
                    )
                )
            rows += self.injected.get(k, [])
            rows.sort(key=lambda r: r["sent_at"])
            yield from rows

    def messages(self) -> None:
        self.copy("message", self.message_rows())

    # -- consultations ---------------------------------------------------------------------------------
    def consultations(self, count: int = 24) -> None:
        """Community consultations over the year: most closed, two voting (one secret), one discussing."""
        rng, now = self.rng, self.now
        rows: list[Row] = []
        groups: list[Row] = []
        votes: list[Row] = []
        rolls: list[Row] = []
        ballots: list[Row] = []
        communities = self.plan.communities
        for k in range(count):
            number, community = k + 1, communities[(k * 7) % len(communities)]
            if k == count - 1:
                state, opened = "discussing", now - timedelta(days=1)
            elif k >= count - 3:
                state, opened = "voting", now - timedelta(days=rng.randint(1, 3))
            else:
                state, opened = ("cancelled" if k == 3 else "closed"), now - timedelta(days=300 - k * 12)
            secret = k % 4 == 1
            options = ["同意", "不同意"] if k % 2 else ["停车位", "小花园", "健身器材"]
            voters: dict[str, str] = {}  # resident -> the group they vote in
            for group in community.groups:
                groups.append({"consultation_id": number, "group_id": group.id})
                for member in group.residents:
                    voters.setdefault(member.id, group.id)
            voted = rng.sample(sorted(voters), int(len(voters) * rng.uniform(0.3, 0.7)))
            counts = [0] * len(options)
            for person_id in voted if state in ("voting", "closed") else []:
                choice = rng.randint(1, len(options))
                counts[choice - 1] += 1
                if secret:
                    rolls.append(
                        {"consultation_id": number, "voter_key": person_id, "group_id": voters[person_id]}
                    )
                    ballots.append(
                        {"receipt_hash": secrets.token_hex(32), "consultation_id": number, "choice": choice}
                    )
                else:
                    votes.append(
                        {
                            "consultation_id": number,
                            "voter_key": person_id,
                            "person_id": person_id,
                            "group_id": voters[person_id],
                            "choice": choice,
                            "cast_at": min(opened + timedelta(hours=rng.uniform(1, 20)), now),
                            "changes": 0,
                        }
                    )
            ended = state in ("closed", "cancelled")
            deadline = opened + timedelta(days=5)
            result = None
            if state == "closed":
                share = round(len(voted) / max(1, len(voters)), 4)
                result = {"counts": counts, "voted": len(voted), "eligible": len(voters), "turnout": share}
            rows.append(
                {
                    "id": number,
                    "topic": f"{'东南西北'[k % 4]}门空地改造方案（{number}）",
                    "scope_kind": "community",
                    "scope_id": community.id,
                    "scope_name": community.name,
                    "options": options,
                    "state": state,
                    "secret": secret,
                    "per_household": False,
                    "opened_by": community.social_worker.id,
                    "opened_at": opened,
                    "voting_opened_at": opened + timedelta(days=2) if state != "discussing" else None,
                    "deadline": deadline,
                    "eligible": len(voters) if ended else None,
                    "closed_at": deadline if ended else None,
                    "result": result,
                    "passed": counts[0] == max(counts) if state == "closed" else None,
                    "decision": "已按多数意见实施。" if state == "closed" else "",
                    "reminders_sent": 1 if ended else 0,
                }
            )
        self.copy("consultation", rows)
        self.copy("consult_group", groups)
        self.copy("vote", votes)
        self.copy("participation", rolls)
        self.copy("ballot", ballots)
        self.set_sequence("consultation")

    # -- the send queue --------------------------------------------------------------------------------
    def outbox_rows(self) -> Iterator[Row]:
        """What the bot said about every ticket event (sent: nothing prunes sent rows), the last hour's
        answers, and the backlogs."""
        rng, now = self.rng, self.now
        groups = [g.id for g in self.plan.groups]

        def row(
            account: str, text_: str, priority: Priority, state: OutboxState, at: datetime, **more: Any
        ) -> Row:
            return {
                "account": account,
                "group_id": rng.choice(groups),
                "text": text_,
                "mentions": [],
                "priority": int(priority),
                "state": state.value,
                "created_at": at,
                "not_before": at,
                "attempts": more.get("attempts", 0),
                "sent_at": more.get("sent_at"),
                "error": more.get("error"),
            }

        for ticket_id, step in self.events:
            sent = step.at + timedelta(seconds=rng.uniform(2, 90))
            if sent < now:
                notice = f"{ticket_id}号工单{step.action}"
                yield row(
                    "xiaoqi", notice, Priority.ALERT, OutboxState.SENT, step.at, attempts=1, sent_at=sent
                )
        for _ in range(300):
            sent = now - timedelta(seconds=rng.uniform(0, 3600))
            yield row(
                "xiaoqi", "好的，已记录", Priority.REPLY, OutboxState.SENT, sent, attempts=1, sent_at=sent
            )
        for account, counts in BACKLOG.items():
            states = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED)
            for state, n in zip(states, counts, strict=True):
                for _ in range(n):
                    made = now - timedelta(minutes=rng.uniform(1, 45))
                    failed = {"attempts": 5, "error": "发送超时"} if state is OutboxState.FAILED else {}
                    yield row(
                        account, "【社区通知】本周六上午社区服务日", Priority.BULK, state, made, **failed
                    )

    def outbox(self) -> None:
        self.copy("outbox", self.outbox_rows())


def vacuum_analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def seed(url: str, options: Options, now: datetime) -> dict[str, float]:
    """Fill the (fresh, migrated) bench database; seconds per stage."""
    engine = make_engine(url)
    migrate(engine)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        seeder = Seeder(engine, options, now, Path(tmp))
        for name, stage in (
            ("registry", seeder.registry),
            ("tickets", seeder.tickets),
            ("messages", seeder.messages),
            ("consultations", seeder.consultations),
            ("outbox", seeder.outbox),
            ("vacuum analyze", lambda: vacuum_analyze(engine)),
        ):
            started = time.perf_counter()
            stage()
            timings[name] = time.perf_counter() - started
            print(f"  seeded {name} in {timings[name]:.1f} s", flush=True)
    engine.dispose()
    return timings


def bench_database(url: str, name: str | None, *, fresh: bool) -> str:
    """The bench database's URL; with `fresh`, dropped and re-created through the given URL's database."""
    url = normalize_database_url(url)
    if not url.startswith("postgresql"):
        raise SystemExit("web_bench needs a PostgreSQL URL (--db postgresql+psycopg://...)")
    base, admin_name = url.rsplit("/", 1)
    name = name or f"{admin_name}_web_bench"
    return rb.recreate_database(url, name) if fresh else f"{base}/{name}"


def data_sizes(engine: Engine) -> dict[str, Any]:
    tables = [
        "ticket",
        "ticket_event",
        "ticket_reporter",
        "message",
        "person",
        "chat_group",
        "community",
        "consultation",
        "outbox",
    ]
    sizes: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in tables:
            sizes[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        sizes["database_mb"] = round(
            int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()) / 2**20
        )
        sizes["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar_one())
        newest = conn.execute(text("SELECT max(sent_at) FROM message")).scalar_one()
        sizes["newest_message"] = (
            newest.astimezone(SHANGHAI).isoformat(timespec="minutes") if newest else None
        )
    return sizes


def reports_archive(files_dir: Path, now: datetime) -> None:
    """A year of monthly reports (small stand-in files) where the console's archive page looks."""
    for back in range(1, 13):
        month = month_start(now, back).astimezone(SHANGHAI)
        folder = files_dir / "reports" / f"{month:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.html").write_text(f"<h1>{month:%Y年%m月}民情月报</h1>", encoding="utf-8")
        (folder / "report.pdf").write_bytes(b"%PDF-1.4\n% bench stand-in\n%%EOF\n")


# ---------------------------------------------------------------------------------------------------------
# users, the server
# ---------------------------------------------------------------------------------------------------------
@dataclass
class User:
    person_id: str
    role: Role
    community_id: str | None
    cookie: str
    visible: list[int] = field(default_factory=list)  # empty: every ticket

    @property
    def label(self) -> str:
        return f"{self.role.label} {self.person_id}"


@dataclass(frozen=True)
class World:
    """What the virtual users pick their requests from."""

    max_ticket: int
    max_event: int
    communities: list[str]
    api_key: str


def spread(items: list[Any], n: int) -> list[Any]:
    """n items evenly over the list (the list sorted by size: big and small communities alike)."""
    if not items or n <= 0:
        return []
    return [items[(i * len(items)) // n] for i in range(n)] if n <= len(items) else (items * n)[:n]


def make_users(engine: Engine, count: int, now: datetime) -> tuple[list[User], World]:
    """Console sessions for `count` staff (a fifth leaders and the admin, the rest social and grid
    workers of communities big and small) and a fresh API key."""
    with session_scope(engine) as session:
        sizes = dict(
            session.exec(select(Ticket.community_id, func.count()).group_by(col(Ticket.community_id))).all()
        )
        communities = sorted(
            (c.id for c in session.exec(select(Community)).all()), key=lambda c: -sizes.get(c, 0)
        )

        def staff(role: Role) -> list[Person]:
            people = session.exec(select(Person).where(Person.role == role).order_by(col(Person.id))).all()
            order = {c: i for i, c in enumerate(communities)}
            return sorted(people, key=lambda p: (order.get(p.community_id or "", 0), p.id))

        wide = [*staff(Role.ADMIN), *staff(Role.LEADER)]
        n_wide = max(1, round(count / 5)) if count > 1 else 1
        n_social = (count - n_wide + 1) // 2
        chosen = spread(wide, n_wide) + spread(staff(Role.SOCIAL_WORKER), n_social)
        chosen += spread(staff(Role.GRID_WORKER), count - len(chosen))
        users = []
        for person in chosen[:count]:
            token = secrets.token_urlsafe(32)
            session.add(
                ConsoleSession(
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    person_id=person.id,
                    csrf=secrets.token_urlsafe(24),
                    created_at=now,
                    seen_at=now,
                    expires_at=now + timedelta(hours=12),
                )
            )
            visible: list[int] = []
            if person.role not in (Role.LEADER, Role.ADMIN):
                mine = (col(Ticket.community_id) == person.community_id) | (
                    col(Ticket.handler_id) == person.id
                )
                visible = [n for n in session.exec(select(Ticket.id).where(mine)).all() if n is not None]
            cookie = f"{COOKIE}={token}"
            users.append(User(person.id, person.role, person.community_id, cookie, visible))
        revoke_api_client(session, API_CLIENT, now)
        key = create_api_client(session, API_CLIENT, now, read_all=True)
        max_ticket = session.exec(select(func.max(Ticket.id))).one() or 0
        max_event = session.exec(select(func.max(TicketEvent.id))).one() or 0
        session.merge(Lease(name="send:xiaoqi", holder="bench", expires_at=now + timedelta(hours=3)))
    return users, World(int(max_ticket), int(max_event), communities, key)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pin(pid: int, core: int) -> bool:
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    os.sched_setaffinity(pid, {core})
    return True


@contextmanager
def running_server(url: str, files_dir: Path, log_path: Path) -> Iterator[tuple[str, int]]:
    """`xiaoqi serve` on a free port, pinned to core 0; its base URL and pid once it answers."""
    port = free_port()
    env = {**os.environ, "XIAOQI_FILES_DIR": str(files_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "xiaoqi", "serve", "--db", url, "--port", str(port)]
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    pinned = pin(server.pid, 0)  # before uvicorn starts its threads, which inherit it
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited ({server.returncode}):\n{tail(log_path)}")
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 120:
                raise SystemExit(f"the server did not answer within 120 s:\n{tail(log_path)}")
            time.sleep(0.2)
        print(
            f"server: pid {server.pid} at {base}, up in {time.perf_counter() - started:.1f} s"
            + (", pinned to core 0 (the load generator: core 1; PostgreSQL unpinned)" if pinned else ""),
            flush=True,
        )
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far (Linux /proc): the server, this process, every PostgreSQL process, and the
    whole machine (busy, not idle or waiting on I/O)."""

    server: float
    loadgen: float
    postgres: dict[int, float]
    machine: float

    @staticmethod
    def process(pid: int | str, children: bool = False) -> float:
        """utime + stime, and with `children` those of its ended children (PostgreSQL's backends and
        parallel workers that exited in between are counted at the postmaster)."""
        try:
            fields = [int(v) for v in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:15]]
        except (OSError, IndexError, ValueError):
            return 0.0
        return sum(fields if children else fields[:2]) / os.sysconf("SC_CLK_TCK")

    @classmethod
    def take(cls, server: int) -> CpuSnapshot | None:
        if not Path("/proc/stat").exists():
            return None
        postgres = {}
        for comm in Path("/proc").glob("[0-9]*/comm"):
            try:
                if comm.read_text().strip() == "postgres":
                    postgres[int(comm.parent.name)] = cls.process(comm.parent.name, children=True)
            except OSError:
                continue
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        return cls(cls.process(server), cls.process("self"), postgres, busy)

    def since(self, before: CpuSnapshot, seconds: float) -> dict[str, float]:
        """Cores used in between: server, load generator, PostgreSQL, anything else."""
        postgres = sum(v - before.postgres.get(pid, 0.0) for pid, v in self.postgres.items())
        used = {
            "server": self.server - before.server,
            "load generator": self.loadgen - before.loadgen,
            "PostgreSQL": postgres,
        }
        used["other processes"] = max(0.0, self.machine - before.machine - sum(used.values()))
        return {name: round(value / seconds, 2) for name, value in used.items()}


# ---------------------------------------------------------------------------------------------------------
# the load
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    label: str
    weight: int
    url: Callable[[User, random.Random, World], str]
    api: bool = False
    may_miss: bool = False  # 404 is a possible, correct answer


def ticket_id(user: User, rng: random.Random, world: World) -> int:
    return rng.choice(user.visible) if user.visible else rng.randint(1, max(1, world.max_ticket))


def own_or_any_community(user: User, rng: random.Random, world: World) -> str:
    return user.community_id or rng.choice(world.communities)


CATEGORIES = list(rb.CATEGORY_WEIGHTS)
SERVICE_CODES = [CODE_OF[c] for c in CATEGORIES]
ENDPOINTS: list[Endpoint] = [
    Endpoint("/", 10, lambda u, r, w: "/"),
    Endpoint("/tickets", 10, lambda u, r, w: "/tickets"),
    Endpoint("/tickets?state=处理中", 5, lambda u, r, w: "/tickets?state=处理中"),
    Endpoint("/tickets?category=…", 5, lambda u, r, w: f"/tickets?category={r.choice(CATEGORIES)}"),
    Endpoint("/tickets?overdue=1", 5, lambda u, r, w: "/tickets?overdue=1"),
    Endpoint(
        "/tickets?community=…", 5, lambda u, r, w: f"/tickets?community={own_or_any_community(u, r, w)}"
    ),
    Endpoint("/tickets?page_no=2..10", 5, lambda u, r, w: f"/tickets?page_no={r.randint(2, 10)}"),
    Endpoint("/tickets/{id}", 14, lambda u, r, w: f"/tickets/{ticket_id(u, r, w)}", may_miss=True),
    Endpoint("/consultations", 4, lambda u, r, w: "/consultations"),
    Endpoint("/reports", 3, lambda u, r, w: "/reports"),
    Endpoint("/groups", 3, lambda u, r, w: "/groups"),
    Endpoint("/open311/v2/requests.json", 5, lambda u, r, w: "/open311/v2/requests.json", api=True),
    Endpoint(
        "/open311/v2/requests.json?status=open&service_code=…",
        5,
        lambda u, r, w: f"/open311/v2/requests.json?status=open&service_code={r.choice(SERVICE_CODES)}",
        api=True,
    ),
    Endpoint(
        "/open311/v2/requests/{id}.json",
        8,
        lambda u, r, w: f"/open311/v2/requests/{r.randint(1, max(1, w.max_ticket))}.json",
        api=True,
        may_miss=True,
    ),
    Endpoint("/open311/v2/services.json", 3, lambda u, r, w: "/open311/v2/services.json", api=True),
    Endpoint(
        "/open311/v2/changes.json?since=…",
        5,
        lambda u, r, w: f"/open311/v2/changes.json?since={r.randint(0, w.max_event)}",
        api=True,
    ),
]


def schedule(rng: random.Random) -> Iterator[Endpoint]:
    """Every endpoint once in random order, then shuffled decks with each endpoint `weight` times."""
    first = ENDPOINTS[:]
    rng.shuffle(first)
    yield from first
    deck = [e for e in ENDPOINTS for _ in range(e.weight)]
    while True:
        rng.shuffle(deck)
        yield from deck


@dataclass(frozen=True)
class Sample:
    label: str
    ms: float
    status: int
    ok: bool


async def one(
    client: httpx.AsyncClient, endpoint: Endpoint, user: User, rng: random.Random, world: World
) -> tuple[Sample, str]:
    url = endpoint.url(user, rng, world)
    headers = {"X-API-Key": world.api_key} if endpoint.api else {"Cookie": user.cookie}
    started = time.perf_counter()
    try:
        response = await client.get(url, headers=headers)  # reads the whole body
        status, body = response.status_code, response.content
    except httpx.HTTPError as error:
        status, body = 0, f"{error.__class__.__name__}: {error}".encode()
    ms = (time.perf_counter() - started) * 1000
    ok = 200 <= status < 300 or (status == 404 and endpoint.may_miss)
    what = "" if ok else f"{user.label} GET {url} -> {status}: {body[:300].decode(errors='replace')!r}"
    return Sample(endpoint.label, ms, status, ok), what


@dataclass
class LoadRun:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # the first 20, with what the server answered
    seconds: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)  # CPU used during the timed part, in cores


async def run_load(
    base: str, users: list[User], world: World, seconds: float, seed: int, server_pid: int, think: float
) -> LoadRun:
    """Warm up (one request per endpoint, not counted), then every user loops until the time is up,
    pausing `think` seconds on average (exponentially distributed) between requests."""
    run = LoadRun()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base, timeout=120, limits=limits) for _ in users]
    try:
        warm = random.Random(seed)
        for endpoint in ENDPOINTS:
            await one(clients[0], endpoint, users[0], warm, world)

        async def user_loop(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            endpoints = schedule(rng)
            if think > 0:  # users who think do not all start at the same instant
                await asyncio.sleep(rng.uniform(0, think))
            while time.perf_counter() < deadline:
                sample, what = await one(clients[index], next(endpoints), users[index], rng, world)
                run.samples.append(sample)
                if not sample.ok and len(run.failures) < 20:
                    run.failures.append(what)
                if think > 0:
                    await asyncio.sleep(
                        min(rng.expovariate(1 / think), max(0.0, deadline - time.perf_counter()))
                    )

        before = CpuSnapshot.take(server_pid)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(user_loop(i) for i in range(len(users))))
        run.seconds = time.perf_counter() - started
        after = CpuSnapshot.take(server_pid)
        if before is not None and after is not None:
            run.cores = after.since(before, run.seconds)
    finally:
        for client in clients:
            await client.aclose()
    return run


async def measure_cost(
    base: str, users: list[User], world: World, server_pid: int, rounds: int, seed: int
) -> dict[str, float]:
    """The server's CPU per request, endpoint by endpoint: `rounds` requests one after another (the users
    in turn), divided into the server's CPU time (/proc) over them; the median of three such runs.
    Independent of concurrency and of the other processes: what each request costs the server."""
    rng = random.Random(seed)
    out: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for endpoint in ENDPOINTS:
            runs = []
            for _ in range(3):
                before = CpuSnapshot.process(server_pid)
                for i in range(rounds):
                    sample, what = await one(client, endpoint, users[i % len(users)], rng, world)
                    if not sample.ok:
                        raise SystemExit(f"FAILED: {what}")
                runs.append((CpuSnapshot.process(server_pid) - before) * 1000 / rounds)
            out[endpoint.label] = round(sorted(runs)[1], 2)
    return out


def print_cost(cost: dict[str, float]) -> None:
    size = max(width(e.label) for e in ENDPOINTS) + 2
    print(pad("server CPU per request (serial, median of 3)", size) + f"{'ms':>9}")
    for label, ms in cost.items():
        print(pad(label, size) + f"{ms:>9.2f}")
    weights = {e.label: e.weight for e in ENDPOINTS}
    mix = sum(ms * weights[label] for label, ms in cost.items()) / sum(weights.values())
    print(pad("the load's mix (weighted)", size) + f"{mix:>9.2f}")


# ---------------------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------------------
def nearest_rank(ordered: list[float], q: float) -> float:
    """The q-quantile of an ascending list by nearest rank (the smallest value with at least q of all
    samples at or below it)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def width(text_: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text_)


def pad(text_: str, size: int) -> str:
    return text_ + " " * max(0, size - width(text_))


def summarise(samples: list[Sample], elapsed: float) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        mine = sorted(s.ms for s in samples if s.label == endpoint.label)
        p95 = nearest_rank(mine, 0.95)
        per[endpoint.label] = {
            "requests": len(mine),
            "median_ms": round(nearest_rank(mine, 0.5), 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(mine[-1], 1) if mine else 0.0,
            "errors": sum(1 for s in samples if s.label == endpoint.label and not s.ok),
            "statuses": dict(sorted(Counter(s.status for s in samples if s.label == endpoint.label).items())),
            "met": bool(mine) and p95 <= TARGET_MS,
        }
    everything = sorted(s.ms for s in samples)
    return {
        "endpoints": per,
        "overall": {
            "requests": len(everything),
            "median_ms": round(nearest_rank(everything, 0.5), 1),
            "p95_ms": round(nearest_rank(everything, 0.95), 1),
            "max_ms": round(everything[-1], 1) if everything else 0.0,
            "requests_per_s": round(len(everything) / elapsed, 1) if elapsed else 0.0,
            "errors": sum(1 for s in samples if not s.ok),
            "seconds": round(elapsed, 1),
        },
    }


def print_table(result: dict[str, Any]) -> None:
    size = max(width(e.label) for e in ENDPOINTS) + 2
    print(
        pad("endpoint", size)
        + f"{'requests':>9}{'median':>9}{'p95':>9}{'max':>9}{'errors':>8}   target p95 ≤ 300 ms"
    )
    for label, row in result["endpoints"].items():
        verdict = "met" if row["met"] else ("NO SAMPLES" if not row["requests"] else "NOT met")
        print(
            pad(label, size)
            + f"{row['requests']:>9,}{row['median_ms']:>9.0f}{row['p95_ms']:>9.0f}{row['max_ms']:>9.0f}"
            + f"{row['errors']:>8}   {verdict}"
        )
    overall = result["overall"]
    missed = [label for label, row in result["endpoints"].items() if not row["met"]]
    print(
        f"overall: {overall['requests']:,} requests in {overall['seconds']} s, {overall['requests_per_s']} requests/s, "
        f"median {overall['median_ms']:.0f} ms, p95 {overall['p95_ms']:.0f} ms, max {overall['max_ms']:.0f} ms, "
        f"errors {overall['errors']}"
    )
    print(
        "target p95 ≤ 300 ms: met by every endpoint"
        if not missed
        else f"target p95 ≤ 300 ms: NOT met by {len(missed)} of {len(ENDPOINTS)} endpoints: {', '.join(missed)}"
    )


# ---------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", required=True, help="a PostgreSQL URL; its database is used to (re)create the bench's"
    )
    parser.add_argument(
        "--bench-db", help="the bench database's name (default: <the URL's database>_web_bench)"
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=3_500_000)
    parser.add_argument(
        "--groups", type=int, default=1160, help="groups of the generated district (default 1,160)"
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent virtual users (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load runs (default 20)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause in seconds between a user's requests (default 0: every user always waits on one)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cost",
        type=int,
        default=0,
        metavar="N",
        help="after the load, measure the server's CPU per request of each endpoint over N serial requests",
    )
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--reuse", action="store_true", help="skip seeding: the bench database holds the data"
    )
    args = parser.parse_args()
    if args.users < 1 or args.seconds <= 0 or args.think < 0 or args.cost < 0:
        parser.error("--users and --seconds must be positive, --think and --cost not negative")

    info = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    url = bench_database(args.db, args.bench_db, fresh=not args.reuse)
    seeding: dict[str, float] = {}
    if not args.reuse:
        print(
            f"seeding {url.rsplit('/', 1)[1]}: {args.tickets:,} tickets, {args.messages:,} messages, "
            f"{args.groups:,} groups ...",
            flush=True,
        )
        started = time.perf_counter()
        seeding = seed(url, Options(args.tickets, args.messages, args.groups, args.seed), wall_now())
        seeding["total"] = time.perf_counter() - started
        print(f"seeding took {seeding['total']:.1f} s", flush=True)
    engine = make_engine(url)
    try:
        sizes = data_sizes(engine)
    except Exception as error:
        raise SystemExit(
            f"cannot read the bench database {url} (seeded? run without --reuse): {error}"
        ) from error
    if not sizes["ticket"]:
        raise SystemExit(f"the bench database {url} holds no tickets: run without --reuse first")
    print(
        f"data: {sizes['ticket']:,} tickets, {sizes['ticket_event']:,} ticket events, "
        f"{sizes['ticket_reporter']:,} ticket reporters, {sizes['message']:,} messages (newest {sizes['newest_message']}), "
        f"{sizes['person']:,} people, {sizes['chat_group']:,} groups, {sizes['community']:,} communities, "
        f"{sizes['consultation']:,} consultations, {sizes['outbox']:,} outbox rows; "
        f"database {sizes['database_mb']:,} MB, PostgreSQL {sizes['postgresql']}",
        flush=True,
    )
    now = wall_now()
    users, world = make_users(engine, args.users, now)
    engine.dispose()
    print(
        "users: "
        + ", ".join(f"{n} {label}" for label, n in Counter(u.role.label for u in users).items())
        + "; tickets the community staff may see: "
        + ", ".join(f"{len(u.visible):,}" for u in users if u.visible),
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="web-bench-files-") as tmp:
        files = Path(tmp) / "files"
        reports_archive(files, now)
        log_path = Path(tmp) / "server.log"
        with running_server(url, files, log_path) as (base, server_pid):
            pinned = pin(0, 1)
            load_before = os.getloadavg()[0]
            print(
                f"load: {args.users} users × {args.seconds:g} s, "
                + (f"think time {args.think:g} s on average" if args.think else "no think time")
                + f", {len(ENDPOINTS)} endpoints; "
                f"1-min load average before: {load_before:.2f}",
                flush=True,
            )
            run = asyncio.run(run_load(base, users, world, args.seconds, args.seed, server_pid, args.think))
            cost = (
                asyncio.run(measure_cost(base, users, world, server_pid, args.cost, args.seed))
                if args.cost
                else {}
            )
            if pinned:
                os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        server_log = tail(log_path, 40) if run.failures else ""
    result = summarise(run.samples, run.seconds)
    print_table(result)
    if run.cores:
        print(
            f"cpu during the load (cores of {os.cpu_count()}): "
            + ", ".join(f"{name} {value:.2f}" for name, value in run.cores.items())
        )
        if run.cores["other processes"] > 0.15:
            print("NOTE: other processes used the CPU during the load: the numbers are disturbed")
    if cost:
        print_cost(cost)
    for line in run.failures:
        print(f"FAILED: {line}")
    if server_log:
        print("server log (tail):\n" + server_log)
    if args.json:
        document = {
            "machine": info,
            "sizes": sizes,
            "seeding_s": {k: round(v, 1) for k, v in seeding.items()},
            "users": args.users,
            "seconds": args.seconds,
            "think_s": args.think,
            "target_p95_ms": TARGET_MS,
            "load_average_before": round(load_before, 2),
            "cpu_cores": run.cores,
            "server_cpu_ms_per_request": cost,
            **result,
            "failures": run.failures,
        }
        args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    empty = [label for label, row in result["endpoints"].items() if not row["requests"]]
    return 1 if result["overall"]["errors"] or empty else 0


if __name__ == "__main__":
    sys.exit(main())
