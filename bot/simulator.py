"""The scripted simulator: JSON-lines events in, JSON-lines bot messages out, time from the events."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from bot.app import App
from core.clock import iso_local, parse_time
from core.events import Incoming, MessageKind, Outgoing
from core.privacy import mask_private_numbers
from nlp import Labels

log = logging.getLogger(__name__)
KINDS = ", ".join(kind.value for kind in MessageKind)
BATCH = 256
KNOWN_FIELDS = {"at", "group", "to", "from", "text", "name", "kind", "mentions", "id", "tick", "label"}
# "label" marks what a line of a labelled conversation is (`xiaoqi eval conversations` reads it); the
# simulator itself ignores it


class EventError(ValueError):
    """A malformed event line; the text says what is wrong with it."""


@dataclass(frozen=True)
class Tick:
    at: datetime


Event = Incoming | Tick


def _text_field(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise EventError(f'missing "{key}"')
        return None
    if not isinstance(value, str):
        raise EventError(f'"{key}" must be a string')
    return value


def parse_event(line: str, line_no: int, bot_id: str) -> Event:
    """Validate one line of the simulator's input format."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as error:
        raise EventError(f"not valid JSON ({error.msg})") from error
    if not isinstance(obj, dict):
        raise EventError("each line must be a JSON object")
    unknown = set(obj) - KNOWN_FIELDS
    if unknown:
        raise EventError(f"unknown field(s): {', '.join(sorted(unknown))}")
    at_text = _text_field(obj, "at", required=True)
    assert at_text is not None
    try:
        at = parse_time(at_text)
    except ValueError as error:
        raise EventError(f'"at" is not an ISO-8601 time: {at_text!r}') from error
    if obj.get("tick") is not None:
        if obj["tick"] is not True or set(obj) - {"at", "tick"}:
            raise EventError('a tick line is exactly {"at": ..., "tick": true}')
        return Tick(at)
    sender = _text_field(obj, "from", required=True)
    group, to = _text_field(obj, "group"), _text_field(obj, "to")
    if (group is None) == (to is None):
        raise EventError('give exactly one of "group" or "to"')
    if to is not None and to != bot_id:
        raise EventError(f'"to" must be "{bot_id}" (private chat with the bot)')
    kind_text = _text_field(obj, "kind") or MessageKind.TEXT.value
    try:
        kind = MessageKind(kind_text)
    except ValueError as error:
        raise EventError(f'"kind" must be one of: {KINDS}') from error
    text = _text_field(obj, "text", required=kind is MessageKind.TEXT) or ""
    mentions = obj.get("mentions", [])
    if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise EventError('"mentions" must be a list of member ids')
    message_id = _text_field(obj, "id")
    if message_id is None:
        digest = hashlib.sha1(f"{line_no}:{line.strip()}".encode()).hexdigest()[:16]
        message_id = f"sim-{digest}"
    elif not message_id:
        raise EventError('"id" must not be empty')
    assert sender is not None
    if not sender:
        raise EventError('"from" must not be empty')
    return Incoming(
        message_id=message_id,
        sender_id=sender,
        sender_name=_text_field(obj, "name") or "",
        text=text,
        at=at,
        group_id=group,
        kind=kind,
        mentions=tuple(mentions),
    )


def output_record(out: Outgoing) -> dict[str, Any]:
    assert out.at is not None
    return {
        "at": iso_local(out.at),
        "group": out.group_id,
        "to": out.to_id,
        "text": out.text,
        "mentions": list(out.mentions),
    } | ({"file": out.file_path} if out.file_path else {})


@dataclass
class SimulationResult:
    events: int = 0
    skipped: int = 0
    sent: int = 0


LabelledBatch = tuple[list[Event], list[Labels | None]]


@dataclass(frozen=True)
class Labelled:
    """Events already cut into batches, each with the labels of its text messages in order (classified
    elsewhere: a benchmark does it in another process, on the machine's other core)."""

    batches: Iterable[LabelledBatch]


def classified_batches(
    events: Iterable[Event], classify: Callable[[Sequence[str]], Sequence[Labels | None]]
) -> Iterator[LabelledBatch]:
    """Events in batches of BATCH, with the labels of their text messages (read as they are stored:
    private numbers masked)."""
    pending = iter(events)
    while batch := list(itertools.islice(pending, BATCH)):
        texts = [
            mask_private_numbers(e.text)
            for e in batch
            if isinstance(e, Incoming) and e.kind is MessageKind.TEXT
        ]
        yield batch, list(classify(texts))


def replay(
    app: App,
    events: Iterable[Event] | Labelled,
    emit: Callable[[list[Outgoing]], None],
    before: Callable[[datetime], None] | None = None,
    *,
    durable: bool = False,
) -> None:
    """Feed events in order, classifying text messages in batches (unless they come `Labelled`);
    `before` may interleave other events.

    A single-process app handles them in batched transactions (`App.batch`). With `durable`, what was
    sent is emitted only once committed, so a replay killed and run again shows nothing twice;
    without it, at once (for simulated people who react to it in the same run)."""
    batches = iter(
        events.batches if isinstance(events, Labelled) else classified_batches(events, app.classify)
    )
    if not durable:
        with app.batch():
            _replay(app, batches, emit, before)
        return
    committed: list[Outgoing] = []

    def show() -> None:
        if committed:
            ready = committed[:]
            committed.clear()
            emit(ready)

    with app.batch(on_commit=show):
        _replay(app, batches, committed.extend, before)


def _replay(
    app: App,
    batches: Iterator[LabelledBatch],
    emit: Callable[[list[Outgoing]], None],
    before: Callable[[datetime], None] | None,
) -> None:
    for batch, labelled in batches:
        labels = iter(labelled)
        app.replay.expect([e.message_id for e in batch if isinstance(e, Incoming)])
        for event in batch:
            if before is not None:
                before(event.at)
            if isinstance(event, Tick):
                emit(app.advance(event.at))
            else:
                emit(app.handle(event, next(labels) if event.kind is MessageKind.TEXT else None))


def drain(
    app: App,
    emit: Callable[[list[Outgoing]], None],
    horizon: timedelta = timedelta(days=1),
    until: datetime | None = None,
) -> None:
    """Let simulated time pass until the send queue is empty (the tail of a rate-limited burst), for at
    most `horizon` and never past `until`."""
    if app.clock is None:
        return
    start = app.clock
    while (at := app.outbox.next_send_at()) is not None and at - start <= horizon:
        if until is not None and at > until:
            return
        emit(app.advance(max(at, app.clock + timedelta(microseconds=1))))


def run_simulation(app: App, lines: Iterable[str], out: TextIO, errors: TextIO) -> SimulationResult:
    """Replay events in file order; due work runs before the event that passes its time."""
    result = SimulationResult()

    def events() -> Iterator[Event]:
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = parse_event(line, line_no, app.settings.bot_id)
            except EventError as error:
                errors.write(f"line {line_no}: {error}; skipped\n")
                result.skipped += 1
                continue
            result.events += 1
            yield event

    def emit(produced: list[Outgoing]) -> None:
        for message in produced:
            out.write(json.dumps(output_record(message), ensure_ascii=False) + "\n")
        result.sent += len(produced)

    replay(app, events(), emit, durable=True)
    drain(app, emit)
    out.flush()
    return result
