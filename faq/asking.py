"""Whether a resident's message asks a question Xiaoqi may answer, or says something, or asks a neighbour.

Only the text is read. In a group, Xiaoqi answers a message nobody put to it only when it clearly asks
something of everyone: "老年卡怎么办", "装修要备案吗", "电瓶车上牌去哪". It leaves alone statements that
share words with a question ("今天去办了老年卡 人好多", "谢谢 我知道去哪办居住证了") and questions put to
one neighbour ("王阿姨你老年卡办好了没", "你们都办了吗").
"""

from __future__ import annotations

import re

# A follow-up about the last answer: what to bring, which papers.
_DETAILS = re.compile(
    r"^(?:请问)?(?:要|需要)?(?:带|准备)(?:什么|啥|哪些)(?:材料|东西|证件)?[?？]*$|^(?:什么|啥|哪些)材料[?？]*$"
)
# What a question has: a question mark or particle, a question word, an "A不A" choice, dialect (阿能).
_QUESTION = re.compile(
    r"[?？]|吗|么[\s~～。!！]*$|呢[\s~～。!！]*$|怎么|怎样|咋|如何|哪|什么|啥|多少|多久|多长时间"
    r"|几(?:点|天|号|岁|年|个|月|时|次|类|种|趟|周)|能不能|可不可以|可以不|要不要|是不是|有没有|用不用"
    r"|需不需要|会不会|行不行|阿能|阿有|阿要|阿是|阿可以|请问|问一下|问下|问问|找谁|求助"
)
# Says it already knows, thanks or agrees: "谢谢 我知道怎么办了", "好的 明天就去办", "我晓得去哪办了".
_STATEMENT = re.compile(
    r"^(?:谢谢|多谢|感谢|好的|好嘞|收到|明白|懂了|知道了|原来)"
    r"|(?<![谁人们不])(?:知道|晓得|明白|学会|搞清楚)了?(?:怎么|咋|如何|哪|去哪|在哪|要带)"
)
# Tells rather than names a topic: "我老年卡办好了", "人好多啊".
_TOLD = re.compile(r"[了啦过的哈哦呀啊嘛][\s~～。!！]*$")
# Ends as a question still: a statement opening does not cancel "谢谢 那老年卡在哪办？".
_ASKS_AT_END = re.compile(r"(?:[?？]|吗|呢|么)[\s~～。!！]*$")
# Put to one neighbour, not to everyone: "你" (not "你们", "你好"), "您" (not "您好"), or asks whether
# people have done something yet ("疫苗打了没", "你们居住证都办了吗"; not "流感疫苗到了吗").
_TO_SOMEONE = re.compile(
    r"你(?!们|好)|您(?!好)|了没有?[\s?？]*$|(?:都|也|已经)[^，,。？?\s]{0,6}了吗[\s?？]*$"
)


def asks_details(text: str) -> bool:
    """Whether the text only asks what to bring ("要带什么"): about the matter Xiaoqi just answered."""
    return bool(_DETAILS.match(text.strip()))


def is_question(text: str) -> bool:
    """Whether the text asks something (not only a statement sharing a question's words)."""
    if not _QUESTION.search(text):
        return False
    return not _STATEMENT.search(text) or bool(_ASKS_AT_END.search(text))


def is_statement(text: str) -> bool:
    """Whether the text, asking nothing, says something happened or thanks: "我老年卡办好了", "谢谢"."""
    return not is_question(text) and bool(_STATEMENT.search(text) or _TOLD.search(text))


def to_someone(text: str) -> bool:
    """Whether the text talks to one neighbour (or asks whether people did something), not to everyone."""
    return bool(_TO_SOMEONE.search(text))


def asks_everyone(text: str) -> bool:
    """A question to the whole group, which Xiaoqi may answer when the knowledge base matches it closely."""
    return is_question(text) and not to_someone(text)
