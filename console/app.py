"""The app shell: context header, the screens, footer keys, clean quit.

The first frame is drawn before any Azure SDK loads: connecting (and, for the demo, starting the
embedded emulator) happens in a thread worker after mount.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding

from screens.widgets.context_bar import Context, ContextBar
from screens.workspaces import WorkspacesScreen
from themes import STYLESHEET

if TYPE_CHECKING:
    from services.models import Workspace
    from services.session import Session

Connect = Callable[[], "Session"]


class AzmlApp(App[int]):
    TITLE = "azml"
    CSS_PATH = str(STYLESHEET)
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "ignore_ctrl_c", "", show=False, id="app.ctrl_c", priority=True),
    ]

    def __init__(self, connect: Connect, *, profile: str, read_only: bool = False, production: bool = False) -> None:
        super().__init__()
        self._connect = connect
        self.session: Session | None = None
        self.context_bar = ContextBar()
        self.context_bar.context = Context(profile=profile, read_only=read_only, production=production)
        self.read_only = read_only

    def get_default_screen(self) -> WorkspacesScreen:
        return WorkspacesScreen()

    def on_mount(self) -> None:
        self.screen.mount(self.context_bar, before=0)
        self.connect()

    def on_screen_resume(self) -> None:
        if self.context_bar.parent is not self.screen:
            self.context_bar.remove()
            self.screen.mount(self.context_bar, before=0)

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect(self) -> None:
        try:
            session = self._connect()
            from services.workspaces import list_subscriptions

            subs = list_subscriptions(session)
        except Exception as e:
            from services.errors import describe

            self.call_from_thread(self._connect_failed, describe(e))
            return
        self.call_from_thread(self._connected, session, [s.name for s in subs])

    def _connected(self, session: Session, subscriptions: list[str]) -> None:
        self.session = session
        self.update_context(
            subscription=subscriptions[0] if subscriptions else "",
            subscriptions=len(subscriptions),
            status="",
            read_only=session.read_only or self.read_only,
            production=session.production,
        )
        screen = self.screen
        if isinstance(screen, WorkspacesScreen):
            screen.action_refresh()

    def _connect_failed(self, message: str) -> None:
        self.update_context(status="not connected")
        self.notify(message, title="Connecting", severity="error", timeout=15)

    def update_context(self, **changes: object) -> None:
        self.context_bar.context = self.context_bar.context.with_(**changes)

    def mark_refreshed(self) -> None:
        self.update_context(refreshed=time.strftime("%H:%M:%S"))

    def choose_workspace(self, workspace: Workspace) -> None:
        self.update_context(workspace=workspace.name)
        self.notify(f"Workspace {workspace.name} ({workspace.location})", title="Workspace")

    def action_ignore_ctrl_c(self) -> None:
        # An ops console must not vanish on a stray ctrl+c (a common k9s complaint).
        self.notify("Press q to quit.", timeout=3)
