"""The FAQ knowledge base as handlers see it: the shipped answers plus those staff approved since."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from faq import FaqMatcher, load_knowledge
from faq.questions import learned_matters, learned_version
from nlp.segment import Segmenter


class Knowledge:
    """Built on first use and rebuilt when staff approve a new answer (the segmenter loads jieba lazily)."""

    def __init__(self, path: Path, segmenter: Segmenter) -> None:
        self.path, self.segmenter = path, segmenter
        self._built: tuple[int, FaqMatcher] | None = None

    def matcher(self, session: Session) -> FaqMatcher:
        version = learned_version(session)
        if self._built is None or self._built[0] != version:
            base = self._built[1] if self._built else FaqMatcher(load_knowledge(self.path), self.segmenter)
            self._built = (version, base.extended(learned_matters(session)))
        return self._built[1]
