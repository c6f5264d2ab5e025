"""What residents and staff read about tickets: short, polite, plain simplified Chinese."""

from __future__ import annotations

from datetime import datetime, timedelta

from xiaoqi.clock import local


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


FILED = (
    "收到！您反映的“{summary}”（{category}）已登记为{number}号工单，由{handler}负责，{deadline}前给您答复。"
)
FILED_URGENT = "{number}号紧急工单已建立，已通知{handler}马上处理。{advice}"
MERGED = "这个问题已有邻居反映过，是{number}号工单（现在{reporters}位居民反映），{handler}正在跟进，有进展会一起告诉您。"
FOLLOW_UP = "已把您补充的情况记到{number}号工单里，{handler}会看到。"
CONFIRM = "您是想反映“{summary}”这个问题吗？需要的话回复“是”，小棲帮您登记；不需要就不用管。"
# a resident asks how their problem is going: where its ticket stands, by state
STANDING = {
    "待签收": "您说的“{summary}”是{number}号工单，已派给{handler}，{deadline}前办结，有进展会告诉您。",
    "已签收": "您说的“{summary}”是{number}号工单，{handler}正在处理，{deadline}前办结，有进展会告诉您。",
    "处理中": "您说的“{summary}”是{number}号工单，{handler}正在处理，{deadline}前办结，有进展会告诉您。",
    "已退回": "您说的“{summary}”是{number}号工单，正在换更合适的人办理，有进展会告诉您。",
    "已办结": "您说的“{summary}”是{number}号工单，{day}已办结：{resolution}",
    "已评价": "您说的“{summary}”是{number}号工单，{day}已办结：{resolution}",
}
CONFIRM_WORDS = frozenset({"是", "是的", "对", "对的", "嗯", "需要", "要", "好", "好的", "登记"})

NEW_FOR_HANDLER = (
    "新工单{number}【{category}】{where}\n{reporter}：{text}\n办理时限：{deadline}前。"
    "签收请回复“#签收 {number}”。"
)
URGENT_IN_GROUP = "紧急情况！{names}请马上处理：{reporter}反映“{summary}”。"
URGENT_FOR_STAFF = "【紧急】{number}号工单 {where}\n{reporter}：{text}\n请立即处理，并回复“#签收 {number}”。"
ESCALATED = "【紧急升级】{number}号工单{minutes}分钟内无人签收，请您马上处理：{where} {reporter}：{text}\n回复“#签收 {number}”。"
ADVICE_FIRE = "如有明火或浓烟，请先离开并拨打119；闻到燃气味请关阀开窗，不要开关电器。"
ADVICE_MEDICAL = "如有人受伤或不省人事，请先拨打120。"
ADVICE_POLICE = "如人身财产正受威胁，请立即拨打110。"
ADVICE_GENERAL = "情况危急请直接拨打110（报警）、119（火警）或120（急救）。"

ACCEPTED = "您的{number}号工单已由{handler}签收，正在处理。"
PROGRESS = "{number}号工单有进展：{note}"
RESOLVED = "{number}号工单已办结：{note}\n您满意吗？请回复：满意 / 基本满意 / 不满意"
PASSED_ON = "{number}号工单已转给更合适的{handler}办理，{deadline}前给您答复。"
RETURNED_FOR_RESIDENT = "{number}号工单正在转交更合适的部门办理，请您放心，有进展会告诉您。"
EXTENDED = "{number}号工单办理需要多一些时间，预计{deadline}前办好，请您谅解。"
REOPENED = "抱歉没让您满意，{number}号工单已重新交给{handler}办理，{deadline}前给您答复。"
THANKS_FOR_RATING = "谢谢您的评价！{number}号工单已结束。"
AUTO_CLOSED = "{number}号工单已办结{days}天，没有收到您的评价，就先按满意结束了。如还有问题，随时再反映。"

REMIND = "提醒：{number}号工单（{summary}）将在{deadline}到期，请抓紧办理。"
URGE = "【催办】{number}号工单（{summary}）已超过办理时限{deadline}，请尽快办理并回复进展。"
SUPERVISE = "【督办】{number}号工单（{summary}）超期仍未办结，负责人：{handler}，请督促办理。"
RETURNED_FOR_SW = "{number}号工单被{actor}退回，理由：{reason}。请用“#转派 {number} 对象”重新分派。"
REOPENED_FOR_HANDLER = (
    "【重办】{number}号工单居民不满意，请重新办理。\n{reporter}：{text}\n办理时限：{deadline}前。"
    "签收请回复“#签收 {number}”。"
)
EXTENSION_REQUESTED = (
    "{actor}申请{number}号工单延期{days}个工作日，理由：{reason}。同意请回复“#批准延期 {number}”。"
)
