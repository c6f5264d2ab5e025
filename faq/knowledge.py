"""The FAQ knowledge base (data/faq/knowledge.yaml) as typed, validated values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REQUIRED_KEYS = ("id", "category", "question", "variants", "answer", "materials", "where", "online")


@dataclass(frozen=True)
class Matter:
    """One question residents ask, with the answer Xiaoqi posts and the details it can add."""

    id: str
    category: str
    question: str
    variants: tuple[str, ...]
    answer: str
    materials: tuple[str, ...] = ()
    where: str = ""
    online: str = ""
    note: str = ""
    # Other names residents use for this matter's key words: (word the matcher reads, its other names)
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _read(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping with 'matters' at the top level")
    return data


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    return value.strip()


def _texts(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: '{key}' must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _synonyms(entry: Mapping[str, Any], where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = entry.get("synonyms")
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: 'synonyms' must map a word to a list of its other names")
    groups = []
    for word in value:
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"{where}: a synonyms word must be a non-empty string")
        names = _texts(value, word, f"{where}: synonyms of {word!r}")
        if not names:
            raise ValueError(f"{where}: synonyms of {word!r} list no other name")
        groups.append((word.strip(), names))
    return tuple(groups)


def _matter(entry: object, index: int, path: Path) -> Matter:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{path}: matter #{index + 1} is not a mapping")
    label = f"{path}: matter #{index + 1} ({entry.get('id', '?')})"
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        raise ValueError(f"{label}: missing required key(s): {', '.join(missing)}")
    matter = Matter(
        id=_text(entry, "id", label),
        category=_text(entry, "category", label),
        question=_text(entry, "question", label),
        variants=_texts(entry, "variants", label),
        answer=" ".join(_text(entry, "answer", label).split()),
        materials=_texts(entry, "materials", label),
        where=_text(entry, "where", label),
        online=_text(entry, "online", label),
        note=_text(entry, "note", label),
        synonyms=_synonyms(entry, label),
    )
    for key in ("id", "category", "question", "answer"):
        if not getattr(matter, key):
            raise ValueError(f"{label}: '{key}' is empty")
    return matter


def load_knowledge(path: Path) -> list[Matter]:
    """The matters of a knowledge file; a ValueError names the entry and key that is wrong."""
    entries = _read(path).get("matters")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 'matters' must be a list")
    matters = [_matter(entry, i, path) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for matter in matters:
        if matter.id in seen:
            raise ValueError(f"{path}: duplicate matter id {matter.id!r}")
        seen.add(matter.id)
    try:
        synonym_table(matters)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    return matters


def synonym_table(matters: Sequence[Matter]) -> dict[str, str]:
    """Every other name in the matters' synonyms, mapped to the word the matcher reads instead.

    A name may stand for one word only, and a word the matcher reads is never itself replaced.
    """
    table: dict[str, str] = {}
    for matter in matters:
        for word, names in matter.synonyms:
            for name in names:
                if name == word:
                    continue
                if table.setdefault(name, word) != word:
                    raise ValueError(f"synonym {name!r} stands for both {table[name]!r} and {word!r}")
    clashes = sorted(set(table) & set(table.values()))
    if clashes:
        raise ValueError(f"synonym(s) {', '.join(clashes)} are both a word and another word's other name")
    return table


def load_unanswerable(path: Path) -> list[str]:
    """Resident questions the file deliberately does not answer: negatives for tests."""
    examples = _read(path).get("unanswerable_examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ValueError(f"{path}: 'unanswerable_examples' must be a list of strings")
    return [e.strip() for e in examples if e.strip()]
