"""Charts with matplotlib in a CJK font that the project installs itself (pip's noto-cjk-sans-otc), so
that no machine shows missing-glyph boxes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()  # pyplot's state is global: one chart at a time


@cache
def cjk_font() -> str:
    """Register the bundled Noto Sans CJK collection with matplotlib; its family name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from noto_cjk_sans_otc import FONT_PATH

    font_manager.fontManager.addfont(str(FONT_PATH))
    family = "Noto Sans CJK SC"
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def _wrap(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) or " "


def vote_chart(topic: str, options: Sequence[str], counts: Sequence[int], path: Path) -> Path:
    """A horizontal bar chart of a vote's result, written as PNG."""
    cjk_font()
    import matplotlib.pyplot as plt

    total = sum(counts) or 1
    labels = [_wrap(f"{i}. {o}", 12) for i, o in enumerate(options, start=1)]
    with _LOCK:
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
            ax.set_title(_wrap(topic, 24), fontsize=12)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_xlabel("票数")
            fig.tight_layout()
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format="png")
        finally:
            plt.close(fig)
    return path
