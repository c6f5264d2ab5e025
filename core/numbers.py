"""Numbers people type for records (工单号, 通知号 …): only what a database integer id can be."""

from __future__ import annotations

MAX_DIGITS = 9  # ids are 32-bit integers on PostgreSQL: 10 digits may not fit
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def ascii_digits(text: str) -> str:
    """'１２' -> '12': full-width digits, as a Chinese input method types them, as ASCII ones."""
    return text.translate(_FULL_WIDTH_DIGITS)


def bare_number(text: str) -> str:
    """'#12号', '＃１２' -> '12': the number as people mean it, for look-ups and for answers that repeat it."""
    return ascii_digits(text.strip().lstrip("#＃").removesuffix("号"))


def is_number(text: str) -> bool:
    """Whether `text` is written as a record number ('12', '#12', '12号', '＃１２'), whatever its size."""
    digits = bare_number(text)
    return digits.isascii() and digits.isdigit()


def record_id(text: str) -> int | None:
    """'12', '#12', '12号', '１２' -> 12; anything else (words, '①', 2147483648) -> None."""
    digits = bare_number(text)
    if is_number(digits) and len(digits) <= MAX_DIGITS:
        return int(digits)
    return None
