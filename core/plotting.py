"""matplotlib in a CJK font that the project installs itself (pip's noto-cjk-sans-otc), so that no
machine shows missing-glyph boxes; shared by every chart."""

from __future__ import annotations

import threading
from functools import cache

PLOT_LOCK = threading.Lock()  # pyplot's state is global: one chart at a time


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


def wrap(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) or " "
