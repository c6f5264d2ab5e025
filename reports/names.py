"""Which words in residents' quotes are people's names, for the report to hide: names of people in the
registry, and names a cue introduces (我叫陈晓明, 姓王, 王阿姨, 刘师傅, 蒋女士, 陈建华主任). A character that
merely could be a surname is not a name: 王府大街, 李子园, 张贴, 周末, 金桥, 叶子 stay as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlmodel import Session, select

from groups.models import Community, Person, Role, Street
from groups.people import COMPOUND_SURNAMES, NICKNAME_PREFIXES, name_parts
from nlp.segment import Segmenter

# Single-character surnames, without those that are mostly function words (和, 向, 由, 那, 但 …).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪"
    "梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简项"
    "连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞"
    "敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼闻厉伊仝郜海阚花权强帅"
    "屠豆朴盖练廉禹井祖漆巴丰支卿国狄计索宣晋相芮普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况宿鲜印逯隆茹"
    "诸战慕危玉银亢嵇湛宾戎勾茅利呼居揭干尉冶斯元束檀衣信展阴昝智幸奉植衡富尧"
)
# The most common surnames: a title after one of them names a person unless COMMON_WORDS says otherwise
# (明天王师傅来: 天王 is a word, but not here).
TOP_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦"
)
# Surnames that are also common word endings (明天, 国家, 海边 …): a title after them is no cue.
CUE_SURNAMES = SURNAMES - frozenset(
    "明国南信利元干居相计支普战危玉银富智幸衣展植斯呼揭况鲜印隆宿修母乌羊薄戈宣索丰巴井练盖豆强权花海伊闻楼皮劳"
    "原储官查商边全宗米席冷党景连简古农解曲单毕包申师班乐池"
)
# What follows a person's surname or name in talk, longest first: 王阿姨, 刘师傅, 陈建华主任, 刘姐.
_TITLE_WORDS = ("阿姨", "大爷", "大妈", "大娘", "大姐", "大哥", "大叔", "大伯", "大婶", "奶奶", "爷爷", "叔叔", "伯伯", "婆婆", "阿婆", "爹爹", "师傅", "女士", "先生", "小姐", "老师", "医生", "律师", "经理", "老板", "主任", "书记", "科长", "所长", "站长", "队长", "警官", "社工", "网格员", "网格长", "网格", "同志", "姐", "哥", "叔", "姨")  # fmt: skip
TITLES = tuple(sorted(_TITLE_WORDS, key=len, reverse=True))
# Words that end in a surname character and come before a title: 门卫大爷 is nobody's name, nor 江苏大哥,
# 上周师傅来过 or 关于老师的事.
COMMON_WORDS = frozenset(("谢谢", "感谢", "多谢", "道谢", "保安", "门卫", "环卫", "宿管", "物管", "收费", "缴费", "值班", "上班", "下班", "施工", "小区", "社区", "园区", "园林", "电信", "联通", "交通", "出租车", "开车", "修车", "停车", "搬家", "管家", "东家", "语文", "英文", "中文", "历史", "音乐", "前任", "新任", "现任", "江苏", "浙江", "河南", "湖南", "云南", "海南", "公司", "帅哥", "师哥", "师姐", "班主任", "这位", "那位", "一位", "各位", "上周", "下周", "本周", "这周", "每周", "一周", "两周", "四周", "也许", "或许", "允许", "任何", "如何", "为何", "关于", "对于", "由于", "至于", "终于", "属于", "等于", "其余", "多余", "业余", "分钟", "规范", "示范", "模范", "立马", "树林", "森林", "责任", "主任"))  # fmt: skip
# What may stand right before a full name followed by a title: 请张建国主任, 麻烦刘建华师傅.
BEFORE_NAME = frozenset("找跟和给让叫请问是被向对把位个与及同说的了等由见@") | frozenset(("联系", "麻烦", "感谢", "谢谢", "通知", "告诉", "还有", "以及", "打给", "转给", "交给", "反映", "投诉", "表扬"))  # fmt: skip
# Characters that end a name introduced by 我叫/本人: 我叫王明住3栋, 本人张三，电话…
_NAME_STOP = "的了是在住家说要想和跟与及同我你他她们也都就还已从来去有到把被给让叫对向请问反映这那个位"
_HAN = r"[\u4e00-\u9fff]"
_SURNAME = "(?:" + "|".join(sorted(COMPOUND_SURNAMES)) + "|[" + "".join(sorted(CUE_SURNAMES)) + "])"
_GIVEN = rf"(?:(?![{_NAME_STOP}]|{'|'.join(TITLES)}){_HAN})"
_INTRODUCED = re.compile(
    rf"(?P<cue>我叫|名叫|叫做|名字叫|名字是|本人|联系人|姓名)(?P<gap>[\s:：是为]{{0,3}})(?P<name>{_SURNAME}{_GIVEN}{{1,2}})"
)
# 我是王秀英 — only when the name ends the clause (我是3栋的, 我是李家的 are no names)
_SELF_NAMED = re.compile(rf"(?P<cue>我是)(?P<name>{_SURNAME}{_GIVEN}{{1,2}})(?=$|[\s，,。.！!？?；;、])")
_SURNAME_GIVEN = re.compile(rf"(?<!百)姓(?P<name>{_SURNAME})")
_TITLE = re.compile("|".join(TITLES))
COMMON_FREQ = 50  # a word the dictionary counts this often is a word (高峰, 文明), not only a name
MASKED = "某"


def _surname_length(text: str, surnames: frozenset[str] = SURNAMES) -> int:
    """1 or 2 when `text` starts with a surname (欧阳 is two), 0 when it does not."""
    if text[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if text[:1] in surnames else 0


def _all_han(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True)
class NameMask:
    """Hides names in text; `known` are the personal names of registered people (王斌, 刘玉珍) and
    `frequency` says how common a word is (jieba's dictionary count; 0 for a word it does not know)."""

    known: frozenset[str] = frozenset()
    frequency: Callable[[str], int] = field(default=lambda _word: 0, compare=False)
    places: frozenset[str] = frozenset()  # community and street names: 桂语湾社工 is no 桂某

    @classmethod
    def from_registry(cls, session: Session, segmenter: Segmenter | None = None) -> NameMask:
        """The names of everyone in the registry that look like names (a surname and one or two more
        characters) and are not also ordinary words (高峰, 文明)."""
        mask = cls(frequency=_dictionary(segmenter)) if segmenter is not None else cls()
        prefixes = [name for name in session.exec(select(Community.name)) if name]
        streets = [name for name in session.exec(select(Street.name)) if name]
        places = {stem for name in (*prefixes, *streets) for stem in (name, re.sub("(社区|街道)$", "", name))}
        known: set[str] = set()
        for name, role in session.exec(select(Person.name, Person.role)):
            for run in re.findall(rf"{_HAN}{{2,}}", name or ""):
                personal = name_parts(run, Role(role), prefixes).personal
                if (
                    personal is not None
                    and _looks_like_name(personal)
                    and not mask.is_word(personal)
                    and not (len(personal) == 2 and personal[-1] in "工总")  # 王工, 陈总: 紧张工作
                ):
                    known.add(personal)
        return replace(mask, known=frozenset(known), places=frozenset(p for p in places if len(p) >= 2))

    def is_word(self, text: str, common: int = COMMON_FREQ) -> bool:
        return text in COMMON_WORDS or self.frequency(text) >= common

    def hide(self, text: str) -> str:
        """'麻烦蒋涛帮忙' -> '麻烦某某帮忙' (registered), '我叫陈晓明' -> '我叫某某', '王阿姨' -> '某阿姨'."""
        if not text:
            return text
        text = self._hide_known(text)
        text = _INTRODUCED.sub(lambda m: m["cue"] + m["gap"] + MASKED * 2, text)
        text = _SELF_NAMED.sub(lambda m: m["cue"] + MASKED * 2, text)
        text = _SURNAME_GIVEN.sub("姓" + MASKED, text)
        return self._hide_titled(text)

    def _hide_known(self, text: str) -> str:
        if not self.known:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            length = next((n for n in (4, 3, 2) if text[i : i + n] in self.known), 0)
            out.append(MASKED * 2 if length else text[i])
            i += length or 1
        return "".join(out)

    def _hide_titled(self, text: str) -> str:
        spans: list[tuple[int, int, str]] = []
        in_place = self._in_places(text)
        for title in _TITLE.finditer(text):
            span = self._name_before(text, title.start(), title.group())
            if span is None or any(in_place[span[0] : span[1]]):
                continue
            if not spans or spans[-1][1] <= span[0]:
                spans.append(span)
        for start, end, masked in reversed(spans):
            text = text[:start] + masked + text[end:]
        return text

    def _in_places(self, text: str) -> list[bool]:
        """For each character, whether it is part of a place name the registry knows."""
        covered = [False] * len(text)
        for place in self.places:
            at = text.find(place)
            while at >= 0:
                covered[at : at + len(place)] = [True] * len(place)
                at = text.find(place, at + 1)
        return covered

    def _name_before(self, text: str, end: int, title: str) -> tuple[int, int, str] | None:
        """The name `title` at `end` follows: a full name (陈建华主任) or a surname (王阿姨), if any."""
        if end >= 2 and text[end - 2 : end] in COMPOUND_SURNAMES:
            return end - 2, end, MASKED
        at = end - 1
        surname = (
            at >= 0
            and text[at] in CUE_SURNAMES
            and not self.is_word(text[at:end] + title, common=200)  # 帅哥, 班主任
            and not self._ends_word(text, at)
        )
        for start in (end - 4, end - 3, end - 2):
            name = text[max(start, 0) : end]
            if (
                start < 0
                or not _all_han(name)
                or not _looks_like_name(name, CUE_SURNAMES)
                or self.is_word(name)
                or self._ends_word(text, start)  # 保安马师傅: 安马 is no name
            ):
                continue
            if start == 0 or not _all_han(text[start - 1]) or _after_lead_in(text, start) or not surname:
                return start, end, MASKED * 2
        return (at, end, MASKED) if surname else None

    def _ends_word(self, text: str, at: int) -> bool:
        """Whether the character at `at` ends the word before it (门卫, 上周) rather than starting a name."""
        if at == 0 or text[at - 1] in NICKNAME_PREFIXES:  # 小李, 老王
            return False
        before = text[at - 1 : at + 1]
        return before in COMMON_WORDS or (text[at] not in TOP_SURNAMES and self.is_word(before))


def _after_lead_in(text: str, start: int) -> bool:
    return text[start - 1] in BEFORE_NAME or text[max(start - 2, 0) : start] in BEFORE_NAME


def _looks_like_name(word: str, surnames: frozenset[str] = SURNAMES) -> bool:
    """A surname and one or two characters more: 王斌, 刘玉珍, 欧阳娜娜; not 小吴 or 周大姐."""
    surname = _surname_length(word, surnames)
    return (
        surname > 0
        and 2 <= len(word) <= surname + 2
        and not any(ch in _NAME_STOP for ch in word[surname:])  # 苑的, 王在
        and not word.startswith(NICKNAME_PREFIXES)
        and not any(word.endswith(t) for t in TITLES)
    )


def _dictionary(segmenter: Segmenter) -> Callable[[str], int]:
    """How often jieba's dictionary (the segmenter's own, already loaded) counts a word."""
    freq = segmenter._ready().FREQ
    return lambda word: int(freq.get(word) or 0)
