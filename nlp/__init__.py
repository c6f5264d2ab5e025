"""Message understanding for Xiaoqi: text in, labels (intent, category, sentiment) out."""

from __future__ import annotations

from nlp.build import DEFAULT_CONFIG, TRAIN_CONFIG, default_model, train_model
from nlp.corpus import Corpus, CorpusError, read_csv
from nlp.labels import CATEGORIES, INTENTS, NO_CATEGORY, SENTIMENTS, Labels
from nlp.model import MessageClassifier
from nlp.normalize import normalize
from nlp.train import TrainConfig

__all__ = [
    "CATEGORIES",
    "DEFAULT_CONFIG",
    "INTENTS",
    "NO_CATEGORY",
    "SENTIMENTS",
    "TRAIN_CONFIG",
    "Corpus",
    "CorpusError",
    "Labels",
    "MessageClassifier",
    "TrainConfig",
    "default_model",
    "normalize",
    "read_csv",
    "train_model",
]
