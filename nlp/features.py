"""Feature extraction over prepared documents: jieba words plus character n-grams."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlp.segment import TOKEN_SEP


class WordNgrams:
    """Analyzer: word n-grams of a prepared document, stop words left out."""

    def __init__(self, stopwords: Iterable[str] = (), ngram_range: tuple[int, int] = (1, 2)):
        self.stopwords = frozenset(stopwords)
        self.ngram_range = ngram_range

    def __call__(self, doc: str) -> list[str]:
        words = [w for w in doc.split(TOKEN_SEP) if w and w not in self.stopwords]
        low, high = self.ngram_range
        grams = list(words) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return grams


class CharNgrams:
    """Analyzer: character n-grams of the normalised text behind a prepared document."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 3)):
        self.ngram_range = ngram_range

    def __call__(self, doc: str) -> list[str]:
        text = doc.replace(TOKEN_SEP, "")
        low, high = self.ngram_range
        size = len(text)
        grams: list[str] = []
        for n in range(low, high + 1):
            grams.extend(text[i : i + n] for i in range(size - n + 1))
        return grams


def text_features(
    stopwords: Iterable[str] = (),
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] = (1, 3),
    min_df: int = 1,
    max_features: int | None = None,
) -> FeatureUnion:
    """TF-IDF over words and characters: words carry meaning, characters survive typos."""
    parts = []
    if word_ngrams[1] > 0:
        parts.append(
            (
                "words",
                TfidfVectorizer(
                    analyzer=WordNgrams(stopwords, word_ngrams),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=max_features,
                    dtype=np.float32,
                ),
            )
        )
    if char_ngrams[1] > 0:
        parts.append(
            (
                "chars",
                TfidfVectorizer(
                    analyzer=CharNgrams(char_ngrams),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=max_features,
                    dtype=np.float32,
                ),
            )
        )
    return FeatureUnion(parts)


def fast_transform(features: Any, docs: list[str]) -> sp.csr_matrix:
    """Transform of a fitted text_features() union, minus sklearn's per-call validation.

    Gives the same matrix as FeatureUnion.transform (a test checks it), in float64 and as one
    CSR matrix; several times faster for a single message, which is what the bot mostly sees.
    """
    if not isinstance(features, FeatureUnion) or features.transformer_weights is not None:
        return features.transform(docs)
    vectorizers = [v for _, v in features.transformer_list if v != "drop"]
    if not all(isinstance(v, TfidfVectorizer) and callable(v.analyzer) for v in vectorizers):
        return features.transform(docs)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    offset = 0
    for vectorizer in vectorizers:
        r, c, v = _tfidf_entries(vectorizer, docs)
        rows.append(r)
        cols.append(c + offset)
        vals.append(v)
        offset += len(vectorizer.vocabulary_)
    row = np.concatenate(rows)
    order = np.lexsort((np.concatenate(cols), row))
    indptr = np.zeros(len(docs) + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=len(docs)), out=indptr[1:])
    return sp.csr_matrix(
        (np.concatenate(vals)[order], np.concatenate(cols)[order].astype(np.int32), indptr),
        shape=(len(docs), offset),
    )


def _tfidf_entries(
    vectorizer: TfidfVectorizer, docs: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) of every non-zero TF-IDF entry, computed as sklearn does."""
    vocabulary = vectorizer.vocabulary_
    analyzer = vectorizer.analyzer
    row_ids: list[int] = []
    col_ids: list[int] = []
    counts: list[int] = []
    lookup = vocabulary.get
    for i, doc in enumerate(docs):
        tally = Counter(map(lookup, analyzer(doc)))
        tally.pop(None, None)
        row_ids.extend([i] * len(tally))
        col_ids.extend(tally)
        counts.extend(tally.values())
    r = np.asarray(row_ids, dtype=np.int64)
    c = np.asarray(col_ids, dtype=np.int64)
    v = np.asarray(counts, dtype=np.float64)
    if vectorizer.binary:
        v[:] = 1.0
    if vectorizer.sublinear_tf:
        v = np.log(v) + 1.0
    if vectorizer.use_idf:
        v *= vectorizer.idf_[c]
    if vectorizer.norm in ("l1", "l2") and len(v):
        weight = v * v if vectorizer.norm == "l2" else np.abs(v)
        totals = np.bincount(r, weights=weight, minlength=len(docs))
        if vectorizer.norm == "l2":
            totals = np.sqrt(totals)
        totals[totals == 0.0] = 1.0
        v = v / totals[r]
    return r, c, v
