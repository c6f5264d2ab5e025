"""The installed `xiaoqi` command as a new user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REGISTRY

pytestmark = pytest.mark.e2e  # every test runs `python -m xiaoqi` in a subprocess

XIAOQI = [sys.executable, "-m", "xiaoqi"]


def _run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XIAOQI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )


def test_simulate_reports_bad_lines_and_writes_replies(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "at": "2026-11-02T09:00:00+08:00",
                        "group": "g1@chatroom",
                        "from": "wxid_r1",
                        "text": "#反映 3栋门口的井盖松了，踩上去咣当响",
                    },
                    ensure_ascii=False,
                ),
                "{broken",
                json.dumps(
                    {"at": "2026-11-02T09:05:00+08:00", "to": "xiaoqi", "from": "wxid_r1", "text": "#进度"},
                    ensure_ascii=False,
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = _run("simulate", str(events), "--registry", str(REGISTRY), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert "line 2: not valid JSON" in result.stderr
    replies = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    resident = [r for r in replies if r["to"] == "wxid_r1" or "wxid_r1" in r["mentions"]]
    assert resident[0]["text"].startswith("收到！您反映的“3栋门口的井盖松了")
    assert resident[-1]["text"].startswith("1号（3栋门口的井盖松了") and resident[-1]["to"] == "wxid_r1"


def test_registry_load_refuses_a_bad_file_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        REGISTRY.read_text(encoding="utf-8").replace(
            "role: 居民, community: c2", "role: 居民, community: c9"
        ),
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = _run("registry", "load", str(bad), "--db", db, cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.yaml:" in result.stderr and "people[8].community: 没有 id 为“c9”的社区" in result.stderr
    good = _run("registry", "load", str(REGISTRY), "--db", db, cwd=tmp_path)
    assert good.returncode == 0
    assert (
        good.stdout.strip()
        == "registry loaded: 1 streets, 2 communities, 3 groups, 9 people, 4 routing rules"
    )


def test_category_corrections_export_as_training_data(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        {
            "at": "2026-11-02T09:00:00+08:00",
            "group": "g1@chatroom",
            "from": "wxid_r1",
            "text": "#反映 小区门口的井盖松了",
        },
        {"at": "2026-11-02T09:10:00+08:00", "to": "xiaoqi", "from": "wxid_sg", "text": "#改类 1 市政设施"},
        {"at": "2026-11-02T09:11:00+08:00", "to": "xiaoqi", "from": "wxid_r1", "text": "#改类 1 其他"},
    ]
    events.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = _run("simulate", str(events), "--registry", str(REGISTRY), "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "只有社工、网格员、领导、管理员可以使用" in result.stdout
    exported = _run("labels", "export", "--out", str(tmp_path / "corrections.csv"), "--db", db, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "corrections.csv").read_text(encoding="utf-8").splitlines() == [
        "text,category",
        "小区门口的井盖松了,市政设施",
    ]


def test_simulate_runs_a_weekly_notice_across_a_week_and_holds_it_in_quiet_hours(tmp_path: Path) -> None:
    events = tmp_path / "week.jsonl"
    lines = [
        {
            "at": "2026-11-02T09:00:00+08:00",
            "to": "xiaoqi",
            "from": "wxid_sg",
            "text": "#通知 本社区 每天22:30\n明早7点前不要在楼道充电。",
        },
        {
            "at": "2026-11-02T09:01:00+08:00",
            "group": "g1@chatroom",
            "from": "wxid_sg",
            "text": "#通知 本群 每周三9:00\n周三下午社区有免费法律咨询。",
        },
        {"at": "2026-11-02T09:02:00+08:00", "to": "xiaoqi", "from": "wxid_sg", "text": "#通知 本群\n开会"},
        {"at": "2026-11-09T09:30:00+08:00", "tick": True},
    ]
    events.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'week.db'}"
    result = _run("simulate", str(events), "--registry", str(REGISTRY), "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    nightly = [r["at"] for r in replies if r["group"] == "g1@chatroom" and "楼道充电" in r["text"]]
    # due at 22:30 every day, inside quiet hours: each waits until 07:00 the next morning
    assert nightly == [f"2026-11-{day:02d}T07:00:00+08:00" for day in range(3, 10)]
    legal = [r["at"] for r in replies if "法律咨询" in r["text"] and r["group"]]
    assert legal == ["2026-11-04T09:00:00+08:00"]
    reports = [r["text"] for r in replies if r["to"] == "wxid_sg" and "通知已发到" in r["text"]]
    assert "2号通知已发到幸福1-5栋群 1/1 个群。下次发送：每周三 09:00。" in reports
    assert reports.count("1号通知已发到幸福社区 2/2 个群。下次发送：每天 22:30。") == 7
    refused = [r["text"] for r in replies if r["to"] == "wxid_sg" and "私聊里没有" in r["text"]]
    assert refused == ["私聊里没有“本群”，请在群里发，或写本社区、本街道、社区或街道的名称。"]


def test_api_keys_are_shown_once_refused_twice_and_revoked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    added = _run("api-key", "add", "12345平台", "--db", db, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("xq_") and len(key) > 30
    twice = _run("api-key", "add", "12345平台", "--db", db, cwd=tmp_path)
    assert twice.returncode == 1 and "已有有效密钥" in twice.stderr
    revoked = _run("api-key", "revoke", "12345平台", "--db", db, cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    again = _run("api-key", "revoke", "12345平台", "--db", db, cwd=tmp_path)
    assert again.returncode == 1 and "no active key" in again.stderr
    assert key not in (tmp_path / "keys.db").read_bytes().decode("latin-1")  # only its hash is stored
