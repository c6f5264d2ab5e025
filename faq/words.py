"""The words a question is compared by: cleaned text, synonyms, content words and topic keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from faq.knowledge import Matter, synonym_table
from nlp.normalize import MAX_CHARS, MAX_RAW_CHARS, to_simplified
from nlp.segment import Segmenter

BOT_NAMES = ("小栖", "小棲")
_MENTION_RE = re.compile(r"^(?:@(?:" + "|".join(BOT_NAMES) + r")|@\S+\s)\s*")
_SPACE_RE = re.compile(r"\s+")

# The frame of a question ("去哪开", "怎么办", "阿能", "吗") is cut out before segmentation: every
# matter and every off-topic message has one, and jieba glues it to content ("哪开", "哪办").
# "怎么办理" keeps "办理" (a filler word) instead of leaving a stray "理".
_FRAME_RE = re.compile(
    r"哪些|(?:去|在|到)?哪(?:里|儿|个|家)?|怎么(?:办(?!理)|弄|搞|样)?|咋(?:办(?!理)|弄|搞)?|如何|什么|啥"
    r"|阿能|能不能|可不可以|有没有|要不要|是不是|请问|问一下|问下|[吗呢吧啊呀啦嘛哦噢呗]"
)
# Function words and generic verbs left after that; checked by cross-validation (dropping helps).
FILLER_WORDS = frozenset(
    " ".join(
        (
            "了 的 地 得 着 过 是 和 跟 与 或 还是 么 嗯 哈 我 我们 你 你们 他 她 咱 咱们 俺 自己",
            "家 家里 想 请 麻烦 谁 几 要 能 可以 会 有 没 一下 下 个 一个 这个 那个 都 也 就 还",
            "现在 今天 谢谢 好 知道 告诉 去 在 到 办 办理 开 找 弄 搞 需要 些 一些",
        )
    ).split()
)

# Words that say when, where, how much, whom to call or in which setting: the frame of a question
# rather than its topic. Every community question carries some ("社区", "几点开门", "多少钱",
# "活动"), so sharing only these with a matter is no evidence of asking about it: "请问社区的
# 图书角几点开门" shares "社区 几点 开门" with the waste-disposal times and nothing else.
GENERIC_WORDS = frozenset(
    " ".join(
        (
            "社区 小区 南京 居委会 社区居委会 楼 楼下 楼上 附近 这里 那里 这边 那边 地方",
            "几点 几号 几天 多久 多长时间 时间 时候 最近 平时 每天 每年 今年 明年 明天 昨天 后天",
            "早上 上午 中午 下午 晚上 周末 周一 周二 周三 周四 周五 周六 周日 星期天 这周 下周",
            "多少 多少钱 钱 价格 费用 电话 号码 开门 关门 开放 营业 上班 下班",
            "活动 服务 问题 事 事情 情况 信息 东西 人 有人 大家 谁家",
            "用 做 买 上 下 里 给 不 一起 还有 能用 行 对 新 老 大 小 多 少",
        )
    ).split()
)
# What a question asks about a matter rather than which matter: its steps, papers, conditions, the act
# of applying, the office it is done at, and who it is for. Every answer covers them, so a close match
# needs no matter to use them.
ASPECT_WORDS = frozenset(
    " ".join(
        (
            "材料 资料 证件 手续 流程 步骤 程序 条件 要求 规定 网上 线上 手机 手机上 一般 具体 大概 应该",
            "申请 申领 报名 登记 领 领取 交 缴 缴费 预约 办好 办完 弄好 开通 带 准备 需要 必须 得 还 才",
            "我家 我们家 俺家 咱家 我妈 我爸 妈 爸 爸妈 老妈 老爸 父母 老伴 爱人 老公 老婆 老头子 老太太",
            "老头 老太 爷爷 奶奶 外公 外婆 公公 婆婆 儿子 女儿 闺女 孙子 孙女 家人 家里人 亲戚 朋友",
            "各位 大家 邻居 有人 知道 谁 哪位",
            "社区医院 医院 社区卫生服务中心 卫生服务中心 街道 为民服务中心 政务服务中心 派出所 窗口 网点",
        )
    ).split()
)


def topic_keys(words: Sequence[str]) -> set[str]:
    """The non-generic content words of a text and the character bigrams inside them."""
    keys: set[str] = set()
    for word in words:
        if word in GENERIC_WORDS:
            continue
        keys.add(word)
        keys.update(word[i : i + 2] for i in range(len(word) - 1))
    return keys


@dataclass(frozen=True)
class Synonyms:
    """Other names residents use for a word, read as that word (the matters' `synonyms`)."""

    table: dict[str, str]
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, matters: Sequence[Matter]) -> Synonyms:
        table = {clean(name): clean(word) for name, word in synonym_table(matters).items()}
        table = {name: word for name, word in table.items() if name and word}
        if not table:
            return cls({}, None)
        table |= {word: word for word in table.values()}  # the word itself is set apart too
        names = sorted(table, key=lambda name: (-len(name), name))  # the longest name first
        return cls(table, re.compile("|".join(re.escape(name) for name in names)))

    def apply(self, text: str) -> str:
        """The text with each other name replaced by its word, and every such word set apart so that
        jieba cuts it the same way wherever it stands ("老年卡要" would be "老年 卡要")."""
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda found: f" {self.table[found.group(0)]} ", text)


NO_SYNONYMS = Synonyms({}, None)


def clean(text: object) -> str:
    """Simplified, lower-case, half-width text without the bot's @-mention or control characters.

    Not nlp.normalize.normalize: that replaces numbers by placeholders, and numbers tell
    FAQ questions apart ("12345", "65岁", "80岁").
    """
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text[:MAX_RAW_CHARS])
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = to_simplified(text).lower()
    text = _SPACE_RE.sub(" ", text).strip()
    while (stripped := _MENTION_RE.sub("", text, count=1)) != text:
        text = stripped
    return text[:MAX_CHARS]


def content_words(text: str, segmenter: Segmenter, synonyms: Synonyms = NO_SYNONYMS) -> tuple[str, ...]:
    """Words of a cleaned text that say what it asks: no punctuation, emoji or filler words."""
    return tuple(
        w
        for w in segmenter.words(_FRAME_RE.sub(" ", synonyms.apply(text)))
        if any(ch.isalnum() for ch in w) and w not in FILLER_WORDS
    )
