"""`xiaoqi bench month`: a generated district-month through the full pipeline, timed stage by stage."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import func
from sqlmodel import col, select

from bot.simulator import Labelled, LabelledBatch, Tick, classified_batches, drain, output_record, replay
from consult.models import Consultation
from core.db import session_scope
from core.events import Incoming, Outgoing
from core.outbox import OutboxMessage, OutboxState
from core.settings import SendLimits, Settings
from groups.messages import Message
from groups.registry import load_registry
from sim.ahead import Ahead
from sim.district import plan_district, write_registry
from sim.month import MONTH, MONTH_END, Material, MonthTraffic
from tickets.models import Ticket
from xiaoqi.demo_staff import DemoPeople
from xiaoqi.nlp_wiring import load_classifier
from xiaoqi.wiring import Mode, create_app

GROUPS_PER_ACCOUNT = 50


@dataclass(frozen=True)
class BenchOptions:
    groups: int = 1160
    messages: int = 350_000
    seed: int = 1
    out: Path = Path("xiaoqi-bench")
    database_url: str | None = None  # default: a fresh SQLite file in `out`


def machine() -> dict[str, Any]:
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "platform": platform.platform(),
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank of an ascending list."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


def survey(traffic: MonthTraffic) -> dict[str, Any]:
    """One pass over the generated month without the bot: what it holds and the generator's own peak."""
    tracemalloc.start()
    deliveries = ticks = 0
    kinds: dict[str, int] = {}
    for event in traffic:
        if isinstance(event, Tick):
            ticks += 1
            continue
        deliveries += 1
        kinds[event.kind.value] = kinds.get(event.kind.value, 0) + 1
    generator_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "deliveries": deliveries,
        "unique_messages": traffic.unique,
        "duplicate_deliveries": traffic.duplicates,
        "ticks": ticks,
        "kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "generator_peak_mb": round(generator_peak / 2**20, 1),
    }


def run_bench(settings: Settings, options: BenchOptions, console: Console) -> dict[str, Any]:
    """Generate, replay, drain, report; return every number printed."""
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    url = options.database_url
    if url is None:
        db_path = out / "xiaoqi.db"
        for stale in (db_path, out / "xiaoqi.db-wal", out / "xiaoqi.db-shm"):
            stale.unlink(missing_ok=True)
        url = f"sqlite:///{db_path}"
    # a district this size runs one bot account per ~50 groups (README: account safety); the replay is
    # one process, so it sends with their pooled budget rather than one account's 20 a minute
    accounts = max(1, -(-options.groups // GROUPS_PER_ACCOUNT))
    limits = SendLimits(per_minute=20 * accounts, burst=5 * accounts)
    settings = replace(
        settings, database_url=url, files_dir=settings.files_dir or out / "files", send_limits=limits
    )
    stages: dict[str, float] = {}
    started = time.perf_counter()

    plan = plan_district(options.groups, options.seed)
    registry = out / "registry.yaml"
    write_registry(plan, registry)
    traffic = MonthTraffic(
        plan, Material.load(settings.data_dir / "demo" / "scenes.yaml"), options.messages, options.seed
    )
    month = survey(traffic)
    stages["generation"] = time.perf_counter() - started
    console.print(
        f"辖区：{len(plan.streets)} 个街道、{len(plan.communities)} 个社区、{len(plan.groups)} 个群、"
        f"{plan.people} 名登记人员（{registry}）；{MONTH} 月 {month['unique_messages']} 条消息",
        soft_wrap=True,
    )

    lap = time.perf_counter()
    console.print("正在加载消息理解模型…")
    app = create_app(settings, Mode.ALONE, classifier=load_classifier(settings))  # it owns its database
    stages["model load"] = time.perf_counter() - lap
    # the month is generated and classified again in a worker on the other core, while this process
    # handles it; forked now, it shares the loaded model and nothing of what comes after
    classifier = app.classifier
    assert classifier is not None
    labelled: Ahead[LabelledBatch] = Ahead(lambda: classified_batches(traffic, classifier.classify_batch))
    lap = time.perf_counter()
    with session_scope(app.engine) as session:
        load_registry(session, registry)
    stages["registry load"] = time.perf_counter() - lap

    handle_times: list[float] = []
    quick_times: list[float] = []  # those of the messages the quick path took
    staff_s = 0.0  # time handling the simulated staff's and residents' actions
    sent = 0
    handle = app.handle

    def timed_handle(incoming: Incoming, labels: Any = None) -> list[Outgoing]:
        quick, begun = app.replay.held, time.perf_counter()
        try:
            return handle(incoming, labels)
        finally:
            elapsed = time.perf_counter() - begun
            handle_times.append(elapsed)
            if app.replay.held != quick:
                quick_times.append(elapsed)

    app.handle = timed_handle  # type: ignore[method-assign]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    people = DemoPeople()  # the demo's simulated staff: without them tickets pile up unhandled
    with (out / "replies.jsonl").open("w", encoding="utf-8") as sink:

        def emit(produced: list[Outgoing]) -> None:
            nonlocal sent
            people.react(produced)  # grid workers accept and resolve tickets, residents rate them
            for message in produced:
                sink.write(json.dumps(output_record(message), ensure_ascii=False) + "\n")
            sent += len(produced)

        def reactions(before: datetime) -> None:
            nonlocal staff_s
            for reaction in people.due(before):
                begun = time.perf_counter()
                emit(app.handle(reaction))
                staff_s += time.perf_counter() - begun

        lap = time.perf_counter()
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("回放一个月的群消息", total=month["deliveries"] + month["ticks"])
            batches = _advancing(iter(labelled), lambda done: progress.advance(task, len(done[0])))
            replay(app, Labelled(batches), emit, before=reactions)
            reactions(MONTH_END)
        stages["replay"] = time.perf_counter() - lap
        lap = time.perf_counter()
        emit(app.advance(MONTH_END))
        drain(app, emit, until=MONTH_END)
        stages["final drain + jobs"] = time.perf_counter() - lap
    app.handle = handle  # type: ignore[method-assign]

    from reports.build import build_report

    lap = time.perf_counter()
    files = build_report(
        app.engine, MONTH, out / "report", now=MONTH_END, settings=settings, segmenter=app.knowledge.segmenter
    )
    stages["report build"] = time.perf_counter() - lap
    stages["total"] = time.perf_counter() - started

    with session_scope(app.engine) as session:
        produced = {
            "messages_stored": session.exec(
                select(func.count())
                .select_from(Message)
                .where(col(Message.platform_id).not_like("demo-staff-%"))
            ).one(),
            "staff_actions": session.exec(
                select(func.count()).select_from(Message).where(col(Message.platform_id).like("demo-staff-%"))
            ).one(),
            "tickets": session.exec(select(func.count()).select_from(Ticket)).one(),
            "consultations": session.exec(select(func.count()).select_from(Consultation)).one(),
            "outbox_sent": session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == OutboxState.SENT)
            ).one(),
            "outbox_waiting": session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state != OutboxState.SENT)
            ).one(),
            "bot_messages_emitted": sent,
        }
    dialect = app.engine.dialect
    version = ".".join(str(part) for part in dialect.server_version_info or ())
    app.engine.dispose()
    ordered = sorted(handle_times)
    quick = sorted(quick_times)
    return {
        "machine": machine(),
        "database": f"{dialect.name} {version}".strip(),
        "send_budget_per_minute": settings.send_limits.per_minute,
        "size": {"groups": options.groups, "messages": options.messages, "seed": options.seed},
        "events": month,
        "stages_s": {name: round(seconds, 2) for name, seconds in stages.items()},
        "throughput_msgs_per_s": round(month["deliveries"] / stages["replay"], 1)
        if stages["replay"]
        else 0.0,
        "handle_ms": {
            "calls": len(ordered),
            "median": round(percentile(ordered, 0.5) * 1000, 2),
            "p90": round(percentile(ordered, 0.9) * 1000, 2),
            "p99": round(percentile(ordered, 0.99) * 1000, 2),
            "max": round((ordered[-1] if ordered else 0.0) * 1000, 2),
            "quick_calls": len(quick),
            "quick_median": round(percentile(quick, 0.5) * 1000, 3),
            "full_total_s": round(sum(handle_times) - sum(quick_times), 1),
            "quick_total_s": round(sum(quick_times), 1),
            "staff_total_s": round(staff_s, 1),
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "worker": {"cpu_s": labelled.usage.cpu_s, "private_mb": labelled.usage.private_mb}
        if labelled.usage
        else None,
        "produced": produced,
        "report": {"html": str(files.html), "pdf": str(files.pdf)},
        "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _advancing(
    batches: Iterator[LabelledBatch], step: Callable[[LabelledBatch], None]
) -> Iterator[LabelledBatch]:
    for batch in batches:
        yield batch
        step(batch)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """What `xiaoqi bench month` prints at the end, one measure a line."""
    m, ev, st, h, p = (
        result["machine"],
        result["events"],
        result["stages_s"],
        result["handle_ms"],
        result["produced"],
    )
    kinds = ", ".join(f"{kind} {n}" for kind, n in ev["kinds"].items())
    return [
        f"machine: {m['platform']}; CPU: {m['cpu']}; cores: {m['cores']}; Python {m['python']}",
        f"database: {result['database']}; send budget {result['send_budget_per_minute']} a minute "
        f"(the district's accounts, one per {GROUPS_PER_ACCOUNT} groups, pooled)",
        f"events: {ev['deliveries']} deliveries = {ev['unique_messages']} messages + "
        f"{ev['duplicate_deliveries']} duplicates ({kinds}); {ev['ticks']} clock ticks",
        f"stages: generation {st['generation']} s + model load {st['model load']} s + registry load "
        f"{st['registry load']} s; replay {st['replay']} s; final drain + jobs {st['final drain + jobs']} s; "
        f"report build {st['report build']} s; total {st['total']} s",
        f"throughput: {result['throughput_msgs_per_s']} messages/s over the replay",
        f"App.handle per message: median {h['median']} ms, p90 {h['p90']} ms, p99 {h['p99']} ms, "
        f"max {h['max']} ms ({h['calls']} calls)",
        f"quick path: {h['quick_calls']} calls ({h['quick_calls'] / max(1, h['calls']):.0%}), median "
        f"{h['quick_median']} ms, {h['quick_total_s']} s in all; the full path {h['full_total_s']} s in all, "
        f"of which {h['staff_total_s']} s for the simulated staff's and residents' actions",
        f"peak memory: {result['peak_rss_mb']} MB resident (ru_maxrss); generator {ev['generator_peak_mb']} MB",
        *(
            [
                f"worker (generates and classifies the month on the other core): {w['cpu_s']} s CPU, "
                f"{w['private_mb']} MB of its own (the model's pages are shared with the main process)"
            ]
            if (w := result.get("worker"))
            else []
        ),
        f"produced: {p['messages_stored']} messages stored (and {p['staff_actions']} simulated staff and "
        f"resident actions), {p['tickets']} tickets ({p['tickets'] / max(1, p['messages_stored']):.1%}), "
        f"{p['consultations']} consultations, {p['outbox_sent']} outbox rows sent "
        f"({p['outbox_waiting']} not sent), {p['bot_messages_emitted']} bot messages emitted",
        f"report: {result['report']['html']} / {result['report']['pdf']}",
    ]
