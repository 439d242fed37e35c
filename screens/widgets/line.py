"""A one-line text widget that repaints itself alone: updating it never relayouts the screen.

(Static.update asks for a layout pass, after which the whole screen is written again; a status line or a
header that changes every refresh would then rewrite the terminal each time.)
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class Line(Widget):
    DEFAULT_CSS = """
    Line {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, text: str | Text = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text if isinstance(text, Text) else Text(text)

    def update(self, text: str | Text) -> None:
        new = text if isinstance(text, Text) else Text(text)
        if new == self._text:
            return
        self._text = new
        height = self.styles.height
        self.refresh(layout=bool(height is not None and height.is_auto))  # only a wrapping line relayouts

    def render(self) -> Text:
        return self._text
