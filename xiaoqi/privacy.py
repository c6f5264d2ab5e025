"""Masking of phone and ID-card numbers in text that is stored for analysis or shown publicly."""

from __future__ import annotations

import re

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[\dXx])(?![0-9A-Za-z])"
    r"|(?<!\d)(\d{6})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?!\d)"
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)([\s-]?)(\d{4})([\s-]?)(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})([\s-])(\d{3,4})(\d{4})(?!\d)")


def _mask_id(match: re.Match[str]) -> str:
    whole = match.group(0)
    return whole[:4] + "*" * (len(whole) - 8) + whole[-4:]


def _mask_mobile(match: re.Match[str]) -> str:
    whole, offset = match.group(0), match.start(0)
    start, end = match.span(3)
    return whole[: start - offset] + "*" * (end - start) + whole[end - offset :]


def _mask_landline(match: re.Match[str]) -> str:
    area, sep, middle, tail = match.groups()
    return f"{area}{sep}{'*' * len(middle)}{tail}"


def mask_private_numbers(text: str) -> str:
    """Hide the middle of mobile, landline and ID-card numbers (13912345678 -> 139****5678)."""
    if not text:
        return text
    probe = text.translate(_FULLWIDTH_DIGITS)
    if not any(ch.isdigit() for ch in probe):
        return text
    masked = _ID_CARD.sub(_mask_id, probe)
    masked = _MOBILE.sub(_mask_mobile, masked)
    return _LANDLINE.sub(_mask_landline, masked)
