"""Sign-in dialogs: the device-code prompt (never printed over the screen) and an auth problem with its ways out."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class DeviceCodeScreen(ModalScreen[None]):
    """Shows the device-code URL and code while sign-in waits; closed by the app when sign-in ends."""

    BINDINGS = [
        Binding("escape", "dismiss", "Hide", id="devicecode.hide"),
        Binding("y", "copy", "Copy code", id="devicecode.copy"),
    ]

    def __init__(self, url: str, code: str, expires_on: datetime | None = None) -> None:
        super().__init__()
        self.url = url
        self.code = code
        self.expires_on = expires_on

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Sign in to Azure\n\n", style="bold")
        text.append("Open ")
        text.append(self.url, style="bold underline")
        text.append("\nin a browser on any device and enter the code\n\n")
        text.append(f"    {self.code}\n\n", style="bold reverse")
        if self.expires_on is not None:
            text.append(f"The code expires at {self.expires_on:%H:%M}. ")
        text.append("This closes by itself once you have signed in.\n", style="")
        text.append("y copies the code · esc hides this (sign-in keeps waiting)", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="device-code-text")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Copied the code", timeout=3)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)


class AuthProblemScreen(ModalScreen[None]):
    """Why the profile cannot sign in (a locked or absent keyring, a missing secret) and what to do."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="authproblem.close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self.title_text + "\n\n", style="bold")
        text.append(self.message)
        text.append("\n\nesc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="auth-problem-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
