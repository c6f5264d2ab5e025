"""The training pipeline on real public data (../shared/data): skipped when absent, not in CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp import read_csv, train_model

from .conftest import shared_data

pytestmark = pytest.mark.slow  # trains on whole public corpora: 10-30 s each

# With the joint ensemble (TRAIN_CONFIG, nlp/build.py) bench/nlp_bench.py measures ChnSentiCorp
# 0.9333 and THUCNews 0.8892. THUCNews meets the target, 0.88, which is its floor; the
# ChnSentiCorp target, 0.94, is not reached, so its floor stays just under what is measured.
CHNSENTICORP_MIN = 0.93
THUCNEWS_MIN = 0.88


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
