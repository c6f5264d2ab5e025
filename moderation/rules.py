"""What makes a message advertising or spam: rules for links, QR codes, mini-programs, contact
solicitations and sales talk, with the classifier's 广告 probability as supporting evidence.

Measured on the demo month, the classifier alone is not enough: it calls "已接龙" and a neighbour's
"送一只小猫，要的私聊" 广告 with p > 0.7. So a plain text is warned about only with a rule sign, and
the weak signs (a price, "免费送", a phone after 联系) also need the classifier's agreement.
Pure: text and probability in, a reason (or None) out."""

from __future__ import annotations

import re

from groups.messages import MessageKind

SUPPORTED = 0.4  # the classifier's P(广告) that turns a weak sign into a warning
LINK_ALONE = 0.8  # a strange link with no other sign: only if the classifier is this sure
MINIPROGRAM_ALONE = 0.6

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:top|xyz|vip|cc|cn|com|net|shop|icu|club)(?:/\S*)?", re.I
)
_OFFICIAL = re.compile(r"\.gov\.cn|mp\.weixin\.qq\.com", re.I)
_QR = re.compile(r"扫码|扫一扫|二维码|长按识别")
_CONTACT = re.compile(
    r"加(?:我)?(?:微信|v信|vx|VX|威信|qq|QQ)|微信号|私聊下单|进群领|拉你进群|私我|"
    r"(?:预约|登记|咨询|联系|订购|订餐|热线)(?:电话)?[:：\s]*1[3-9]\d"
)
_STRONG = re.compile(  # sales talk that is never a neighbour's favour
    r"日赚|刷单|返利|低息|贷款|无抵押|保本保息|年化|高价回收|上门回收|红包群|砍一刀|做团长|"
    r"24小时上门|送米送油"
)
_WEAK = re.compile(  # also what neighbours say when giving things away or organising a group buy
    r"买[一二三]送[一二三]|特价|\d+元\d*[只斤箱盒袋]|\d+斤装|包邮|产地直发|限时|名额有限|先到先得|"
    r"免费领|免费送|免费体验|免费体检|免费安装|只收.{1,4}费|团购|拼团|优选|明日达|开业|急售|价格可谈"
)


def commercial_signs(text: str) -> list[str]:
    """The rule-based signs of promotion in a text, in words staff understand."""
    signs = []
    if any(not _OFFICIAL.search(url) for url in _URL.findall(text)):
        signs.append("链接")
    if _QR.search(text):
        signs.append("二维码")
    if _CONTACT.search(text):
        signs.append("拉人加微信")
    if _STRONG.search(text) or _WEAK.search(text):
        signs.append("推销")
    return signs


def ad_reason(kind: MessageKind, text: str, ad_probability: float) -> str | None:
    """Why a message is advertising (None if it isn't): a reason for the warning and the log."""
    signs = commercial_signs(text)
    supported = ad_probability >= SUPPORTED
    if kind is MessageKind.MINIPROGRAM:
        # group buys and "free check-up" mini-programs are the neighbourhood's commonest adverts
        return "小程序推广" if ad_probability >= MINIPROGRAM_ALONE or (signs and supported) else None
    if kind is MessageKind.LINK:
        return (
            "推广链接"
            if ad_probability >= LINK_ALONE or (signs and supported) or _STRONG.search(text)
            else None
        )
    if kind is not MessageKind.TEXT or not signs:
        return None
    reason = "、".join(signs)
    if _STRONG.search(text):
        return reason
    if "链接" in signs:
        return reason if len(signs) > 1 or ad_probability >= LINK_ALONE else None
    return reason if supported else None


def repeat_key(text: str) -> str:
    """Text compared for repeated posts: without spaces, punctuation and emoticons."""
    return re.sub(r"\[[^\]]{1,6}\]|[\s\W_]+", "", text).lower()
