"""Word segmentation with a private jieba instance that knows community-governance words."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nlp.normalize import PLACEHOLDERS, normalize

logger = logging.getLogger(__name__)


def _import_jieba() -> tuple[Any, str]:
    """jieba_fast (a C build, ~2x faster, same segmentation) if importable and not disabled."""
    if os.environ.get("XIAOQI_JIEBA", "").lower() != "jieba":
        try:
            import jieba_fast

            return jieba_fast, "jieba_fast"
        except ImportError:
            pass
    import jieba

    return jieba, "jieba"


_jieba, JIEBA_IMPL = _import_jieba()

# Joins tokens in a prepared document; normalisation removes control characters, so no token
# can contain it.
TOKEN_SEP = "\x1f"
# Starts the optional full-mode section of a prepared document (jieba cut_all words, for
# models whose features read them); the same guarantee holds for it.
FULL_SEP = "\x1e"


def unsegmented(normalized: str) -> str:
    """What a prepared document reads with its separators taken out (segmentation drops only
    whitespace), without running jieba: the input of character-only features."""
    return normalized.replace(" ", "")


def read_word_list(path: Path | None) -> list[str]:
    """Words of a one-per-line list (first column), skipping blanks and # comments."""
    if path is None or not path.is_file():
        return []
    words = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words


class Segmenter:
    """Cuts normalised text into words; initialises jieba lazily, caching in cache_dir."""

    def __init__(self, userdict: Path | None = None, cache_dir: Path | None = None) -> None:
        self.userdict = userdict
        self.cache_dir = cache_dir
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _ready(self) -> Any:
        if self._tokenizer is not None:
            return self._tokenizer
        with self._lock:
            if self._tokenizer is None:
                logging.getLogger(_jieba.__name__).setLevel(logging.WARNING)
                tokenizer = _jieba.Tokenizer()
                if self.cache_dir is not None:
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    tokenizer.tmp_dir = str(self.cache_dir)
                else:
                    logger.warning("no cache dir for jieba: its dictionary is rebuilt on each load")
                    tokenizer.tmp_dir = None
                    tokenizer.cache_file = None
                    tokenizer.initialize = _no_cache_initialize(tokenizer)
                tokenizer.initialize()
                for word, freq in self.user_words():
                    tokenizer.add_word(word, freq)
                self._tokenizer = tokenizer
        return self._tokenizer

    def user_words(self) -> list[tuple[str, int | None]]:
        """User dictionary entries in normalised form, so they match normalised text."""
        if self.userdict is None or not self.userdict.is_file():
            return []
        entries: list[tuple[str, int | None]] = []
        for line in self.userdict.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            word = normalize(parts[0])
            if not word or any(ch in PLACEHOLDERS for ch in word):
                continue
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            entries.append((word, freq if freq else None))
        return entries

    def words(self, text: str) -> list[str]:
        """Tokens of already normalised text, spaces dropped, punctuation and emoji kept."""
        if not text:
            return []
        return [w for w in self._ready().cut(text, HMM=True) if not w.isspace()]

    def full_words(self, text: str) -> list[str]:
        """Full-mode (cut_all) words of already normalised text: every dictionary word in it,
        overlapping ones included, spaces dropped."""
        if not text:
            return []
        return [w for w in self._ready().cut(text, cut_all=True) if w and not w.isspace()]

    def prepare(self, text: str, full: bool = False) -> str:
        """Tokens joined by TOKEN_SEP: the form every model head takes as input; with full,
        followed by FULL_SEP and the full-mode words (for features that read them)."""
        precise = TOKEN_SEP.join(self.words(text))
        if not full:
            return precise
        return precise + FULL_SEP + TOKEN_SEP.join(self.full_words(text))

    def prepare_many(self, texts: Iterable[str], full: bool = False) -> list[str]:
        """prepare() over many texts."""
        return [self.prepare(t, full) for t in texts]

    def __getstate__(self) -> dict[str, Any]:
        return {"userdict": self.userdict, "cache_dir": self.cache_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["userdict"], state["cache_dir"])  # type: ignore[misc]


def _no_cache_initialize(tokenizer: Any) -> Any:
    """jieba's initialize, made to never read or write a cache file (it would go to /tmp)."""

    def initialize(dictionary: str | None = None) -> None:
        with tokenizer.lock:
            if tokenizer.initialized:
                return
            tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
            tokenizer.initialized = True

    return initialize
