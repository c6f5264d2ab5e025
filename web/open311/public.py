"""What a ticket reads as to a system that did not file it: a topic without names, places or numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reports.names import TOP_SURNAMES, NameMask
from tickets.texts import topic

TOPIC_LENGTH = 30
NAMES = NameMask()  # names introduced by a cue or followed by a title (王阿姨, 我叫陈晓明)
# 老/小 before these makes a word more often than a name (老毛病, 小程序, 小黄车, 小段路)
_OLD = "".join(sorted(TOP_SURNAMES - set("毛严胡方高石龙")))
_YOUNG = "".join(sorted(TOP_SURNAMES - set("高石龙方毛孔段程范孙黄胡")))
_CJK_NUMBER = r"(?:\d+|[零〇一二两三四五六七八九十百]+)"
_MENTION = re.compile(r"@[^\s\u2005@]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_LIKE = "〇零一幺二两三四五六七八九*＊"  # with \d (full-width too): numbers as residents write them
_CONTACT = re.compile(  # a phone, ID-card or other long number, masked or not, with what introduces it
    r"(?:(?:我的|本人|[她他]的?)?(?:联系)?(?:电话|手机号?|方式|身份证号?|证件号)[码是为]?[:：\s]*)?"
    rf"(?:\+?86[\s-]?)?[\d{_DIGIT_LIKE}]{{2,}}(?:[\s-]?[\d{_DIGIT_LIKE}]{{2,}})*[Xx]?"
)
_FIGURES = re.compile(r"\d{3,}")  # what is left of a room number
_PLACE = re.compile(  # building, unit, room, floor: 5栋, 3号楼, 2单元, 502室, 5-302, 5#302, 三楼
    r"\d{1,3}\s*[-#＃－—_]\s*\d{1,4}(?:\s*[-－]\s*\d{2,4})?"
    rf"|{_CJK_NUMBER}\s*(?:号楼|栋|幢|座|号院|单元|室|号房|户|层|楼(?!道|梯|下|上|顶|房|盘|主|长))"
)
_FAMILIAR = re.compile(rf"(?<=老)[{_OLD}]|(?<=小)[{_YOUNG}]")  # 老王 -> 老某
_NAME_PART = re.compile(r"[\u4e00-\u9fff]{2,}")
_LOOSE_ENDS = re.compile(r"^[\s，,。.；;、：:的\-]+|[\s，,；;、：:的（(\-]+$")
_REPEATED_MARKS = re.compile(r"([\s，,。；;、])(?:[\s，,。；;、]|的(?!确))+")  # and a 的 left of a place


def _unless_short(match: re.Match[str]) -> str:
    """A number long enough to be a phone or an ID (7 figures and more) goes, with its label."""
    return "" if sum(c.isdigit() or c in _DIGIT_LIKE for c in match.group(0)) >= 7 else match.group(0)


def public_description(category: str, summary: str, names: Iterable[str] = ()) -> str:
    """The ticket's category and a short topic, without the names of its reporters (`names`, as
    WeChat or the caller gave them) or anyone called by a title or as 老X/小X, without places in the
    compound and without numbers: what another system may read of a resident's words."""
    text = _MENTION.sub("", _EMAIL.sub("", summary)) if "@" in summary else summary
    text = _FIGURES.sub("", _PLACE.sub("", _CONTACT.sub(_unless_short, text)))
    for name in names:
        for part in _NAME_PART.findall(_PLACE.sub(" ", name)):
            text = text.replace(part, "某人")
    text = _FAMILIAR.sub("某", NAMES.hide(text))  # the report's rules, and 老王/小李 besides
    text = _LOOSE_ENDS.sub("", _REPEATED_MARKS.sub(r"\1", " ".join(text.split())))
    return f"{category}：{topic(text, TOPIC_LENGTH)}" if text else category
