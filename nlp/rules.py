"""Emergency keyword rules: a missed 紧急 is the worst error, so rules back up the model's recall."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EmergencyRule:
    """A danger pattern, with guards for the harmless phrases that share its words."""

    name: str
    pattern: re.Pattern[str]
    guard: re.Pattern[str] | None = None
    # A strong rule names a person in danger so specifically that it overrides the model;
    # a weak one (fire words, gas, 被困) only lowers the probability the model must reach.
    strong: bool = False


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Guards shared by every rule: drills, talks and tips about danger, stories, alarms already over.
_GENERAL_GUARD = _re(
    r"演习|演练|讲座|培训|宣传|科普|知识|课堂|常识|安全月|安全周|小贴士|注意事项|隐患|"
    r"万一|假如|要是|虚惊|误报|差点|幸亏|幸好|还好|新闻|电影|电视剧|游戏|防走失|防摔|手环|"
    r"上次|上周|上个月|去年|前几年|(?:已经|早就)(?:灭|扑灭|找到|送医|没事|处理好|修好)|找到了|没事了"
)

RULES: tuple[EmergencyRule, ...] = (
    EmergencyRule(
        "fire",
        _re(
            r"着火|起火|失火|火灾|烧起来|冒火|火光|火苗|明火|浓烟|黑烟|冒烟|烟很大|全是烟|"
            r"烧焦味|焦糊味|爆炸|炸了|火势|报火警"
        ),
        _re(
            r"火锅|上火|火气|发火|火爆|火车|火柴|火腿|红火|火龙果|烟花|抽烟|吸烟|香烟|烟酒|"
            r"烟头|烟民|油烟机|炊烟|烟囱|冒烟的菜|人气火|生意火|消防(?:检查|通道|栓|设施)"
        ),
    ),
    EmergencyRule(
        "gas",
        _re(
            r"煤气味|燃气味|天然气味|煤气泄[漏露]|燃气泄[漏露]|漏气|一氧化碳|煤气中毒|闻到.{0,4}(?:煤气|燃气|天然气)"
        ),
        _re(r"燃气费|煤气费|燃气公司.{0,4}(?:电话|营业)|开通燃气|燃气卡|充值"),
    ),
    EmergencyRule(
        "fallen",
        _re(
            r"(?:老人|老太|老头|大爷|大妈|奶奶|爷爷|阿姨|叔叔|婆婆|老伯|人).{0,8}"
            r"(?:摔倒|跌倒|晕倒|昏倒|倒在地|倒地|不省人事|没反应|没有反应|叫不醒|抽搐|口吐白沫)|"
            r"(?:摔倒|摔了|晕倒|昏倒|倒地|跌倒).{0,6}(?:起不来|不动|没反应|没意识)|心脏病发|喘不上气|大出血|昏迷"
        ),
        _re(r"防跌倒|防摔|跌倒风险"),
        strong=True,
    ),
    EmergencyRule(
        "trapped",
        _re(r"被困|困在|关在电梯|卡在电梯|电梯.{0,6}(?:困|卡)住|出不来|救命|快来人|救救"),
        _re(r"困难|困了|犯困|困惑|困扰|贫困|出不来(?:结果|成绩|钱|证)"),
    ),
    EmergencyRule(
        "alone_unresponsive",
        _re(
            r"(?:一个人住|独居|独自在家|孤寡|空巢).{0,40}(?:打不通|联系不上|没人应|没人开|敲门没|没动静|没开门|没出门|没发)|"
            r"(?:打不通|联系不上|没人应|没人开|敲门没|没动静).{0,40}(?:一个人住|独居|独自|孤寡)"
        ),
        strong=True,
    ),
    EmergencyRule(
        "lift_trapped",
        _re(
            r"(?:在|困在|关在|卡在).{0,6}电梯里|电梯.{0,6}(?:停了|不动了|掉下|下坠|急坠).{0,12}(?:里面|有人|我在|孩子)"
        ),
        strong=True,
    ),
    EmergencyRule(
        "missing",
        _re(
            r"(?:孩子|小孩|儿子|女儿|娃|宝宝|老人|老爷子|老太太|我妈|我爸|外婆|外公|奶奶|爷爷).{0,8}"
            r"(?:不见了|走丢|走失|找不到了|失踪|联系不上|没回家|没回来)"
        ),
        _re(r"(?:钥匙|手机|快递|猫|狗|狗狗|猫咪|车|证件|卡|钱包|包裹).{0,4}(?:不见|找不到|丢)"),
        strong=True,
    ),
    EmergencyRule(
        "self_harm",
        _re(r"跳楼|要跳|想跳下去|站在(?:楼顶|天台|窗台|阳台外)|轻生|自杀|寻短见|割腕|不想活|喝农药|吞药"),
        _re(r"跳楼价|跳楼甩卖|跳楼大甩卖|跳绳|跳舞|跳槽"),
        strong=True,
    ),
    EmergencyRule(
        "violence",
        _re(r"持刀|拿着刀|砍人|打人了|打起来了|家暴|被打|抢劫|杀人|流了很多血|血流不止|砸门"),
        _re(r"菜刀.{0,4}(?:磨|卖)|打起来了吗|游戏"),
    ),
    EmergencyRule(
        "flood_electric",
        _re(r"触电|电线.{0,4}(?:掉|断|冒火|打火)|漏电|水漫|淹了|倒灌|塌了|坍塌|塌方|掉下来砸"),
        _re(r"防触电|预防|台风预警"),
    ),
)


def emergency_rule(text: str) -> EmergencyRule | None:
    """The first danger rule that fires on normalised text, harmless look-alikes removed."""
    if not text or _GENERAL_GUARD.search(text):
        return None
    for rule in RULES:
        checked = rule.guard.sub(" ", text) if rule.guard is not None else text
        if rule.pattern.search(checked):
            return rule
    return None
