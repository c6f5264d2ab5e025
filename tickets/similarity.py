"""How alike two short reports are: character bigrams, robust to word order and typos."""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def bigrams(text: str) -> set[str]:
    clean = _NOISE.sub("", text.lower())
    if len(clean) < 2:
        return {clean} if clean else set()
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


_PLACE = re.compile(r"\d+\s*(?:栋|幢|号楼|单元|期)|[东南西北]门|地下车库|车库[A-Za-z0-9]*区?")


def places(text: str) -> set[str]:
    """Place references (5栋, 12幢, 3号楼, 东门, 地下车库) with spacing removed."""
    return {
        re.sub(r"\s+", "", m.group(0)).replace("幢", "栋").replace("号楼", "栋")
        for m in _PLACE.finditer(text)
    }


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams, 0 (nothing shared) to 1 (same text)."""
    left, right = bigrams(a), bigrams(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))
