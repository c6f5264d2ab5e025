"""Masking of phone, ID-card, passport and bank-card numbers in text that is stored for analysis or shown
publicly. Numbers may be written with full-width or Chinese digits (一三九…, 幺 for 1, 〇/零 for 0)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# one character for one: a shadow of the text with Chinese digits as ASCII keeps every position
_CHINESE_DIGITS = str.maketrans("〇零一幺二两三四五六七八九壹贰叁肆伍陆柒捌玖", "0011223456789123456789")
_DIGIT = re.compile(r"[0-9０-９〇零一幺二两三四五六七八九壹贰叁肆伍陆柒捌玖]")
MIN_DIGITS = 7  # the shortest number masked: a local landline after 电话/座机

_AREA = r"0(?:[12]\d|[3-9]\d{2})"  # 010, 025, 0512: two-digit areas are 1x and 2x
_SEP = r"[^\S\n]?[-－—–]?[^\S\n]?"  # a space or dash between groups of a number: 139 1234-5678
_ID_CARD = re.compile(
    rf"(?<![0-9A-Za-z*])\d{{6}}{_SEP}(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{3}}[\dXx](?![0-9A-Za-z*])"
    r"|(?<![\d*])\d{6}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![\d*])"
)
_PASSPORT = re.compile(
    r"(?<![0-9A-Za-z*])(?:[EGDSPHMCKegdsphmck]\d{8}|[ECec][A-Za-z]\d{7}|[HMhm]\d{10})(?![0-9A-Za-z*])"
    r"|(?:护照|通行证|签证)[\s:：是为号码]{0,4}(?P<cued>[A-Za-z]{0,2}\d{6,10})(?![0-9A-Za-z*])"
)
_BANK_CARD = re.compile(
    rf"(?<![0-9A-Za-z*])(?:\d{{4}}{_SEP}){{3}}\d{{4}}(?:{_SEP}\d{{1,3}})?(?![0-9A-Za-z*])"
)
_MOBILE = re.compile(rf"(?<![\d*])(?:\+?86{_SEP})?1[3-9]\d{_SEP}(?P<hide>\d{{4}}){_SEP}\d{{4}}(?![\d*])")
_LANDLINE = re.compile(rf"(?<![\d*])[(（]?{_AREA}[)）]?{_SEP}(?P<hide>\d{{3,4}}){_SEP}\d{{4}}(?![\d*])")
# a local number without its area code is a phone number only when the text says so: 座机 84567890
_LOCAL_LINE = re.compile(
    r"(?:电话|座机|固话|宅电|手机|号码|联系方式|拨打|致电|打|[Tt][Ee][Ll]|[Cc]all)[\s:：是为号码]{0,4}"
    rf"(?<![\d*])(?P<hide>\d{{3,4}}){_SEP}\d{{4}}(?![\d*])"
)


def _alnum_positions(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if text[i].isalnum()]


def _keep_ends(head: int, tail: int) -> Callable[[str, re.Match[str]], Iterable[int]]:
    """Hide all but the first `head` and last `tail` characters of the number (separators stay)."""

    def hidden(shadow: str, match: re.Match[str]) -> Iterable[int]:
        chars = _alnum_positions(shadow, *match.span())
        return chars[head : len(chars) - tail]

    return hidden


def _hide_group(shadow: str, match: re.Match[str]) -> Iterable[int]:
    return _alnum_positions(shadow, *match.span("hide"))


def _passport_digits(shadow: str, match: re.Match[str]) -> Iterable[int]:
    """A passport keeps its letters and last three digits: E12345678 -> E*****678."""
    span = match.span("cued") if match.group("cued") else match.span()
    digits = [i for i in range(*span) if shadow[i].isdigit()]
    return digits[:-3]


_RULES: tuple[tuple[re.Pattern[str], Callable[[str, re.Match[str]], Iterable[int]]], ...] = (
    (_ID_CARD, _keep_ends(4, 4)),
    (_PASSPORT, _passport_digits),
    (_BANK_CARD, _keep_ends(4, 4)),
    (_MOBILE, _hide_group),
    (_LANDLINE, _hide_group),
    (_LOCAL_LINE, _hide_group),
)


def mask_private_numbers(text: str) -> str:
    """Hide the middle of mobile, landline, ID-card, passport and bank-card numbers (13912345678 ->
    139****5678, 一三九一二三四五六七八 -> 一三九****五六七八); dates, prices and flat numbers stay."""
    if not text or not _DIGIT.search(text):
        return text
    base = text.translate(_FULLWIDTH_DIGITS)
    if len(_DIGIT.findall(base)) < MIN_DIGITS:
        return base
    shadow = base.translate(_CHINESE_DIGITS)
    hidden: list[int] = []
    for pattern, positions in _RULES:
        found = [i for match in pattern.finditer(shadow) for i in positions(shadow, match)]
        if found:
            hidden += found
            shadow = _starred(shadow, found)
    return _starred(base, hidden) if hidden else base


def _starred(text: str, positions: Iterable[int]) -> str:
    chars = list(text)
    for i in positions:
        chars[i] = "*"
    return "".join(chars)
