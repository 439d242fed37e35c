"""The chrome every full screen of the console shares: the context bar (profile, subscription, workspace, refresh
time), the screen's title, its body, the status line, the `:`/`/` prompt and the key bar.

A list screen (screens/base.py ResourceScreen) and the screens that are not lists (metrics, a run's log, the KQL
editor) differ only in their body: each yields it from ``compose_body``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from screens.host import host
from screens.widgets.context_bar import ContextBar
from screens.widgets.keybar import KeyBar
from screens.widgets.line import Line
from screens.widgets.prompt import PromptBar

if TYPE_CHECKING:
    from services.models import Workspace
    from services.session import Session


class ChromeScreen(Screen[None]):
    TITLE: ClassVar[str] = ""
    STATUS_LINE: ClassVar[bool] = True  # a screen with a status of its own inside its body says False

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield Static(self.title_text(), id="screen-title", classes="screen-title")
        yield from self.compose_body()
        if self.STATUS_LINE:
            yield Line("", id="status", classes="status-line")
        # Composed with the screen, not on demand: keys typed right after ':' (type-ahead over a slow link,
        # a paste) must find a mounted prompt to land in.
        yield PromptBar()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the title and the status line."""
        yield from ()

    def title_text(self) -> str | Text:
        return self.TITLE

    @property
    def session(self) -> Session | None:
        return host(self).session

    @property
    def workspace(self) -> Workspace | None:
        return host(self).workspace
