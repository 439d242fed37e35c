"""The registry of resource kinds: every module of this package declares ``KINDS``; nothing else lists them.

Adding a kind is one service module (its loader) plus one module here; the console's commands, the generic
list screen, the snapshot's tables and its schema, and `azml check` all read the registry.
"""

from __future__ import annotations

from functools import cache

from ..kind import Kind, check_columns


@cache
def kinds() -> tuple[Kind, ...]:
    """Every declared kind, in their declared order."""
    import importlib
    import pkgutil

    found: list[Kind] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "KINDS", ()))
    ordered = tuple(sorted(found, key=lambda k: k.order))
    check_columns(ordered)
    return ordered


def kind(name: str) -> Kind:
    for k in kinds():
        if k.name == name:
            return k
    raise KeyError(name)


def areas(*, default_only: bool = False) -> tuple[str, ...]:
    """The snapshot's areas, in document order (an area groups a kind with the kinds it loads or joins)."""
    out: list[str] = []
    for k in kinds():
        if k.area_name not in out and (k.default_area or not default_only):
            out.append(k.area_name)
    return tuple(out)


def area_kinds(area: str) -> tuple[Kind, ...]:
    return tuple(k for k in kinds() if k.area_name == area)


def action_modules() -> tuple[str, ...]:
    """The service modules defining the kinds' mutations."""
    out: list[str] = []
    for k in kinds():
        if k.actions and k.service and k.service not in out:
            out.append(k.service)
    return tuple(out)
