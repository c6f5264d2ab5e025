"""`xiaoqi chat`: a terminal simulator for trying the bot before connecting WeChat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TextIO

from sqlmodel import select

from bot.app import App
from bot.transport.memory import MemoryTransport
from core.clock import SHANGHAI, iso_local, local, parse_time, wall_now
from core.db import session_scope
from core.events import Outgoing
from groups.models import ROLE_LABELS, ChatGroup, Membership, Person
from groups.registry import ROLE_NAMES

HELP = """\
直接输入文字 = 以当前成员身份在当前群里发言（@小棲 开头即 @ 机器人）。
  :groups            列出所有群
  :group <群id>      切换到某个群
  :private           改为私聊小棲（再用 :group 回到群里）
  :as <成员id|角色>   换一个发言人，如 :as 社工、:as wxid_r0001
  :who               当前群、发言人和时间
  :time +2h | +3d | 2026-11-03T09:00    让时间前进（到点的提醒、截止会先执行）
  :help              显示这段说明
  :quit              退出"""
_DELTA = re.compile(r"^\+(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class ChatSession:
    """The state of one terminal conversation: who speaks, where, and when."""

    def __init__(self, app: App, start: datetime) -> None:
        self.app = app
        self.transport = MemoryTransport(app, start)
        with session_scope(app.engine) as session:
            self.groups = list(session.exec(select(ChatGroup).order_by(ChatGroup.id)))
            self.names = {p.id: p.name for p in session.exec(select(Person))}
        self.group: str | None = self.groups[0].id if self.groups else None
        self.member: Person | None = None
        if self.group:
            self.member = self._member_in_group(lambda p: not p.role.is_staff)

    def _member_in_group(self, accept) -> Person | None:  # type: ignore[no-untyped-def]
        with session_scope(self.app.engine) as session:
            query = select(Person).order_by(Person.id)
            if self.group:
                query = query.join(Membership).where(Membership.group_id == self.group)
            return next((p for p in session.exec(query) if accept(p)), None)

    def describe(self) -> str:
        where = f"群 {self.group}" if self.group else "私聊小棲"
        who = (
            f"{self.member.name}（{self.member.id}，{ROLE_LABELS[self.member.role]}）"
            if self.member
            else "（未选择）"
        )
        return f"{where}｜发言人 {who}｜时间 {iso_local(self.transport.now)}"

    def control(self, line: str) -> str:
        word, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if word == "help":
            return HELP
        if word == "groups":
            return "\n".join(f"{g.id}  {g.name}" for g in self.groups) or "还没有群，请先加载名册。"
        if word == "group":
            if arg not in {g.id for g in self.groups}:
                return f"没有群“{arg}”。用 :groups 查看。"
            self.group = arg
            return self.describe()
        if word == "private":
            self.group = None
            return self.describe()
        if word == "as":
            role = ROLE_NAMES.get(arg)
            person = self._member_in_group(lambda p: p.role is role if role else p.id == arg)
            if person is None:
                return f"当前范围里找不到“{arg}”。"
            self.member = person
            return self.describe()
        if word == "who":
            return self.describe()
        if word == "time":
            return self._advance(arg)
        return f"不认识的控制命令 :{word}，输入 :help 查看。"

    def _advance(self, arg: str) -> str:
        match = _DELTA.match(arg)
        try:
            if match:
                target = self.transport.now + timedelta(**{_UNITS[match[2]]: int(match[1])})
            else:
                target = parse_time(arg)
        except ValueError:
            return "时间格式：+30m、+2h、+3d 或 2026-11-03T09:00"
        if target <= self.transport.now:
            return "时间只能往前走。"
        sent = asyncio.run(self.transport.advance(target - self.transport.now))
        return "\n".join([f"时间来到 {iso_local(target)}", *(render(out, self.names) for out in sent)])

    def say(self, text: str) -> str:
        if self.member is None:
            return "请先用 :as 选择发言人。"
        mentions = (self.app.settings.bot_id,) if text.startswith(f"@{self.app.settings.bot_name}") else ()
        sent = asyncio.run(
            self.transport.say(
                text, sender=self.member.id, name=self.member.name, group=self.group, mentions=mentions
            )
        )
        return "\n".join(render(out, self.names) for out in sent)


def render(out: Outgoing, names: dict[str, str]) -> str:
    at = local(out.at).strftime("%m-%d %H:%M") if out.at else ""
    where = f"[群 {out.group_id}]" if out.group_id else f"[私聊 {names.get(out.to_id or '', out.to_id)}]"
    mention = "".join(f"@{names.get(m, m)} " for m in out.mentions)
    return f"{at} {where} 小棲：{mention}{out.text}"


def run_chat(app: App, lines: Iterable[str], out: TextIO, start: datetime | None = None) -> None:
    session = ChatSession(app, start or wall_now().astimezone(SHANGHAI))
    interactive = out.isatty()
    out.write("小棲终端模拟器。输入 :help 查看说明。\n" + session.describe() + "\n")
    for raw in _prompted(lines, out, interactive):
        line = raw.strip()
        if not line:
            continue
        if line in (":quit", ":q", ":exit"):
            break
        reply = session.control(line) if line.startswith(":") else session.say(line)
        if reply:
            out.write(reply + "\n")
        out.flush()


def _prompted(lines: Iterable[str], out: TextIO, interactive: bool) -> Iterable[str]:
    if not interactive:
        yield from lines
        return
    while True:
        try:
            yield input("> ")
        except EOFError:
            return
