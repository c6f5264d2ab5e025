"""Reading labelled CSV corpora (UTF-8, header row) and fingerprinting them for caches."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class CorpusError(ValueError):
    """A corpus file or column is missing or unreadable; the message says which."""


@dataclass(frozen=True)
class Corpus:
    """Texts with one label column per head; an empty label means 'not labelled for this head'."""

    texts: tuple[str, ...]
    labels: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.texts)


def read_csv(path: Path, text_col: str, label_cols: Sequence[str]) -> Corpus:
    """One labelled CSV; raises CorpusError naming the file or the missing column."""
    return read_csvs([path], text_col, label_cols)


def read_csvs(paths: Iterable[Path], text_col: str, label_cols: Sequence[str]) -> Corpus:
    """Several labelled CSVs with the same columns, concatenated in the given order."""
    texts: list[str] = []
    labels: dict[str, list[str]] = {col: [] for col in label_cols}
    for path in paths:
        if not path.is_file():
            raise CorpusError(f"no such file: {path}")
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                columns = reader.fieldnames or []
                missing = [c for c in (text_col, *label_cols) if c not in columns]
                if missing:
                    raise CorpusError(
                        f"{path}: no column {', '.join(missing)} (columns: {', '.join(columns)})"
                    )
                for row in reader:
                    text = (row.get(text_col) or "").strip()
                    if not text:
                        continue
                    texts.append(text)
                    for col in label_cols:
                        labels[col].append((row.get(col) or "").strip())
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path}: not UTF-8 ({exc.reason})") from exc
        except csv.Error as exc:
            raise CorpusError(f"{path}: malformed CSV ({exc})") from exc
    return Corpus(tuple(texts), {col: tuple(v) for col, v in labels.items()})


def csv_files(directory: Path) -> list[Path]:
    """The CSV files of a directory in a stable order."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.csv") if p.is_file())


def fingerprint(paths: Iterable[Path], *extra: str) -> str:
    """SHA-256 over file names and contents (plus extra strings): the key of a built model."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()
