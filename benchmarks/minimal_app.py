"""The framework's floor: the smallest Textual app that draws one word."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("Workspaces")


if __name__ == "__main__":
    Minimal().run()
