"""Emergency keyword rules: a missed 紧急 is the worst error, so rules back up the model's recall."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import EMOTICON_TOKENS


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
    r"上次|上周|上个月|去年|前几年|(?:已经|早就)(?:灭|扑灭|找到|送医|没事|处理好|修好)|找到了|没事了|"
    # laughter: nobody in danger writes 哈哈; alarm tests and checks are announced, not feared
    r"哈哈|hhh|😂|🤣|" + "".join(EMOTICON_TOKENS[name] for name in ("捂脸", "偷笑", "破涕为笑", "笑脸")) + "|"
    r"消防检[测查]|试鸣|测试|检测.{0,6}(?:警报|报警)|(?:烟感|报警器).{0,4}(?:没电|换电池|电量低)|"
    # a fright that was nothing: "吓我一跳 还以为又着火了", "原来是楼下在熬中药"
    r"还以为|以为是|以为又|原来是|开玩笑|"
    # talk about safety equipment: "建议发个灭火毯 油锅着火用得上"
    r"灭火毯|用得上|备着"
)
# The guards that say the danger is not real or not now, whatever the model thinks: drills, tests, jokes,
# frights that turned out to be nothing.
_NOT_NOW = _re(
    r"演习|演练|消防检[测查]|试鸣|测试|哈哈|hhh|😂|🤣|开玩笑|还以为|以为是|以为又|原来是|"
    + "|".join(EMOTICON_TOKENS[name] for name in ("捂脸", "偷笑", "破涕为笑"))
)

# Fire words that are not a fire: food, smoking, idioms, equipment, and fires feared rather than seen.
_FIRE_GUARD = (
    r"火锅|上火|火气|发火|火爆|火车|火柴|火腿|红火|火龙果|烟花|抽烟|吸烟|香烟|烟酒|"
    r"烟头|烟民|油烟|炊烟|烟囱|冒烟的菜|人气火|生意火|消防(?:检查|通道|栓|设施)|"
    # a stove or lighter that will not light is a question, not a fire
    r"(?:点|打)不着火?|不着火|打火|点火|着火点|辣到冒烟|气到冒烟|脑袋冒烟|嗓子冒烟|"
    # a fire feared, not seen: "堆这么多纸箱 着火了怎么办"
    r"(?:着火|起火|失火|火灾)了?(?:怎么办|咋办|咋整|谁负责|谁管|就完了|跑都跑不掉)|(?:如果|容易|会)(?:着火|起火)"
)

RULES: tuple[EmergencyRule, ...] = (
    EmergencyRule(
        "smoke_seen",
        # smoke or fire seen somewhere now, not talked about: "楼道里好大的烟味", "门缝里在往外冒烟"
        _re(
            r"(?:楼道|家里|屋里|房间|厨房|楼上|楼下|隔壁|对门|窗户|窗口|门缝|阳台|车棚|车库|地库|单元|楼里).{0,8}"
            r"(?:冒烟|有烟|好大的?烟|烟很大|全是烟|浓烟|黑烟|着火|起火|火苗|火光|烧焦)"
        ),
        _re(_FIRE_GUARD),
        strong=True,
    ),
    EmergencyRule(
        "fire",
        _re(
            r"着火|起火|失火|火灾|烧起来|冒火|火光|火苗|明火|浓烟|黑烟|冒烟|烟很大|全是烟|好大的?烟|烟好大|"
            r"烧焦的?味|焦糊的?味|一股焦味|火势|报火警"
        ),
        _re(_FIRE_GUARD),
    ),
    EmergencyRule(
        "explosion",
        _re(r"爆炸|炸了|爆了"),
        _re(
            r"气炸|炸了锅|炸毛|爆炸性|爆炸新闻|(?:轮胎|车胎|气球|手机|群|脑子|头)(?:都)?(?:要)?(?:炸|爆)了|爆满|火爆"
        ),
    ),
    EmergencyRule(
        "gas",
        _re(
            r"煤气味|燃气味|天然气味|煤气泄[漏露]|燃气泄[漏露]|漏气|一氧化碳|煤气中毒|闻到.{0,4}(?:煤气|燃气|天然气)"
        ),
        _re(
            r"燃气费|煤气费|燃气公司.{0,4}(?:电话|营业)|开通燃气|燃气卡|充值|"
            r"(?:轮胎|车胎|气门|篮球|足球|气球|游泳圈|打气).{0,4}漏气|漏气.{0,4}(?:轮胎|车胎)"
        ),
    ),
    EmergencyRule(
        "fallen",
        _re(
            r"(?:老人|老太|老头|大爷|大妈|奶奶|爷爷|阿姨|叔叔|婆婆|老伯|人).{0,8}"
            r"(?:摔倒|跌倒|晕倒|昏倒|倒在地|倒地|不省人事|没反应|没有反应|叫不醒|抽搐|口吐白沫)|"
            r"(?:摔倒|摔了|晕倒|昏倒|倒地|跌倒).{0,6}(?:起不来|不动|没反应|没意识)|心脏病发|喘不上气|大出血|昏迷|"
            r"(?:躺|倒)在地上|地上躺着|躺着(?:一个|个)?人|(?:喊|叫)(?:他|她|了)?.{0,3}(?:不答应|不应|没反应|叫不醒)"
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
            r"(?:一个人住|独居|独自在家|孤寡|空巢).{0,40}(?:打不通|联系不上|没人应|没人开|敲门没|敲门不|没动静|没开门|没出门|没发|没见)|"
            r"(?:打不通|联系不上|没人应|没人开|敲门没|敲门不|没动静).{0,40}(?:一个人住|独居|独自|孤寡)|"
            # an old neighbour not seen for days is checked on at once
            r"(?:老人|老太太|老太|老爷爷|老爷子|老头|老两口|奶奶|爷爷|阿婆|老伯).{0,12}"
            r"(?:好几|几|两|三|四|五|[\ue006])天(?:都)?没(?:见|看到|看见|见着|见到|出门|下楼|露面|动静)|"
            # not seen for days, and the door or the flat says something is wrong
            r"(?:好几|几|两|三|四|五|[\ue006])天(?:都)?没(?:见|看到|看见|见着|见到|出门|下楼|动静).{0,30}"
            r"(?:敲门|没人应|不应|没反应|不开门|没开门|电视|灯|报纸|牛奶|快递|外卖|堆在门口|臭|异味|怪味|电话)|"
            r"(?:敲门|叫门).{0,6}(?:不应|没人应|没反应|不开).{0,30}(?:好几天|几天|两天|三天|老人|老爷爷|老太太|奶奶|爷爷|电视|灯)|"
            r"(?:邻居|隔壁|对门|楼上|楼下).{0,12}(?:传出|飘出|冒出|有|一股).{0,4}(?:臭味|尸臭|腐臭|怪味|异味)"
            r".{0,20}(?:没见|没人|好几天|几天|敲门)"
        ),
        strong=True,
    ),
    EmergencyRule(
        "lift_trapped",
        _re(
            r"(?:人在|我在|孩子在|老人在|困在|关在|卡在|被困在?).{0,6}电梯里|"
            r"电梯.{0,12}(?:停了|不动了|掉下|下坠|急坠|卡住|卡在|困住|关住|停在半).{0,20}"
            r"(?:在里面|里面有人|有人在里|人在里|被关|关着人|困着|出不来)"
        ),
        strong=True,
    ),
    EmergencyRule(
        "missing",
        _re(
            r"(?:孩子|小孩|男孩|女孩|小朋友|儿子|女儿|闺女|娃|宝宝|老人|老爷子|老头|老太太|老太|我妈|我爸|外婆|外公|奶奶|爷爷|"
            r"母亲|父亲|老伴|婆婆|公公|家人|大爷|阿姨).{0,20}"
            r"(?:不见了|走丢|走失|找不到了|失踪|联系不上|没回家|没回来|还没到家)|"
            r"放学.{0,12}(?:还没回|没回来|没到家|找不到)|(?:出去|出门).{0,16}(?:到现在|一直).{0,4}没回|"
            r"(?:老年痴呆|痴呆|阿尔茨海默|认知障碍|糊涂).{0,24}(?:不见|走丢|走失|没回|找不到)|"
            r"(?:不见|走丢|走失|没回来|找不到).{0,24}(?:老年痴呆|痴呆|阿尔茨海默|认知障碍)"
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


def not_now(text: str) -> bool:
    """Whether normalised text says its danger is not real or not now (a drill, a joke, a false fright)."""
    return bool(_NOT_NOW.search(text))
