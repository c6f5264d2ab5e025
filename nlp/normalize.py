"""Text normalisation: one canonical form for every way residents type the same thing."""

from __future__ import annotations

import re
from functools import cache

from opencc import OpenCC

# Longer texts are cut for classification: the head of a message carries its intent, and
# pathological 10,000-character pastes must cost no more than a normal message.
MAX_RAW_CHARS = 2000
MAX_CHARS = 400

# Placeholders are single private-use characters, so that both the word segmenter and
# the character n-grams see each one as one indivisible token.
URL = "\ue000"
PHONE = "\ue001"
BUILDING = "\ue002"
UNIT = "\ue003"
ROOM = "\ue004"
FLOOR = "\ue005"
NUMBER = "\ue006"
MONEY = "\ue007"
EMAIL = "\ue008"
PLACEHOLDERS: dict[str, str] = {
    URL: "<网址>",
    PHONE: "<电话>",
    BUILDING: "<楼栋>",
    UNIT: "<单元>",
    ROOM: "<房号>",
    FLOOR: "<楼层>",
    NUMBER: "<数字>",
    MONEY: "<金额>",
    EMAIL: "<邮箱>",
}

# WeChat's built-in emoticons, typed as [名字]. Append only: the order fixes their tokens.
WECHAT_EMOTICONS: tuple[str, ...] = (
    "微笑",
    "撇嘴",
    "色",
    "发呆",
    "得意",
    "流泪",
    "害羞",
    "闭嘴",
    "睡",
    "大哭",
    "尴尬",
    "发怒",
    "调皮",
    "呲牙",
    "惊讶",
    "难过",
    "酷",
    "冷汗",
    "抓狂",
    "吐",
    "偷笑",
    "愉快",
    "白眼",
    "傲慢",
    "饥饿",
    "困",
    "惊恐",
    "流汗",
    "憨笑",
    "悠闲",
    "奋斗",
    "咒骂",
    "疑问",
    "嘘",
    "晕",
    "疯了",
    "衰",
    "骷髅",
    "敲打",
    "再见",
    "擦汗",
    "抠鼻",
    "鼓掌",
    "糗大了",
    "坏笑",
    "左哼哼",
    "右哼哼",
    "哈欠",
    "鄙视",
    "委屈",
    "快哭了",
    "阴险",
    "亲亲",
    "吓",
    "可怜",
    "菜刀",
    "西瓜",
    "啤酒",
    "篮球",
    "乒乓",
    "咖啡",
    "饭",
    "猪头",
    "玫瑰",
    "凋谢",
    "嘴唇",
    "爱心",
    "心碎",
    "蛋糕",
    "闪电",
    "炸弹",
    "刀",
    "足球",
    "瓢虫",
    "便便",
    "月亮",
    "太阳",
    "礼物",
    "拥抱",
    "强",
    "弱",
    "握手",
    "胜利",
    "抱拳",
    "勾引",
    "拳头",
    "差劲",
    "爱你",
    "NO",
    "OK",
    "爱情",
    "飞吻",
    "跳跳",
    "发抖",
    "怄火",
    "转圈",
    "磕头",
    "回头",
    "跳绳",
    "投降",
    "激动",
    "乱舞",
    "献吻",
    "左太极",
    "右太极",
    "嘿哈",
    "捂脸",
    "奸笑",
    "机智",
    "皱眉",
    "耶",
    "吃瓜",
    "加油",
    "汗",
    "天啊",
    "Emm",
    "社会社会",
    "旺柴",
    "好的",
    "打脸",
    "哇",
    "翻白眼",
    "666",
    "让我看看",
    "叹气",
    "苦涩",
    "裂开",
    "合十",
    "庆祝",
    "红包",
    "發",
    "福",
    "烟花",
    "爆竹",
    "破涕为笑",
    "笑脸",
    "生病",
    "脸红",
    "恐惧",
    "失望",
    "无语",
    "心",
    "囧",
    "Twirl",
    "鞭炮",
    "灯笼",
    "蜡烛",
    "面无表情",
    "叹气",
    "亲亲",
)
_EMOTICON_BASE = 0xE100
EMOTICON_TOKENS: dict[str, str] = {}
for _i, _name in enumerate(WECHAT_EMOTICONS):
    EMOTICON_TOKENS.setdefault(_name.lower(), chr(_EMOTICON_BASE + _i))

_CN_NUM = "零〇一二两三四五六七八九十百"
_NUM = rf"(?:\d+|[{_CN_NUM}]+)"
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？]+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*"
    r"\.(?:com|cn|net|org|top|xyz|vip|cc|me|info|link|site|shop|club)"
    r"(?:/[^\s\u4e00-\u9fff，。！？]*)?",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
_PHONE_RE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?(?:\d{4}|[x*]{4})[- ]?\d{4}(?!\d)"  # masked ones too
    r"|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)",
    re.IGNORECASE,
)
_DASH_ADDRESS_RE = re.compile(r"(?<![\d-])\d{1,3}-\d{1,2}-\d{3,4}(?![\d-])")
_BUILDING_RE = re.compile(rf"{_NUM}\s*(?:号楼|栋|幢|座|号院)")
_UNIT_RE = re.compile(rf"{_NUM}\s*单元")
_ROOM_RE = re.compile(r"(?<=[\ue002\ue003])\s*\d{3,4}(?:室|号|房)?|\d{3,4}\s*(?:室|号房)")
_FLOOR_RE = re.compile(rf"{_NUM}\s*(?:楼|层)(?!道|梯|下|上|顶|房|盘|主|长)")
_MONEY_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:元|块|万|w|k)(?![a-z])|[¥￥]\s*\d+(?:\.\d+)?", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")
_EMOTICON_RE = re.compile(r"\[([^\[\]\s]{1,6})\]")
_HAS_DIGIT_RE = re.compile(r"\d")
_HAS_PLACE_RE = re.compile(r"[栋幢座楼院单元室层号房\ue002\ue003]|\d{3}")
_SPACE_RE = re.compile(r"\s+")
_REPEAT_RE = re.compile(r"(.)\1{3,}")


@cache
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@cache
def _traditional_chars() -> frozenset[str]:
    """Characters whose presence means the t2s conversion may change the text."""
    chars: set[str] = set()
    for group in _t2s()._dict_chain_data:
        for _max_len, _min_len, mapping in group:
            for key, value in mapping.items():
                if len(key) == 1 and key != value.split(" ")[0]:
                    chars.add(key)
    return frozenset(chars)


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese, skipping the slow converter for texts that need none."""
    if _traditional_chars().isdisjoint(text):
        return text
    return str(_t2s().convert(text))


def _translation_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)):
        table[code] = None
    for ch in "\n\r\t\v\f":
        table[ord(ch)] = " "
    # Invisible format characters, variation selectors and skin tones: the base emoji is the signal.
    for code in (
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        0xFEFF,
        *range(0xFE00, 0xFE10),
        *range(0x1F3FB, 0x1F400),
        0xAD,
        0x180E,
    ):
        table[code] = None
    return table


_TABLE = _translation_table()
_ODD_RE = re.compile(r"[\ud800-\udfff\U000e0000-\U000e007f]")


def _width_and_controls(text: str) -> str:
    """Full-width ASCII to half width, line breaks to spaces, control/format characters out."""
    return _ODD_RE.sub("", text.translate(_TABLE))


def _emoticon(match: re.Match[str]) -> str:
    return EMOTICON_TOKENS.get(match.group(1).lower(), match.group(0))


def normalize(text: str) -> str:
    """Canonical text for classification; never raises, whatever comes in."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_RAW_CHARS]
    text = _width_and_controls(text)
    if "[" in text:
        text = _EMOTICON_RE.sub(_emoticon, text)
    text = to_simplified(text)
    text = text.lower()
    if "." in text:
        text = _URL_RE.sub(URL, text)
        text = _EMAIL_RE.sub(EMAIL, text)
    if _HAS_DIGIT_RE.search(text):
        text = _PHONE_RE.sub(PHONE, text)
        text = _DASH_ADDRESS_RE.sub(BUILDING + UNIT + ROOM, text)
    if _HAS_PLACE_RE.search(text):
        text = _BUILDING_RE.sub(BUILDING, text)
        text = _UNIT_RE.sub(UNIT, text)
        text = _ROOM_RE.sub(ROOM, text)
        text = _FLOOR_RE.sub(FLOOR, text)
    if _HAS_DIGIT_RE.search(text):
        text = _MONEY_RE.sub(MONEY, text)
        text = _DIGITS_RE.sub(NUMBER, text)
    text = _REPEAT_RE.sub(r"\1\1\1", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def readable(normalized: str) -> str:
    """Show placeholders by name, for logs and debugging."""
    names = {tok: f"[{name}]" for name, tok in EMOTICON_TOKENS.items()}
    names.update(PLACEHOLDERS)
    return "".join(names.get(ch, ch) for ch in normalized)
