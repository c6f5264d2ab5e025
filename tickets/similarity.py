"""How alike two short reports are: character bigrams, robust to word order and typos."""

from __future__ import annotations

import re
from pathlib import Path

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def bigrams(text: str) -> set[str]:
    clean = _NOISE.sub("", text.lower())
    if len(clean) < 2:
        return {clean} if clean else set()
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


_PLACE = re.compile(
    r"\d+\s*(?:栋|幢|号楼|单元|期)|[东南西北]门|地下车库|地库|车库|地下室|"
    r"(?<=楼上|楼下|对门|隔壁)\d{3,4}|\d{3,4}(?=室|家|那家|房东)"
)
_SAME_PLACE = {"地下车库": "车库", "地库": "车库"}


def places(text: str) -> set[str]:
    """Place references (5栋, 12幢, 3号楼, 东门, 地下车库, 楼上1204) with spacing removed."""
    found = {
        re.sub(r"\s+", "", m.group(0)).replace("幢", "栋").replace("号楼", "栋")
        for m in _PLACE.finditer(text)
    }
    return {_SAME_PLACE.get(place, place) for place in found}


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams, 0 (nothing shared) to 1 (same text)."""
    left, right = bigrams(a), bigrams(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


Lexicon = dict[str, str]  # a word -> the thing it names (the first word of its line)


def subjects(text: str, lexicon: Lexicon) -> frozenset[str]:
    """The things a report names (电梯, 楼道灯, 臭味 …), read left to right, the longest word first."""
    if not lexicon:
        return frozenset()
    longest = max(map(len, lexicon))
    found: set[str] = set()
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            if (thing := lexicon.get(text[i : i + size])) is not None:
                found.add(thing)
                i += size
                break
        else:
            i += 1
    return frozenset(found)


def read_lexicon(path: Path) -> Lexicon:
    """One thing a line, its words separated by spaces; blank lines and # comments skipped; a missing file
    is an empty lexicon."""
    if not path.is_file():
        return {}
    lexicon: Lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        for word in words:
            lexicon.setdefault(word, words[0])
    return lexicon
