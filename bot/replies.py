"""Fixed reply texts: short, polite, plain simplified Chinese."""

from __future__ import annotations

APOLOGY = "抱歉，小棲刚才出了点小问题，已经记下了，请稍后再试。"
NOT_ALLOWED = "抱歉，这个命令只有{roles}可以使用。"
USAGE = "用法：{usage}"
UNKNOWN_COMMAND = "没有“{name}”这个命令。发送“帮助”可以看到能用的命令。"
GREETING = "您好，我是小棲，社区的智能助手。有事可以直接在群里说，也可以发送“帮助”看看我能做什么。"
HELP_HEADER = "小棲能帮您做这些（命令前加 # 或先 @小棲）："
