"""The console's commands: one list feeds `:` command mode, the command palette and `?` help."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    help: str
    argument: str = ""  # what the optional argument means, "" when it takes none


COMMANDS: tuple[Command, ...] = (
    Command("workspaces", ("ws", "workspace", "w"), "Workspaces across subscriptions; `:ws NAME` chooses one", "NAME"),
    Command("compute", ("computes", "c", "co"), "Clusters, instances and attached Kubernetes of the workspace"),
    Command("sizes", ("vmsizes", "quota", "usage"), "VM sizes and quota use in the workspace's region"),
    Command("datastores", ("datastore", "ds"), "Datastores of the workspace"),
    Command(
        "jobs",
        ("job", "j"),
        "Jobs of the workspace; `:jobs failed experiment=X compute=C since=6h` filters them",
        "STATUS KEY=VALUE",
    ),
    Command("deployments", ("endpoints", "deploy", "ep", "d"), "Online and batch endpoints and their deployments"),
    Command("metrics", ("metric", "m"), "Live metrics; `:metrics NAME` for one cluster or endpoint", "NAME"),
    Command("errors", ("err", "e"), "Recent errors in full: Azure's message, code and request id"),
    Command("help", ("?",), "Every key of the current screen"),
    Command("keys", ("keymap", "bindings"), "Every key id of every screen, for remapping in the config"),
    Command("quit", ("q", "q!", "exit"), "Quit the console"),
)

_BY_NAME = {alias: c for c in COMMANDS for alias in (c.name, *c.aliases)}


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
    command = _BY_NAME.get(name)
    if command is None:
        close = sorted(n for n in _BY_NAME if n.startswith(name[:2]))
        hint = f"; did you mean {', '.join(':' + c for c in close[:3])}?" if close else ""
        raise CommandError(f"unknown command ':{name}'{hint}")
    argument = words[1].strip() if len(words) > 1 else ""
    if argument and not command.argument:
        raise CommandError(f":{command.name} takes no argument")
    return Parsed(command, argument)


def by_name(name: str) -> Command | None:
    """The command a name or alias designates (case-insensitive), None when none does."""
    return _BY_NAME.get(name.strip().lstrip(":").lower())


def complete(prefix: str) -> list[str]:
    """Command names (not aliases) starting with the prefix."""
    p = prefix.strip().lstrip(":").lower()
    return [c.name for c in COMMANDS if c.name.startswith(p)]
