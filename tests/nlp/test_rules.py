from __future__ import annotations

import pytest

from nlp.normalize import normalize
from nlp.rules import emergency_rule


@pytest.mark.parametrize(
    "text",
    [
        "3号楼着火了，浓烟从窗户冒出来",
        "楼道里一股很重的煤气味",
        "我家老人在卫生间摔倒了起不来",
        "有人被困在电梯里了",
        "我家孩子不见了，穿红衣服，五岁",
        "有人站在楼顶说要跳楼",
        "楼下火锅店着火了",
        "对门独居的王奶奶两天没出门，敲门没人应",
    ],
)
def test_danger_fires(text: str) -> None:
    assert emergency_rule(normalize(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "今晚吃火锅，吃得上火了",
        "下周三社区组织消防演习，大家准时参加",
        "周六有防火安全讲座",
        "商场跳楼价大甩卖",
        "我家猫不见了，橘色的",
        "最近工作好困",
        "燃气费在哪里交",
    ],
)
def test_harmless_look_alikes_do_not_fire(text: str) -> None:
    assert emergency_rule(normalize(text)) is None
