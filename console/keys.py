"""Every key binding of the console with its id: what `:keys` lists and what a profile's keymap remaps
(`[profiles.NAME.keymap]` with `"jobs.logs" = "L"`), and the theme names a profile may choose."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyBinding:
    id: str
    keys: str
    description: str
    where: str  # the class that declares it


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        out.append(sub)
        out += _subclasses(sub)
    return out


def key_bindings() -> list[KeyBinding]:
    """The bindings with an id declared by the console's own screens, widgets and app, sorted by id."""
    from textual.binding import Binding
    from textual.dom import DOMNode

    import screens

    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        importlib.import_module(info.name)
    importlib.import_module("console.app")
    found: dict[str, KeyBinding] = {}
    for cls in _subclasses(DOMNode):
        if not cls.__module__.startswith(("screens.", "console.")):
            continue
        for b in cls.__dict__.get("BINDINGS", ()):
            if isinstance(b, Binding) and b.id and b.id not in found:
                found[b.id] = KeyBinding(b.id, b.key, b.description or "(no label)", cls.__name__)
    return sorted(found.values(), key=lambda k: k.id)


def theme_names() -> list[str]:
    """The themes a profile's `theme` may name (Textual's built-in themes)."""
    from textual.theme import BUILTIN_THEMES

    return sorted(BUILTIN_THEMES)


def keys_fields() -> list[tuple[str, str]]:
    """`:keys` as (id, what) rows."""
    return [(k.id, f"{k.keys} · {k.description} · {k.where}") for k in key_bindings()]


KEYS_TITLE = 'Key ids: remap in the config, [profiles.NAME.keymap] "jobs.logs" = "L"'


def readme_block() -> str:
    """The README's key-id list (between its KEYS markers), one line per screen or widget prefix."""
    groups: dict[str, list[KeyBinding]] = {}
    for k in key_bindings():
        groups.setdefault(k.id.split(".", 1)[0], []).append(k)
    lines = []
    for prefix, items in groups.items():
        shown = ", ".join(f"`{k.id}` {k.keys.replace('_', ' ')}" for k in items)
        lines.append(f"- **{prefix}**: {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_block())
