"""Shared fixtures: settings in a temp dir, and the database backends every storage test runs on."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.app import App
from core.clock import SHANGHAI
from core.db import make_engine, session_scope
from core.settings import Settings
from groups.registry import load_registry
from nlp import MessageClassifier, default_model
from xiaoqi.schema import migrate
from xiaoqi.wiring import create_app

TESTS = Path(__file__).resolve().parent
REGISTRY = TESTS / "data" / "registry.yaml"
SHARED_DATA = TESTS.parent.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "XIAOQI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


def require_or_skip(reason: str) -> None:
    """Skip locally when an outside resource is missing, but fail in CI, where it must exist."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must not skip this test)")
    pytest.skip(reason)


def postgres_admin() -> Engine:
    """An autocommit engine on the test server's admin database (skips, or fails in CI, without one)."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as error:
        admin.dispose()
        require_or_skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.__class__.__name__}")
    return admin


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, str]]:
    """A migrated template database; each test copies it, which is much faster than migrating."""
    admin = postgres_admin()
    template = f"xiaoqi_tpl_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    engine = make_engine(_database_url(POSTGRES_ADMIN_URL, template))
    migrate(engine)
    engine.dispose()
    try:
        yield POSTGRES_ADMIN_URL, template
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test copies it (13 ms) instead of migrating (80 ms)."""
    path = tmp_path_factory.mktemp("template") / "xiaoqi.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


# PostgreSQL runs every storage test a second time, on a database copied per test: slow as a whole
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend, copied from a migrated template."""
    if request.param == "sqlite":
        path = tmp_path / "xiaoqi.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin_url, template = request.getfixturevalue("postgres_template")
    name = f"xiaoqi_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(admin_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings.from_env(database_url=db_url, cache_dir=tmp_path / "cache")


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    """The application with the test registry loaded and no classifier (core behaviour only)."""
    application = create_app(settings)
    with session_scope(application.engine) as session:
        load_registry(session, REGISTRY)
    yield application
    application.engine.dispose()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir for this session only, so tests never read a stale or foreign model."""
    return tmp_path_factory.mktemp("xiaoqi-cache")


@pytest.fixture(scope="session")
def classifier(cache_dir: Path) -> MessageClassifier:
    """The real default model, built once per test session."""
    return default_model(Settings().data_dir, cache_dir)


@pytest.fixture
def smart_app(settings: Settings, classifier: MessageClassifier) -> Iterator[App]:
    """The application with the test registry and the real message classifier."""
    application = create_app(settings, classifier=classifier)
    with session_scope(application.engine) as session:
        load_registry(session, REGISTRY)
    yield application
    application.engine.dispose()


@pytest.fixture
def district(settings: Settings, classifier: MessageClassifier) -> Iterator[App]:
    """The application with the demo district's registry (data/demo/registry.yaml) and the real classifier."""
    application = create_app(settings, classifier=classifier)
    with session_scope(application.engine) as session:
        load_registry(session, Settings().data_dir / "demo" / "registry.yaml")
    yield application
    application.engine.dispose()


# households for votes (one vote per household) beside the test registry's residents
NEIGHBOURS = """\
  - {id: wxid_v1, name: 5栋-101 张大爷, role: 居民, community: c1, household: 5-101, groups: [g1@chatroom]}
  - {id: wxid_v2, name: 5栋-302 王大伯, role: 居民, community: c1, household: 5-302, groups: [g1@chatroom]}
  - {id: wxid_v3, name: 7栋-102 刘姐, role: 居民, community: c1, household: 7-102, groups: [g2@chatroom]}
  - {id: wxid_v4, name: 小马, role: 居民, community: c1, groups: [g2@chatroom]}
  - {id: wxid_v5, name: 6栋-201 孙阿姨, role: 居民, community: c1, household: 6-201, groups: [g1@chatroom]}
  - {id: wxid_v6, name: 7栋-201 赵叔, role: 居民, community: c1, household: 7-201, groups: [g2@chatroom]}
"""


@pytest.fixture
def town(settings: Settings, tmp_path: Path) -> Iterator[App]:
    """The test registry with six more households (consultations, votes, receipts)."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY.read_text(encoding="utf-8") + NEIGHBOURS, encoding="utf-8")
    app = create_app(settings)
    with session_scope(app.engine) as session:
        load_registry(session, registry)
    yield app
    app.engine.dispose()


# Modules whose owners keep them free of test-selection marks: marked here instead (a `pytestmark` would do the same).
MODULE_MARKS = {
    "test_console_browser.py": "e2e",  # chromium through playwright, a live uvicorn server
    "test_web_bench.py": "e2e",  # runs bench/web_bench.py in a subprocess
    "test_report.py": "slow",  # builds months of reports, PDF included
    "test_report_delivery.py": "slow",  # the monthly job and the CLI build whole reports
    "test_bench_month.py": "slow",  # a generated district-month through the pipeline
    "test_demo.py": "slow",  # the demo month
    "test_conversations_eval.py": "slow",  # replays the labelled conversation corpus
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        mark = MODULE_MARKS.get(item.path.name)
        if mark is not None:
            item.add_marker(mark)
