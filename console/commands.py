"""The console's commands: one list feeds `:` command mode, the command palette and `?` help.

The commands that open a resource kind's screen come from the kind registry (services/kinds): its command
name, aliases, help and argument. The registry is read on first use (a `:`, the palette, `?`), never on the
way to the first frame; ``COMMANDS`` is that list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    help: str
    argument: str = ""  # what the optional argument means, "" when it takes none
    kind: str = ""  # the resource kind whose screen it opens, "" for the console's own commands


# the console's own commands, after the kinds'
_CONSOLE: tuple[Command, ...] = (
    Command("errors", ("err", "e"), "Recent errors in full: Azure's message, code and request id"),
    Command("help", ("?",), "Every key of the current screen"),
    Command("keys", ("keymap", "bindings"), "Every key id of every screen, for remapping in the config"),
    Command("quit", ("q", "q!", "exit"), "Quit the console"),
)


@cache
def all_commands() -> tuple[Command, ...]:
    from services.kinds import kinds

    derived = tuple(
        Command(k.command_name, k.aliases, k.help or k.title, k.argument, kind=k.name)
        for k in kinds()
        if k.command_name is not None
    )
    return (*derived, *_CONSOLE)


@cache
def _by_name() -> dict[str, Command]:
    return {alias: c for c in all_commands() for alias in (c.name, *c.aliases)}


def __getattr__(name: str) -> Any:
    if name == "COMMANDS":
        return all_commands()
    raise AttributeError(name)


@dataclass(frozen=True)
class Parsed:
    command: Command
    argument: str


class CommandError(ValueError):
    pass


def parse(text: str) -> Parsed:
    """`:jobs failed` → (jobs, "failed"). Raises CommandError naming the unknown command."""
    words = text.strip().lstrip(":").split(maxsplit=1)
    if not words:
        raise CommandError("type a command, e.g. :compute (Tab completes, :help lists keys)")
    name = words[0].lower()
    command = _by_name().get(name) or _unique_prefix(name)
    if command is None:
        close = sorted(n for n in _by_name() if n.startswith(name[:2]))
        hint = f"; did you mean {', '.join(':' + c for c in close[:3])}?" if close else ""
        raise CommandError(f"unknown command ':{name}'{hint}")
    argument = words[1].strip() if len(words) > 1 else ""
    if argument and not command.argument:
        raise CommandError(f":{command.name} takes no argument")
    return Parsed(command, argument)


def _unique_prefix(prefix: str) -> Command | None:
    """The command every name and alias starting with the prefix designates (`:comp` → compute), None when
    none or several do."""
    found = {c for n, c in _by_name().items() if n.startswith(prefix)}
    return found.pop() if len(found) == 1 else None


def by_name(name: str) -> Command | None:
    """The command a name or alias designates (case-insensitive), None when none does."""
    return _by_name().get(name.strip().lstrip(":").lower())


def complete(prefix: str) -> list[str]:
    """Command names (not aliases) starting with the prefix."""
    p = prefix.strip().lstrip(":").lower()
    return [c.name for c in all_commands() if c.name.startswith(p)]
