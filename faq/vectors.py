"""TF-IDF views of the knowledge base (word grams, character grams) and each matter's centroid."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

CHAR_NGRAMS = (1, 2)
# How much grams the knowledge base never uses weigh in a message's length (1 = like a rare gram).
UNSEEN_WEIGHT = 1.0


def word_grams(words: tuple[str, ...]) -> list[str]:
    return [*words, *(f"{a} {b}" for a, b in pairwise(words))]


def char_grams(words: tuple[str, ...]) -> list[str]:
    """Character grams across the content (not only inside words): robust to other cuts."""
    text = "".join(words)
    low, high = CHAR_NGRAMS
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class FeatureView:
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
    ) -> FeatureView:
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float64)
        matrix = sp.csr_matrix(vectorizer.fit_transform(docs)).T.tocsr()
        # What sklearn's smooth idf gives a gram no document has.
        unseen_idf = float(np.log((1 + len(docs)) / 1) + 1)
        vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        return cls(
            analyzer, vocabulary, vectorizer.idf_, unseen_idf, matrix, centroids(matrix, owners, count)
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


def centroids(docs: sp.csr_matrix, owners: np.ndarray, count: int) -> sp.csr_matrix:
    """Unit-length mean of each matter's document vectors (vocabulary x matters)."""
    membership = sp.csr_matrix(
        (np.ones(len(owners)), (np.arange(len(owners)), owners)), shape=(len(owners), count)
    )
    summed = sp.csr_matrix(docs @ membership)
    norms = np.sqrt(np.asarray(summed.multiply(summed).sum(axis=0))).ravel()
    norms[norms == 0] = 1.0
    return sp.csr_matrix(summed @ sp.diags(1.0 / norms))
