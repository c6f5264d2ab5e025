"""Benchmark of the monthly report: generate a month of group traffic, build the report, time each stage.

Run from the repo root:
  python bench/report_bench.py                                   # 350k messages, one district, temp SQLite
  python bench/report_bench.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
  python bench/report_bench.py --scale 10 --db postgresql+psycopg://...   # ten districts, 3.5M messages

The data is written straight into a fresh database with bulk inserts (SQLAlchemy Core on SQLite, COPY on
PostgreSQL; a PostgreSQL URL's database is dropped and re-created as `<name>_report_bench`). Texts come from
templates per category with a few concentrated issues (a rising category in the last week, one community's
night-time construction) so that hot topics and early warnings have something to find. Prints the machine,
generation time, the report's time per stage, the total and the peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from core.clock import SHANGHAI  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.settings import Settings, normalize_database_url  # noqa: E402
from reports.build import build_report  # noqa: E402
from reports.period import Month  # noqa: E402
from xiaoqi.schema import migrate  # noqa: E402

COMMUNITIES, GROUPS, STREETS, MEMBERS_PER_GROUP = 126, 1160, 9, 190
INTENTS = [
    ("闲聊", 0.70),
    ("咨询", 0.03),
    ("诉求", 0.028),
    ("紧急", 0.002),
    ("建议", 0.008),
    ("表扬", 0.04),
    ("广告", 0.012),
]
UNLABELLED = 0.18  # images, voice, links ...: stored without labels
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.3, 0.8, 2, 4, 6, 6, 5, 5, 4, 3, 3, 3, 4, 5, 6, 7, 8, 7, 5, 2]
CATEGORY_TEXTS: dict[str, list[str]] = {
    "物业管理": [
        "{b}栋电梯又坏了，老人上下楼太难了",
        "{b}栋门禁坏了好几天了没人修",
        "物业费涨了也不公示一下账目",
        "{b}栋楼道灯不亮，晚上黑乎乎的",
        "保安晚上不在岗，外卖随便进",
    ],
    "环境卫生": [
        "{b}栋门口垃圾堆了三天没人清",
        "楼下有人遛狗不清理狗屎",
        "垃圾分类亭旁边臭得不行",
        "小区里老鼠越来越多了",
        "绿化带里全是烟头和塑料袋",
    ],
    "市政设施": [
        "{b}栋又停水了，什么时候来水",
        "路灯坏了一排，晚上走路不安全",
        "门口下水道堵了，一下雨就积水",
        "小区门口路面塌了个坑",
        "今天停电是什么原因",
    ],
    "治安消防": [
        "楼道里有人飞线给电动车充电，太危险了",
        "{b}栋楼道堆满杂物，消防通道堵了",
        "最近小区电动车被偷了好几辆",
        "有陌生人挨家挨户敲门推销",
    ],
    "交通停车": [
        "消防通道上天天停满了车",
        "小区车位太少，晚上回来没地方停",
        "充电桩坏了好几个",
        "门口路口没有红绿灯，过马路太危险",
    ],
    "噪音扰民": [
        "晚上广场舞声音太大了",
        "楼上装修天天从早上七点吵到晚上",
        "{b}栋楼下烧烤店半夜还很吵",
        "工地晚上十一点还在施工",
    ],
    "违建占道": [
        "{b}栋一楼私搭乱建占了绿地",
        "有人在绿化带里种菜",
        "楼道里被人堆了很多纸箱",
        "门面房占道经营，人都走不过去",
    ],
    "养老助残": [
        "独居老人家里好几天没动静了，麻烦去看看",
        "社区助餐点什么时候开门",
        "老人想申请居家养老服务怎么办",
        "轮椅坡道被车挡住了",
    ],
    "政务服务": [
        "居住证怎么办理，需要什么材料",
        "医保报销在哪里办",
        "孩子打疫苗在哪个社区医院",
        "高龄补贴怎么申请",
    ],
    "邻里纠纷": ["楼上漏水漏到我家了，沟通不了", "邻居家狗天天叫，说了也不听", "对门把鞋柜放在公共走廊"],
    "其他": ["小区里能不能多放几张长椅", "建议在空地上建个儿童游乐区", "希望社区多组织一些活动"],
}
CATEGORY_WEIGHTS = {
    "物业管理": 0.22,
    "环境卫生": 0.16,
    "市政设施": 0.12,
    "治安消防": 0.08,
    "交通停车": 0.12,
    "噪音扰民": 0.09,
    "违建占道": 0.06,
    "养老助残": 0.05,
    "政务服务": 0.06,
    "邻里纠纷": 0.03,
    "其他": 0.01,
}
CHATTER = [
    "早上好",
    "收到",
    "谢谢",
    "哈哈哈",
    "今天天气真好",
    "有人一起去买菜吗",
    "[强][强]",
    "好的",
    "晚安",
    "明天降温了大家注意保暖",
    "群里有人知道附近哪家修鞋的吗",
    "孩子放学了",
]
PRAISE = [
    "谢谢网格员，问题解决得很快",
    "物业师傅辛苦了[强]",
    "社工小姐姐太负责了",
    "保洁阿姨每天打扫得很干净",
]
ADS = ["专业疏通下水道，电话13912345678", "保健品特价，加微信领红包", "低息贷款，当天放款"]
HOT_ISSUE = "东门工地晚上十一点还在施工打桩，吵得孩子睡不着，电话13800001111"
RISING = ("市政设施", "{b}栋又停水了，这周第三次了，什么时候能修好")


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"CPU: {cpu}; cores: {os.cpu_count()}; Python {platform.python_version()}; {platform.system()} {platform.release()}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany on SQLite, in batches."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.rows = 0

    def write(
        self, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]], batch: int = 50_000
    ) -> None:
        if self.postgres:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(
                            [
                                json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                                for v in row
                            ]
                        )
                        self.rows += 1
                raw.commit()
            finally:
                raw.close()
            return
        sa_table = SQLModel.metadata.tables[table]
        pending: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            for row in rows:
                pending.append(dict(zip(columns, row, strict=True)))
                if len(pending) >= batch:
                    conn.execute(sa_table.insert(), pending)
                    self.rows += len(pending)
                    pending = []
            if pending:
                conn.execute(sa_table.insert(), pending)
                self.rows += len(pending)


def generate(
    engine: Engine, month: Month, messages: int, districts: int, history: int, seed: int = 7
) -> dict[str, int]:
    """A registry of `districts` districts and `messages` group messages per month for the month and
    `history` months before it, with tickets and consultations."""
    rng = random.Random(seed)
    writer = Writer(engine)
    pg = writer.postgres
    t = lambda v: v  # noqa: E731  (aware UTC datetimes: UTCDateTime stores them, COPY adapts them)
    groups_per_district, communities = GROUPS, COMMUNITIES
    w = writer.write
    w(
        "district",
        ["id", "name"],
        iter([(f"d{d}", "栖霞区" if districts == 1 else f"第{d + 1}区") for d in range(districts)]),
    )
    w(
        "street",
        ["id", "name", "district_id"],
        iter(
            [
                (f"s{d}_{s}", f"第{s + 1}街道" + ("" if districts == 1 else f"（{d + 1}区）"), f"d{d}")
                for d in range(districts)
                for s in range(STREETS)
            ]
        ),
    )
    w(
        "community",
        ["id", "name", "street_id"],
        iter(
            [
                (
                    f"c{d}_{c}",
                    f"{'东西南北中'[c % 5]}苑{c + 1}社区" + ("" if districts == 1 else f"·{d + 1}"),
                    f"s{d}_{c % STREETS}",
                )
                for d in range(districts)
                for c in range(communities)
            ]
        ),
    )
    w(
        "chat_group",
        ["id", "name", "community_id", "registered"],
        iter(
            [
                (f"g{d}_{g}@chatroom", f"居民群{g + 1}", f"c{d}_{g % communities}", True)
                for d in range(districts)
                for g in range(groups_per_district)
            ]
        ),
    )

    def people() -> Iterator[tuple[Any, ...]]:
        for d in range(districts):
            for c in range(communities):
                yield (f"sg{d}_{c}", f"{'李王张刘陈'[c % 5]}社工", "social_worker", f"c{d}_{c}", True)
                for k in range(3):
                    yield (f"wg{d}_{c}_{k}", f"{'周吴郑孙'[k]}网格", "grid_worker", f"c{d}_{c}", True)
            yield (f"ld{d}", "区领导", "leader", None, True)
            for g in range(groups_per_district):
                for m in range(MEMBERS_PER_GROUP):
                    yield (f"r{d}_{g}_{m}", "", "resident", f"c{d}_{g % communities}", True)

    w("person", ["id", "name", "role", "community_id", "registered"], people())
    w(
        "membership",
        ["person_id", "group_id", "active"],
        (
            (f"r{d}_{g}_{m}", f"g{d}_{g}@chatroom", True)
            for d in range(districts)
            for g in range(groups_per_district)
            for m in range(MEMBERS_PER_GROUP)
        ),
    )
    intents, weights = zip(*[*INTENTS, (None, UNLABELLED)], strict=True)
    categories, cat_weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    tickets: list[tuple[Any, ...]] = []
    reporters: list[tuple[Any, ...]] = []
    counter = 0
    for back in range(history, -1, -1):
        m = month.shift(-back)
        start, days = m.start, m.days
        hour_of = rng.choices(range(24), HOUR_WEIGHTS, k=4096)

        def rows(back: int, start: datetime, days: int, hour_of: list[int]) -> Iterator[tuple[Any, ...]]:
            nonlocal counter
            for i in range(messages * districts):
                counter += 1
                d = i % districts
                g = rng.randrange(groups_per_district)
                member = min(int(rng.paretovariate(1.2)) - 1, MEMBERS_PER_GROUP - 1)
                sender = f"r{d}_{g}_{member}"
                day = rng.randrange(days)
                at = start + timedelta(days=day, hours=hour_of[i % 4096] + 0.0, seconds=rng.randrange(3600))
                intent = rng.choices(intents, weights)[0]
                category, sentiment, body = "无", None, ""
                if intent is None:
                    kind = rng.choice(["image", "image", "voice", "link", "video"])
                else:
                    kind = "text"
                    sentiment = rng.choices(["正面", "中性", "负面"], [0.2, 0.65, 0.15])[0]
                    if intent == "闲聊":
                        body = rng.choice(CHATTER)
                    elif intent == "表扬":
                        body, sentiment = rng.choice(PRAISE), "正面"
                    elif intent == "广告":
                        body = rng.choice(ADS)
                    else:
                        category = rng.choices(categories, cat_weights)[0]
                        if intent in ("诉求", "紧急"):
                            sentiment = rng.choices(["中性", "负面"], [0.4, 0.6])[0]
                        if back == 0 and day >= days - 7 and rng.random() < 0.5:
                            category, body = RISING[0], RISING[1]
                            intent = "诉求"
                        elif back == 0 and g % communities == 17 % communities and rng.random() < 0.6:
                            category, body, intent, sentiment = "噪音扰民", HOT_ISSUE, "诉求", "负面"
                        else:
                            body = rng.choice(CATEGORY_TEXTS[category])
                        body = body.format(b=rng.randrange(1, 40))
                        if intent in ("诉求", "紧急") and rng.random() < 0.8:
                            tickets.append((counter, d, g, sender, intent, category, at, body))
                masked = body.replace("13912345678", "139****5678").replace("13800001111", "138****1111")
                yield (
                    f"b{counter}",
                    kind,
                    f"g{d}_{g}@chatroom",
                    sender,
                    "",
                    False,
                    body,
                    masked,
                    [],
                    t(at),
                    t(at),
                    t(at),
                    False,
                    intent,
                    category if intent else None,
                    sentiment,
                    0.9 if intent else None,
                )

        w(
            "message",
            [
                "platform_id",
                "kind",
                "group_id",
                "sender_id",
                "sender_name",
                "private",
                "raw_text",
                "text",
                "mentions",
                "sent_at",
                "received_at",
                "handled_at",
                "failed",
                "intent",
                "category",
                "sentiment",
                "confidence",
            ],
            rows(back, start, days, hour_of),
        )

    def ticket_rows() -> Iterator[tuple[Any, ...]]:
        open_by_issue: dict[tuple[int, int, str], int] = {}
        pairs: set[tuple[int, str]] = set()
        number = 0
        for source, d, g, sender, intent, category, at, body in tickets:
            key = (d, g % communities, body)
            if key in open_by_issue and rng.random() < 0.7:  # the same issue again: merged into one ticket
                if (open_by_issue[key], sender) in pairs:
                    continue
                pairs.add((open_by_issue[key], sender))
                reporters.append((open_by_issue[key], sender, f"g{d}_{g}@chatroom", f"b{source}", t(at)))
                continue
            number += 1
            open_by_issue[key] = number
            c = g % communities
            urgent = intent == "紧急"
            hours = rng.lognormvariate(3.0, 0.9) if not urgent else rng.lognormvariate(0.5, 0.6)
            deadline = at + (timedelta(hours=4) if urgent else timedelta(days=5))
            state = rng.choices(
                ["已评价", "已办结", "处理中", "已签收", "待签收"], [0.7, 0.15, 0.08, 0.04, 0.03]
            )[0]
            done = state in ("已评价", "已办结")
            resolved = at + timedelta(hours=hours) if done else None
            rating = (
                rng.choices(["满意", "基本满意", "不满意", "默认满意"], [0.7, 0.15, 0.05, 0.1])[0]
                if state == "已评价"
                else None
            )
            handler = f"wg{d}_{c}_{rng.randrange(3)}" if category == "物业管理" else f"sg{d}_{c}"
            reporters.append((number, sender, f"g{d}_{g}@chatroom", f"b{source}", t(at)))
            pairs.add((number, sender))
            yield (
                number,
                f"b{source}",
                f"c{d}_{c}",
                f"g{d}_{g}@chatroom",
                sender,
                intent,
                category,
                urgent,
                body.replace("13800001111", "138****1111"),
                body,
                state,
                handler,
                1,
                0,
                t(at),
                t(deadline),
                t(at),
                t(at + timedelta(hours=min(hours, 2))) if state != "待签收" else None,
                t(resolved) if resolved else None,
                t(resolved) if state == "已评价" and resolved else None,
                "已处理" if done else "",
                rating,
                0,
                0,
                1,
            )

    w(
        "ticket",
        [
            "id",
            "source_message_id",
            "community_id",
            "group_id",
            "reporter_id",
            "intent",
            "category",
            "urgent",
            "summary",
            "details",
            "state",
            "handler_id",
            "reporters",
            "priority",
            "created_at",
            "deadline",
            "assigned_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "rating",
            "reopened",
            "escalations",
            "version",
        ],
        ticket_rows(),
    )
    w("ticket_reporter", ["ticket_id", "person_id", "group_id", "message_id", "at"], iter(reporters))
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SELECT setval('ticket_id_seq', (SELECT max(id) FROM ticket))"))
        conn.execute(
            text(
                "UPDATE ticket SET reporters = (SELECT count(*) FROM ticket_reporter r WHERE r.ticket_id = ticket.id)"
            )
        )
    consultations = []
    for k in range(20 * districts):
        d, c = k % districts, rng.randrange(communities)
        opened = month.start + timedelta(days=rng.randrange(20))
        share = round(rng.uniform(0.3, 0.8), 4)
        consultations.append(
            (
                k + 1,
                f"{'东南西北'[k % 4]}门空地改造方案",
                "community",
                f"c{d}_{c}",
                f"第{c + 1}社区",
                ["停车位", "小花园"],
                "closed",
                False,
                False,
                "sg" + f"{d}_{c}",
                t(opened),
                t(opened + timedelta(days=5)),
                120,
                t(opened + timedelta(days=5)),
                {"counts": [40, 60], "voted": 100, "eligible": int(100 / share), "turnout": share},
                True,
                "“小花园”得票最多。",
                0,
            )
        )
    w(
        "consultation",
        [
            "id",
            "topic",
            "scope_kind",
            "scope_id",
            "scope_name",
            "options",
            "state",
            "secret",
            "per_household",
            "opened_by",
            "opened_at",
            "deadline",
            "eligible",
            "closed_at",
            "result",
            "passed",
            "decision",
            "reminders_sent",
        ],
        iter(consultations),
    )
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SELECT setval('consultation_id_seq', (SELECT max(id) FROM consultation))"))
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"rows": writer.rows, "tickets": len({r[0] for r in reporters})}


def fresh_database(url: str | None, workdir: Path) -> str:
    if not url:
        return f"sqlite:///{workdir / 'report_bench.db'}"
    url = normalize_database_url(url)
    if not url.startswith("postgresql"):
        return url
    return recreate_database(url, f"{url.rsplit('/', 1)[1]}_report_bench")


def recreate_database(url: str, name: str) -> str:
    """Drop and re-create the database `name` on the PostgreSQL server of `url`; return its URL."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{url.rsplit('/', 1)[0]}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=350_000, help="group messages per district per month")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--scale", type=int, default=1, help="districts (10: 3.5M messages a month)")
    parser.add_argument(
        "--history", type=int, default=1, help="earlier months generated for 环比 (default 1)"
    )
    parser.add_argument("--month", default="2026-10")
    parser.add_argument(
        "--out", type=Path, help="where report.html and report.pdf go (default: the temp dir)"
    )
    parser.add_argument("--reuse", action="store_true", help="build from an already generated --db")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        workdir = Path(tmp)
        url = args.db if args.reuse else fresh_database(args.db, workdir)
        engine = make_engine(url)
        month = Month.parse(args.month)
        if not args.reuse:
            migrate(engine)
            started = time.perf_counter()
            made = generate(engine, month, args.messages, args.scale, args.history)
            print(
                f"generated {args.messages * args.scale:,} messages a month x {args.history + 1} month(s), "
                f"{made['tickets']:,} tickets, {made['rows']:,} rows in {time.perf_counter() - started:.1f} s "
                f"({engine.dialect.name}); peak RSS so far {peak_mb():.0f} MB"
            )
        engine.dispose()
        engine = make_engine(url)
        settings = Settings.from_env(cache_dir=Path(os.environ.get("XIAOQI_CACHE_DIR", workdir / "cache")))
        out = args.out or workdir / "report"
        now = datetime(month.shift(1).year, month.shift(1).month, 1, 8, tzinfo=SHANGHAI)
        before = peak_mb()
        started = time.perf_counter()
        files = build_report(engine, args.month, out, now=now, settings=settings)
        total = time.perf_counter() - started
        timings = files.report.timings
        print("stage times (s): " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
        print(f"other (scope, jieba load, ...): {total - sum(timings.values()):.2f} s")
        print(
            f"TOTAL report build: {total:.1f} s; peak RSS {peak_mb():.0f} MB (before the build: {before:.0f} MB)"
        )
        print(
            f"report: {files.report.messages.total.value:,.0f} messages, {files.report.tickets.total.value:,.0f} tickets, "
            f"{len(files.report.topics.topics)} hot topics, {len(files.report.warnings)} warnings; "
            f"PDF {files.pdf.stat().st_size / 1024:.0f} KB, HTML {files.html.stat().st_size / 1024:.0f} KB"
        )
        if args.out is None:
            print("(report files removed with the temp dir; pass --out DIR to keep them)")
        engine.dispose()


if __name__ == "__main__":
    main()
