"""Feature extraction over prepared documents: jieba words plus character n-grams."""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlp.segment import FULL_SEP, TOKEN_SEP


def _precise(doc: str) -> str:
    """The precise-mode part of a prepared document (without any full-mode section)."""
    return doc.partition(FULL_SEP)[0] if FULL_SEP in doc else doc


class WordNgrams:
    """Analyzer: word n-grams of a prepared document, stop words left out."""

    def __init__(self, stopwords: Iterable[str] = (), ngram_range: tuple[int, int] = (1, 2)):
        self.stopwords = frozenset(stopwords)
        self.ngram_range = ngram_range

    def units(self, doc: str) -> list[str]:
        """The words n-grams are made of."""
        return [w for w in _precise(doc).split(TOKEN_SEP) if w and w not in self.stopwords]

    def __call__(self, doc: str) -> list[str]:
        words = self.units(doc)
        low, high = self.ngram_range
        grams = list(words) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return grams


class FullModeWords(WordNgrams):
    """Analyzer: the words of a prepared document's full-mode section (jieba cut_all: every
    dictionary word in the text, overlapping ones too), as unigrams. Documents prepared
    without full mode have none."""

    def __init__(self, stopwords: Iterable[str] = (), ngram_range: tuple[int, int] = (1, 1)):
        super().__init__(stopwords, ngram_range)

    def units(self, doc: str) -> list[str]:
        """The full-mode words."""
        full = doc.partition(FULL_SEP)[2]
        return [w for w in full.split(TOKEN_SEP) if w and w not in self.stopwords]


class CharNgrams:
    """Analyzer: character n-grams of the normalised text behind a prepared document."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 3)):
        self.ngram_range = ngram_range

    def units(self, doc: str) -> str:
        """The characters n-grams are made of."""
        return _precise(doc).replace(TOKEN_SEP, "")

    def __call__(self, doc: str) -> list[str]:
        text = self.units(doc)
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
    char_min_df: int | None = None,
    full_mode: bool = False,
) -> FeatureUnion:
    """TF-IDF over words and characters: words carry meaning, characters survive typos.
    full_mode adds jieba full-mode word unigrams (documents must be prepared with them);
    char_min_df, when given, replaces min_df for the character part."""
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
                    min_df=min_df if char_min_df is None else char_min_df,
                    max_features=max_features,
                    dtype=np.float32,
                ),
            )
        )
    if full_mode:
        parts.append(
            (
                "full",
                TfidfVectorizer(
                    analyzer=FullModeWords(stopwords),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=max_features,
                    dtype=np.float32,
                ),
            )
        )
    return FeatureUnion(parts)


def block_widths(features: Any) -> tuple[int, ...]:
    """Column counts of a fitted text_features() union's parts, in matrix column order."""
    if not isinstance(features, FeatureUnion):
        return ()
    return tuple(len(v.vocabulary_) for _, v in features.transformer_list if v != "drop")


def needs_full_mode(features: Any) -> bool:
    """Whether a fitted text_features() union reads full-mode words."""
    return isinstance(features, FeatureUnion) and any(
        isinstance(v, TfidfVectorizer) and isinstance(v.analyzer, FullModeWords)
        for _, v in features.transformer_list
        if v != "drop"
    )


def needs_words(features: Any) -> bool:
    """Whether a fitted text_features() union reads jieba words (else characters suffice)."""
    if not isinstance(features, FeatureUnion):
        return True
    return any(
        not (isinstance(v, TfidfVectorizer) and isinstance(v.analyzer, CharNgrams))
        for _, v in features.transformer_list
        if v != "drop"
    )


def fast_transform(features: Any, docs: list[str], shared: dict[int, Any] | None = None) -> sp.csr_matrix:
    """Transform of a fitted text_features() union, minus sklearn's per-call validation.

    Gives the same matrix as FeatureUnion.transform (a test checks it), in float64 and as one
    CSR matrix; several times faster for a single message, which is what the bot mostly sees.
    Unions that share a vectorizer object compute its part once when given the same `shared`
    dict (valid for one list of documents only).
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
        if shared is None:
            r, c, v = _tfidf_entries(vectorizer, docs)
        else:
            if id(vectorizer) not in shared:
                shared[id(vectorizer)] = _tfidf_entries(vectorizer, docs)
            r, c, v = shared[id(vectorizer)]
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


def _tfidf_entries(vectorizer: TfidfVectorizer, docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) of every non-zero TF-IDF entry, computed as sklearn does."""
    index = _ngram_index(vectorizer)
    if index is not None:
        r, c, v = index.counts(docs)
    else:
        r, c, v = _python_counts(vectorizer, docs)
    return r, c, _weigh(vectorizer, r, c, v, len(docs))


def _python_counts(vectorizer: TfidfVectorizer, docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return (
        np.asarray(row_ids, dtype=np.int64),
        np.asarray(col_ids, dtype=np.int64),
        np.asarray(counts, dtype=np.float64),
    )


def _weigh(
    vectorizer: TfidfVectorizer, r: np.ndarray, c: np.ndarray, v: np.ndarray, n_docs: int
) -> np.ndarray:
    if vectorizer.binary:
        v[:] = 1.0
    if vectorizer.sublinear_tf:
        v = np.log(v) + 1.0
    if vectorizer.use_idf:
        v *= vectorizer.idf_[c]
    if vectorizer.norm in ("l1", "l2") and len(v):
        weight = v * v if vectorizer.norm == "l2" else np.abs(v)
        totals = np.bincount(r, weights=weight, minlength=n_docs)
        if vectorizer.norm == "l2":
            totals = np.sqrt(totals)
        totals[totals == 0.0] = 1.0
        v = v / totals[r]
    return v


class _NgramIndex:
    """A fitted vocabulary of character or word n-grams with each n-gram packed into one integer.

    Counting then runs in numpy over a whole batch instead of building every n-gram string in
    Python: the same counts as the analyzer + vocabulary lookup, several times faster.
    """

    def __init__(
        self,
        units: dict[str, int],
        bits: int,
        keys: np.ndarray,
        columns: np.ndarray,
        ngram_range: tuple[int, int],
        split: Any,
    ) -> None:
        self.units = units  # character or word -> id >= 1 (0: not in any vocabulary n-gram)
        self.bits = bits
        self.keys = keys  # sorted packed n-grams
        self.columns = columns  # their vocabulary columns
        self.ngram_range = ngram_range
        self.split = split  # doc -> list of units (characters or words)

    def unit_ids(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every unit of every document, concatenated, and each document's length."""
        lookup = self.units.get
        ids_per_doc = [[lookup(u, 0) for u in self.split(doc)] for doc in docs]
        lengths = np.fromiter(map(len, ids_per_doc), dtype=np.int64, count=len(docs))
        ids = np.fromiter((i for doc in ids_per_doc for i in doc), dtype=np.int64, count=int(lengths.sum()))
        return ids, lengths

    def counts(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids, lengths = self.unit_ids(docs)
        ends = np.cumsum(lengths)
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        low, high = self.ngram_range
        total = len(ids)
        for n in range(low, high + 1):
            if total < n:
                break
            starts = np.arange(total - n + 1)
            keep = starts + n <= ends[doc_of[starts]]
            key = ids[: total - n + 1].copy()
            known = key > 0
            for k in range(1, n):
                part = ids[k : total - n + 1 + k]
                known &= part > 0
                key |= part << (self.bits * k)
            keep &= known
            key, start = key[keep], starts[keep]
            pos = np.searchsorted(self.keys, key)
            pos[pos == len(self.keys)] = 0
            hit = self.keys[pos] == key
            rows.append(doc_of[start[hit]])
            cols.append(self.columns[pos[hit]])
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        n_cols = len(self.columns) + 1
        cells, counts = np.unique(np.concatenate(rows) * n_cols + np.concatenate(cols), return_counts=True)
        return cells // n_cols, cells % n_cols, counts.astype(np.float64)


class _CharIndex(_NgramIndex):
    """Characters are looked up in numpy by code point, not one by one in a dict."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        codes = np.fromiter((ord(ch) for ch in self.units), dtype=np.int64, count=len(self.units))
        order = np.argsort(codes)
        self.codes = codes[order]
        self.code_ids = np.fromiter(self.units.values(), dtype=np.int64, count=len(codes))[order]

    def unit_ids(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        texts = [self.split(doc) for doc in docs]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        raw = "".join(texts).encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(raw, dtype=np.uint32).astype(np.int64)
        if not len(self.codes):
            return np.zeros(len(codes), dtype=np.int64), lengths
        pos = np.searchsorted(self.codes, codes)
        pos[pos == len(self.codes)] = 0
        return np.where(self.codes[pos] == codes, self.code_ids[pos], 0), lengths


_INDEXES: weakref.WeakKeyDictionary[TfidfVectorizer, _NgramIndex | None] = weakref.WeakKeyDictionary()


def _ngram_index(vectorizer: TfidfVectorizer) -> _NgramIndex | None:
    """The packed index of a fitted char/word n-gram vectorizer, built once; None if it does not fit."""
    if vectorizer in _INDEXES:
        return _INDEXES[vectorizer]
    _INDEXES[vectorizer] = index = _build_index(vectorizer)
    return index


def _build_index(vectorizer: TfidfVectorizer) -> _NgramIndex | None:
    analyzer = vectorizer.analyzer
    vocabulary = vectorizer.vocabulary_
    if isinstance(analyzer, CharNgrams):
        split: Any = analyzer.units
        grams = {tuple(term): col for term, col in vocabulary.items()}
    elif isinstance(analyzer, WordNgrams):
        split = analyzer.units
        grams = {tuple(term.split(" ")): col for term, col in vocabulary.items()}
    else:
        return None
    low, high = analyzer.ngram_range
    if low < 1 or any(not low <= len(g) <= high for g in grams):
        return None
    units: dict[str, int] = {}
    for gram in grams:
        for unit in gram:
            units.setdefault(unit, len(units) + 1)
    bits = max(1, len(units).bit_length())
    if bits * high > 63:
        return None
    keys = np.fromiter(
        (sum(units[u] << (bits * k) for k, u in enumerate(g)) for g in grams),
        dtype=np.int64,
        count=len(grams),
    )
    columns = np.fromiter(grams.values(), dtype=np.int64, count=len(grams))
    order = np.argsort(keys)
    kind = _CharIndex if isinstance(analyzer, CharNgrams) else _NgramIndex
    return kind(units, bits, keys[order], columns[order], (low, high), split)
