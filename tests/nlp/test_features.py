from __future__ import annotations

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
    explicit = np.column_stack([
        l2(X.multiply(ratio).tocsr()) @ coef + b
        for ratio, coef, b in zip(model.ratios_, model.coef_, model.intercept_, strict=True)
    ])
    assert np.allclose(model.decision_function(X), explicit)
    proba = model.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)
