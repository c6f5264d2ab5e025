"""Numbers people type for records (工单号, 通知号 …): only what a database integer id can be."""

from __future__ import annotations

MAX_DIGITS = 9  # ids are 32-bit integers on PostgreSQL: 10 digits may not fit


def bare_number(text: str) -> str:
    """'#12号' -> '12': the number as people mean it, for look-ups and for answers that repeat it."""
    return text.strip().lstrip("#＃").removesuffix("号")


def record_id(text: str) -> int | None:
    """'12', '#12', '12号' -> 12; anything else (words, '①', 2147483648) -> None."""
    digits = bare_number(text)
    if digits.isascii() and digits.isdigit() and len(digits) <= MAX_DIGITS:
        return int(digits)
    return None
