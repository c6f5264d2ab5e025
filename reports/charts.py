"""Charts with matplotlib in a CJK font that the project installs itself (pip's noto-cjk-sans-otc), so
that no machine shows missing-glyph boxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.plotting import PLOT_LOCK, cjk_font

# --- charts of the monthly report: PNG bytes, embedded in the HTML as data URIs --------------------------

_BLUE, _RED, _GREY, _GREEN = "#1f5fa8", "#c62828", "#90a4ae", "#2e7d32"


def _png(fig: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _figure(width: float, height: float) -> tuple[Any, Any]:
    cjk_font()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def daily_chart(days: Sequence[str], messages: Sequence[int], petitions: Sequence[int]) -> bytes:
    """Messages per day as bars, petitions per day as a line on a second axis."""
    with PLOT_LOCK:
        fig, ax = _figure(7.2, 2.8)
        try:
            x = list(range(len(days)))
            ax.bar(x, messages, color=_BLUE, alpha=0.75, label="消息")
            ax.set_ylabel("消息（条）")
            ax.set_xticks(x[::2], list(days)[::2], fontsize=8)
            other = ax.twinx()
            other.plot(x, petitions, color=_RED, marker="o", markersize=3, label="诉求")
            other.set_ylabel("诉求（条）", color=_RED)
            other.spines[["top"]].set_visible(False)
            other.set_ylim(bottom=0)
            handles = ax.get_legend_handles_labels()[0] + other.get_legend_handles_labels()[0]
            ax.legend(handles, ["消息", "诉求"], loc="upper left", fontsize=8, frameon=False)
            return _png(fig)
        finally:
            _close(fig)


def heatmap_chart(cells: Sequence[Sequence[int]]) -> bytes:
    """Messages by weekday (rows) and hour (columns)."""
    with PLOT_LOCK:
        fig, ax = _figure(7.2, 2.6)
        try:
            image = ax.imshow(cells, aspect="auto", cmap="Blues")
            ax.set_yticks(range(7), ["周一", "周二", "周三", "周四", "周五", "周六", "周日"], fontsize=8)
            ax.set_xticks(range(0, 24, 2), [f"{h}时" for h in range(0, 24, 2)], fontsize=8)
            fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).ax.tick_params(labelsize=7)
            return _png(fig)
        finally:
            _close(fig)


def compare_chart(labels: Sequence[str], now: Sequence[int], before: Sequence[int] | None) -> bytes:
    """Horizontal bars of this month's counts per label, last month's as thin grey bars beside them."""
    with PLOT_LOCK:
        fig, ax = _figure(7.2, 0.9 + 0.34 * len(labels))
        try:
            y = list(range(len(labels)))[::-1]
            ax.barh([v + 0.18 for v in y], now, height=0.36, color=_BLUE, label="本月")
            if before is not None:
                ax.barh([v - 0.18 for v in y], before, height=0.36, color=_GREY, label="上月")
                ax.legend(fontsize=8, frameon=False, loc="lower right")
            ax.set_yticks(y, list(labels), fontsize=9)
            for v, n in zip(y, now, strict=True):
                ax.text(n, v + 0.18, f" {n}", va="center", fontsize=8)
            ax.set_xlabel("条数")
            return _png(fig)
        finally:
            _close(fig)


def sentiment_chart(days: Sequence[str], series: dict[str, Sequence[int]]) -> bytes:
    """Share of positive, neutral and negative messages per day, stacked to 100%."""
    with PLOT_LOCK:
        fig, ax = _figure(7.2, 2.6)
        try:
            x = list(range(len(days)))
            totals = [sum(values[i] for values in series.values()) or 1 for i in x]
            colours = {"正面": _GREEN, "中性": _GREY, "负面": _RED}
            bottom = [0.0] * len(x)
            for label, values in series.items():
                shares = [values[i] / totals[i] * 100 for i in x]
                ax.bar(x, shares, bottom=bottom, color=colours.get(label, _BLUE), width=0.9, label=label)
                bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
            ax.set_ylim(0, 100)
            ax.set_ylabel("占比（%）")
            ax.set_xticks(x[::2], list(days)[::2], fontsize=8)
            ax.legend(fontsize=8, frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.15))
            return _png(fig)
        finally:
            _close(fig)


def share_chart(labels: Sequence[str], shares: Sequence[float], average: float) -> bytes:
    """Negative share per community (percent), with the scope's average as a dashed line."""
    with PLOT_LOCK:
        fig, ax = _figure(7.2, 0.9 + 0.3 * len(labels))
        try:
            y = list(range(len(labels)))[::-1]
            ax.barh(
                y,
                [s * 100 for s in shares],
                color=[_RED if s > average else _GREY for s in shares],
                height=0.6,
            )
            ax.axvline(average * 100, color="#555555", linestyle="--", linewidth=1)
            ax.set_yticks(y, list(labels), fontsize=9)
            for v, s in zip(y, shares, strict=True):
                ax.text(s * 100, v, f" {s:.1%}", va="center", fontsize=8)
            ax.set_xlabel("负面情绪占比（%），虚线为平均")
            return _png(fig)
        finally:
            _close(fig)
