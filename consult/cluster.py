"""Discussion phase of a consultation: group residents' opinions into a few main viewpoints.

Residents answer a topic ("东门空地怎么用") in their own words. Xiaoqi cuts each opinion into
content words (jieba via `nlp.segment.Segmenter`, after `nlp.normalize.normalize`; stop words,
filler words, punctuation, emoji and placeholders dropped), weighs them with TF-IDF, and groups
the opinions by average-linkage agglomerative clustering on cosine distance. Each group becomes
a `Viewpoint` with its salient words, how many opinions and how many distinct residents it
holds, and a representative quote; `summary_text` turns the viewpoints into a short message
that the social worker can post and turn into vote options.

Design, in short:

* Features: TF-IDF over content words (unigrams + bigrams, sublinear tf) blended 40/60 with
  TF-IDF over character 1-2-grams inside each content word. Words carry the meaning; the
  characters survive typos ("建身器材"), traditional-to-simplified leftovers and inconsistent
  cuts ("停车位" / "车位", "花坛" / "花园"). IDF is fitted on the opinions themselves, so words
  the whole topic shares weigh little. A gram used by only one opinion is weighed at half: it
  cannot make two opinions similar, and at full weight it dilutes the few grams short texts share.
* Clustering: sklearn AgglomerativeClustering, average linkage on precomputed cosine distance,
  no fixed number of clusters: merging stops when the mean pairwise similarity of two groups
  falls below `min_similarity` (default 0.10). Average linkage resists chaining through one
  opinion that mentions two ideas, and a threshold works the same for 3 opinions as for 300.
  Short opinions on one idea score about 0.1-0.5 with each other, unrelated short ones about
  0.01 on average. 0.10 keeps two camps apart when a few opinions bridge them ("花园+几个停车位
  能不能兼顾？": at 0.09 the demo's garden and parking camps ran together); a homophone typo that
  shares nothing else ("小花圆") then stays apart. Below 0.08, paragraph-long opinions (unrelated
  ones average about 0.04) start to run together.
* Determinism: distinct contents are put into a canonical order (by their content words) before
  anything is fitted, and every tie is broken on text, so the same opinions in any order give
  the same groups, keywords and quotes.
* Repeats: opinions with the same content words ("停车位+1" from ten residents, or one resident
  twice) are one document for the model, so copies neither skew IDF nor outweigh other
  wordings in the clustering; each message still counts in `count`, and `people` counts
  distinct authors, so a resident who repeats themselves (in the same or other words) counts
  once there. Viewpoints rank by people, then count, so one insistent resident does not
  outrank two neighbours. Keywords are counted in residents too.
* Remainder: at most `max_groups` viewpoints are returned as such. A group backed by a single
  resident is shown only while fewer than `max_groups` groups backed by several residents exist.
  Every other opinion, including those without any content word ("👍", "+1", "同意"), goes to
  one final remainder `Viewpoint` with keywords `OTHER_KEYWORDS` ("其他",) and an empty quote,
  returned only when non-empty. Blank opinions (nothing left after normalisation) are ignored.
  So every non-blank opinion index appears in exactly one returned viewpoint.

Known limits: TF-IDF sees words, not stance or synonyms: "别做停车位" groups with "做停车位",
and "义诊" and "体检" only meet if other opinions use both. A lone homophone typo with nothing
else in common ("小花圆" alone) stays apart. The summary is a starting point for the social
worker, who edits it before a vote.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.normalize import normalize, to_simplified
from nlp.segment import Segmenter, read_word_list

DEFAULT_STOPWORDS = Path(__file__).resolve().parents[1] / "data" / "nlp" / "stopwords.txt"

# Mean cosine similarity two groups need to merge (average linkage). Short opinions about the
# same idea score about 0.1-0.5 on these features; unrelated short ones about 0.01 on average,
# unrelated long ones (a paragraph each) about 0.04. See the module docstring.
DEFAULT_MIN_SIMILARITY = 0.10
# Share of the word features in the blend; the rest goes to character n-grams.
WORD_WEIGHT = 0.4
CHAR_NGRAMS = (1, 2)
# Weight of a gram only one opinion uses, relative to shared ones.
UNSHARED_WEIGHT = 0.5
MAX_KEYWORDS = 4
# A keyword after the first must score at least this share of the first one.
KEYWORD_RATIO = 0.5
# One-character words ("车", "花") make poor keywords unless nothing better is shared.
SINGLE_CHAR_FACTOR = 0.3
QUOTE_CHARS = 40
OTHER_KEYWORDS: tuple[str, ...] = ("其他",)

# Words that say how someone feels about their opinion, or how to get there, not what it is:
# dropped on top of the project stop words (which keep particles and question words on
# purpose: they mark intent for the message classifier, but not what an opinion is about).
FILLER_WORDS = frozenset(
    " ".join(
        (
            "觉得 认为 感觉 觉着 希望 建议 提议 可以 应该 应当 还是 比较 特别 非常 真的 真是 就是",
            "其实 反正 最好 最 挺 很 太 更 再 先 根本 实在 一直 顺便 早就 已经 现在 以后 目前 然后",
            "吧 啊 呢 吗 呀 啦 嘛 呗 哈 哈哈 哦 噢 嗯 么 哇 喔 诶 哎 唉 喽 哒 啥 哪 话 什么 怎么 怎么样",
            "个人 本人 支持 同意 赞成 附议 楼上 一样 好 好的 好啊 挺好 不错 行 都行 赞 可能",
            "实用 方便 合适 靠谱 划算 弄 搞 做 整 成 改成 弄成 做成 改为 变成 搞成 搞个 弄个 整个",
            "能 会 要 想 去 来 用 只能 不 没 没有 不要 别 多 少 大 小 个 把 只 给 一 一点 点 一下",
            "几个 几张 下 上 里 上面 下面 还有 全是 越来越 一起 那块 这块 块",
            "其他 其它 别的 意见 看法 想法 谢谢 感谢 多谢 麻烦 辛苦 请 您 您好 大家好",
        )
    ).split()
)

_TRIM_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Viewpoint:
    """One group of similar opinions.

    keywords: its most salient words, most salient first: 1-4, more than one when the group's
    residents share several (`OTHER_KEYWORDS` for the remainder); count: opinions in it;
    people: their distinct authors; quote: the opinion closest to the group's centroid, in
    simplified characters, trimmed to at most 40 characters with "…" ("" for the remainder);
    members: the indices of its opinions in the input, ascending.
    """

    keywords: tuple[str, ...]
    count: int
    people: int
    quote: str
    members: tuple[int, ...]

    @property
    def is_other(self) -> bool:
        """Whether this is the remainder of opinions that fit no main viewpoint."""
        return self.keywords == OTHER_KEYWORDS


@dataclass
class _Unit:
    """Opinions with the same content words, whoever wrote them: one document for the model."""

    tokens: tuple[str, ...]
    texts: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    authors: set[str] = field(default_factory=set)


@dataclass
class _Group:
    units: list[_Unit]
    keywords: tuple[str, ...]
    quote: str

    @property
    def members(self) -> list[int]:
        return sorted(i for u in self.units for i in u.members)

    @property
    def authors(self) -> set[str]:
        return {a for u in self.units for a in u.authors}

    def rank(self) -> tuple[int, int, int, str, tuple[str, ...]]:
        words = len({t for u in self.units for t in u.tokens})
        return (-len(self.authors), -len(self.members), -words, self.quote, self.keywords)


@cache
def _default_stopwords() -> frozenset[str]:
    return frozenset(normalize(w) for w in read_word_list(DEFAULT_STOPWORDS))


def _is_content(token: str) -> bool:
    """Letters, digits or Chinese characters: not punctuation, emoji or a placeholder."""
    return any(ch.isalnum() for ch in token)


def _content_words(normalized: str, segmenter: Segmenter, stopwords: frozenset[str]) -> tuple[str, ...]:
    """The words of a normalised opinion that say what it is about, in order."""
    return tuple(
        w
        for w in segmenter.words(normalized)
        if _is_content(w) and w not in stopwords and w not in FILLER_WORDS
    )


def _word_grams(tokens: Sequence[str]) -> list[str]:
    return [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]


def _char_grams(tokens: Sequence[str]) -> list[str]:
    """Character n-grams inside each word: "停车位" meets "车位", "花坛" meets "花园"."""
    low, high = CHAR_NGRAMS
    return [w[i : i + n] for w in tokens for n in range(low, high + 1) for i in range(len(w) - n + 1)]


def _tfidf(docs: list[tuple[str, ...]], analyzer: Callable[[tuple[str, ...]], list[str]]) -> sp.csr_matrix:
    """Row-normalised TF-IDF, with grams no other opinion shares weighed down.

    A gram only one opinion uses cannot make it similar to another; at full weight such grams
    only dilute the ones it shares, which in short texts are few.
    """
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, norm=None, dtype=np.float64)
    try:
        matrix = sp.csr_matrix(vectorizer.fit_transform(docs))
    except ValueError:  # empty vocabulary: not one gram in any document
        return sp.csr_matrix((len(docs), 0))
    doc_freq = np.bincount(matrix.indices, minlength=matrix.shape[1])
    matrix = matrix @ sp.diags(np.where(doc_freq <= 1, UNSHARED_WEIGHT, 1.0))
    return sp.csr_matrix(_unit_rows(matrix))


def _unit_rows(matrix: sp.spmatrix) -> sp.csr_matrix:
    csr = sp.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(csr.multiply(csr).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ csr)


def _vectors(docs: list[tuple[str, ...]]) -> sp.csr_matrix:
    """Unit rows blending word and character TF-IDF (cosine = weighted mean of the two)."""
    words = _tfidf(docs, _word_grams) * np.sqrt(WORD_WEIGHT)
    chars = _tfidf(docs, _char_grams) * np.sqrt(1.0 - WORD_WEIGHT)
    return _unit_rows(sp.hstack([words, chars], format="csr"))


def _labels(similarity: np.ndarray, min_similarity: float) -> np.ndarray:
    n = similarity.shape[0]
    if n == 1:
        return np.zeros(1, dtype=int)
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    distance = (distance + distance.T) / 2.0
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=max(1.0 - min_similarity, 1e-9),
    )
    return np.asarray(model.fit_predict(distance))


def _users(units: Iterable[_Unit]) -> dict[str, set[str]]:
    """Who used each word."""
    users: dict[str, set[str]] = defaultdict(set)
    for unit in units:
        for word in unit.tokens:
            users[word] |= unit.authors
    return users


def _keywords(units: list[_Unit], users: dict[str, set[str]]) -> tuple[str, ...]:
    """Words most residents of the group use and other residents rarely use, most salient first.

    Score = share of the group's residents using the word x share of the word's users who are
    in the group, scaled by SINGLE_CHAR_FACTOR for one-character words. Words after the first
    must score at least KEYWORD_RATIO of it and (in a group of several residents) be used by
    two of them; a word inside an earlier one ("车位" after "停车位") is skipped. So 1-4 words.
    """
    people = {a for u in units for a in u.authors}
    inside = {w: len(who & people) for w, who in _users(units).items()}
    first_seen: dict[str, int] = {}
    for unit in units:
        for position, word in enumerate(unit.tokens):
            first_seen[word] = min(position, first_seen.get(word, position))
    scores = {
        word: used / len(people) * used / len(users[word]) * (1.0 if len(word) > 1 else SINGLE_CHAR_FACTOR)
        for word, used in inside.items()
    }
    ranked = sorted(scores, key=lambda w: (-scores[w], -inside[w], first_seen[w], w))
    chosen = ranked[:1]
    for word in ranked[1:]:
        if len(chosen) == MAX_KEYWORDS or scores[word] < KEYWORD_RATIO * scores[chosen[0]]:
            break
        if len(people) > 1 and inside[word] < 2:
            continue
        if not any(word in c or c in word for c in chosen):
            chosen.append(word)
    return tuple(chosen)


def _trim(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line of simplified Chinese, at most limit characters, cut with "…"."""
    text = _TRIM_RE.sub(" ", to_simplified(text)).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip(" ，,。.、；;：:！!？?") + "…"


def _quote(units: list[_Unit], rows: list[int], direct: np.ndarray) -> str:
    """The opinion closest to the centroid of the group (by cosine, ties to the shorter text)."""
    closeness = direct[np.ix_(rows, rows)].mean(axis=1)
    best = max(range(len(units)), key=lambda k: (round(float(closeness[k]), 9), -len(min(units[k].texts))))
    return _trim(min(units[best].texts, key=lambda t: (len(t), t)))


def group_opinions(
    opinions: Sequence[tuple[str, str]],
    segmenter: Segmenter,
    *,
    max_groups: int = 5,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    stopwords: Iterable[str] | None = None,
) -> list[Viewpoint]:
    """Group (author_id, text) opinions into at most max_groups viewpoints plus a remainder.

    Viewpoints come sorted by people, then count; the remainder (`Viewpoint.is_other`), if any
    opinion is left over, comes last. Empty input gives []. Never raises on odd text.
    stopwords defaults to the project list (data/nlp/stopwords.txt).
    """
    if max_groups < 1:
        raise ValueError("max_groups must be at least 1")
    stop = _default_stopwords() if stopwords is None else frozenset(normalize(w) for w in stopwords)

    by_tokens: dict[tuple[str, ...], _Unit] = {}
    contentless: list[tuple[int, str]] = []
    for index, (author, text) in enumerate(opinions):
        raw = text if isinstance(text, str) else ("" if text is None else str(text))
        normalized = normalize(raw)
        if not normalized:
            continue
        tokens = _content_words(normalized, segmenter, stop)
        if not tokens:
            contentless.append((index, str(author)))
            continue
        unit = by_tokens.setdefault(tokens, _Unit(tokens))
        unit.texts.append(raw)
        unit.members.append(index)
        unit.authors.add(str(author))
    units = sorted(by_tokens.values(), key=lambda u: u.tokens)

    groups: list[_Group] = []
    if units:
        vectors = _vectors([u.tokens for u in units])
        direct = np.asarray((vectors @ vectors.T).todense())
        labels = _labels(direct, min_similarity)
        users = _users(units)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for row, label in enumerate(labels):
            rows_of[int(label)].append(row)
        for rows in rows_of.values():
            members = [units[r] for r in rows]
            groups.append(_Group(members, _keywords(members, users), _quote(members, rows, direct)))
    groups.sort(key=_Group.rank)

    result = [
        Viewpoint(g.keywords, len(g.members), len(g.authors), g.quote, tuple(g.members))
        for g in groups[:max_groups]
    ]
    rest = [i for g in groups[max_groups:] for i in g.members] + [i for i, _ in contentless]
    if rest:
        authors = {a for g in groups[max_groups:] for a in g.authors} | {a for _, a in contentless}
        result.append(Viewpoint(OTHER_KEYWORDS, len(rest), len(authors), "", tuple(sorted(rest))))
    return result


def summary_text(
    topic: str, viewpoints: Sequence[Viewpoint], total: int, *, people: int | None = None
) -> str:
    """A short message for residents listing the main viewpoints with how many people hold each.

    total is the number of opinions received; people, if given, the number of residents who
    gave them (it cannot be told from the viewpoints: one resident may hold several).
    At most 5 viewpoints are listed; the remainder and anything beyond are one closing line.
    """
    topic = _TRIM_RE.sub(" ", topic).strip()
    if total <= 0 or not viewpoints:
        return f"关于“{topic}”，还没有收到意见。"
    who = f"（{people} 人）" if people else ""
    main = [v for v in viewpoints if not v.is_other]
    shown, hidden = main[:5], main[5:]
    other = sum(v.count for v in viewpoints if v.is_other) + sum(v.count for v in hidden)
    lines = [
        f"关于“{topic}”，共收到 {total} 条意见{who}，" + ("主要有：" if shown else "大家的想法比较分散。")
    ]
    for number, view in enumerate(shown, start=1):
        line = f"{number}. {'、'.join(view.keywords[:3])}（{view.people} 人）"
        if view.quote:
            line += f"：“{view.quote}”"
        lines.append(line)
    if other and shown:
        lines.append(f"另有 {other} 条其他意见。")
    return "\n".join(lines)
