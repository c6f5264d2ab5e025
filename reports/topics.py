"""Hot topics (热点): messages about the same problem across groups, with how many residents and groups.

Only what residents raise (诉求, 紧急, 建议 by residents, not by staff or the property desk: a few percent of
traffic) is read, at most MAX_TEXTS
of them, sampled deterministically by message id. Each category is clustered on its own: content words
(jieba, project stop words, consult.cluster's filler words) weighed by TF-IDF over words and the characters
inside them; MiniBatchKMeans over-splits into many small clusters, whose centroids are then merged by
average-linkage agglomerative clustering on cosine distance; members far from their centroid are dropped,
so a topic holds messages that say the same thing. A topic needs MIN_RESIDENTS distinct residents.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import func
from sqlmodel import Session, col, select

from consult.cluster import DEFAULT_STOPWORDS, FILLER_WORDS
from core.privacy import mask_private_numbers
from groups.messages import Message
from groups.models import ModerationExempt, Person, Role
from nlp.labels import PETITION_INTENTS, TOPIC_INTENTS
from nlp.normalize import normalize
from nlp.segment import Segmenter, read_word_list
from reports.names import NameMask
from reports.period import Month, Scope
from reports.sql import community_of_group, message_filter

MAX_TEXTS = 20_000
MIN_RESIDENTS = 3
MAX_TOPICS = 10
DIRECT_UNITS = 1500  # distinct texts clustered exactly (average linkage); more go through MiniBatchKMeans
UNITS_PER_SEED_CLUSTER = 6
MAX_SEED_CLUSTERS = 300
MERGE_SIMILARITY = 0.25  # mean cosine two clusters need to merge (average linkage)
MIN_COHESION = 0.3  # cosine to the topic centroid a message needs to count in it
MIN_WORDS = 2  # content words a message needs: "顶一下", "+1" and "投票2" say nothing of their own
# How people ask, not what about: these would otherwise make "topics" of every question.
QUESTION_WORDS = frozenset(
    [
        "请问",
        "问下",
        "问一下",
        "问问",
        "想问",
        "有没有",
        "有人",
        "有谁",
        "哪里",
        "哪儿",
        "哪个",
        "哪家",
        "多少",
        "怎么办",
        "怎么",
        "怎样",
        "如何",
        "什么时候",
        "为什么",
        "知道",
        "大家",
        "各位",
        "邻居",
        "谁家",
        "附近",
        "家里",
        "小栖",
        "小棲",
        "一下",
        "现在",
        "今天",
        "昨天",
        "还是",
        "又",
        "都",
        "也",
        "了",
        "的",
    ]
)
# How people complain, not what about ("顶一下，希望尽快解决", "同样的问题反映好几次了").
COMPLAINT_WORDS = frozenset(
    [
        "解决",
        "尽快",
        "赶紧",
        "赶快",
        "问题",
        "反映",
        "处理",
        "下文",
        "顶",
        "顶一下",
        "同样",
        "几次",
        "好几次",
        "每次",
        "说",
        "我家",
        "我们",
        "他们",
        "这个",
        "那个",
        "谁来管",
        "管管",
        "没人管",
        "有人管",
        "回复",
        "答复",
        "情况",
        "事情",
        "帮忙",
        "看看",
        "看一下",
        "一直",
        "还是",
        "怎么回事",
        "到底",
    ]
)
_MENTION = re.compile(r"@\S+")
QUOTE_CHARS = 50


@dataclass(frozen=True)
class HotTopic:
    keywords: tuple[str, ...]
    category: str
    messages: int
    residents: int
    groups: int
    petition_residents: int  # residents who raised it as a 诉求 or 紧急, not a question or suggestion
    communities: tuple[str, ...]  # community ids, most messages first
    quote: str


@dataclass(frozen=True)
class TopicResult:
    topics: list[HotTopic]
    considered: int  # petition-like messages in the month and scope
    read: int  # of which were read (sampled when more than MAX_TEXTS)


Row = tuple[str, str, str | None, str, str, bool]  # sender, group, community, category, text, petition


@dataclass
class _Unit:
    tokens: tuple[str, ...]
    text: str
    rows: list[int]


@cache
def _stopwords() -> frozenset[str]:
    return (
        frozenset(normalize(w) for w in read_word_list(DEFAULT_STOPWORDS))
        | FILLER_WORDS
        | QUESTION_WORDS
        | COMPLAINT_WORDS
    )


def _analyzer(tokens: tuple[str, ...]) -> list[str]:
    grams = [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]
    grams += [f"#{w[i : i + 2]}" for w in tokens for i in range(len(w) - 1)]
    return grams


def _load(session: Session, month: Month, scope: Scope) -> tuple[int, list[Row]]:
    # residents' own words: not staff, not the property desk and other exempt accounts speaking for others
    residents = select(Person.id).where(
        Person.role == Role.RESIDENT, col(Person.id).not_in(select(ModerationExempt.person_id))
    )
    where = [
        *message_filter(month, scope),
        col(Message.intent).in_(TOPIC_INTENTS),
        col(Message.sender_id).in_(residents),
    ]
    total = int(session.exec(select(func.count()).select_from(Message).where(*where)).one())
    if total > MAX_TEXTS:
        keep = max(1, math.floor(1000 * MAX_TEXTS / total))
        where.append(col(Message.id) % 1000 < keep)
    link = community_of_group()
    rows = session.exec(
        select(
            Message.sender_id, Message.group_id, link.c.cid, Message.category, Message.text, Message.intent
        )  # type: ignore[call-overload]
        .join(link, link.c.gid == Message.group_id)
        .where(*where)
        .order_by(col(Message.id))
        .limit(MAX_TEXTS)
    ).all()
    return total, [
        (str(s), str(g), c, str(cat or "其他"), str(t or ""), i in PETITION_INTENTS)
        for s, g, c, cat, t, i in rows
    ]


def _average_linkage(vectors: Any, threshold: float) -> np.ndarray:
    if vectors.shape[0] == 1:
        return np.zeros(1, dtype=int)
    dense = np.asarray(vectors.todense()) if sp.issparse(vectors) else np.asarray(vectors)
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - threshold
    )
    return np.asarray(model.fit_predict(dense))


def _labels(vectors: sp.csr_matrix) -> np.ndarray:
    """Exact average linkage for up to DIRECT_UNITS distinct texts; beyond, MiniBatchKMeans seeds first."""
    n = vectors.shape[0]
    if n <= DIRECT_UNITS:
        return _average_linkage(vectors, MERGE_SIMILARITY)
    k = min(MAX_SEED_CLUSTERS, n // UNITS_PER_SEED_CLUSTER)
    seeds = np.asarray(
        MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=4096).fit_predict(vectors)
    )
    seed_ids = sorted(set(seeds.tolist()))
    centroids = _unit_rows(np.vstack([np.asarray(vectors[seeds == s].mean(axis=0)) for s in seed_ids]))
    merged = _average_linkage(centroids, MERGE_SIMILARITY)
    topic_of_seed = dict(zip(seed_ids, merged.tolist(), strict=True))
    return np.asarray([topic_of_seed[s] for s in seeds.tolist()])


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _cluster(units: list[_Unit]) -> list[list[int]]:
    """Indices of units per cluster, cohesive members only, closest to the cluster's centre first."""
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True)
    try:
        vectors = sp.csr_matrix(vectorizer.fit_transform([u.tokens for u in units]))
    except ValueError:
        return []
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(_labels(vectors).tolist()):
        members[label].append(index)
    clusters = []
    for rows in members.values():
        sub = vectors[rows]
        weights = np.asarray([len(units[r].rows) for r in rows], dtype=float)
        centre = _unit_rows(np.asarray(sub.T @ weights).reshape(1, -1)).ravel()
        closeness = np.asarray(sub @ centre).ravel()
        keep = [(rows[i], float(closeness[i])) for i in range(len(rows)) if closeness[i] >= MIN_COHESION]
        keep.sort(key=lambda rc: (-rc[1], rc[0]))
        if keep:
            clusters.append([r for r, _ in keep])
    return clusters


def _keywords(units: list[_Unit], messages: list[Row], everyone: dict[str, set[str]]) -> tuple[str, ...]:
    """Up to three words the topic's residents share and the category's other residents rarely use."""
    users: dict[str, set[str]] = defaultdict(set)
    for u in units:
        for w in set(u.tokens):
            users[w] |= {messages[r][0] for r in u.rows}
    people = len({messages[r][0] for u in units for r in u.rows})
    score = {
        w: len(who) / people * len(who) / max(len(everyone[w]), 1) * (1.0 if len(w) > 1 else 0.3)
        for w, who in users.items()
    }
    ranked = sorted(score, key=lambda w: (-score[w], w))
    chosen: list[str] = []
    for w in ranked:
        if len(chosen) == 3 or (chosen and (score[w] < 0.3 * score[chosen[0]] or len(users[w]) * 3 < people)):
            break
        if not any(w in c or c in w for c in chosen):
            chosen.append(w)
    return tuple(chosen)


def quote_text(text: str, limit: int = QUOTE_CHARS, names: NameMask | None = None) -> str:
    """A resident's words for the report: numbers masked, names and @-mentions hidden, one line, trimmed."""
    flat = _MENTION.sub("@某", " ".join(mask_private_numbers(text).split()))
    flat = names.hide(flat) if names is not None else flat
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def hot_topics(
    session: Session, month: Month, scope: Scope, segmenter: Segmenter, names: NameMask | None = None
) -> TopicResult:
    names = names if names is not None else NameMask.from_registry(session, segmenter)
    total, messages = _load(session, month, scope)
    stop = _stopwords()
    by_category: dict[str, dict[tuple[str, ...], _Unit]] = defaultdict(dict)
    for row, (_, _, _, category, text, _) in enumerate(messages):
        words = segmenter.words(normalize(_MENTION.sub(" ", text)))
        tokens = tuple(w for w in words if any(ch.isalnum() for ch in w) and w not in stop)
        if len(set(tokens)) < MIN_WORDS:
            continue
        unit = by_category[category].setdefault(tokens, _Unit(tokens, text, []))
        unit.rows.append(row)
    topics: list[HotTopic] = []
    for category in sorted(by_category):
        units = sorted(by_category[category].values(), key=lambda u: u.tokens)
        everyone: dict[str, set[str]] = defaultdict(set)
        for u in units:
            for w in set(u.tokens):
                everyone[w] |= {messages[r][0] for r in u.rows}
        for cluster in _cluster(units):
            members = [units[i] for i in cluster]
            rows = [r for u in members for r in u.rows]
            residents = {messages[r][0] for r in rows}
            if len(residents) < MIN_RESIDENTS:
                continue
            places = Counter(messages[r][2] for r in rows if messages[r][2] is not None)
            topics.append(
                HotTopic(
                    keywords=_keywords(members, messages, everyone),
                    category=category,
                    messages=len(rows),
                    residents=len(residents),
                    groups=len({messages[r][1] for r in rows}),
                    petition_residents=len({messages[r][0] for r in rows if messages[r][5]}),
                    communities=tuple(
                        str(c) for c, _ in sorted(places.items(), key=lambda kv: (-kv[1], str(kv[0])))
                    ),
                    quote=quote_text(members[0].text, names=names),
                )
            )
    topics.sort(key=lambda t: (-t.residents, -t.groups, -t.messages, t.keywords))
    return TopicResult(topics[:MAX_TOPICS], total, len(messages))
