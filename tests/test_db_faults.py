"""PostgreSQL goes away for a while (restarted, a network blip): messages arriving meanwhile are kept in
the local spool and handled, in order and once, when it is back. The outage is a TCP proxy in front of
the real server that the test cuts (every connection reset, new ones refused) and restores."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bot.app import App
from core.db import session_scope
from core.events import Incoming
from core.settings import Settings
from groups.messages import Message
from groups.registry import load_registry
from tickets.models import TicketReporter
from xiaoqi.wiring import create_app

from .conftest import REGISTRY, _database_url
from .events import said, when


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; `cut()` resets every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        self._listener.close()
        self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.close()


@pytest.fixture
def proxied_app(postgres_template: tuple[str, str], tmp_path: Path) -> Iterator[tuple[App, CuttableProxy]]:
    admin_url, template = postgres_template
    name = f"xiaoqi_f_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    host_port = admin_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = CuttableProxy((host, int(port)))
    url = _database_url(admin_url, name).replace(host_port, f"127.0.0.1:{proxy.port}")
    app = create_app(Settings.from_env(database_url=url, cache_dir=tmp_path / "cache"))
    with session_scope(app.engine) as session:
        load_registry(session, REGISTRY)
    try:
        yield app, proxy
    finally:
        app.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _said(n: int, text: str, who: str = "wxid_r1") -> Incoming:
    return said(text, who, id=f"fault-{n}", at=when(minutes=n))


def test_messages_during_a_database_outage_are_spooled_and_handled_once_it_is_back(
    proxied_app: tuple[App, CuttableProxy],
) -> None:
    app, proxy = proxied_app
    first = app.receive(_said(1, "#反映 3栋门口的井盖松了"))
    assert first[0].text.startswith("收到！您反映的“3栋门口的井盖松了”")

    proxy.cut()  # PostgreSQL restarts: every connection is gone and new ones are refused
    assert app.receive(_said(2, "#反映 5栋楼道的灯坏了", who="wxid_x9")) == []
    assert app.receive(_said(3, "#进度", who="wxid_r1")) == []
    assert (
        app.receive(_said(2, "#反映 5栋楼道的灯坏了", who="wxid_x9")) == []
    )  # the platform delivers it again
    assert len(app.spooling.spool) == 3
    assert app.spooling.retry() == []  # still down: nothing lost, nothing answered twice
    assert len(app.spooling.spool) == 3

    proxy.restore()
    app.engine.dispose()
    app = create_app(app.settings)  # the bot was restarted meanwhile: the spool is on disk
    assert len(app.spooling.spool) == 3
    answers = app.spooling.retry()
    replies = [a.text for a in answers if a.group_id == "g1@chatroom"]
    assert "号工单" in replies[0]  # the petition first, then #进度: in arrival order
    assert replies[1] == "1号（3栋门口的井盖松了）：已交给工作人员，11月9日前办好"
    assert len(replies) == 2  # the second delivery of fault-2 was handled once
    assert len(app.spooling.spool) == 0 and not app.spooling.spool.path.exists()
    later = app.receive(_said(4, "#反映 7栋电梯异响"))  # and life goes on
    assert any("7栋电梯异响" in out.text for out in later)

    with session_scope(app.engine) as session:
        stored = session.exec(select(Message.platform_id).order_by(Message.platform_id)).all()
        reports = session.exec(select(TicketReporter.message_id).order_by(TicketReporter.message_id)).all()
        unhandled = session.exec(
            select(func.count()).select_from(Message).where(Message.handled_at is None)
        ).one()
    assert stored == ["fault-1", "fault-2", "fault-3", "fault-4"]
    assert reports == ["fault-1", "fault-2"] and unhandled == 0  # fault-2 once; fault-4 adds to 1号
