"""Live metrics: wired to `:metrics`; the panels come with the metrics work."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from screens.widgets.context_bar import ContextBar
from screens.widgets.prompt import Prompt


class MetricsScreen(Screen[None]):
    TITLE = "Metrics"
    WORKSPACE_SCOPED = True
    BINDINGS = [Binding("r", "refresh", "Refresh", id="metrics.refresh")]

    def __init__(self, argument: str = "") -> None:
        super().__init__()
        self.argument = argument

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield Static("Metrics", classes="screen-title")
        yield Static(
            "Log Analytics and Azure Monitor panels are not available in this build yet.",
            id="metrics-body",
            classes="status-line",
        )
        yield Prompt(id="prompt")
        yield Footer(show_command_palette=False)  # ctrl+p still opens it; 80 columns need the room

    def connected(self) -> None:
        return None

    def action_refresh(self) -> None:
        return None
