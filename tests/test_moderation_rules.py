"""The advertising rules on hard cases from neighbourhood groups: adverts posing as tips, and
neighbours' honest messages that a classifier alone mistakes for adverts."""

from __future__ import annotations

import pytest

from groups.messages import MessageKind
from moderation.rules import ad_reason, repeat_key

TEXT, LINK, MINI = MessageKind.TEXT, MessageKind.LINK, MessageKind.MINIPROGRAM


@pytest.mark.parametrize(
    ("kind", "text", "p", "reason"),
    [
        (TEXT, "【温馨提示】10月起养老金认证改为线上，请点击 http://ylj-rz.top/q8 完成认证", 0.92, "链接"),
        (TEXT, "帮我砍一刀！就差一点了 http://pdd-kj.vip/a3f", 0.10, "链接、推销"),
        (TEXT, "家里有闲置的金银首饰可以拿出来，高价回收，当天到账", 0.03, "推销"),
        (TEXT, "【通知】退休人员可一次性补领2万元补贴，详情咨询13912345678", 0.99, "拉人加微信"),
        (TEXT, "美团外卖红包群，每天领券，扫码进群，满20减18", 0.57, "二维码、推销"),
        (MINI, "【群接龙】燃气安全免费上门检查登记", 0.98, "小程序推广"),
        (LINK, "南京本周天气：冷空气来了，最低温跌破10℃", 0.05, None),
        # honest neighbours, whatever the classifier thinks
        (TEXT, "已接龙", 0.77, None),
        (TEXT, "送一只小猫，两个月大，已驱虫，要的私聊", 0.70, None),
        (TEXT, "11幢1404，我电话19620954690，你来之前打个电话", 0.96, None),
        (TEXT, "有没有人要儿童书，一大箱，免费送", 0.01, None),
        (TEXT, "医保缴费通知看这里 https://www.nanjing.gov.cn/ybjf", 0.30, None),
        (TEXT, "", 0.99, None),
        (MessageKind.IMAGE, "[图片]", 0.99, None),
    ],
)
def test_adverts_and_honest_messages(kind: MessageKind, text: str, p: float, reason: str | None) -> None:
    assert ad_reason(kind, text, p) == reason


def test_repeated_posts_compare_without_spaces_punctuation_and_emoticons() -> None:
    assert repeat_key("大家好，请关注我的视频号[抱拳] 谢谢支持！") == repeat_key(
        "大家好请关注我的视频号谢谢支持"
    )
    assert repeat_key("收到") != repeat_key("收到了")
