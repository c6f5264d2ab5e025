"""Votes in everyday words, read one way wherever they are said: "投票 1", "投票：改成微花园", "投票 1 我觉得
充电棚最需要", "想了想还是改一下 投票 2", "我投第一个", "选2", "支持改成微花园", "改票 2". Pure text in, a
reading out; whether a reading counts is decided where it was said (what is open there, who said it)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

_HAN_DIGITS = "一二三四五六七八九"
_STOP = r"\s,.!?;:、。…~)\]】」"  # (after folding) where a spoken option number may end, and a clause begin
_END = rf"(?=$|[{_STOP}吧啦了呀哈哦嘛的])"
# "1", "1号", "第1个", "选项1", "第一个", "一号", "选项二"; not "1楼", "一下", "一个"
_NUMBER = re.compile(
    rf"(?:(?:第|选项)\s*)?(?P<arabic>\d{{1,2}})\s*(?:号选项|号|个|项)?{_END}"
    rf"|(?:第|选项)\s*(?P<han>[{_HAN_DIGITS}])\s*(?:号|个|项)?{_END}"
    rf"|(?P<hao>[{_HAN_DIGITS}])\s*号{_END}"
)
# the word itself: "投票 1", "投票：1", "投票给2"; 改票 only before an option (with a receipt code it is
# the secret ballot's command)
_KEYWORD = re.compile(r"(?P<word>投票|改票)\s*(?::\s*)?(?:给|选)?\s*")
# everyday words, at the start of a clause: "我投第一个", "那我选2", "还是投1吧", "支持改成微花园"
_VERB = re.compile(
    rf"(?:^|(?<=[{_STOP}]))(?:我们家|我家|咱家|我们|那我|我就|我也|我还是|我|那就|还是|就|那)?\s*"
    r"(?:改投|改选|投给|投|选(?!项)|支持|赞成|(?=选项))\s*"
)
_CONSULTATION = re.compile(r"(\d{1,4})\s*号?\s+")  # "投票 3 1": consultation 3, option 1
_HEAD = re.compile(r"\s*(?:#\s*)?")  # "#投票 1"
_STOP_CHAR = re.compile(rf"[{_STOP}]")
MIN_COMMENT = 4  # characters: "吧" or "好的" beside a vote is no comment worth keeping


@dataclass(frozen=True)
class Said:
    """A vote as said: which consultation (None: not said, and several are open), which option (None: it
    asks to vote but names none; it may lie outside the options, for the caller to refuse) and the words
    around it. `keyword`: said with 投票/改票 (answered even when late), not in everyday words."""

    consultation: int | None
    option: int | None
    comment: str
    keyword: bool


@dataclass(frozen=True)
class _Reading:
    keyword: bool
    alone: bool  # the message starts with 投票 standing as a word: it asks to vote even naming nothing
    before: int  # the words before the vote end here
    rest: int  # the option should be named from here on
    loose: bool  # a part of an option's words will do ("微花园"); mid-sentence 投票 needs a number or all


# full-width ASCII (digits, letters, punctuation) and the ideographic space, folded one to one, so that a
# place in the folded text is the same place in what was said (the comment is kept as it was written)
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold(text: str) -> str:
    return text.translate(_FOLD)


def may_be_vote(text: str) -> bool:
    """A cheap first test: False when no reading of `text` could ever be a vote."""
    folded = fold(text)
    return _KEYWORD.search(folded) is not None or _VERB.search(folded) is not None


def read_vote(text: str, ballots: Mapping[int, Sequence[str]]) -> Said | None:
    """What `text` votes for among the open `ballots` (consultation number -> its options); None when it
    is not a vote (ordinary chat, or everyday words that name no option)."""
    folded = fold(text)
    readings = list(_readings(folded))
    opening = readings[0] if readings and readings[0].alone else None
    for reading in readings:
        found = _named(folded, reading, ballots)
        if found is not None:
            number, option, end = found
            comment = _comment(text, reading.before, end)
            return Said(number, option, comment, keyword=reading.keyword or opening is not None)
    if opening is None:
        return None
    only = next(iter(ballots)) if len(ballots) == 1 else None
    return Said(only, None, "", keyword=True)


def option_number(options: Sequence[str], word: str) -> int | None:
    """The option `word` names and nothing more ("1", "１号", "第1个", "选项1", the option's own words)."""
    folded = fold(word).strip()
    found = _leading_option(folded, options, loose=False)
    if found is None or _clean(folded[found[1] :]):
        return None
    return found[0] if 1 <= found[0] <= len(options) else None


def worth_keeping(comment: str) -> bool:
    return len(comment) >= MIN_COMMENT


def _head(text: str) -> int:
    """Where the words begin, after blanks and a command's "#"."""
    match = _HEAD.match(text)
    return match.end() if match else 0


def _readings(text: str) -> Iterator[_Reading]:
    head = _head(text)
    said = text[head:]
    opening = _KEYWORD.match(said)
    for match in _KEYWORD.finditer(said):
        first = match.start() == 0
        alone = first and match["word"] == "投票" and not said[2:3].isalpha()
        yield _Reading(True, alone, head + match.start(), head + match.end(), loose=first)
    for match in _VERB.finditer(said):
        inside = opening is not None and match.start() <= opening.end()  # "投票 我选2"
        yield _Reading(False, False, head if inside else head + match.start(), head + match.end(), loose=True)


def _named(
    text: str, reading: _Reading, ballots: Mapping[int, Sequence[str]]
) -> tuple[int | None, int, int] | None:
    """(consultation number or None to ask which, option, where the vote's words end)."""
    rest = text[reading.rest :]
    if reading.keyword and (match := _CONSULTATION.match(rest)) and int(match[1]) in ballots:
        number = int(match[1])
        found = _leading_option(rest[match.end() :], ballots[number], loose=reading.loose)
        # "投票 3 1"; but with one vote open "投票 1 第二个也行" is option 1 with a comment
        if found is not None and (len(ballots) > 1 or not _clean(rest[match.end() + found[1] :])):
            return number, found[0], reading.rest + match.end() + found[1]
    hits = {
        n: found for n, options in ballots.items() if (found := _leading_option(rest, options, reading.loose))
    }
    if not hits:
        return None
    number, (option, length) = next(iter(hits.items()))
    # several votes open and the words fit more than one (a bare number always does): ask which
    return (number if len(hits) == 1 else None), option, reading.rest + length


def _leading_option(text: str, options: Sequence[str], loose: bool = True) -> tuple[int, int] | None:
    """The option named at the start of `text`, and how much of `text` names it."""
    skip = len(text) - len(text.lstrip(" :"))
    text = text[skip:]
    if (match := _NUMBER.match(text)) is not None:
        digit = match["arabic"] or str(_HAN_DIGITS.index(match["han"] or match["hao"]) + 1)
        return int(digit), skip + match.end()
    folded = [fold(option).strip() for option in options]
    for index, option in sorted(enumerate(folded, start=1), key=lambda pair: -len(pair[1])):
        if option and text.startswith(option):
            return index, skip + len(option)
    longest = max((len(option) for option in folded), default=0) if loose else 0
    for size in range(min(len(text), longest), 1, -1):  # a telling part of one option: "微花园", "停车位"
        part = text[:size]
        hits = [index for index, option in enumerate(folded, start=1) if part in option]
        if len(hits) == 1 and part.strip() == part:
            return hits[0], skip + size
    return None


def _comment(said: str, before: int, after: int) -> str:
    """The words around the vote, as they were written."""
    head = _head(fold(said))
    return " ".join(part for part in (_clean(said[head:before]), _clean(said[after:])) if part)


def _clean(words: str) -> str:
    start, end = 0, len(words)
    while start < end and _STOP_CHAR.match(fold(words[start])):
        start += 1
    while end > start and _STOP_CHAR.match(fold(words[end - 1])):
        end -= 1
    return words[start:end]
