"""The training pipeline on real public data (../shared/data): skipped when absent, not in CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlp import read_csv, train_model

from .conftest import shared_data

# Regression floors just under what the pipeline measures today (bench/nlp_bench.py:
# ChnSentiCorp 0.9325, THUCNews 0.8725). The targets, 0.94 and 0.88, are not yet
# reached by TF-IDF + NB-LR (see TRAIN_CONFIG in nlp/build.py for what was tried); raise
# these floors when the pipeline reaches them.
CHNSENTICORP_MIN = 0.925
THUCNEWS_MIN = 0.865


def _accuracy(train: Path, test: Path, data_dir: Path, cache_dir: Path) -> float:
    corpus = read_csv(train, "text", ["label"])
    model = train_model(
        corpus,
        userdict=data_dir / "nlp" / "userdict.txt",
        stopwords=data_dir / "nlp" / "stopwords.txt",
        cache_dir=cache_dir / "jieba",
    )
    held = read_csv(test, "text", ["label"])
    predicted = model.predict(list(held.texts), "label")
    return float(np.mean(np.asarray(predicted) == np.asarray(held.labels["label"])))


def test_chnsenticorp_train_to_dev(data_dir: Path, cache_dir: Path) -> None:
    train, dev = shared_data("chnsenticorp_train.csv"), shared_data("chnsenticorp_dev.csv")
    assert _accuracy(train, dev, data_dir, cache_dir) >= CHNSENTICORP_MIN


def test_thucnews_titles_dev_to_test(data_dir: Path, cache_dir: Path) -> None:
    dev, test = shared_data("thucnews_titles_dev.csv"), shared_data("thucnews_titles_test.csv")
    assert _accuracy(dev, test, data_dir, cache_dir) >= THUCNEWS_MIN
