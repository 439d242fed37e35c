"""Tab completion of `:` commands and their arguments, and name matching for `:ws NAME`.

Pure functions over plain names: the app passes what it knows (the workspaces it listed, the job statuses, the
computes and experiments it has seen), so completion never sends a request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .commands import Command, all_commands, by_name

# (command name, the word being completed) → every value that word could take
Candidates = Callable[[str, str], Sequence[str]]


def complete_line(text: str, candidates: Candidates) -> list[str]:
    """What the prompt's text can become: command names while the first word is typed, then the values of
    the command's argument (the last word only, so `:jobs failed compute=gp` completes `compute=gp`).

    Prefix matches first; when none, case-insensitive substring matches (`:ws weu` → `mlw-prod-weu`)."""
    stripped = text.lstrip().lstrip(":")
    if " " not in stripped:
        p = stripped.lower()
        return [c.name for c in all_commands() if c.name.startswith(p)]
    head, _, rest = stripped.partition(" ")
    command: Command | None = by_name(head)
    if command is None or not command.argument:
        return []
    words = rest.split(" ")
    last = words[-1]
    before = " ".join(w for w in words[:-1] if w)
    values = list(dict.fromkeys(v for v in candidates(command.name, last) if v))
    matches = _matching(last, values)
    lead = f"{head} {before} " if before else f"{head} "
    return [lead + m for m in matches]


def _matching(word: str, values: Sequence[str]) -> list[str]:
    w = word.lower()
    prefixed = [v for v in values if v.lower().startswith(w)]
    if prefixed or not w:
        return prefixed
    if "=" in w:  # key=part: the part is matched inside the value after the same key
        key, _, part = w.partition("=")
        return [v for v in values if v.lower().startswith(key + "=") and part in v.lower().partition("=")[2]]
    return [v for v in values if w in v.lower()]


def fit_names(names: Sequence[str], width: int) -> str:
    """`a, b, c +4 more` within `width` characters (the first name cut short if even it does not fit)."""
    for count in range(len(names), 0, -1):
        rest = len(names) - count
        text = ", ".join(names[:count]) + (f" +{rest} more" if rest else "")
        if len(text) <= width:
            return text
    if not names:
        return ""
    tail = f" +{len(names) - 1} more" if len(names) > 1 else ""
    return names[0][: max(1, width - len(tail) - 1)] + "…" + tail


class NoMatch(LookupError):
    """No name, or several, match: the message says which (short enough for the status line)."""


def match_name(wanted: str, names: Sequence[str], *, what: str = "workspace", width: int = 78) -> str:
    """The one name `wanted` designates: an exact name (case-insensitive), else the only name containing it.
    Raises NoMatch naming the candidates when several contain it, or saying none does."""
    w = wanted.strip().lower()
    exact = [n for n in names if n.lower() == w]
    if exact:
        return exact[0]
    found = sorted(n for n in names if w in n.lower())
    if len(found) == 1:
        return found[0]
    if not found:
        raise NoMatch(f"no {what} matches {wanted.strip()!r}")
    lead = f"{len(found)} {what}s match {wanted.strip()!r}: "
    raise NoMatch(lead + fit_names(found, max(12, width - len(lead))))
