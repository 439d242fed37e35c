"""Resolve where the data comes from (--demo or a profile) into a Session, for every command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.session import Session


def describe_error(exc: BaseException, *, hint: bool = True) -> str:
    """One line for a headless command: kind, Azure's message, code and request id, and for a refused token
    what to do from a shell (the console's own advice, "r retries", means nothing here)."""
    from services.errors import ErrorKind, classify

    err = classify(exc)
    text = str(err)
    if hint and err.kind is ErrorKind.AUTH:
        text += " — sign in again (azml login --profile NAME), or check the profile's tenant and credentials"
    return text


class SourceError(Exception):
    """The profile or demo settings are unusable; the message says what to do."""


@dataclass
class Source:
    session: Session
    label: str  # "demo" or the profile name
    default_workspace: str = ""
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        self.session.close()
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def open_source(args: argparse.Namespace, *, frozen_demo: bool = False) -> Source:
    """A Session for `--demo` (the embedded emulator, started here) or for `--profile` / the default profile."""
    read_only = bool(getattr(args, "read_only", False))
    if getattr(args, "demo", False):
        from .demo import DemoBackend

        options = dict(getattr(args, "demo_option", []) or [])
        try:
            backend = DemoBackend(options, read_only=read_only, frozen=frozen_demo)
        except ValueError as e:
            raise SourceError(str(e)) from e
        session = backend.connect()
        return Source(session, "demo", backend.default_workspace(), [backend.stop])
    import importlib

    try:
        profiles = importlib.import_module("console.profiles")
    except ModuleNotFoundError as e:  # profiles arrive with their own module
        raise SourceError("no profile is configured yet; use --demo") from e
    source: Source = profiles.open_profile_source(getattr(args, "profile", None), read_only=read_only)
    return source
