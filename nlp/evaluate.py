"""Scores for evaluation output: accuracy, macro-F1, per-class table, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


@dataclass(frozen=True)
class ScoreReport:
    """Everything `xiaoqi nlp eval` prints, computed once."""

    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]

    def summary(self) -> dict[str, object]:
        """The one-line JSON: headline numbers plus per-class recall."""
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": int(sum(self.support)),
            "recall": {lab: round(r, 4) for lab, r in zip(self.labels, self.recall, strict=True)},
        }

    def text(self) -> str:
        """Human-readable table and confusion matrix (rows: truth, columns: predicted)."""
        width = max(6, *(len(lab) * 2 for lab in self.labels))
        lines = [
            f"accuracy  {self.accuracy:.4f}",
            f"macro-F1  {self.macro_f1:.4f}",
            "",
            f"{'label':<{width}} precision  recall      f1  support",
        ]
        for i, lab in enumerate(self.labels):
            pad = width - _display_width(lab)
            lines.append(
                f"{lab}{' ' * pad} {self.precision[i]:9.4f} {self.recall[i]:7.4f} "
                f"{self.f1[i]:7.4f} {self.support[i]:8d}"
            )
        lines += ["", "confusion matrix (rows = truth, columns = predicted)"]
        lines.append(" " * width + " " + " ".join(f"{i:>5d}" for i in range(len(self.labels))))
        for i, lab in enumerate(self.labels):
            pad = width - _display_width(lab)
            cells = " ".join(f"{n:>5d}" for n in self.confusion[i])
            lines.append(f"{lab}{' ' * pad} {cells}   ({i})")
        return "\n".join(lines)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def score_report(truth: Sequence[str], predicted: Sequence[str]) -> ScoreReport:
    """Score predictions against truth over the union of labels seen in either."""
    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    matrix = confusion_matrix(truth, predicted, labels=labels)
    return ScoreReport(
        labels=tuple(labels),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(
            f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        ),
        precision=tuple(float(x) for x in p),
        recall=tuple(float(x) for x in r),
        f1=tuple(float(x) for x in f),
        support=tuple(int(x) for x in s),
        confusion=tuple(tuple(int(x) for x in row) for row in np.asarray(matrix)),
    )
