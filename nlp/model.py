"""MessageClassifier: normalise, segment once, run every head, apply the emergency rules."""

from __future__ import annotations

import json
import logging
import platform
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from nlp.features import fast_transform, needs_words
from nlp.labels import (
    DEFAULT_LABEL,
    EMERGENCY,
    HEADS,
    INTENTS_WITHOUT_CATEGORY,
    NO_CATEGORY,
    Labels,
)
from nlp.normalize import normalize
from nlp.rules import emergency_rule
from nlp.segment import JIEBA_IMPL, Segmenter, unsegmented
from nlp.train import TrainConfig

logger = logging.getLogger(__name__)

# Bump when a change to normalisation, segmentation, features or rules changes predictions.
NLP_VERSION = "2"
MANIFEST = "manifest.json"
HEADS_FILE = "heads.joblib"
USERDICT_FILE = "userdict.txt"
BATCH_SIZE = 512


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled model still loads and predicts the same."""
    import jieba

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "jieba": getattr(jieba, "__version__", "?"),
        "segmenter": JIEBA_IMPL,
        "nlp": NLP_VERSION,
    }


@dataclass(frozen=True)
class Manifest:
    """What a model dir holds: heads and their labels, config, versions, training-data hash."""

    heads: Mapping[str, Sequence[str]]
    config: TrainConfig
    data_hash: str = ""
    n_train: int = 0
    versions: Mapping[str, str] | None = None

    def to_json(self) -> str:
        """Stable JSON (sorted keys, no timestamps), so identical builds give identical files."""
        return json.dumps(
            {
                "format": 1,
                "heads": {h: list(v) for h, v in self.heads.items()},
                "config": self.config.as_dict(),
                "data_hash": self.data_hash,
                "n_train": self.n_train,
                "versions": dict(self.versions or library_versions()),
            },
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest written by to_json."""
        data = json.loads(text)
        return cls(
            heads={h: tuple(v) for h, v in data["heads"].items()},
            config=TrainConfig.from_dict(data.get("config", {})),
            data_hash=data.get("data_hash", ""),
            n_train=int(data.get("n_train", 0)),
            versions=data.get("versions"),
        )


class MessageClassifier:
    """Labels messages with intent, category and sentiment; any model dir, any subset of heads."""

    def __init__(
        self,
        heads: Mapping[str, Pipeline],
        segmenter: Segmenter,
        manifest: Manifest,
        fallback: MessageClassifier | None = None,
    ) -> None:
        self.heads = dict(heads)
        self.segmenter = segmenter
        self.manifest = manifest
        self.fallback = fallback

    @classmethod
    def load(
        cls,
        model_dir: Path,
        fallback: MessageClassifier | None = None,
        cache_dir: Path | None = None,
    ) -> MessageClassifier:
        """Load a model dir; heads it lacks are answered by fallback, if given."""
        model_dir = Path(model_dir)
        manifest_path = model_dir / MANIFEST
        if not manifest_path.is_file():
            raise FileNotFoundError(f"not a model dir (no {MANIFEST}): {model_dir}")
        manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
        saved = (manifest.versions or {}).get("scikit-learn")
        if saved and saved != sklearn.__version__:
            logger.warning(
                "model %s was saved with scikit-learn %s, running %s", model_dir, saved, sklearn.__version__
            )
        heads = joblib.load(model_dir / HEADS_FILE)
        userdict = model_dir / USERDICT_FILE
        segmenter = Segmenter(
            userdict if userdict.is_file() else None,
            cache_dir if cache_dir is not None else model_dir / "jieba-cache",
        )
        model = cls(heads, segmenter, manifest, fallback)
        model.warm_up()
        return model

    def save(self, model_dir: Path) -> None:
        """Write heads (one joblib file, so heads keep sharing features), manifest and userdict."""
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.heads, model_dir / HEADS_FILE, compress=3)
        userdict = self.segmenter.userdict
        target = model_dir / USERDICT_FILE
        if userdict is not None and userdict.is_file() and userdict.resolve() != target.resolve():
            shutil.copyfile(userdict, target)
        (model_dir / MANIFEST).write_text(self.manifest.to_json() + "\n", encoding="utf-8")

    def warm_up(self) -> None:
        """Initialise jieba and the vectorizers now, so the first message is not slow."""
        self.classify_batch(["你好"])

    @property
    def head_names(self) -> tuple[str, ...]:
        """Heads this model answers itself."""
        return tuple(self.heads)

    def prepare(self, texts: Sequence[str]) -> tuple[list[str], list[str]]:
        """Normalised texts and the segmented documents the heads take."""
        normalized = [normalize(t) for t in texts]
        return normalized, self._segment(normalized)

    def _segment(self, normalized: list[str]) -> list[str]:
        """Prepared documents, with the full-mode section when the config's features read it."""
        if self.manifest.config.full_mode:
            return self.segmenter.prepare_many(normalized, full=True)
        return self.segmenter.prepare_many(normalized)

    def head_probabilities(
        self, texts: Sequence[str], heads: Sequence[str] | None = None
    ) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """Per head: its labels and an (n_texts, n_labels) probability matrix."""
        return self._probabilities([normalize(t) for t in texts], heads)

    def _probabilities(
        self,
        normalized: list[str],
        heads: Sequence[str] | None = None,
        docs: list[str] | None = None,
    ) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """Segments only if a wanted head reads words: character-only heads take the text as is."""
        wanted = [h for h in (heads if heads is not None else self.heads) if h in self.heads]
        features_cache: dict[int, Any] = {}
        shared: dict[int, Any] = {}  # per-vectorizer entries, for vectorizers heads share
        out: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
        for head in wanted:
            pipeline = self.heads[head]
            features = pipeline.steps[0][1]
            classifier = pipeline.steps[-1][1]
            key = id(features)
            if key not in features_cache:
                if needs_words(features):
                    if docs is None:
                        docs = self._segment(normalized)
                    inputs = docs
                else:  # characters read the same from a prepared document or the bare text
                    inputs = docs if docs is not None else [unsegmented(t) for t in normalized]
                features_cache[key] = fast_transform(features, inputs, shared)
            proba = classifier.predict_proba(features_cache[key])
            out[head] = (tuple(str(c) for c in classifier.classes_), np.asarray(proba))
        return out

    def predict(self, texts: Sequence[str], head: str) -> list[str]:
        """Raw argmax labels of one head (for evaluation of any trained column); computes only
        what that head needs (no segmentation for a character-only head)."""
        labels, proba = self.head_probabilities(texts, [head])[head]
        return [labels[i] for i in proba.argmax(axis=1)]

    def classify(self, text: str) -> Labels:
        """Labels for one message; never raises on odd input."""
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Labels]:
        """Labels for many messages, in batches: the fast path for replays and imports."""
        results: list[Labels] = []
        for start in range(0, len(texts), BATCH_SIZE):
            results.extend(self._classify_chunk([_as_text(t) for t in texts[start : start + BATCH_SIZE]]))
        return results

    def _classify_chunk(self, texts: list[str]) -> list[Labels]:
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):  # replays repeat 收到/好的/[强]: classify each text once
            by_text = dict(zip(unique, self._classify_unique(unique), strict=True))
            return [by_text[t] for t in texts]
        return self._classify_unique(texts)

    def _classify_unique(self, texts: list[str]) -> list[Labels]:
        normalized, docs = self.prepare(texts)
        probs = self._probabilities(normalized, docs=docs)
        missing = [h for h in HEADS if h not in probs]
        if missing and self.fallback is not None:
            probs.update(self.fallback.head_probabilities(texts, missing))
        rows = {head: (labels, matrix.tolist()) for head, (labels, matrix) in probs.items()}
        return [self._decide(i, normalized[i], rows) for i in range(len(texts))]

    def _decide(
        self, i: int, text: str, probs: Mapping[str, tuple[tuple[str, ...], list[list[float]]]]
    ) -> Labels:
        scores: dict[str, dict[str, float]] = {
            head: dict(zip(labels, rows[i], strict=True)) for head, (labels, rows) in probs.items()
        }
        intent = self._intent(text, scores.get("intent"))
        category, category_scores = _category(intent, scores.get("intent"), scores.get("category"))
        if category_scores is not None:
            scores["category"] = category_scores
        sentiment = _argmax(scores.get("sentiment")) or DEFAULT_LABEL["sentiment"]
        if not text:
            sentiment = DEFAULT_LABEL["sentiment"]
        return Labels(intent=intent, category=category, sentiment=sentiment, scores=scores)

    def _intent(self, text: str, scores: Mapping[str, float] | None) -> str:
        if not scores:
            return DEFAULT_LABEL["intent"]
        if not text:
            return DEFAULT_LABEL["intent"] if DEFAULT_LABEL["intent"] in scores else _argmax(scores)
        if EMERGENCY in scores:
            p = scores[EMERGENCY]
            config = self.manifest.config
            if p >= config.emergency_threshold:
                return EMERGENCY
            rule = emergency_rule(text)
            if rule is not None and (rule.strong or p >= config.emergency_rule_threshold):
                return EMERGENCY
        return _argmax(scores)


def _argmax(scores: Mapping[str, float] | None) -> str:
    if not scores:
        return ""
    return max(scores.items(), key=lambda kv: kv[1])[0]


def _category(
    intent: str,
    intent_scores: Mapping[str, float] | None,
    head_scores: Mapping[str, float] | None,
) -> tuple[str, dict[str, float] | None]:
    """Category and its scores: 无 exactly when the intent carries no matter."""
    if head_scores is None:
        return NO_CATEGORY if intent in INTENTS_WITHOUT_CATEGORY else DEFAULT_LABEL["category"], None
    real = {k: v for k, v in head_scores.items() if k != NO_CATEGORY}
    if intent_scores is not None and NO_CATEGORY not in head_scores:
        p_none = sum(intent_scores.get(k, 0.0) for k in INTENTS_WITHOUT_CATEGORY)
        joint = {NO_CATEGORY: p_none, **{k: v * (1.0 - p_none) for k, v in real.items()}}
    else:
        joint = dict(head_scores)
    if intent in INTENTS_WITHOUT_CATEGORY:
        return NO_CATEGORY, joint
    return (_argmax(real) or NO_CATEGORY), joint


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)
