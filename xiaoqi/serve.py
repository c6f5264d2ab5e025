"""`xiaoqi serve`: the console and the API over HTTP, beside the bot process, on the same database."""

from __future__ import annotations

import threading

import uvicorn
from sqlmodel import col, select

from core.db import make_engine
from core.settings import Settings
from groups.models import Person, Role
from web.console import overview_for, send_code
from web.context import WebContext
from web.server import create_web
from xiaoqi.wiring import Mode, create_app

WEB_CONNECTIONS = 24  # twenty people at work at once, and the overview's recount
COOKIE_HINT = "登录 Cookie 只走 HTTPS 和本机地址；经网络用 http 试用请加 --insecure-http"


def demo_sign_in(web: WebContext) -> str | None:
    """A line for the demo: who may sign in now, with which code (the demo has no WeChat to send it)."""
    now = web.clock()
    with web.session() as session:
        worker = session.exec(
            select(Person).where(Person.role == Role.SOCIAL_WORKER).order_by(col(Person.id)).limit(1)
        ).first()
        sent = send_code(web, session, worker.id, now, address="local") if worker is not None else None
        if sent is None:
            return None
        return f"用“{sent.person.name}”登录，验证码 {sent.code}（5分钟内有效；过期了就在登录页重新获取，新的验证码显示在 xiaoqi serve 的窗口里）"


def serve(settings: Settings, host: str, port: int, *, demo: bool, insecure_http: bool) -> None:
    # the bot process runs the jobs and sends; each of the server's busy threads holds a connection
    engine = make_engine(settings.database_url, connections=WEB_CONNECTIONS)
    app = create_app(settings, Mode.CONSOLE, engine=engine, jobs=[])
    web = WebContext(app, demo=demo, secure_cookies=not insecure_http)
    api = create_web(web)
    # the district's overview is counted before the first big screen asks for it
    district = Person(id="-", role=Role.LEADER)
    threading.Thread(target=overview_for, args=(web, district), daemon=True).start()
    # browsers keep a Secure cookie over plain http on 127.0.0.1 and localhost, on no other address
    cookies = "不加密的 http：只在自己的机器上试用" if insecure_http else COOKIE_HINT
    print(f"小棲控制台：http://{host}:{port}/ （{cookies}）", flush=True)
    if demo and (line := demo_sign_in(web)):
        print(line, flush=True)
    try:
        uvicorn.run(api, host=host, port=port, log_level="warning")
    finally:
        app.engine.dispose()
