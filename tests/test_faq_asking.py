"""What counts as a question Xiaoqi may answer in a group, and what is chatter or put to a neighbour."""

from __future__ import annotations

import pytest

from faq.asking import asks_everyone, is_question, is_statement


@pytest.mark.parametrize(
    "text",
    [
        "老年卡怎么办",
        "装修要备案吗",
        "居住证在哪办",
        "电瓶车上牌去哪",
        "装修要不要备案",
        "公租房阿能申请",
        "谁知道老年卡在哪办",
        "你们知道居住证去哪办吗",
        "谢谢 那高龄补贴在哪领？",
        "流感疫苗到了吗",
    ],
)
def test_questions_to_everyone(text: str) -> None:
    assert asks_everyone(text)


@pytest.mark.parametrize(
    "text",
    [
        "今天去办了老年卡 人好多",
        "谢谢 我知道老年卡怎么办了",
        "好的 明天就去办居住证",
        "老年卡办好了",
        "王阿姨你老年卡办好了没",
        "你们居住证都办了吗",
        "疫苗打了没",
        "您知道在哪办吗",
    ],
)
def test_chatter_and_questions_to_a_neighbour(text: str) -> None:
    assert not asks_everyone(text)


def test_a_bare_topic_is_neither_a_question_nor_a_statement() -> None:
    assert not is_question("电瓶车上牌") and not is_statement("电瓶车上牌")
    assert is_statement("我老年卡办好了") and is_statement("谢谢李社工")
