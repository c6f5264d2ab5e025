"""FAQ answers for residents' everyday questions: knowledge base, matcher and reply texts."""

from __future__ import annotations

from faq.knowledge import Matter, load_knowledge, load_unanswerable
from faq.matcher import DEFAULT_MARGIN, DEFAULT_THRESHOLD, FaqMatcher, Match
from faq.texts import answer_text, details_text

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "FaqMatcher",
    "Match",
    "Matter",
    "answer_text",
    "details_text",
    "load_knowledge",
    "load_unanswerable",
]
