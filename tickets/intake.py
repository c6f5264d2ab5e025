"""Intake: what a resident's message leads to, judged from the conversation and not only its labels.

`decide` is a pure function of the message (`Reading`) and what surrounds it (`Conversation`, read by
tickets.conversation.gather): who speaks, whether the message answers or agrees with someone, what is open
in its thread, whether it asks about a problem already reported, whether it was said already. Its thresholds,
windows and word patterns are in data/tickets/intake.yaml; its quality is measured on labelled
conversations (`xiaoqi eval conversations`), not on single messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from nlp.labels import EMERGENCY as URGENT
from nlp.labels import PETITION, QUESTION
from nlp.normalize import BUILDING, FLOOR, NUMBER, ROOM, UNIT, normalize
from nlp.rules import emergency_rule
from tickets.conversation import Conversation, Lookback, OpenTicket, quote_of
from tickets.models import OPEN_STATES
from tickets.similarity import Lexicon, places, read_lexicon, similarity, subjects

_ASKS = re.compile(
    r"[?？]|吗|呢$|怎么|咋|如何|哪里|哪儿|在哪|哪个|哪家|什么|啥|多少|几点|能不能|可不可以|阿有|有没有|请问"
)
# what is left of a bare address once its place tokens are gone: "2栋203", "我9幢的", "在东门"
_PLACE_TOKENS = re.compile(f"[{BUILDING}{UNIT}{ROOM}{FLOOR}]|[东南西北]门|门口|车库|地下室|楼道|单元")
_ROOM_NUMBER = re.compile(r"^\s*\d{1,3}\s*[-－—]\s*\d{3,4}\s*$|^\s*\d{3,4}\s*$")  # "12-702", "1101"
_PLACE_FILLER = re.compile(
    r"[\s,，。.!！~～、:：]|我家|我们|住在|住|就在|在|是|的|号|那|这|边|里|哦|啊|呀|哈"
)
ASKED_SIMILARITY = 0.12  # how alike a progress question and the ticket it asks about must be
CONCRETE_CHARS = 12  # a petition this long says enough to act on, whatever its category


# the keys of intake.yaml and the IntakePolicy fields they set
_CONFIDENCE = {
    "emergency": "emergency_confidence",
    "weak_rule": "weak_rule_confidence",
    "ticket": "ticket_confidence",
    "confirm": "confirm_confidence",
    "reply_ticket": "reply_ticket_confidence",
    "question": "question_share",
    "category": "category_confidence",
}
_MINUTES = ("reply", "conversation", "follow_up", "echo", "emergency_thread", "repeat")
_PATTERNS = {
    "echo": "echo_patterns",
    "progress": "progress_patterns",
    "advice": "advice",
    "calls_for_action": "action_calls",
    "danger_words": "danger_words",
    "emergency_follow_up": "emergency_follow_up",
}


class Action(StrEnum):
    NOTHING = "nothing"
    ANSWER = "answer"  # a question: the knowledge base may answer it
    CONFIRM = "confirm"  # ask the resident whether to file it
    NEW_TICKET = "new_ticket"  # file it (the desk may still merge it with the same problem)
    JOIN_TICKET = "join_ticket"  # add it to a ticket open in its thread
    EMERGENCY = "emergency"
    PROGRESS = "progress"  # asks about a problem already reported: tell where it stands
    SECOND = "second"  # "+1" to a petition the bot asked about: a neighbour's word confirms it


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str  # a few words for logs, tests and the evaluation
    ticket_id: int | None = None  # the ticket to join or report on (SECOND: the confirmation question)


@dataclass(frozen=True)
class IntakePolicy:
    """How intake judges; the defaults are data/tickets/intake.yaml's, which explains each one."""

    emergency_confidence: float = 0.8
    weak_rule_confidence: float = 0.25
    ticket_confidence: float = 0.6
    confirm_confidence: float = 0.45
    reply_ticket_confidence: float = 0.85
    category_confidence: float = 0.4
    question_share: float = 0.3
    reply: timedelta = timedelta(minutes=30)
    conversation: timedelta = timedelta(minutes=10)
    follow_up: timedelta = timedelta(minutes=30)
    echo: timedelta = timedelta(minutes=120)
    emergency_thread: timedelta = timedelta(minutes=120)
    repeat: timedelta = timedelta(hours=24)
    echo_patterns: tuple[re.Pattern[str], ...] = ()
    progress_patterns: tuple[re.Pattern[str], ...] = ()
    emergency_follow_up: tuple[re.Pattern[str], ...] = ()
    danger_words: tuple[re.Pattern[str], ...] = ()
    action_calls: tuple[re.Pattern[str], ...] = ()
    advice: tuple[re.Pattern[str], ...] = ()
    subjects: Lexicon = field(default_factory=dict)  # what problems are about (subjects.txt beside the file)

    @classmethod
    def load(cls, path: Path) -> IntakePolicy:
        """Read intake.yaml (and subjects.txt beside it); a key it does not know is an error, not a default."""
        spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        sure, minutes = spec.pop("confidence", {}), spec.pop("minutes", {})
        unknown = [
            *(set(sure) - set(_CONFIDENCE)),
            *(set(minutes) - set(_MINUTES)),
            *(set(spec) - set(_PATTERNS)),
        ]
        if unknown:
            raise ValueError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {_CONFIDENCE[k]: float(v) for k, v in sure.items()}
        values |= {k: timedelta(minutes=float(v)) for k, v in minutes.items()}
        values |= {_PATTERNS[k]: tuple(re.compile(p) for p in v) for k, v in spec.items()}
        return cls(subjects=read_lexicon(path.parent / "subjects.txt"), **values)

    @property
    def lookback(self) -> Lookback:
        return Lookback(
            thread=max(self.echo, self.emergency_thread),
            messages=max(self.echo, self.reply),
            repeat=self.repeat,
            emergencies=self.emergency_thread,
        )

    def echoes(self, text: str) -> bool:
        return any(p.search(text) for p in self.echo_patterns)

    def asks_progress(self, text: str) -> bool:
        return any(p.search(text) for p in self.progress_patterns)

    def advises(self, text: str) -> bool:
        return any(p.search(text) for p in self.advice)

    def calls_for_action(self, text: str) -> bool:
        return any(p.search(text) for p in self.action_calls)

    def concrete(self, said: Reading) -> bool:
        """Whether a petition says what and where, or enough to act on ("早就该管管了" does not)."""
        return (
            said.category_confidence >= self.category_confidence
            or bool(subjects(said.text, self.subjects) or places(said.text))
            or len(said.text) >= CONCRETE_CHARS
        )

    def names_something(self, text: str) -> bool:
        """Whether the text names a thing from subjects.txt or a place."""
        return bool(subjects(text, self.subjects) or places(text))

    def names_danger(self, text: str) -> bool:
        return any(p.search(text) for p in self.danger_words)

    def around_emergency(self, text: str) -> bool:
        return any(p.search(text) for p in self.emergency_follow_up)

    def may_act(self, text: str, intent: str | None) -> bool:
        """A cheap test (no database) of whether intake might do anything with a resident's message."""
        return intent in (PETITION, URGENT) or bool(
            self.echoes(text)
            or self.asks_progress(text)
            or self.around_emergency(text)
            or bare_place(text)
            or quote_of(text)[1]
        )


@dataclass(frozen=True)
class Reading:
    """The message as intake reads it."""

    text: str  # without a leading @小棲 and without the message it quotes
    intent: str | None
    category: str
    confidence: float  # of the intent
    category_confidence: float  # of the likeliest real category
    intents: Mapping[str, float] = field(default_factory=dict)  # the classifier's probability of each intent
    danger_rule: str | None = None  # the emergency rule the text sets off (nlp.rules), if any
    danger_strong: bool = False  # that rule names a person in danger so plainly that it overrides the model
    not_now: bool = False  # the text says the danger is not real or not now: a drill, a joke, "还以为着火了"
    addressed: bool = False  # to the bot: @小棲 or a private chat
    quoted: str = ""  # the text of the message it quotes
    mentions_others: bool = False  # @-mentions someone other than the bot
    sender_id: str = ""


def bare_place(text: str) -> bool:
    """Whether the text is an address and nothing more: "2栋203", "9幢704", "我8幢的", "在东门"."""
    if len(text) > 24:
        return False
    if _ROOM_NUMBER.match(text):
        return True
    normal = normalize(text)
    if not _PLACE_TOKENS.search(normal):
        return False
    rest = _PLACE_FILLER.sub("", _PLACE_TOKENS.sub("", normal).replace(NUMBER, ""))
    return len(rest) <= 1


def asks(text: str) -> bool:
    return bool(_ASKS.search(text))


def decide(said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime) -> Decision:
    """What the message leads to. Emergencies come first: a missed one is the worst error."""
    if talk.exempt:
        return Decision(Action.NOTHING, "exempt speaker")
    if not said.text.strip():
        return Decision(Action.NOTHING, "empty")
    if talk.repeated:
        return Decision(Action.NOTHING, "said again")
    emergency = _emergency_of(said, talk, policy, now)
    asked = _asked_about(said, talk, policy) if policy.asks_progress(said.text) else None
    if asked is not None and said.danger_rule is None:
        return Decision(Action.PROGRESS, "asks progress", asked.id)  # "那个老爷爷怎么样了 出院了吗"
    if said.intent == URGENT:
        if _in_danger(said, policy):
            if emergency is not None:
                return Decision(Action.JOIN_TICKET, "same emergency", emergency.id)
            return Decision(Action.EMERGENCY, "danger")
        said = _without_danger(said)  # a faint 紧急 with no danger words: judged by what else it is
    return _in_thread(said, talk, policy, now, emergency) or _petition(said, talk, policy, now)


def _in_danger(said: Reading, policy: IntakePolicy) -> bool:
    """A danger rule, or a sure model on a text that names a person or a hazard and is not a drill or a joke."""
    p = said.intents.get(URGENT, 1.0)
    if said.danger_rule is not None and (said.danger_strong or p >= policy.weak_rule_confidence):
        return True
    return p >= policy.emergency_confidence and policy.names_danger(said.text) and not said.not_now


def _in_thread(
    said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime, emergency: OpenTicket | None
) -> Decision | None:
    """Addresses, news and reactions: they belong to what is open in the thread, never open anything."""
    if bare_place(said.text):
        recent = next((t for t in talk.open if now - t.last_at <= policy.follow_up), None)
        if recent is not None:
            return Decision(Action.JOIN_TICKET, "address for the thread", recent.id)
        return Decision(Action.NOTHING, "address alone")
    echoes = policy.echoes(said.text)
    if emergency is not None:
        other = _reacted_to(said, talk, policy, now) if echoes else None
        if other is not None and other.id != emergency.id:
            return Decision(Action.JOIN_TICKET, "agrees with a reported problem", other.id)
        if (
            policy.around_emergency(said.text)
            or echoes
            or (said.intent == PETITION and _about(said.text, emergency))
        ):
            return Decision(Action.JOIN_TICKET, "about the emergency", emergency.id)
        if now - emergency.last_at <= policy.follow_up and not policy.names_something(said.text):
            return Decision(Action.NOTHING, "reacts to the emergency")  # "天哪 希望家里没人"
    if echoes or said.quoted:
        target = _reacted_to(said, talk, policy, now)
        if target is not None:
            return Decision(Action.JOIN_TICKET, "agrees with a reported problem", target.id)
        if echoes and talk.unsure:
            return Decision(Action.SECOND, "seconds a petition the bot was unsure of", talk.unsure[0])
        if echoes:
            return Decision(Action.NOTHING, "agrees with a neighbour")
    return None


def _petition(said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime) -> Decision:
    """Questions go to the knowledge base; a petition is filed when sure enough for where it was said
    (answering someone needs more), asked about when fairly sure, and left alone otherwise."""
    if said.intent == QUESTION or (said.intent != PETITION and asks(said.text)):
        return Decision(Action.ANSWER, "a question")
    if said.intent != PETITION:
        return Decision(Action.NOTHING, f"intent {said.intent}")
    if (
        asks(said.text)
        and said.intents.get(QUESTION, 0.0) >= policy.question_share
        and not policy.calls_for_action(said.text)
    ):
        return Decision(Action.ANSWER, "a question about a problem")  # "空调遥控器坏了 哪里能配？"
    replying = _replying(said, talk, policy, now) or policy.advises(said.text)
    needed = policy.reply_ticket_confidence if replying else policy.ticket_confidence
    if said.addressed:
        needed = policy.confirm_confidence  # put to the bot itself: "@小棲 1幢楼下扔了张旧床垫"
    concrete = policy.concrete(said)
    if said.confidence >= needed:
        if concrete:
            return Decision(Action.NEW_TICKET, "petition")
        thread = next((t for t in talk.open if now - t.last_at <= policy.echo), None)
        if thread is not None:
            return Decision(Action.JOIN_TICKET, "vague petition in a thread", thread.id)
        return Decision(Action.NOTHING, "vague petition")
    if replying:
        return Decision(Action.NOTHING, "answers a neighbour")
    if concrete and said.confidence >= policy.confirm_confidence and not asks(said.text):
        return Decision(Action.CONFIRM, "unsure petition")
    return Decision(Action.NOTHING, "unsure petition")


def _emergency_of(
    said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime
) -> OpenTicket | None:
    """The emergency under way that this message may be about: one in its group, or one in another group
    of the community at the same place ("9栋3单元有煤气味" told in both of 9栋's groups) or of the same kind."""
    where = places(said.text)
    for ticket in talk.emergencies:
        if now - ticket.last_at > policy.emergency_thread:
            continue
        same_kind = said.danger_rule is not None and said.danger_rule == danger_of(ticket.summary)
        if ticket.group_id == talk.group_id or (where and where & places(ticket.summary)) or same_kind:
            return ticket
    return None


def danger_of(text: str) -> str | None:
    """The name of the emergency rule a text sets off: two reports of one kind of danger in a community at
    the same time ("我妈走丢了", "看到一个拄拐的老太太坐在地铁口") are one emergency."""
    rule = emergency_rule(normalize(text))
    return rule.name if rule is not None else None


def _without_danger(said: Reading) -> Reading:
    """A 紧急 with no danger in it, read by the model's next guess: a problem report when that is 诉求 (the
    紧急 probability counts for it: "地下车库积水好深"), a question when it asks one ("煤气灶点不着火是咋回事"),
    and otherwise what that guess says ("着火了哈哈 我家火锅" is chatter)."""
    others = {k: v for k, v in said.intents.items() if k != URGENT}
    runner_up = max(others, key=lambda k: others[k]) if others else PETITION
    if runner_up == PETITION:
        return replace(
            said, intent=PETITION, confidence=said.intents.get(URGENT, 0.0) + others.get(PETITION, 0.0)
        )
    if runner_up == QUESTION and not asks(said.text):
        runner_up = PETITION if others.get(PETITION, 0.0) > 0 else runner_up
    return replace(said, intent=runner_up, confidence=others[runner_up])


def _about(text: str, ticket: OpenTicket) -> bool:
    return similarity(text, ticket.summary) >= 0.2


def _asked_about(said: Reading, talk: Conversation, policy: IntakePolicy) -> OpenTicket | None:
    """The ticket a progress question is about: the speaker's own, the likeliest by its words."""
    # the speaker's own first (done ones too: "修好了吗"), then the group's still open
    for tickets in (talk.mine, tuple(t for t in talk.known if t.state in OPEN_STATES)):
        best = max(tickets, key=lambda t: similarity(t.summary, said.text), default=None)
        if best is not None and similarity(best.summary, said.text) >= ASKED_SIMILARITY:
            return best
        named = subjects(said.text, policy.subjects)
        where = places(said.text)
        for ticket in tickets:
            if named & subjects(ticket.summary, policy.subjects) and (
                not where or not places(ticket.summary) or where & places(ticket.summary)
            ):
                return ticket  # the same thing: "8幢电梯到底什么时候能修好" of "8幢电梯停了"
    # the one problem the speaker has open, unless the question names another thing ("我反映的事咋样了")
    still_open = [t for t in talk.mine if t.state in OPEN_STATES]
    if len(still_open) != 1:
        return None
    named, theirs = subjects(said.text, policy.subjects), subjects(still_open[0].summary, policy.subjects)
    return still_open[0] if not named or not theirs or named & theirs else None


def _reacted_to(said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime) -> OpenTicket | None:
    """The open ticket of the message a reaction answers: the quoted one, or the last one before it
    that says something of its own."""
    by_id = {t.id: t for t in talk.open}
    if said.quoted:
        quoted = max(talk.open, key=lambda t: similarity(t.summary, said.quoted), default=None)
        if quoted is not None and similarity(quoted.summary, said.quoted) >= 0.5:
            return quoted
        for earlier in talk.earlier:
            if earlier.ticket_id in by_id and similarity(earlier.text, said.quoted) >= 0.5:
                return by_id[earlier.ticket_id]
        return None
    for earlier in talk.earlier:
        if now - earlier.at > policy.echo:
            return None
        if earlier.staff or policy.echoes(earlier.text) or len(earlier.text.strip()) <= 3:
            continue  # staff answers and other reactions: look further back
        if earlier.ticket_id in by_id:
            return by_id[earlier.ticket_id]
        return next(
            (
                t
                for t in talk.open
                if earlier.sender_id in t.reporters and earlier.at <= t.last_at + policy.follow_up
            ),
            None,
        )
    return None


def _replying(said: Reading, talk: Conversation, policy: IntakePolicy, now: datetime) -> bool:
    """Whether the message answers someone rather than raising something of its own."""
    if said.quoted or said.mentions_others:
        return True
    if asks(said.text):
        return False
    last = next((e for e in talk.earlier if not e.staff), None)
    if last is not None and now - last.at <= policy.reply and (last.intent == QUESTION or asks(last.text)):
        return True
    # a conversation going on: someone else spoke a moment ago
    other = next((e for e in talk.earlier if e.sender_id != said.sender_id), None)
    return other is not None and now - other.at <= policy.conversation
