"""Every staff command tried by every role, in and out of scope: who may do it, what everyone sees,
and that a refusal changes nothing and is written to the audit log.

The district is the demo's (data/demo/registry.yaml) plus a leader of 马群街道. The things acted on:
1号工单 in 新家园 (handled by the grid worker 周敏, the reporter's phone number in it), 2号 in 紫藤苑,
3号 in 新家园 handled by the police desk, 4号 in 栖云里 (仙林街道); 1号议事 and 1号通知 of 新家园;
1号广告提醒 and 1号居民提问 in a 新家园 group.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import col, select

from bot.app import App
from core.audit import AuditEntry
from core.db import session_scope
from core.outbox import OutboxMessage
from core.settings import Settings
from faq.models import FaqQuestion
from groups.models import Person, Role
from groups.registry import load_registry
from moderation.models import ModerationCase
from nlp import MessageClassifier
from tickets.models import Ticket
from web.context import WebContext
from web.server import create_web
from xiaoqi.wiring import create_app

from .simulate import say, simulate

ADMIN, LEADER, STREET_LEADER, POLICE = "wxid_admin_he", "wxid_ld_chen", "wxid_ld_maqun", "wxid_dept_jw_qx"
SOCIAL_A, SOCIAL_B = "wxid_sg_li", "wxid_sg_wang"  # 新家园, 紫藤苑
GRID_A, GRID_A2, GRID_B = "wxid_wg_zhou", "wxid_wg_xu", "wxid_wg_sun"  # 周敏 handles 1号
REPORTER, NEIGHBOUR = "wxid_r0003", "wxid_r0004"  # residents of 新家园
EVERYONE = (
    ADMIN, LEADER, STREET_LEADER, POLICE, SOCIAL_A, SOCIAL_B, GRID_A, GRID_A2, GRID_B, REPORTER, NEIGHBOUR,
)  # fmt: skip
# who may reach what: the district, 马群街道 (新家园 and 紫藤苑), one community
DISTRICT = {ADMIN, LEADER}
MAQUN = DISTRICT | {STREET_LEADER}
XJY_MANAGERS = MAQUN | {SOCIAL_A}
XJY_STAFF = XJY_MANAGERS | {GRID_A, GRID_A2}
PHONE, MASKED = "13812345678", "138****5678"

# (the command, written privately to Xiaoqi; who may do it: everyone else is refused)
TABLE: list[tuple[str, set[str]]] = [
    ("#工单 1", XJY_STAFF),
    ("#工单 2", MAQUN | {SOCIAL_B, GRID_B}),
    ("#工单 3", XJY_STAFF | {POLICE}),
    ("#工单 4", DISTRICT),
    ("#签收 1", XJY_MANAGERS | {GRID_A}),
    ("#进展 1 已经联系物业了", XJY_MANAGERS | {GRID_A}),
    ("#退回 1 这不归网格管", XJY_MANAGERS | {GRID_A}),
    ("#延期 1 3 等灯具到货", XJY_MANAGERS | {GRID_A}),
    ("#改类 1 市政设施", XJY_MANAGERS | {GRID_A}),
    ("#签收 3", XJY_MANAGERS | {POLICE}),
    ("#签收 4", DISTRICT),
    ("#转派 1 新家园二网格徐磊", XJY_MANAGERS),
    ("#补充 1 晚上楼道里黑得看不见", XJY_MANAGERS | {GRID_A, REPORTER}),
    ("#代登记 张玉兰 5栋门口的路灯不亮", XJY_STAFF),
    ("#开始投票 1", XJY_MANAGERS),
    ("#议事小结 1", XJY_MANAGERS),
    ("#发起议事 紫藤苑门口加装充电桩\n截止：11月20日18:00\n范围：紫藤苑社区", MAQUN | {SOCIAL_B}),
    ("#通知 新家园社区\n明天上午停水", XJY_MANAGERS),
    ("#通知 马群街道\n明天上午停水", MAQUN),
    ("#通知 全区\n明天上午停水", DISTRICT),
    ("#取消通知 1", XJY_MANAGERS),
    ("#处理 1 误判", {ADMIN, SOCIAL_A}),
    ("#白名单 张玉兰", {ADMIN, SOCIAL_A}),
    ("#答复 1 社区服务站周一到周五上午9点开门", {ADMIN, SOCIAL_A, GRID_A, GRID_A2}),
    ("#统计 新家园社区", XJY_STAFF),
    ("#统计 全区", DISTRICT),
]
# what a command that is done changes, so that a refusal must leave it alone
WATCHED = (
    "ticket", "ticket_event", "ticket_reporter", "extension_request", "labelled_example", "consultation",
    "consult_group", "notice", "moderation_case", "moderation_exempt", "faq_question", "person",
)  # fmt: skip


def _at(clock: str) -> str:
    return f"11-09T{clock}"


SETUP = [
    say(_at("08:00"), REPORTER, f"#反映 3栋楼道灯坏了一个星期了 有事打我电话{PHONE}", group="xjy-1@chatroom"),
    say(_at("08:01"), "wxid_r0069", "#反映 4幢门口的垃圾两天没人收", group="zty-1@chatroom"),
    say(_at("08:02"), NEIGHBOUR, "#反映 小区门口有车挡着消防通道", group="xjy-1@chatroom"),
    say(_at("08:03"), "wxid_r0187", "#反映 6栋门口路灯不亮", group="qyl-1@chatroom"),
    say(
        _at("08:05"),
        SOCIAL_A,
        "#发起议事 东门空地怎么用\n选项：微花园；停车位\n截止：11月20日18:00\n范围：本社区\n讨论：11月15日18:00",
        group=None,
    ),
    say(_at("08:06"), SOCIAL_A, "#通知 本社区 每周一9:00\n周一上午社区服务站开放", group=None),
]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The district with its tickets, consultation, notice, case and question, in one SQLite file."""
    folder = tmp_path_factory.mktemp("access")
    app = _app(folder / "scene.db", folder)
    with session_scope(app.engine) as session:
        load_registry(session, Settings().data_dir / "demo" / "registry.yaml")
        session.add(Person(id=STREET_LEADER, name="马群街道刘主任", role=Role.LEADER, street_id="maqun"))
    simulate(app, SETUP)
    with session_scope(app.engine) as session:
        first, police = session.get(Ticket, 1), session.get(Ticket, 3)
        assert first is not None and police is not None
        first.handler_id, first.category = GRID_A, "物业管理"
        police.handler_id, police.department_id, police.category = POLICE, "jingwu-qixia", "治安消防"
        at = datetime(2026, 11, 9, 0, 10, tzinfo=UTC)  # 08:10 in Nanjing
        session.add(ModerationCase(person_id="wxid_r0005", group_id="xjy-1@chatroom", message_id="ad-1",
                                   reason="链接", at=at))  # fmt: skip
        session.add(FaqQuestion(person_id=NEIGHBOUR, group_id="xjy-1@chatroom", community_id="xinjiayuan",
                                message_id="ask-1", text="社区服务站几点开门", asked_at=at))  # fmt: skip
    app.engine.dispose()
    return folder / "scene.db"


def _app(path: Path, folder: Path, classifier: MessageClassifier | None = None, **settings: Any) -> App:
    """Without a classifier, "#反映" files a plain 诉求 (the scene's tickets are no emergencies)."""
    config = Settings.from_env(database_url=f"sqlite:///{path}", cache_dir=folder / "cache", **settings)
    return create_app(config, classifier=classifier)


@pytest.fixture
def copy_of(scene: Path, tmp_path: Path) -> Iterator[Any]:
    """A fresh application on a copy of the scene (a command that is done changes it)."""
    apps: list[App] = []

    def make(classifier: MessageClassifier | None = None, **settings: Any) -> App:
        path = tmp_path / f"copy{len(apps)}.db"
        shutil.copy(scene, path)
        apps.append(_app(path, tmp_path, classifier, **settings))
        return apps[-1]

    yield make
    for app in apps:
        app.engine.dispose()


def _state(app: App) -> dict[str, list[tuple[Any, ...]]]:
    with app.engine.connect() as connection:
        assert set(WATCHED) <= set(inspect(connection).get_table_names())
        return {t: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {t}")))) for t in WATCHED}


def _audit(app: App) -> list[tuple[str, str]]:
    with session_scope(app.engine) as session:
        return [(e.actor_id, e.action) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]


CASES = [(command, who, who in allowed) for command, allowed in TABLE for who in EVERYONE]
IDS = [f"row{n // len(EVERYONE)}-{who.removeprefix('wxid_')}" for n, (_, who, _) in enumerate(CASES)]


@pytest.mark.parametrize(("command", "who", "allowed"), CASES, ids=IDS)
def test_every_staff_command_by_every_role(copy_of: Any, command: str, who: str, allowed: bool) -> None:
    app = copy_of()
    before, audited = _state(app), len(_audit(app))
    out = simulate(app, [say(_at("08:30"), who, command, group=None)])
    name = command.split(maxsplit=1)[0].lstrip("#")
    written = [action for _, action in _audit(app)[audited:] if action.split(":")[-1] == name]
    answers = [o["text"] for o in out if o["to"] == who]
    assert answers, f"{who} heard nothing back"
    if who in (REPORTER, NEIGHBOUR) and name == "补充":  # a resident's own command, not a staff action
        assert written == []
        assert answers[0].endswith("不能补充。") is not allowed, answers
    elif allowed:
        assert written == [f"command:{name}"], answers
    else:
        assert written == [f"refused:{name}"], answers
    if not allowed:  # one short answer to the person who asked, nothing to anyone else, nothing changed
        assert [o["to"] for o in out] == [who]
        assert PHONE not in answers[0] and "沈振华" not in answers[0]
        assert _state(app) == before


def test_details_only_for_those_the_district_allows(copy_of: Any) -> None:
    """The handler, the community's social worker and admins read the resident's words; leaders and
    other grid workers the summary with the number masked, unless the district lets leaders read it."""
    app = copy_of()
    added = say(_at("08:20"), REPORTER, "#补充 1 找不到我就打我老伴手机13912345678", group=None)
    asks = [say(_at("08:30"), who, "#工单 1", group=None) for who in XJY_STAFF]
    out = simulate(app, [added, *asks])
    seen = {o["to"]: o["text"] for o in out if o["to"] in XJY_STAFF and o["text"].startswith("1号工单【")}
    for who in (GRID_A, SOCIAL_A, ADMIN):
        assert PHONE in seen[who] and "反映人：沈振华" in seen[who] and "老伴手机13912345678" in seen[who]
    for who in (LEADER, STREET_LEADER, GRID_A2):
        assert "沈振华" not in seen[who] and "反映人：居民" in seen[who] and "老伴" not in seen[who]
        assert PHONE not in seen[who] and MASKED in seen[who]
    trusting = copy_of(leaders_see_details=True)
    out = simulate(trusting, [say(_at("08:30"), who, "#工单 1", group=None) for who in (LEADER, GRID_A2)])
    seen = {o["to"]: o["text"] for o in out}
    assert PHONE in seen[LEADER] and PHONE not in seen[GRID_A2]


def test_an_alerted_staff_member_hears_who_took_the_emergency(
    copy_of: Any, classifier: MessageClassifier
) -> None:
    """A refusal that is not a refusal of scope: the emergency is someone else's now."""
    app = copy_of(classifier)
    out = simulate(
        app,
        [
            say(_at("10:00"), NEIGHBOUR, "快来人 我家老人在楼道里摔倒了 起不来", group="xjy-1@chatroom"),
            say(_at("10:01"), SOCIAL_A, "#签收 5", group=None),
            say(_at("10:02"), GRID_A, "#签收 5", group=None),
            say(_at("10:03"), SOCIAL_B, "#签收 5", group=None),
        ],
    )
    told = [o["text"] for o in out if o["to"] == GRID_A]
    assert any(t.startswith("【紧急】5号工单") for t in told)
    assert told[-1] == "5号紧急工单已由新家园社工李婷签收处理，不用您再办了。"
    assert [o["text"] for o in out if o["to"] == SOCIAL_B] == ["5号工单不是由您负责，不能签收。"]


SEES = {command.split()[1]: allowed for command, allowed in TABLE if command.startswith("#工单 ")}
DETAILS_1 = {ADMIN, SOCIAL_A, GRID_A}  # 1号's handler, its community's social worker, admins
ACCEPTS_1 = next(allowed for command, allowed in TABLE if command == "#签收 1")


def test_the_console_shows_and_does_only_what_the_chat_allows(copy_of: Any) -> None:
    """The same table through the console, as a browser uses it: the ticket list, each ticket's page
    (404 where the chat refuses), the resident's words and number, and an action on 1号."""
    noon = datetime(2026, 11, 9, 4, 0, tzinfo=UTC)
    for who in [w for w in EVERYONE if w not in (REPORTER, NEIGHBOUR)]:
        app = copy_of()  # each on the scene as it was (an accepted 1号 has a new handler)
        web = WebContext(create_app(app.settings, engine=app.engine, jobs=[]), clock=lambda: noon)
        with TestClient(create_web(web), base_url="https://testserver") as client:
            _sign_in(app, client, who)
            listed = set(re.findall(r'href="/tickets/(\d+)"', client.get("/tickets").text))
            assert listed == {n for n, allowed in SEES.items() if who in allowed}, who
            for number, allowed in SEES.items():
                page = client.get(f"/tickets/{number}")
                assert page.status_code == (200 if who in allowed else 404), (who, number)
                assert (PHONE in page.text) is (number == "1" and who in DETAILS_1), (who, number)
                assert ("沈振华" in page.text) is (number == "1" and who in DETAILS_1), (who, number)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
            assert csrf is not None
            before, audited = _state(app), len(_audit(app))
            nonce = secrets.token_urlsafe(16)
            client.post("/tickets/1", data={"action": "签收", "csrf": csrf[1], "nonce": nonce})
            written = [action for actor, action in _audit(app)[audited:] if action.endswith(":签收")]
            assert written == ["command:签收" if who in ACCEPTS_1 else "refused:签收"], who
            if who not in ACCEPTS_1:
                assert _state(app) == before


def _sign_in(app: App, client: TestClient, who: str) -> None:
    client.post("/login", data={"who": who})
    with session_scope(app.engine) as session:
        sent = session.exec(
            select(OutboxMessage.text)
            .where(OutboxMessage.to_id == who)
            .order_by(col(OutboxMessage.id).desc())
        ).first()
    code = re.search(r"验证码：(\d{6})", sent or "")
    assert code is not None, who
    client.post("/login/code", data={"who": who, "code": code[1]})
