"""Loads the message classifier once at start-up: the default model, or a deployment's own."""

from __future__ import annotations

import logging

from core.settings import Settings
from nlp import MessageClassifier, default_model

log = logging.getLogger(__name__)


def load_classifier(settings: Settings) -> MessageClassifier:
    """A deployment model (XIAOQI_NLP_MODEL_DIR) falls back to the default for heads it lacks."""
    base = default_model(settings.data_dir, settings.cache_dir)
    if settings.nlp_model_dir is None:
        return base
    log.info("loading the deployment's NLP model from %s", settings.nlp_model_dir)
    return MessageClassifier.load(
        settings.nlp_model_dir, fallback=base, cache_dir=settings.cache_dir / "jieba"
    )
