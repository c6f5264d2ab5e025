"""Declared commands and message handlers; the router parses, checks roles and dispatches."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from access.policy import ROLES, Refused, Verb
from bot import replies
from bot.args import Argument, RecordNo, UsageError, arguments_of, read_arguments
from bot.context import Context
from core.events import Incoming, MessageKind, Outgoing
from groups.models import ROLE_LABELS, Role

__all__ = ["SILENT", "Command", "Context", "Guard", "MessageHandler", "ParsedCommand", "Router", "UsageError"]

Handler = Callable[..., Any]
ALL_ROLES = frozenset(Role)
COMMAND_PREFIXES = ("#", "＃", "/")
# what a handler may name as a parameter: Context.provided(), the stored message, the knowledge base
INJECTED = frozenset(
    {
        "ctx", "session", "now", "message", "sender", "group", "labels",
        "settings", "desk", "access", "outbox", "router", "noise", "classify", "consultations",
        "record", "faq",
    }
)  # fmt: skip
_MENTION_SPACE = re.compile(r"^[\s\u2005\u00a0]+")
_GLUED_NUMBER = re.compile(r"^(\D+?)([#＃]?\d.*)$")


class _Silent:
    """A message handler's way to say: this message was mine, and there is nothing to answer."""


SILENT = _Silent()


@dataclass(frozen=True)
class Guard:
    """What a command does (an access.Verb) to the record its first argument (a RecordNo) numbers,
    found by `find`; the router asks access.policy before the handler runs. Without `find` the record is only
    known inside the handler (a person, a scope), which asks the same policy with it."""

    verb: Verb
    find: Callable[[Session, str], object] | None = None
    doing: str = ""  # how a refusal names the act (default: the command's name)


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    roles: frozenset[Role]
    usage: str
    summary: str
    handler: Handler
    listed: bool = True  # shown by #帮助
    guard: Guard | None = None


@dataclass(frozen=True)
class MessageHandler:
    handler: Handler
    kinds: frozenset[MessageKind]


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: str
    explicit: bool  # written with a # prefix (as opposed to a word after @小棲)


def _call(handler: Handler, ctx: Context, arguments: dict[str, Any] | None = None) -> Any:
    """Call a handler with only the parameters it declares (aiogram style): what the context provides
    by name, the knowledge base (`faq`) and the stored message only when asked for, and a command's
    parsed arguments."""
    names = _parameters(handler)
    provided = ctx.provided()
    values = {name: provided[name] for name in names if name in provided}
    if "faq" in names:
        values["faq"] = ctx.services.faq_for(ctx.session)
    if "record" in names:
        values["record"] = ctx.record
    return handler(**values, **(arguments or {}))


@functools.cache
def _parameters(handler: Handler) -> frozenset[str]:
    return frozenset(inspect.signature(handler).parameters) & INJECTED


@functools.cache
def _arguments(handler: Handler) -> tuple[Argument, ...]:
    """A command's typed arguments (bot.args), read from its annotations once."""
    return arguments_of(handler, INJECTED)


def _as_outgoing(ctx: Context, result: Any) -> list[Outgoing]:
    if result is None:
        return []
    if isinstance(result, str):
        return [ctx.reply(result)]
    if isinstance(result, Outgoing):
        return [result]
    return list(result)


@dataclass
class Router:
    """Holds commands and message handlers; routers compose with `include`."""

    commands: dict[str, Command] = field(default_factory=dict)
    message_handlers: list[MessageHandler] = field(default_factory=list)

    def command(
        self,
        *names: str,
        usage: str,
        summary: str,
        roles: Iterable[Role] | None = None,
        listed: bool = True,
        guard: Guard | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a command; who may call it is `roles`, or else the roles its guard's verb allows."""
        allowed = frozenset(roles) if roles is not None else ROLES[guard.verb] if guard else ALL_ROLES

        def register(handler: Handler) -> Handler:
            cmd = Command(tuple(names), allowed, usage, summary, handler, listed, guard)
            for name in names:
                if name in self.commands:
                    raise ValueError(f"command name {name!r} declared twice")
                self.commands[name] = cmd
            return handler

        return register

    def on_message(self, kinds: Iterable[MessageKind] = (MessageKind.TEXT,)) -> Callable[[Handler], Handler]:
        """Declare a message handler. It is offered every message of its kinds, replays included, so it
        decides "is this mine?" cheaply first, writes nothing when it is not, and reads the stored
        message (`ctx.record`) only once it is: declaring `record` would fetch it for every message."""

        def register(handler: Handler) -> Handler:
            if "record" in inspect.signature(handler).parameters:
                raise TypeError(f"{handler.__qualname__}: a message handler reads ctx.record, not `record`")
            self.message_handlers.append(MessageHandler(handler, frozenset(kinds)))
            return handler

        return register

    def include(self, other: Router) -> None:
        for cmd in {id(c): c for c in other.commands.values()}.values():
            for name in cmd.names:
                if name in self.commands:
                    raise ValueError(f"command name {name!r} declared twice")
                self.commands[name] = cmd
        self.message_handlers.extend(other.message_handlers)

    def unique_commands(self) -> list[Command]:
        return list({id(c): c for c in self.commands.values()}.values())

    @staticmethod
    def without_bot_mention(text: str, bot_id: str, bot_name: str) -> str:
        """The text without a leading @小棲 (how residents address the bot in a group)."""
        stripped = text.strip()
        for prefix in (f"@{bot_name}", f"@{bot_id}"):
            if stripped.startswith(prefix):
                return _MENTION_SPACE.sub("", stripped[len(prefix) :]).strip() or text
        return text

    def parse(self, message: Incoming, bot_id: str, bot_name: str) -> ParsedCommand | None:
        """A command is '#名称 参数', or a command word right after @小棲 or in a private chat."""
        text = message.text.strip()
        addressed = message.is_private or bot_id in message.mentions
        for prefix in (f"@{bot_name}", f"@{bot_id}"):
            if text.startswith(prefix):
                text = _MENTION_SPACE.sub("", text[len(prefix) :])
                addressed = True
                break
        explicit = text.startswith(COMMAND_PREFIXES)
        if explicit:
            text = text[1:].lstrip()
        elif not addressed:
            return None
        pieces = text.split(None, 1)  # any whitespace: a multi-line command's first line may be its name
        if not pieces:
            return None
        name, args = pieces[0], pieces[1] if len(pieces) > 1 else ""
        name, args = name.strip(), args.strip()
        if name.lower() in self.commands:
            name = name.lower()
        glued = _GLUED_NUMBER.match(name) if explicit and name not in self.commands else None
        if glued is not None and glued[1] in self.commands:  # "#转派1 周敏": the number needs no space
            name, args = glued[1], f"{glued[2]} {args}".strip()
        if name in self.commands or explicit:
            return ParsedCommand(name, args, explicit)
        return None

    def dispatch_command(self, ctx: Context, parsed: ParsedCommand) -> list[Outgoing]:
        cmd = self.commands.get(parsed.name)
        if cmd is None:
            if ctx.sender.role.is_staff or ctx.message.is_private:
                return [ctx.reply(replies.UNKNOWN_COMMAND.format(name=parsed.name))]
            return []
        ctx.args = parsed.args
        if ctx.sender.role.is_staff or Role.RESIDENT not in cmd.roles:
            ctx.audited = (cmd.names[0], parsed.args)  # done or refused, the caller writes it down
        if ctx.sender.role not in cmd.roles:
            allowed = "、".join(ROLE_LABELS[r] for r in Role if r in cmd.roles)
            raise Refused(replies.NOT_ALLOWED.format(roles=allowed))
        try:
            declared = _arguments(cmd.handler)
            arguments, wrong = read_arguments(declared, parsed.args)
            if cmd.guard is not None and cmd.guard.find is not None:
                # the record the first argument numbers is looked up (and access to it checked) first
                if not declared or not issubclass(declared[0].kind, RecordNo):
                    raise TypeError(f"#{cmd.names[0]}: a guard's record is numbered by a first RecordNo")
                number = arguments.get(declared[0].name)
                if number is None:
                    raise wrong or UsageError("")
                subject = cmd.guard.find(ctx.session, number)
                doing = cmd.guard.doing or cmd.names[0]
                ctx.services.access.check(ctx.session, ctx.sender, cmd.guard.verb, subject, doing)
            if wrong is not None:
                raise wrong
            return _as_outgoing(ctx, _call(cmd.handler, ctx, arguments))
        except UsageError as error:
            usage = replies.USAGE.format(usage=cmd.usage)
            return [ctx.reply(f"{error}\n{usage}" if str(error) else usage)]

    def dispatch_message(self, ctx: Context) -> list[Outgoing]:
        """Offer the message to each handler in order; the first that answers wins."""
        for entry in self.message_handlers:
            if ctx.message.kind in entry.kinds:
                raw = _call(entry.handler, ctx)
                if raw is SILENT:
                    return []  # taken care of, nothing to say
                result = _as_outgoing(ctx, raw)
                if result:
                    return result
        return []

    def help_lines(self, role: Role) -> Sequence[str]:
        return [
            f"#{cmd.names[0]}：{cmd.summary}"
            for cmd in self.unique_commands()
            if role in cmd.roles and cmd.listed
        ]
