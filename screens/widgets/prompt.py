"""The bottom prompt: `:` command mode and `/` filter, one Input that appears on demand."""

from __future__ import annotations

import os

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class Prompt(Input):
    """An Input that reports submission or cancellation with the mode it was opened in."""

    DEFAULT_CSS = """
    Prompt {
        dock: bottom;
        height: 1;
        border: none;
        padding: 0 1;
        display: none;
    }
    Prompt.-open {
        display: block;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False, id="prompt.cancel"),
        Binding("tab", "complete", "Complete", show=False, id="prompt.complete"),
        # Enter typed before the console switched the terminal to raw mode (type-ahead at launch) arrives
        # as a line feed: the terminal's line discipline had already turned the CR into LF.
        Binding("ctrl+j", "submit", "Run", show=False, id="prompt.submit_lf"),
    ]

    class Done(Message):
        def __init__(self, prompt: Prompt, mode: str, value: str, cancelled: bool) -> None:
            super().__init__()
            self.prompt = prompt
            self.mode = mode
            self.value = value
            self.cancelled = cancelled

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self.mode = ""
        self.completer: object | None = None

    def open(self, mode: str, value: str = "") -> None:
        self.mode = mode
        self.placeholder = "command (Tab completes; esc cancels)" if mode == ":" else "filter: text, re:regex, !invert"
        self.value = value
        self.add_class("-open")
        self.display = True
        # Focus now, not after the queued events: keys typed right after ':' must land here.
        self.screen.set_focus(self)
        self.cursor_position = len(value)

    def close(self) -> None:
        self.remove_class("-open")
        self.display = False

    def action_cancel(self) -> None:
        self.close()
        self.post_message(self.Done(self, self.mode, self.value, cancelled=True))

    def action_complete(self) -> None:
        completer = self.completer
        if self.mode == ":" and callable(completer):
            options = completer(self.value)
            if len(options) == 1:  # `compute=` waits for its value; a whole word gets its space
                self.value = options[0] if options[0].endswith("=") else options[0] + " "
                self.cursor_position = len(self.value)
            elif options:
                common = os.path.commonprefix([o.lower() for o in options])  # noqa: RUF071 (text, not paths)
                typed = self.value.lstrip(":").lower()
                if len(common) > len(typed) and common.startswith(typed):  # never drops what was typed
                    self.value = options[0][: len(common)]
                    self.cursor_position = len(self.value)
                # only the word being completed, as many as fit two lines of a notification at 80 columns
                words = [o.rsplit(" ", 1)[-1] if " " in o else ":" + o for o in options]
                shown = "  ".join(words)
                if len(shown) > 100:
                    kept = shown[:100].rsplit("  ", 1)[0]
                    shown = f"{kept}  +{len(words) - kept.count('  ') - 1} more"
                self.notify(shown, timeout=4)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Done(self, self.mode, event.value, cancelled=False))
