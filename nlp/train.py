"""Training: one shared feature extractor, one calibrated linear classifier per label column."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from nlp.ensemble import JointEnsemble
from nlp.features import block_widths, fast_transform, text_features
from nlp.labels import NO_CATEGORY
from nlp.nblr import NBLogisticRegression, NBLRPlainLREnsemble

logger = logging.getLogger(__name__)

CLASSIFIERS = ("joint", "nblr", "nblr+lr", "lr", "svc", "sgd", "cnb")
# The joint ensemble's NB-SVM takes C / JOINT_C_SCALE as its SVM's C, so the C grid and the
# --C option keep one meaning (larger: less regularised) and the default C=30 gives it C=1.
JOINT_C_SCALE = 30.0
SEED = 20240601


@dataclass(frozen=True)
class TrainConfig:
    """Every choice that shapes a trained model; stored in its manifest."""

    classifier: str = "nblr"
    C: float = 30.0
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 3)
    min_df: int = 2
    # min_df of the character part (None: min_df); full_mode adds jieba full-mode (cut_all)
    # word unigrams, which the documents then carry (MessageClassifier.prepare reads this).
    char_min_df: int | None = None
    full_mode: bool = False
    use_stopwords: bool = True
    # Heads with their own character-n-gram features (no words): they need no segmentation, so
    # asking only for them skips jieba. Sentiment lives in characters (好 烦 谢谢 😭) more than
    # in the matter words the intent and category heads share.
    char_only_heads: tuple[str, ...] = ()
    char_only_ngrams: tuple[int, int] = (1, 3)
    # "balanced" reweights classes by inverse frequency, for heads whose seed mix is skewed.
    class_weight: str | None = None
    balanced_heads: tuple[str, ...] = ()
    # P(紧急) that makes a message an emergency even when another intent is likelier,
    # and the lower bar that applies when a danger keyword rule also fires.
    emergency_threshold: float = 0.25
    emergency_rule_threshold: float = 0.05

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the manifest."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Inverse of as_dict, ignoring keys from other versions."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("word_ngrams", "char_ngrams", "char_only_heads", "char_only_ngrams", "balanced_heads"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


def make_classifier(config: TrainConfig, n_min_class: int = 5, head: str = "", features: Any = None) -> Any:
    """The classifier a config names, with probabilities that are calibrated or close to it;
    features, the fitted extractor it will read, gives the joint ensemble its views."""
    name = config.classifier
    weight = "balanced" if head in config.balanced_heads else config.class_weight
    if name == "nblr":
        return NBLogisticRegression(C=config.C, class_weight=weight, random_state=SEED)
    if name == "joint":
        return JointEnsemble(C=config.C / JOINT_C_SCALE, views=block_widths(features), random_state=SEED)
    if name == "nblr+lr":
        return NBLRPlainLREnsemble(C=config.C, class_weight=weight, random_state=SEED)
    if name == "lr":
        return LogisticRegression(C=config.C, max_iter=3000, class_weight=weight, random_state=SEED)
    folds = max(2, min(3, n_min_class))
    if name == "svc":
        return CalibratedClassifierCV(
            LinearSVC(C=config.C / 10, random_state=SEED), cv=folds, method="sigmoid"
        )
    if name == "sgd":
        sgd = SGDClassifier(
            loss="modified_huber", alpha=1e-4 / config.C, random_state=SEED, max_iter=50, tol=None
        )
        return CalibratedClassifierCV(sgd, cv=folds, method="sigmoid")
    if name == "cnb":
        return CalibratedClassifierCV(
            ComplementNB(alpha=1.0 / config.C),
            cv=folds,
            method="isotonic" if n_min_class >= 30 else "sigmoid",
        )
    raise ValueError(f"unknown classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")


def head_rows(head: str, labels: Mapping[str, Sequence[str]]) -> np.ndarray:
    """Indices of the rows a head trains on: labelled ones, and for category only real matters."""
    column = labels[head]
    rows = [i for i, label in enumerate(column) if label]
    if head == "category" and "intent" in labels:
        # 无 is implied by the intent head, so the category head learns only real categories.
        rows = [i for i in rows if column[i] != NO_CATEGORY]
    return np.asarray(rows, dtype=int)


def fit_heads(
    docs: Sequence[str],
    labels: Mapping[str, Sequence[str]],
    config: TrainConfig,
    stopwords: Sequence[str] = (),
) -> dict[str, Pipeline]:
    """Fit the shared features once and a classifier per head; the heads share one extractor
    (except char_only_heads, which share a character-only one)."""
    features = fit_features(docs, config, stopwords)
    matrix = fast_transform(features, list(docs))
    char_features: FeatureUnion | None = None
    char_matrix: Any = None
    heads: dict[str, Pipeline] = {}
    for head in labels:
        rows = head_rows(head, labels)
        y = np.asarray(labels[head], dtype=object)[rows]
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            logger.warning("head %s has fewer than two labels; skipped", head)
            continue
        head_features, head_matrix = features, matrix
        if head in config.char_only_heads:
            if char_features is None:
                char_features = _char_features(features, docs, config, stopwords)
                char_matrix = fast_transform(char_features, list(docs))
            head_features, head_matrix = char_features, char_matrix
        classifier = make_classifier(config, int(counts.min()), head, head_features)
        classifier.fit(head_matrix[rows], y.astype(str))
        heads[head] = Pipeline([("features", head_features), ("classifier", classifier)])
        logger.info("fitted head %s on %d rows, %d labels", head, len(rows), len(classes))
    return heads


def char_only(config: TrainConfig) -> TrainConfig:
    """The config of a char_only_heads extractor: its character n-grams and no words."""
    return replace(config, word_ngrams=(0, 0), char_ngrams=config.char_only_ngrams, full_mode=False)


def _char_features(
    shared: FeatureUnion, docs: Sequence[str], config: TrainConfig, stopwords: Sequence[str]
) -> FeatureUnion:
    """The char_only_heads extractor: the shared one's character part when it is the same
    (same n-grams, same documents, same min_df), so it is stored and computed only once."""
    chars = dict(shared.transformer_list).get("chars")
    if chars is not None and config.char_only_ngrams == config.char_ngrams and config.char_min_df is None:
        return FeatureUnion([("chars", chars)])
    return fit_features(docs, char_only(config), stopwords)


def fit_features(docs: Sequence[str], config: TrainConfig, stopwords: Sequence[str]) -> FeatureUnion:
    """The TF-IDF word + character (+ full-mode word) extractor, fitted on all documents."""
    features = text_features(
        stopwords=stopwords if config.use_stopwords else (),
        word_ngrams=config.word_ngrams,
        char_ngrams=config.char_ngrams,
        min_df=config.min_df,
        char_min_df=config.char_min_df,
        full_mode=config.full_mode,
    )
    features.fit(list(docs))
    return features


def cross_val_predict_proba(
    docs: Sequence[str],
    y: Sequence[str],
    config: TrainConfig,
    stopwords: Sequence[str] = (),
    folds: int = 5,
    head: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold class probabilities (features refitted per fold, so nothing leaks); head
    selects that head's own features and class weights, as fit_heads would give it."""
    if head in config.char_only_heads:
        config = char_only(config)
    y_arr = np.asarray(y, dtype=str)
    classes = np.unique(y_arr)
    proba = np.zeros((len(y_arr), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    docs_arr = np.asarray(docs, dtype=object)
    for train_idx, test_idx in splitter.split(docs_arr, y_arr):
        features = fit_features(list(docs_arr[train_idx]), config, stopwords)
        counts = np.unique(y_arr[train_idx], return_counts=True)[1]
        classifier = clone(make_classifier(config, int(counts.min()), head, features))
        classifier.fit(fast_transform(features, list(docs_arr[train_idx])), y_arr[train_idx])
        fold_proba = classifier.predict_proba(fast_transform(features, list(docs_arr[test_idx])))
        cols = np.searchsorted(classes, classifier.classes_)
        proba[np.ix_(test_idx, cols)] = fold_proba
    return classes, proba


def tune_c(
    docs: Sequence[str],
    y: Sequence[str],
    config: TrainConfig,
    grid: Sequence[float],
    stopwords: Sequence[str] = (),
    folds: int = 3,
) -> tuple[TrainConfig, dict[float, float]]:
    """Pick C by cross-validated accuracy on the training data only."""
    from sklearn.metrics import accuracy_score

    results: dict[float, float] = {}
    for c in grid:
        candidate = replace(config, C=c)
        classes, proba = cross_val_predict_proba(docs, y, candidate, stopwords, folds)
        results[c] = float(accuracy_score(y, classes[proba.argmax(axis=1)]))
        logger.info("C=%g: cv accuracy %.4f", c, results[c])
    best = max(grid, key=lambda c: (results[c], -abs(np.log(c / config.C))))
    return replace(config, C=best), results
