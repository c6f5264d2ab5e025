"""Typed command arguments. A command handler declares them as parameters, in the order they are
written, by annotation (`number: RecordNo, note: Text`); the router splits the text once, at any
whitespace (the full-width space too), and parses each. A missing or malformed one is a UsageError:
the caller gets the command's usage line and the handler does not run. An optional argument has a
default; `Annotated[Count, "工作日数要写数字。"]` says what to add to the usage line when it is wrong."""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin, get_type_hints

from core.errors import XiaoqiError
from core.numbers import ascii_digits, bare_number, is_number

_WORD = re.compile(r"\S+")  # \s is any whitespace: U+3000, U+2005 (after an @mention), U+00A0 too


class UsageError(XiaoqiError):
    """The command was called wrongly; the router answers with its usage line."""


class Word(str):
    """One word."""

    rest: ClassVar[bool] = False  # whether, as the last argument, it takes the rest of the text

    @classmethod
    def read(cls, word: str) -> Word | None:
        return cls(word)


class RecordNo(Word):
    """A record's number (工单号, 议事号, 通知编号 …) as people type it: '12', '#12', '12号', '＃１２'; the
    value is the bare ASCII digits ('12'). Anything else (a word, '①', '-5') is malformed."""

    @classmethod
    def read(cls, word: str) -> RecordNo | None:
        return cls(bare_number(word)) if is_number(word) else None


class PersonRef(Word):
    """Who is meant, as groups.people.resolve_person reads it: a name, a wxid, 周网格, @某人. As the last
    argument it takes the rest of the text (a nickname may hold a space)."""

    rest = True


class Text(str):
    """The rest of the text as written (stripped), lines and all: a description, a reason, a form."""


class Words(tuple[str, ...]):
    """Every remaining word, for a command that reads its words in any order (#统计 本周 全区)."""


class Count(int):
    """A small whole number (工作日数): up to three digits, ASCII or full-width."""

    @classmethod
    def read(cls, word: str) -> Count | None:
        digits = ascii_digits(word)
        return cls(int(digits)) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else None


ARGUMENT_TYPES = (Word, Text, Words, Count)
NO_TEXT = Text()  # the default of an optional Text: `note: Text = NO_TEXT`
NO_WORDS = Words()


@dataclass(frozen=True)
class Argument:
    """One declared argument: its parameter name, type, what to say when it is wrong, and default."""

    name: str
    kind: type[Any]
    hint: str = ""
    optional: bool = False
    default: Any = None


def arguments_of(handler: Callable[..., Any], injected: Collection[str]) -> tuple[Argument, ...]:
    """A handler's command arguments: every parameter whose name is not one the router injects."""
    parameters = [p for name, p in inspect.signature(handler).parameters.items() if name not in injected]
    if not parameters:
        return ()
    try:
        hints = get_type_hints(handler, include_extras=True)
    except NameError as error:
        raise TypeError(f"{handler.__qualname__}: cannot read its annotations ({error})") from None
    found = []
    for parameter in parameters:
        kind, hint = hints.get(parameter.name), ""
        optional = parameter.default is not inspect.Parameter.empty
        default = parameter.default if optional else None
        if get_origin(kind) in (Union, types.UnionType):  # `X | None`: optional, None when missing
            members = [a for a in get_args(kind) if a is not type(None)]
            optional = optional or len(members) < len(get_args(kind))
            kind = members[0] if len(members) == 1 else kind
        if get_origin(kind) is Annotated:
            kind, *extra = get_args(kind)
            hint = next((e for e in extra if isinstance(e, str)), "")
        if not (isinstance(kind, type) and issubclass(kind, ARGUMENT_TYPES)):
            raise TypeError(
                f"{handler.__qualname__}: parameter {parameter.name!r} is neither injected by the "
                "router nor a command argument (bot.args)"
            )
        found.append(Argument(parameter.name, kind, hint, optional, default))
    return tuple(found)


def read_arguments(arguments: tuple[Argument, ...], text: str) -> tuple[dict[str, Any], UsageError | None]:
    """The values `text` gives the arguments, and the error of the first missing or malformed one (or of
    words left over). Values read before an error are kept: the router checks access to the record the
    first one numbers before it complains about the rest."""
    text = text.strip()
    words = list(_WORD.finditer(text))
    values: dict[str, Any] = {}
    at = 0
    for n, argument in enumerate(arguments):
        kind = argument.kind
        if at == len(words):
            if not argument.optional:
                return values, UsageError(argument.hint)
            values[argument.name] = argument.default
            continue
        if issubclass(kind, Words):
            value: Any = kind(w[0] for w in words[at:])
            at = len(words)
        elif issubclass(kind, Text) or (getattr(kind, "rest", False) and n == len(arguments) - 1):
            value = kind(text[words[at].start() :])
            at = len(words)
        else:
            value = kind.read(words[at][0])
            if value is None:
                return values, UsageError(argument.hint)
            at += 1
        values[argument.name] = value
    if arguments and at < len(words):
        return values, UsageError("")
    return values, None


def words(text: str) -> list[str]:
    """The words of a free-form text, split where the router splits arguments (any whitespace)."""
    return _WORD.findall(text)
