from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.features import fast_transform, text_features
from nlp.nblr import NBLogisticRegression
from nlp.segment import TOKEN_SEP

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


@pytest.mark.slow
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


def test_full_mode_section_is_read_only_by_full_mode_features(data_dir: Path, cache_dir: Path) -> None:
    from nlp import normalize
    from nlp.features import needs_full_mode
    from nlp.segment import FULL_SEP, Segmenter

    segmenter = Segmenter(data_dir / "nlp" / "userdict.txt", cache_dir / "jieba")
    texts = [normalize(t) for t in ("中华人民共和国成立了", "小区的电梯又坏了", "谢谢网格员", "")]
    plain = segmenter.prepare_many(texts)
    full = segmenter.prepare_many(texts, full=True)
    assert all(f.split(FULL_SEP)[0] == p for p, f in zip(plain, full, strict=True))
    assert "中华" in full[0].split(FULL_SEP)[1].split(TOKEN_SEP)  # overlapping dictionary words
    without = text_features(word_ngrams=(1, 2), char_ngrams=(1, 3)).fit(plain)
    assert np.allclose(fast_transform(without, plain).toarray(), fast_transform(without, full).toarray())
    assert not needs_full_mode(without)
    features = text_features(char_ngrams=(1, 4), min_df=1, char_min_df=2, full_mode=True).fit(full)
    assert needs_full_mode(features)
    assert np.allclose(
        fast_transform(features, full).toarray(), features.transform(full).toarray(), atol=1e-6
    )


def test_joint_ensemble_gives_calibrated_probabilities_for_two_and_many_classes() -> None:
    from nlp.ensemble import JointEnsemble

    docs = DOCS[:3] * 6
    features = text_features().fit(docs)
    X = fast_transform(features, docs)
    # the last: one row per class, too few to hold out, so softmax scores and no calibrator
    for y in (["a", "a", "b"] * 6, ["a", "b", "c"] * 6, ["a", "b", "c"]):
        rows = X[: len(y)]
        model = JointEnsemble().fit(rows, y)
        proba = model.predict_proba(rows)
        assert proba.shape == (len(y), len(set(y)))
        assert np.allclose(proba.sum(axis=1), 1.0)
        assert list(model.predict(rows)) == list(y)


def test_joint_ensemble_fused_scores_match_its_members() -> None:
    import pickle

    from nlp.ensemble import JointEnsemble, _scores
    from nlp.features import block_widths

    docs = DOCS[:3] * 6
    features = text_features().fit(docs)
    X = fast_transform(features, docs)
    for y in (["a", "a", "b"] * 6, ["a", "b", "c"] * 6):
        model = JointEnsemble(views=block_widths(features)).fit(X, y)
        assert len(model.members_) == 9  # three on all features, three per view
        fused = model._member_scores(X)
        for member, (start, stop), scores in zip(model.members_, model.ranges_, fused, strict=True):
            assert np.allclose(scores, _scores(member, X[:, start:stop]))
        again = pickle.loads(pickle.dumps(model))
        assert "_fused_cache" not in again.__dict__
        assert np.allclose(again.predict_proba(X), model.predict_proba(X))
