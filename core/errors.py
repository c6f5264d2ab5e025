"""The one error type whose text is meant for the person who caused it."""

from __future__ import annotations


class XiaoqiError(Exception):
    """An expected failure; str(error) is a short, polite Chinese sentence for the user."""
