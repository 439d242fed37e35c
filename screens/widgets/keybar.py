"""The key hints at the bottom of a screen: one line, drawn from the screen's active bindings.

Textual's Footer mounts a widget per key and recomposes them whenever the bindings are refreshed (after every
worker, focus change or key); this is one line of text that repaints only when the hints themselves change,
costs nothing before the first frame, and keeps the same look (keys bold in the footer's key colour,
disabled keys dim). A click on a hint presses its key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hints: tuple[tuple[str, str, str, bool], ...] = ()  # (key, shown as, description, enabled)
        self._spans: list[tuple[int, int, str, bool]] = []  # (start, end, key, enabled), for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._update()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._update()

    def on_resize(self) -> None:
        self.refresh()

    def _update(self) -> None:
        seen: set[str] = set()
        hints: list[tuple[str, str, str, bool]] = []
        # A list screen says which of its action keys apply to the row under the cursor (and the profile).
        key_state = getattr(self.screen, "key_state", None)
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            if callable(key_state):
                state = key_state(binding.action)
                if state == "hidden":
                    continue
                enabled = enabled and state != "disabled"
            hints.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        if tuple(hints) != self._hints:
            self._hints = tuple(hints)
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        dim = Style(dim=True)
        hints = self._fitting(self.size.width)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for key, shown, description, enabled in hints:
            start = text.cell_len
            text.append(f" {shown} ", style=key_style if enabled else key_style + dim)
            if description:
                text.append(f"{description} ", style=description_style if enabled else description_style + dim)
            self._spans.append((start, text.cell_len, key, enabled))
        return text

    def _fitting(self, width: int) -> list[tuple[str, str, str, bool]]:
        """The hints that fit whole, in order; when some must go, the help key stays (it lists them all)."""

        def cells(hint: tuple[str, str, str, bool]) -> int:
            return len(hint[1]) + 2 + (len(hint[2]) + 1 if hint[2] else 0)

        hints = list(self._hints)
        if sum(cells(h) for h in hints) <= width:
            return hints
        help_hint = next((h for h in hints if h[0] == "question_mark"), None)
        room = width - (cells(help_hint) if help_hint else 0)
        kept: list[tuple[str, str, str, bool]] = []
        for hint in hints:
            if hint is help_hint:
                continue
            if cells(hint) > room:
                break
            kept.append(hint)
            room -= cells(hint)
        return [*kept, help_hint] if help_hint else kept

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
