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
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faq.knowledge import Matter
from faq.vectors import FeatureView, char_grams, word_grams
from faq.words import (
    ASPECT_WORDS,
    GENERIC_WORDS,
    NO_SYNONYMS,
    Synonyms,
    clean,
    content_words,
    topic_keys,
)
from nlp.segment import Segmenter

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "NO_MATCH",
    "NO_SYNONYMS",
    "FaqMatcher",
    "Match",
    "Synonyms",
    "clean",
    "content_words",
    "topic_keys",
]

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

# A matter is only answered when the message shares a topic key with it: a content word that is
# not generic, or a character bigram inside one ("无偿献血" ~ "献血", "老楼装电梯" ~ "加装电梯"),
# used by at most this many matters (a key that many matters use says little about any one).
# Cross-validation: 5, 8, 12, 20 and unlimited differ by under 1% coverage; 20 was the optimum.
ANCHOR_MAX_MATTERS = 20


@dataclass(frozen=True)
class Match:
    """The best matter for a message and whether Xiaoqi is sure enough to answer with it."""

    matter: Matter | None  # None if the knowledge base is empty or nothing in the text matches
    score: float
    runner_up: float
    sure: bool  # answer it; False -> forward to a social worker
    close: bool = False  # sure, and the message says nothing the matter does not know about


NO_MATCH = Match(matter=None, score=0.0, runner_up=0.0, sure=False)


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
        self._views: tuple[FeatureView, FeatureView] | None = None
        if docs:
            count = len(self.matters)
            self._views = (
                FeatureView.fit(word_grams, docs, self._owners, count),
                FeatureView.fit(char_grams, docs, self._owners, count),
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
