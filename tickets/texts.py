"""What residents and staff read about tickets: short, polite, plain simplified Chinese."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.clock import local


def when(moment: datetime) -> str:
    """A deadline as people say it: 11月5日前, or 今天15:30前 for urgent ones."""
    shown = local(moment)
    if shown.hour == 0 and shown.minute == 0:
        day = (shown - timedelta(days=1)).date()
        return f"{day.month}月{day.day}日"
    return f"{shown.month}月{shown.day}日{shown:%H:%M}"


def excerpt(text: str, limit: int = 24) -> str:
    clean = " ".join(text.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


_LEAD_IN = re.compile(r"^(?:我要反映|我想反映|反映一下|反映|请问)\s*[:：，,]?\s*")


def topic(summary: str, limit: int = 16) -> str:
    """What a resident's problem is about, short, as they said it (without "我要反映：")."""
    return excerpt(_LEAD_IN.sub("", summary.strip()) or summary, limit)


FILED = "收到！您反映的“{summary}”已登记（{number}号工单），由{handler}负责，{deadline}前给您答复。"
FILED_FOR = "{staff}已帮您登记了“{summary}”（{number}号工单），由{handler}负责，{deadline}前给您答复。"
FILED_URGENT = "收到！已通知{handler}马上处理（{number}号紧急工单）。{advice}"
MERGED = "这个问题已经有邻居反映过了（{number}号工单，加上您共{reporters}位），{handler}正在跟进，有进展也会告诉您。"
FOLLOW_UP = "已把您补充的情况记到{number}号工单里，{handler}会看到。"
CONFIRM = "您是想请社区处理“{summary}”吗？需要的话回复“是”，小棲帮您登记；不需要就不用回复。"
# a resident asks how their problem is going: where its ticket stands, by state
STANDING = {
    "待签收": "您说的“{summary}”（{number}号工单）已交给{handler}，{deadline}前办好，有进展会告诉您。",
    "已签收": "您说的“{summary}”（{number}号工单）{handler}正在办，{deadline}前办好，有进展会告诉您。",
    "处理中": "您说的“{summary}”（{number}号工单）{handler}正在办，{deadline}前办好，有进展会告诉您。",
    "已退回": "您说的“{summary}”（{number}号工单）正在换更合适的人来办，有进展会告诉您。",
    "已办结": "您说的“{summary}”（{number}号工单）{day}已经办好：{resolution}",
    "已评价": "您说的“{summary}”（{number}号工单）{day}已经办好：{resolution}",
}
# a ticket's state as residents read it (#进度)
RESIDENT_STATES = {
    "待签收": "已交给工作人员",
    "已签收": "正在办",
    "处理中": "正在办",
    "已退回": "正在换人来办",
    "已办结": "已办好，等您评价",
    "已评价": "已办完",
}
STANDING_LATE = "您说的“{summary}”（{number}号工单）原定{deadline}前办好，已经在催了，有进展会告诉您。"
CONFIRM_WORDS = frozenset({"是", "是的", "对", "对的", "嗯", "需要", "要", "好", "好的", "登记"})

NEW_FOR_HANDLER = (
    "{number}号新工单【{category}】{where}\n{reporter}：{text}\n办理时限：{deadline}前。"
    "签收请回复“#签收 {number}”。"
)
URGENT_IN_GROUP = "紧急情况！@{reporter} 说“{summary}”，已通知{names}马上处理。{advice}"
URGENT_FOR_STAFF = "【紧急】{number}号工单 {where}\n{reporter}：{text}\n请立即处理，并回复“#签收 {number}”。"
ESCALATED = "【紧急升级】{number}号工单{minutes}分钟内无人签收，请您马上处理：{where} {reporter}：{text}\n回复“#签收 {number}”。"
ADVICE_FIRE = "如有明火或浓烟，请先离开并拨打119；闻到燃气味请关阀开窗，不要开关电器。"
ADVICE_MEDICAL = "如有人受伤或不省人事，请先拨打120。"
ADVICE_POLICE = "如果有人走失，或有人正在偷抢、伤人，请马上拨打110。"
ADVICE_GENERAL = "情况危急请直接拨打110（报警）、119（火警）或120（急救）。"

# what a ticket's reporters hear after its filing; {summary} is texts.topic of the ticket
ACCEPTED = "您反映的“{summary}”，{handler}已经接手，正在处理。"
ACCEPTED_URGENT = "{handler}已接手“{summary}”这件事，正在处理。"
TAKEN_BY = "{number}号紧急工单已由{handler}签收处理。"
PROGRESS = "您反映的“{summary}”有新进展：{note}"
RESOLVED = "您反映的“{summary}”已经办好：{note}\n您满意吗？请回复“满意”“基本满意”或“不满意”。"
RESOLVED_AGAIN = "您反映的“{summary}”又跟进处理了：{note}"
PASSED_ON = "您反映的“{summary}”已转给{handler}办理，{deadline}前给您答复。"
RETURNED_FOR_RESIDENT = "您反映的“{summary}”正在安排更合适的人来办，请放心，有进展会告诉您。"
EXTENDED = "您反映的“{summary}”还需要多一些时间，预计{deadline}前办好，请您谅解。"
REOPENED = "抱歉没让您满意，“{summary}”已经重新交给{handler}办理，{deadline}前给您答复。"
THANKS_FOR_RATING = "谢谢您的评价，已记下了。"
AUTO_CLOSED = (
    "您反映的“{summary}”办好已经{days}天了，没收到您的评价，就先按“满意”记下了。"
    "如果问题还在，随时在群里说或私聊小棲。"
)

REMIND = "提醒：{number}号工单（{summary}）将在{deadline}到期，请抓紧办理。"
URGE = "【催办】{number}号工单（{summary}）已超过办理时限{deadline}，请尽快办理，并发“#进展 {number} 情况”报一下进展。"
SUPERVISE = "【督办】{number}号工单（{summary}）已超期，还没有办结。负责人：{handler}，请督促办理。"
MOVED_AWAY = "{number}号工单已转给{handler}办理，您不用再办了。"
RETURNED_FOR_SW = "{number}号工单被{actor}退回，理由：{reason}。请发“#转派 {number} 姓名或部门”重新分派。"
REOPENED_FOR_HANDLER = (
    "【重办】{number}号工单有居民不满意，请重新办理。\n{said}\n原问题：{text}\n办理时限：{deadline}前。"
    "签收请回复“#签收 {number}”。"
)
EXTENSION_REQUESTED = (
    "{actor}申请{number}号工单延期{days}个工作日，理由：{reason}。同意请回复“#批准延期 {number}”。"
)
