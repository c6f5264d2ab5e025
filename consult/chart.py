"""A vote's result as a bar chart (PNG), sent with the result."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.plotting import PLOT_LOCK, cjk_font, wrap


def vote_chart(topic: str, options: Sequence[str], counts: Sequence[int], path: Path) -> Path:
    """A horizontal bar chart of a vote's result, written as PNG."""
    cjk_font()
    import matplotlib.pyplot as plt

    total = sum(counts) or 1
    labels = [wrap(f"{i}. {o}", 12) for i, o in enumerate(options, start=1)]
    with PLOT_LOCK:
        fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.6 * len(options)), dpi=120)
        try:
            ypos = list(range(len(options)))[::-1]
            best = max(counts) if counts else 0
            colours: list[Any] = ["#2e7d32" if c == best and c > 0 else "#90a4ae" for c in counts]
            ax.barh(ypos, counts, color=colours, height=0.6)
            ax.set_yticks(ypos, labels)
            for y, count in zip(ypos, counts, strict=True):
                ax.text(count, y, f" {count} 票 ({round(count * 100 / total)}%)", va="center", fontsize=10)
            ax.set_xlim(0, max(1, best) * 1.35)
            ax.set_title(wrap(topic, 24), fontsize=12)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_xlabel("票数")
            fig.tight_layout()
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format="png")
        finally:
            plt.close(fig)
    return path
