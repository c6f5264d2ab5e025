"""What residents and staff read about consultations: short, plain, polite simplified Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tickets.texts import excerpt, when

if TYPE_CHECKING:
    from consult.models import Consultation

__all__ = ["excerpt", "when"]

DISCUSS = (
    "【社区议事】{topic}\n"
    "{until}前请大家说说想法：在群里发“意见 您的想法”就行。"
    "之后小棲把大家的意见整理出来，再请大家投票。"
)
OPINION_THANKS = "收到您的意见，谢谢！"
NOT_ELIGIBLE_STAFF = "工作人员不参加居民投票，谢谢您组织。"
NOT_ELIGIBLE_UNREGISTERED = "您还没有在社区登记，这次还不能投票。请联系社工登记，下次就可以了。"
NOT_ELIGIBLE_NO_HOUSEHOLD = "这次是一户一票，登记信息里没有您家的门牌号，请联系社工补登后再投。"
NOT_ELIGIBLE_SCOPE = "这次议事是{scope}的，您不在投票范围内。"
VOTING_OVER = "{number}号议事的投票已经结束了。"
NO_SUCH_OPTION = "没有这个选项，请回复“投票 选项号”，选项号是 1 到 {count}。"
VOTED = "已记下{whose}的一票：{option}。截止前可以改票。"
VOTED_SAME = "{whose}已经投了：{option}，不用再投了。"
VOTE_CHANGED = "已把{whose}的票改为：{option}。"
HOUSEHOLD_CHANGED = "已把您家的票改为：{option}（原来是{name}投的 {before}）。一户只算一票。"
HOUSEHOLD_REPLACED = "您家在“{topic}”的票已由家里的{name}改为：{option}。一户只算一票，有不同想法请和家里人商量，截止前还可以改。"
VOTE_LATE = "“{topic}”的投票已经在{deadline}截止了，这一票没能记上。谢谢您关心社区的事，结果已经发在群里。"
COUNT_LINE = "【投票进度】“{topic}”已收到 {voted} 票（共 {eligible} {unit}可投），{deadline}截止。"
SECRET_ALREADY = "{whose}已经投过票了。不记名投票要改票，请私聊小棲发“改票 回执码 选项号”。"
SECRET_RECEIPT = (
    "您在“{topic}”的不记名投票已记下：{option}。\n"
    "回执码：{code}（请保存好，别告诉别人）。发“查票 {code}”可以核对，截止前发“改票 {code} 选项号”可以改票。"
)
SECRET_CHANGED = "已改为：{option}。"
SECRET_IN_GROUP = "提醒：不记名投票下次请私聊小棲发“投票 选项号”，在群里投别人会看到您的选择。"
NO_SUCH_RECEIPT = "没有找到这个回执码，请核对后再发。"
RECEIPT_OK = "回执码核对无误：您在“{topic}”投的是 {option}，{counted}。"
NO_OPEN_VOTE = "现在没有正在进行的投票。"
WHICH_VOTE = "现在有几个投票在进行：{numbers}。请回复“投票 议事号 选项号”，例如“投票 {example} 1”。"
REMINDER = "【投票提醒】“{topic}”{deadline}截止，本群已有 {voted} {unit}投票（共 {eligible} {unit}）。还没投的邻居，{how}"
NO_QUORUM = "参与投票的没有达到最低参与率 {quorum}%，这次投票不生效。"
SUMMARY_TO_ORGANISER = (
    "{number}号议事的讨论结束了，意见整理已发到群里。"
    "确定选项后发“#开始投票 {number} 选项：甲；乙；丙”开始投票（{deadline}截止）。"
)
NEVER_VOTED = "{number}号议事“{topic}”到截止时间还没有开始投票，已自动结束。需要的话请重新发起。"
FOLLOW_UP_OPENED = "【议事落实】“{topic}”：{task}，由{handler}负责，{deadline}前完成。进展会在群里通报。"
FOLLOW_UP_NEWS = "【议事落实】“{topic}”：{task}——{news}"
FOLLOW_UP_FILED = (
    "好的，{number}号议事的落实工单已登记（{ticket}号工单），由{handler}负责，{deadline}前完成。"
)


def how_to_vote(consultation: Consultation) -> str:
    if consultation.secret:
        return "请私聊小棲发“投票 选项号”（不记名，会收到回执码）。"
    rule = "一户一票" if consultation.per_household else "一人一票"
    return f"在群里回复“投票 选项号”就行（{rule}，截止前可以改票）。"


def vote_choices(consultation: Consultation) -> str:
    """The answer to "投票" alone: the options, how to vote and until when."""
    return "\n".join(
        [f"“{consultation.topic}”的选项：", _options(consultation), how_to_vote(consultation),
         f"{when(consultation.deadline)}截止。"]
    )  # fmt: skip


def _options(consultation: Consultation) -> str:
    return "\n".join(f"{i}. {option}" for i, option in enumerate(consultation.options, start=1))


def vote_announcement(consultation: Consultation) -> str:
    lines = [f"【社区议事·投票】{consultation.topic}", _options(consultation), how_to_vote(consultation)]
    if consultation.quorum is not None:
        lines.append(
            f"至少 {round(consultation.quorum * 100)}% 的{'住户' if consultation.per_household else '居民'}参与，投票才有效。"
        )
    lines.append(f"{when(consultation.deadline)}截止。议事号：{consultation.number}。")
    return "\n".join(lines)


def result_text(consultation: Consultation, counts: Sequence[int], voted: int, eligible: int) -> str:
    unit = "户" if consultation.per_household else "人"
    share = round(voted * 100 / eligible) if eligible else 0
    total = sum(counts) or 1
    lines = [
        f"【议事结果】{consultation.topic}",
        f"共 {voted} {unit}投票，参与率 {share}%（{voted}/{eligible}）。",
    ]
    for i, (option, count) in enumerate(zip(consultation.options, counts, strict=True), start=1):
        lines.append(f"{i}. {option}：{count} 票（{round(count * 100 / total)}%）")
    lines.append(f"结果：{consultation.decision}")
    if consultation.passed:
        lines.append("后续由社区落实，进展会在群里通报。")
    return "\n".join(lines)
