"""Match a resident's question to a knowledge-base matter, and say when not sure enough to answer.

Features: TF-IDF (sublinear tf, fitted on the knowledge base) over two views of each question
and variant, after the question frame ("去哪开", "怎么办", "阿能", "吗") is cut out: jieba content
words (unigrams and bigrams) and character 1-2-grams of the same content. Words carry the
meaning; character grams survive typos ("身分证", "居住正"), dialect and other jieba cuts.
Grams the knowledge base never uses still count in a message's length, so an off-topic message
that shares one word with a matter ("菜场几点开门") scores low. Views are blended 30/70
(words/chars); a matter scores 30% its most similar text plus 70% its centroid (all its texts
together), which rewards the words that recur across its variants.

Decision: answer ("sure") only when the best matter scores at least `threshold`, leads the
runner-up matter by at least `margin`, AND shares a topic key with the message: a content word
that is not a generic question/setting word (GENERIC_WORDS: 社区, 几点, 开门, 多少钱, 活动 ...),
or a character bigram inside one, that at most ANCHOR_MAX_MATTERS matters use. Without that gate
"请问社区的图书角几点开门" was answered with the waste-disposal times (it shares only 社区 几点 开门).
Cross-validation (bench/faq_bench.py --tune) chose every constant here; measured at the time:
held-out top-1 0.92, precision among sure answers 0.986 at coverage 0.778; false answers 1/62 on
the HARD_TUNE off-topic questions and 1/59 on the never-tuned HARD_HELD ones (8/62 and 7/59
without the gate).

Synonyms: before segmentation every other name a matter's `synonyms` lists ("敬老卡", "老年公交卡")
is read as its word ("老年卡"), in the knowledge base and in messages alike.

Close ("close"): a sure match whose message says nothing the matter does not know about: each of
its content words is a word of the matter's questions, answer, materials or place (or shares half
its character bigrams with them), a generic word, an aspect every answer covers (材料, 手续, 申请,
我妈 ...) or a small number. Only a close match is answered to a question nobody put to Xiaoqi:
"公积金贷款利率多少" is sure of the withdrawal matter, not close.
Measured with synonyms (bench/faq_bench.py): held-out variants sure 0.984 precise at coverage 0.784
(0.986 / 0.778 before), close 0.991 precise at coverage 0.360; none of the 186 off-topic questions close.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from faq.knowledge import Matter, synonym_table
from nlp.normalize import MAX_CHARS, MAX_RAW_CHARS, to_simplified
from nlp.segment import Segmenter

logger = logging.getLogger(__name__)

# Chosen by leave-one-variant-out cross-validation (bench/faq_bench.py --tune), together with
# ANCHOR_MAX_MATTERS: the grid optimum of right-minus-3x-wrong sure answers (a false answer to a
# HARD_TUNE off-topic question counting as a wrong one), with held-out precision >= 0.97 and every
# unanswerable example unsure by 0.02: precision 0.986, coverage 0.778. (Before the topic-key
# gate: 0.25/0.06, precision 0.982, coverage 0.773, 8/62 HARD_TUNE questions answered.)
DEFAULT_THRESHOLD = 0.23
DEFAULT_MARGIN = 0.07
# Share of the word view in the blended similarity; the rest goes to character grams.
WORD_WEIGHT = 0.3
# Share of the matter centroid (all its texts together) in a matter's score; the rest is its
# single most similar text. The centroid rewards words that recur across a matter's variants.
CENTROID_WEIGHT = 0.7
CHAR_NGRAMS = (1, 2)
# How much grams the knowledge base never uses weigh in a message's length (1 = like a rare gram).
UNSEEN_WEIGHT = 1.0

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
# A matter is only answered when the message shares a topic key with it: a content word that is
# not generic, or a character bigram inside one ("无偿献血" ~ "献血", "老楼装电梯" ~ "加装电梯"),
# used by at most this many matters (a key that many matters use says little about any one).
# Cross-validation: 5, 8, 12, 20 and unlimited differ by under 1% coverage; 20 was the optimum.
ANCHOR_MAX_MATTERS = 20


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
class Match:
    """The best matter for a message and whether Xiaoqi is sure enough to answer with it."""

    matter: Matter | None  # None if the knowledge base is empty or nothing in the text matches
    score: float
    runner_up: float
    sure: bool  # answer it; False -> forward to a social worker
    close: bool = False  # sure, and the message says nothing the matter does not know about


NO_MATCH = Match(matter=None, score=0.0, runner_up=0.0, sure=False)


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


def _word_grams(words: tuple[str, ...]) -> list[str]:
    return [*words, *(f"{a} {b}" for a, b in pairwise(words))]


def _char_grams(words: tuple[str, ...]) -> list[str]:
    """Character grams across the content (not only inside words): robust to other cuts."""
    text = "".join(words)
    low, high = CHAR_NGRAMS
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class _View:
    """One feature view (words or characters) of the knowledge base, fitted once."""

    analyzer: Callable[[tuple[str, ...]], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    unseen_idf: float
    docs: sp.csr_matrix  # vocabulary x documents, unit columns
    centroids: sp.csr_matrix  # vocabulary x matters, unit columns

    @classmethod
    def fit(
        cls,
        analyzer: Callable[[tuple[str, ...]], list[str]],
        docs: list[tuple[str, ...]],
        owners: np.ndarray,
        count: int,
    ) -> _View:
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float64)
        matrix = sp.csr_matrix(vectorizer.fit_transform(docs)).T.tocsr()
        # What sklearn's smooth idf gives a gram no document has.
        unseen_idf = float(np.log((1 + len(docs)) / 1) + 1)
        vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        return cls(
            analyzer, vocabulary, vectorizer.idf_, unseen_idf, matrix, _centroids(matrix, owners, count)
        )

    def query(self, words: tuple[str, ...]) -> sp.csr_matrix:
        """The text's TF-IDF row; grams the knowledge base never uses still count in its length.

        Without that, an off-topic message sharing one word with a matter ("菜场几点开门")
        would look as similar to it as a message made only of that matter's words.
        """
        counts = Counter(self.analyzer(words))
        columns: list[int] = []
        weights: list[float] = []
        unseen = 0.0
        for gram, count in counts.items():
            weight = 1.0 + math.log(count)
            column = self.vocabulary.get(gram)
            if column is None:
                unseen += (weight * self.unseen_idf * UNSEEN_WEIGHT) ** 2
            else:
                columns.append(column)
                weights.append(weight * float(self.idf[column]))
        values = np.asarray(weights)
        norm = math.sqrt(float(values @ values) + unseen)
        if not columns or norm == 0.0:
            return sp.csr_matrix((1, len(self.vocabulary)))
        return sp.csr_matrix((values / norm, ([0] * len(columns), columns)), shape=(1, len(self.vocabulary)))


def _centroids(docs: sp.csr_matrix, owners: np.ndarray, count: int) -> sp.csr_matrix:
    """Unit-length mean of each matter's document vectors (vocabulary x matters)."""
    membership = sp.csr_matrix(
        (np.ones(len(owners)), (np.arange(len(owners)), owners)), shape=(len(owners), count)
    )
    summed = sp.csr_matrix(docs @ membership)
    norms = np.sqrt(np.asarray(summed.multiply(summed).sum(axis=0))).ravel()
    norms[norms == 0] = 1.0
    return sp.csr_matrix(summed @ sp.diags(1.0 / norms))


class FaqMatcher:
    """Nearest-matter search over a fixed knowledge base; build once, match many messages."""

    def __init__(
        self,
        matters: Sequence[Matter],
        segmenter: Segmenter,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        word_weight: float = WORD_WEIGHT,
        centroid_weight: float = CENTROID_WEIGHT,
        anchor_max_matters: int = ANCHOR_MAX_MATTERS,
    ) -> None:
        ids = [m.id for m in matters]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate matter id(s): {', '.join(duplicates)}")
        self.matters: tuple[Matter, ...] = tuple(matters)
        self.segmenter = segmenter
        self.threshold = threshold
        self.margin = margin
        self.word_weight = word_weight
        self.centroid_weight = centroid_weight
        self.anchor_max_matters = anchor_max_matters
        self.synonyms = Synonyms.of(self.matters)
        docs: list[tuple[str, ...]] = []
        owners: list[int] = []
        keys: list[set[str]] = [set() for _ in self.matters]
        vocabulary: list[set[str]] = [set() for _ in self.matters]
        for index, matter in enumerate(self.matters):
            for text in dict.fromkeys((matter.question, *matter.variants)):
                words = self._words(text)
                if words:
                    docs.append(words)
                    owners.append(index)
                    keys[index] |= topic_keys(words)
                    vocabulary[index] |= {*words, *"".join(words)}
        # What each matter knows about (for `close`): the words of its texts, its answer, what to bring
        # and where to go, their characters and the bigrams inside them.
        for index, matter in enumerate(self.matters):
            for text in (matter.answer, matter.where, *matter.materials):
                words = self._words(text)
                vocabulary[index] |= {*words, *"".join(words), *topic_keys(words)}
        self._known = tuple(frozenset(v | k) for v, k in zip(vocabulary, keys, strict=True))
        spread = Counter(key for matter_keys in keys for key in matter_keys)
        # Each matter's topic keys that few matters share: what a message must hit to be answered.
        self._anchors = tuple(
            frozenset(k for k in matter_keys if spread[k] <= anchor_max_matters) for matter_keys in keys
        )
        # Documents sorted by owner, so a matter's best document is one reduceat away.
        self._owners = np.asarray(owners, dtype=np.intp)
        self._starts = np.flatnonzero(np.r_[True, self._owners[1:] != self._owners[:-1]]) if owners else None
        self._views: tuple[_View, _View] | None = None
        if docs:
            count = len(self.matters)
            self._views = (
                _View.fit(_word_grams, docs, self._owners, count),
                _View.fit(_char_grams, docs, self._owners, count),
            )

    def extended(self, extra: Sequence[Matter]) -> FaqMatcher:
        """A new matcher that also knows `extra` (answers staff approved at run time).

        An extra matter with an existing id replaces that matter: staff corrected its answer.
        """
        replaced = {m.id: m for m in extra}
        kept = [m for m in self.matters if m.id not in replaced]
        return FaqMatcher(
            [*kept, *replaced.values()],
            self.segmenter,
            threshold=self.threshold,
            margin=self.margin,
            word_weight=self.word_weight,
            centroid_weight=self.centroid_weight,
            anchor_max_matters=self.anchor_max_matters,
        )

    def matter(self, matter_id: str) -> Matter | None:
        """The matter with this id, if the knowledge base (still) has it."""
        return next((m for m in self.matters if m.id == matter_id), None)

    def _words(self, text: str) -> tuple[str, ...]:
        return content_words(clean(text), self.segmenter, self.synonyms)

    def matter_scores(self, text: str) -> np.ndarray:
        """Blended similarity of the text to each matter (its best question or variant)."""
        return self._scores(self._words(text))

    def anchored(self, text: str, matter_id: str) -> bool:
        """Whether the text shares a topic key with that matter (not only "社区", "几点开门")."""
        index = next((i for i, m in enumerate(self.matters) if m.id == matter_id), None)
        return index is not None and not self._anchors[index].isdisjoint(topic_keys(self._words(text)))

    def unknown_words(self, text: str, matter_id: str) -> tuple[str, ...]:
        """The text's content words that matter does not know about (none: a close match may be answered)."""
        index = next((i for i, m in enumerate(self.matters) if m.id == matter_id), None)
        return () if index is None else self._unknown(index, self._words(text))

    def _unknown(self, index: int, words: tuple[str, ...]) -> tuple[str, ...]:
        known = self._known[index]
        return tuple(w for w in words if not _known_word(w, known))

    def _scores(self, words: tuple[str, ...]) -> np.ndarray:
        scores = np.zeros(len(self.matters))
        if self._views is None or self._starts is None or not words:
            return scores
        doc_sims = np.zeros(len(self._owners))
        for view, weight in zip(self._views, (self.word_weight, 1.0 - self.word_weight), strict=True):
            query = view.query(words)
            doc_sims += weight * (query @ view.docs).toarray()[0]
            scores += weight * self.centroid_weight * (query @ view.centroids).toarray()[0]
        best_doc = np.zeros(len(self.matters))
        best_doc[self._owners[self._starts]] = np.maximum.reduceat(doc_sims, self._starts)
        return scores + (1.0 - self.centroid_weight) * best_doc

    def match(self, text: str) -> Match:
        """The best matter for a message; never raises, and is unsure when in any doubt."""
        try:
            words = self._words(text)
            scores = self._scores(words)
        except Exception:  # a matcher bug must cost one forwarded question, not the reply
            logger.exception(
                "FAQ matching failed for a %d-character message", len(text) if isinstance(text, str) else -1
            )
            return NO_MATCH
        if len(scores) == 0 or not np.isfinite(scores).all():
            return NO_MATCH
        best = int(np.argmax(scores))
        score = float(scores[best])
        if score <= 0.0:
            return NO_MATCH
        runner_up = float(np.max(np.delete(scores, best))) if len(scores) > 1 else 0.0
        sure = (
            score >= self.threshold
            and score - runner_up >= self.margin
            and not self._anchors[best].isdisjoint(topic_keys(words))
        )
        topic = [w for w in words if w not in ASPECT_WORDS]  # "要带什么材料" names no matter at all
        close = (
            sure and not self._anchors[best].isdisjoint(topic_keys(topic)) and not self._unknown(best, words)
        )
        return Match(matter=self.matters[best], score=score, runner_up=runner_up, sure=sure, close=close)


_AGE = re.compile(r"\d{1,3}岁?")  # "我妈65了": how old, how many; "12345" is a word to know


def _known_word(word: str, known: frozenset[str]) -> bool:
    """Whether a matter that knows these words, characters and bigrams knows about the word: the word
    itself, or half its bigrams ("居住正" ~ "居住证"); generic and aspect words and small numbers need
    no knowing."""
    if word in known or word in GENERIC_WORDS or word in ASPECT_WORDS or _AGE.fullmatch(word):
        return True
    bigrams = [word[i : i + 2] for i in range(len(word) - 1)]
    return bool(bigrams) and 2 * sum(b in known for b in bigrams) >= len(bigrams)
