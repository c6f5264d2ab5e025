"""bench/web_bench.py at a tiny size on PostgreSQL: it seeds, serves, loads every endpoint and reports.

Only that it works is checked here, not how fast: the numbers depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import text

from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin

BENCH = Path(__file__).resolve().parents[1] / "bench" / "web_bench.py"
ENDPOINTS = (
    "/",
    "/tickets",
    "/tickets?state=处理中",
    "/tickets?category=…",
    "/tickets?overdue=1",
    "/tickets?community=…",
    "/tickets?page_no=2..10",
    "/tickets/{id}",
    "/consultations",
    "/reports",
    "/groups",
    "/open311/v2/requests.json",
    "/open311/v2/requests.json?status=open&service_code=…",
    "/open311/v2/requests/{id}.json",
    "/open311/v2/services.json",
    "/open311/v2/changes.json?since=…",
)


def test_web_bench_runs_at_a_tiny_size(tmp_path: Path) -> None:
    admin = postgres_admin()
    name = f"xiaoqi_wb_{uuid.uuid4().hex[:12]}"
    numbers = tmp_path / "web_bench.json"
    command = [sys.executable, str(BENCH), "--db", POSTGRES_ADMIN_URL, "--bench-db", name]
    command += [
        "--groups",
        "30",
        "--tickets",
        "300",
        "--messages",
        "3000",
        "--users",
        "3",
        "--seconds",
        "3",
        "--cost",
        "3",
    ]
    try:
        done = subprocess.run(
            [*command, "--json", str(numbers)], capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("machine: ") and "cores" in line for line in lines), done.stdout
    assert any(line.startswith("data: 300 tickets") and "3,000 messages" in line for line in lines), (
        done.stdout
    )
    for endpoint in ENDPOINTS:
        assert any(line.startswith(endpoint + " ") and line.rstrip().endswith("met") for line in lines), (
            endpoint
        )
    assert any(line.startswith("overall: ") for line in lines), done.stdout

    data = json.loads(numbers.read_text(encoding="utf-8"))
    assert list(data["endpoints"]) == list(ENDPOINTS)
    for endpoint, row in data["endpoints"].items():
        assert row["requests"] > 0, endpoint
        assert 0 < row["median_ms"] <= row["p95_ms"] <= row["max_ms"], endpoint
        assert row["errors"] == 0, (endpoint, row["statuses"])
    assert data["overall"]["errors"] == 0, data["failures"]
    assert not data["failures"]
    assert data["sizes"]["ticket"] == 300
    assert data["sizes"]["message"] == 3000
    assert data["machine"]["cores"]
    cost = data["server_cpu_ms_per_request"]  # CPU clock ticks: 0 is a possible reading at this size
    assert list(cost) == list(ENDPOINTS) and all(ms >= 0 for ms in cost.values())
    assert any(line.startswith("the load's mix (weighted)") for line in lines), done.stdout
