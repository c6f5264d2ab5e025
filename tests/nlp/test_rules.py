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


@pytest.mark.parametrize(
    "text",
    [
        "隔壁独居的老爷爷三天没见着人了 敲门不应 屋里电视一直开着 感觉不对劲",
        "对门老太太好几天没出门了 门口的报纸堆了一摞",
        "10幢2单元是不是有人家着火了？楼道里好大的烟味，还有点烟",
        "有人在中心广场看到一个穿红衣服的小男孩吗，5岁，一转眼就不见了",
        "10栋2单元电梯卡在9楼和10楼中间了，我和孩子在里面",
        "2栋门口地上躺着一个人 喊他不答应",
        "我家老爷子早上出去散步到现在还没回来 他有点老年痴呆",
    ],
)
def test_calm_and_plain_emergencies_fire(text: str) -> None:
    assert emergency_rule(normalize(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "着火了！！！哈哈 我家火锅",
        "家里的煤气灶点不着火是咋回事",
        "消防检测的警报声吓我一跳",
        "吓我一跳 还以为又着火了",
        "楼道里堆满了纸箱 着火了怎么办",
        "建议社区给每家发个灭火毯 厨房油锅着火用得上",
        "电动车轮胎漏气了 哪里能补",
        "谁的钥匙掉在5栋电梯里了 放物业前台了",
        "5栋电梯又停了 我在16楼下不去",
        "烟感一直响 没电了吧 [捂脸]",
    ],
)
def test_cooking_appliances_jokes_drills_and_fears_do_not_fire(text: str) -> None:
    assert emergency_rule(normalize(text)) is None
