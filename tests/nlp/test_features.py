from __future__ import annotations

from pathlib import Path

import numpy as np

from nlp.features import fast_transform, text_features
from nlp.nblr import NBLogisticRegression

DOCS = ["楼道\x1f灯\x1f坏\x1f了", "电梯\x1f又\x1f坏\x1f了", "谢谢\x1f网格员", "", "未见过\x1f的\x1f词"]


def test_fast_transform_matches_sklearn() -> None:
    features = text_features(stopwords=["的"]).fit(DOCS[:3])
    fast = fast_transform(features, DOCS).toarray()
    slow = features.transform(DOCS).toarray()
    assert np.allclose(fast, slow, atol=1e-6)


def test_nblr_folded_scores_match_explicit_scaling() -> None:
    from sklearn.preprocessing import normalize as l2

    features = text_features().fit(DOCS)
    X = fast_transform(features, DOCS)
    y = ["诉求", "诉求", "表扬", "闲聊", "闲聊"]
    model = NBLogisticRegression(C=10).fit(X, y)
    explicit = np.column_stack(
        [
            l2(X.multiply(ratio).tocsr()) @ coef + b
            for ratio, coef, b in zip(model.ratios_, model.coef_, model.intercept_, strict=True)
        ]
    )
    assert np.allclose(model.decision_function(X), explicit)
    proba = model.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_packed_ngram_counting_matches_sklearn_on_seed_messages(data_dir: Path, cache_dir: Path) -> None:
    from nlp import normalize
    from nlp.corpus import csv_files, read_csvs
    from nlp.segment import Segmenter

    texts = list(read_csvs(csv_files(data_dir / "nlp" / "seed"), "text", ["intent"]).texts)[::10]
    segmenter = Segmenter(data_dir / "nlp" / "userdict.txt", cache_dir / "jieba")
    docs = segmenter.prepare_many([normalize(t) for t in texts])
    odd = ["", "\ud800好", "😂😂😂", "a\x1fb\x1fc", "从没见过的字眼龘"]
    for kwargs in (
        {},
        {"word_ngrams": (1, 3), "char_ngrams": (2, 5)},
        {"word_ngrams": (0, 0), "char_ngrams": (1, 4), "min_df": 2},
    ):
        features = text_features(stopwords=["的", "了"], **kwargs).fit(docs[::2])  # type: ignore[arg-type]
        sample = docs + odd
        assert np.allclose(
            fast_transform(features, sample).toarray(), features.transform(sample).toarray(), atol=1e-6
        )


def test_nblr_balanced_weights_lift_the_rare_class() -> None:
    features = text_features().fit(DOCS)
    X = fast_transform(features, DOCS * 5)
    y = ["诉求", "诉求", "诉求", "诉求", "表扬"] * 5
    plain = NBLogisticRegression(C=0.1).fit(X, y)
    balanced = NBLogisticRegression(C=0.1, class_weight="balanced").fit(X, y)
    rare = list(plain.classes_).index("表扬")
    assert balanced.predict_proba(X)[:, rare].mean() > plain.predict_proba(X)[:, rare].mean()


def test_nblr_plus_lr_gives_probabilities_for_two_and_many_classes() -> None:
    from nlp.nblr import NBLRPlainLREnsemble

    features = text_features().fit(DOCS)
    X = fast_transform(features, DOCS)
    for y in (["a", "a", "b", "b", "b"], ["a", "b", "c", "a", "b"]):
        model = NBLRPlainLREnsemble(C=10).fit(X, y)
        proba = model.predict_proba(X)
        assert proba.shape == (5, len(set(y)))
        assert np.allclose(proba.sum(axis=1), 1.0)
