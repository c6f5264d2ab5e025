"""`bench/month_bench.py` at a small size: the whole pipeline runs, every message is stored once."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.simulator import Tick
from core.db import make_engine
from core.settings import Settings
from groups.messages import Message
from groups.registry import parse_registry
from nlp import MessageClassifier
from sim.district import plan_district, write_registry
from sim.month import MONTH_END, MONTH_START, Material, MonthTraffic

_SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "month_bench.py"
_SPEC = importlib.util.spec_from_file_location("month_bench", _SCRIPT)
assert _SPEC is not None and _SPEC.loader is not None
month_bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(month_bench)

SCENES = Settings().data_dir / "demo" / "scenes.yaml"
PRINTED = (
    "machine: ",
    "database: ",
    "events: ",
    "stages: ",
    "throughput: ",
    "App.handle per message: ",
    "quick path: ",
    "peak memory: ",
    "worker (generates and classifies the month on the other core): ",
    "produced: ",
    "report: ",
)


def _traffic(groups: int, messages: int, seed: int) -> MonthTraffic:
    return MonthTraffic(plan_district(groups, seed), Material.load(SCENES), messages, seed)


def test_bench_month_runs_the_pipeline(
    db_url: str,
    tmp_path: Path,
    cache_dir: Path,
    classifier: MessageClassifier,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XIAOQI_CACHE_DIR", str(cache_dir))  # the model the session fixture built
    out, numbers = tmp_path / "bench", tmp_path / "bench.json"
    args = ["--groups", "20", "--messages", "3000", "--seed", "7", "--out", str(out)]
    month_bench.main([*args, "--db", db_url, "--json", str(numbers)])

    lines = capsys.readouterr().out.splitlines()
    for start in PRINTED:
        assert any(line.startswith(start) for line in lines), start
    data = json.loads(numbers.read_text(encoding="utf-8"))
    events = data["events"]
    assert events["unique_messages"] == 3000
    assert events["deliveries"] == 3000 + events["duplicate_deliveries"]
    assert data["database"].startswith(db_url.partition(":")[0].partition("+")[0])
    engine = make_engine(db_url)
    with Session(engine) as session:
        generated = col(Message.platform_id).not_like("demo-staff-%")  # not the simulated staff's
        stored = session.exec(select(func.count()).select_from(Message).where(generated)).one()
        distinct = session.exec(
            select(func.count(func.distinct(Message.platform_id))).where(
                col(Message.platform_id).not_like("demo-staff-%")
            )
        ).one()
    engine.dispose()
    assert stored == distinct == 3000  # every generated message once, duplicates delivered or not
    assert data["produced"]["messages_stored"] == 3000
    assert data["produced"]["tickets"] > 0 and data["produced"]["outbox_sent"] > 0
    assert data["produced"]["staff_actions"] > 0  # handlers accepted and resolved tickets
    assert data["handle_ms"]["calls"] == events["deliveries"] + data["produced"]["staff_actions"]
    assert data["handle_ms"]["quick_calls"] > events["deliveries"] / 2  # ordinary talk: the quick path
    assert data["worker"]["cpu_s"] > 0 and data["worker"]["private_mb"] > 0  # it ran, elsewhere
    assert (out / "report" / "report.pdf").stat().st_size > 0
    assert (out / "report" / "report.html").stat().st_size > 0
    assert parse_registry(out / "registry.yaml").people


def test_same_seed_same_month() -> None:
    first = list(_traffic(12, 800, seed=3))
    again = list(_traffic(12, 800, seed=3))
    other = list(_traffic(12, 800, seed=4))
    assert first == again
    assert first != other


def test_generated_month_shape(tmp_path: Path) -> None:
    traffic = _traffic(30, 4000, seed=5)
    events = list(traffic)
    messages = [e for e in events if not isinstance(e, Tick)]
    assert len({m.message_id for m in messages}) == traffic.unique == 4000
    assert len(messages) == 4000 + traffic.duplicates
    assert all(MONTH_START <= e.at < MONTH_END for e in events)
    delivered = [e.at for e in events if isinstance(e, Tick)] + [m.at for m in messages]
    assert len(delivered) == len(events)
    texts = [m.text for m in messages]
    assert any(t.startswith("#发起议事") for t in texts) and any(t.startswith("投票") for t in texts)
    assert any(t.startswith("#通知 本社区") for t in texts) and any(t.startswith("#统计") for t in texts)
    assert {m.kind.value for m in messages} >= {"text", "image", "voice", "link", "join", "recall"}
    night = sum(1 for m in messages if 1 <= m.at.hour < 5)
    evening = sum(1 for m in messages if 19 <= m.at.hour < 23)
    assert evening > 10 * night
    plan = plan_district(30, 5)
    write_registry(plan, tmp_path / "registry.yaml")
    spec = parse_registry(tmp_path / "registry.yaml")
    assert sum(len(c.groups) for s in spec.streets for c in s.communities) == 30
