"""`xiaoqi chat`: a social worker tries the bot in the terminal."""

from __future__ import annotations

import io

from bot.app import App
from xiaoqi.chat import run_chat

from .conftest import START


def _chat(app: App, script: str) -> list[str]:
    out = io.StringIO()
    run_chat(app, io.StringIO(script), out, start=START)
    return out.getvalue().splitlines()


def test_pick_group_and_role_then_talk(app: App) -> None:
    lines = _chat(
        app,
        ":group g1@chatroom\n:as 社工\n#统计\n:as wxid_r1\n#统计\n:private\n帮助\n:quit\n这一行不会被读到\n",
    )
    text = "\n".join(lines)
    assert "群 g1@chatroom｜发言人 李社工（wxid_sg，社工）" in text
    assert "[群 g1@chatroom] 小棲：@李社工 幸福1-5栋群今天共 1 条消息（文字 1），1 人发言。" in text
    assert "小棲：@5栋-302 王阿姨 抱歉，这个命令只有社工、网格员、领导、管理员可以使用。" in text
    assert "[私聊 5栋-302 王阿姨] 小棲：小棲能帮您做这些" in text
    assert "这一行不会被读到" not in text


def test_clock_commands(app: App) -> None:
    lines = _chat(app, ":time +2h\n:time 2026-11-01T08:00\n:time 明天\n:as 不存在的人\n:oops\n")
    assert lines[2] == "时间来到 2026-11-02T11:00:00+08:00"
    assert lines[3:] == [
        "时间只能往前走。",
        "时间格式：+30m、+2h、+3d 或 2026-11-03T09:00",
        "当前范围里找不到“不存在的人”。",
        "不认识的控制命令 :oops，输入 :help 查看。",
    ]
