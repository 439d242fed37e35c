"""Emulator area: see the module's routes."""

from __future__ import annotations

from typing import Any

from ..estate import Estate


def populate(estate: Estate) -> None:
    return None


def register(router: Any, emu: Any) -> None:
    return None
