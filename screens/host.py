"""What a screen may ask of the application hosting it: the console shell (console/app.py's AzmlApp)
implements this Protocol, and screens reach the app only through it — typed, with no attribute guessing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from services.models import Workspace
    from services.secrets import MemorySecrets
    from services.session import Session


class ConsoleHost(Protocol):
    """The console's state and services, as the screens see them."""

    session: Session | None  # None until signed in
    workspace: Workspace | None  # the current workspace, None until one is chosen
    default_workspace: str  # the profile's default, chosen when the workspaces first load
    production: bool  # every mutation needs its target's name typed
    paused: bool  # auto-refresh paused
    refresh_interval: float  # seconds between auto-refreshes (0: never)
    secrets: MemorySecrets | None  # secrets typed in forms, for this session only

    @property
    def history_path(self) -> Path: ...  # the KQL editor's runs, kept across sessions

    @property
    def queries_dir(self) -> Path: ...  # the user's saved KQL panels

    def clock(self) -> str: ...  # the wall time shown as "last refresh"

    def mark_refreshed(self) -> None: ...

    def toggle_pause(self) -> None: ...

    def open_prompt(self, mode: str, value: str = "") -> None: ...

    def choose_workspace(self, workspace: Workspace, quiet: bool = False) -> None: ...


def host(node: DOMNode) -> ConsoleHost:
    """The console hosting ``node`` (a screen or a widget of one)."""
    return cast(ConsoleHost, node.app)
