"""`xiaoqi demo`, the first thing a new user runs: a month through the real pipeline."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import create_engine, text

from core.settings import Settings
from nlp import MessageClassifier
from web.context import WebContext
from web.server import create_web
from xiaoqi.demo import run_demo
from xiaoqi.wiring import create_app


def test_the_demo_month_shows_the_whole_ticket_loop(
    tmp_path: Path, cache_dir: Path, classifier: MessageClassifier
) -> None:
    screen = io.StringIO()
    run_demo(replace(Settings(), cache_dir=cache_dir), tmp_path, Console(file=screen, width=120))
    shown = screen.getvalue()
    assert "演示辖区：2 个街道、5 个社区、10 个群" in shown
    # the console's address and a code that signs in there
    sign_in = re.search(r"http://127\.0\.0\.1:8000/ ；用“([^”]+)”登录，验证码 (\d{6})", shown)
    assert sign_in is not None, shown[-400:]
    with TestClient(
        create_web(
            WebContext(
                create_app(
                    replace(
                        Settings(), cache_dir=cache_dir, database_url=f"sqlite:///{tmp_path / 'xiaoqi.db'}"
                    ),
                    jobs=[],
                )
            )
        ),
        base_url="https://testserver",  # the session cookie is Secure
    ) as web:
        signed = web.post("/login/code", data={"who": sign_in[1], "code": sign_in[2]}, follow_redirects=False)
        assert signed.status_code == 303 and "一屏掌控" in web.get("/").text
    engine = create_engine(f"sqlite:///{tmp_path / 'xiaoqi.db'}")
    with engine.connect() as conn:
        month = conn.execute(
            text("select count(*) from message where platform_id not like 'demo-staff-%'")
        ).scalar()
        states = dict(conn.execute(text("select state, count(*) from ticket group by state")).all())
        urgent = conn.execute(text("select count(*), sum(escalations > 0) from ticket where urgent")).one()
        rated = conn.execute(
            text("select count(*) from ticket where rating in ('满意', '基本满意', '不满意')")
        ).scalar()
        unlabelled = conn.execute(
            text("select count(*) from message where kind = 'text' and intent is null and not private")
        ).scalar()
        residents = conn.execute(  # groups.messages.residents_group_speech, in SQL
            text(
                "select count(*) from message join person on person.id = message.sender_id"
                " where message.group_id is not null and message.kind not in ('join', 'leave', 'recall')"
                " and person.role = 'resident' and message.sender_id not in"
                " (select person_id from moderation_exempt)"
            )
        ).scalar()
    engine.dispose()
    assert month == sum(
        1 for line in (Settings().data_dir / "demo" / "month.jsonl").open(encoding="utf-8") if line.strip()
    )
    assert unlabelled == 0
    assert states.get("已评价", 0) > 10 and sum(states.values()) > states["已评价"]
    assert urgent[0] >= 2 and urgent[1] >= 1
    assert rated > 10
    replies = [json.loads(line) for line in (tmp_path / "replies.jsonl").open(encoding="utf-8")]
    assert any(r["text"].startswith("收到！您反映的") for r in replies)
    assert any(r["text"].startswith("紧急情况！") for r in replies)
    assert "工单" in shown and "居民评价" in shown
    # the repetitive work: notices with their delivery reports, answers, welcomes, advert warnings
    assert sum(r["text"].startswith("【社区通知】") for r in replies) >= 10
    assert any(r["to"] and "号通知已发到" in r["text"] for r in replies)
    assert any(r["text"].startswith("欢迎") and r["group"] for r in replies)
    assert sum("请不要发广告" in r["text"] for r in replies) >= 5
    assert any(r["text"].startswith("【广告提醒·") for r in replies)
    assert any(r["text"].startswith("【居民提问·") for r in replies)
    assert any(r["text"].startswith("您问的“") for r in replies)  # a social worker's answer, relayed
    assert "通知" in shown and "办事咨询" in shown and "广告提醒" in shown
    # the noise budget (data/groups/noise.yaml): at most 8 group messages per 100 residents' messages
    in_groups = sum(1 for r in replies if r["group"])
    assert in_groups <= 0.08 * residents, (in_groups, residents)
