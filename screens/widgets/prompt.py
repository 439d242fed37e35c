"""The bottom prompt: `:` command mode and `/` filter, one Input that appears on demand.

It sits in a one-line bar that shows the mode (`:` or `/`) before the typed text; while it is open the key bar
gives way, so what is typed, the cursor and the placeholder are on the bottom line (the two used to share it and
the key bar was drawn over the prompt).
"""

from __future__ import annotations

import os

from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from screens.widgets.keybar import KeyBar


class PromptBar(Horizontal):
    """The bottom line that holds the prompt: hidden until the prompt opens."""

    DEFAULT_CSS = """
    PromptBar {
        dock: bottom;
        height: 1;
        display: none;
    }
    PromptBar.-open {
        display: block;
    }
    PromptBar > #prompt-mode {
        width: 2;
        padding-left: 1;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        self.prompt = Prompt(id="prompt")
        super().__init__(Static("", id="prompt-mode"), self.prompt)


class Prompt(Input):
    """An Input that reports submission or cancellation with the mode it was opened in."""

    DEFAULT_CSS = """
    Prompt {
        height: 1;
        width: 1fr;
        border: none;
        padding: 0 1 0 0;
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

    @property
    def is_open(self) -> bool:
        bar = self.parent
        return isinstance(bar, PromptBar) and bar.has_class("-open")

    def _show(self, shown: bool) -> None:
        bar = self.parent
        if isinstance(bar, PromptBar):
            bar.set_class(shown, "-open")
            bar.query_one("#prompt-mode", Static).update(self.mode)
        for keybar in self.screen.query(KeyBar):
            keybar.display = not shown  # the bottom line is the prompt's while it is open

    def open(self, mode: str, value: str = "") -> None:
        self.mode = mode
        self.placeholder = "command (Tab completes; esc cancels)" if mode == ":" else "filter: text, re:regex, !invert"
        self.value = value
        self._show(True)
        # Focus now, not after the queued events: keys typed right after ':' must land here.
        self.screen.set_focus(self)
        self.cursor_position = len(value)

    def close(self) -> None:
        self._show(False)

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
